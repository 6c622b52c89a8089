from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.email_list, name="list"),
    path("relancer/", views.relay_now, name="relay"),
    path("<uuid:uuid>/", views.email_detail, name="detail"),
    path("<uuid:uuid>/html/", views.email_html, name="html"),
    path("<uuid:uuid>/renvoyer/", views.email_resend, name="resend"),
]
