"""The reports' pages, under /gestion/pilotage/rapports/ (namespace ``reporting``)."""

from django.urls import path

from .views import rapports as views

urlpatterns = [
    path("", views.rapport_list, name="rapports"),
    path("nouveau/", views.rapport_demander, name="rapport_demander"),
    path("<uuid:uuid>/", views.rapport_detail, name="rapport"),
    path("<uuid:uuid>/progression/", views.rapport_progression, name="rapport_progression"),
    path("<uuid:uuid>/relancer/", views.rapport_relancer, name="rapport_relancer"),
    path("<uuid:uuid>/pdf/", views.rapport_fichier, {"format": "pdf"}, name="rapport_pdf"),
    path("<uuid:uuid>/xlsx/", views.rapport_fichier, {"format": "xlsx"}, name="rapport_xlsx"),
]
