from django.urls import path

from . import views, views_rappels

app_name = "notifications"

urlpatterns = [
    path("", views.email_list, name="list"),
    path("relancer/", views.relay_now, name="relay"),
    path("rappels/", views_rappels.rappel_list, name="rappels"),
    path("rappels/<slug:code>/", views_rappels.rappel_edit, name="rappel_edit"),
    path("rappels/<slug:code>/apercu/", views_rappels.rappel_preview, name="rappel_preview"),
    path(
        "rappels/<slug:code>/apercu/<slug:genre>/html/", views_rappels.rappel_preview_html, name="rappel_preview_html"
    ),
    path("rappels/<slug:code>/lancer/", views_rappels.rappel_run, name="rappel_run"),
    path("<uuid:uuid>/", views.email_detail, name="detail"),
    path("<uuid:uuid>/html/", views.email_html, name="html"),
    path("<uuid:uuid>/renvoyer/", views.email_resend, name="resend"),
]
