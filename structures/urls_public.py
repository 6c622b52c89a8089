"""Public pages of the places of digital mediation and their export in the national standard (no account)."""

from django.urls import path

from .views import public as views

urlpatterns = [
    path("", views.lieu_list, name="lieux_public"),
    path("export.csv", views.export_csv, name="lieux_export_csv"),
    path("export.json", views.export_json, name="lieux_export_json"),
    path("<uuid:uuid>/", views.lieu_detail, name="lieu_public"),
]
