"""The "Accès à l'API" pages, under /gestion/: a structure's partner API clients, and every client for staff."""

from django.urls import path

from . import views

app_name = "partenaires"

urlpatterns = [
    path("structures/<uuid:uuid>/api/", views.structure_clients, name="structure_clients"),
    path("api/clients/", views.client_list, name="clients"),
    path("api/clients/<uuid:uuid>/", views.client_detail, name="client_detail"),
    path("api/clients/<uuid:uuid>/revoquer/", views.client_revoke, name="client_revoke"),
]
