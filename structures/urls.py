"""Back-office pages of structures and places (Sicoval staff, référents, funders read-only)."""

from django.urls import path

from .views import backoffice as views

app_name = "structures"

urlpatterns = [
    path("structures/", views.structure_list, name="list"),
    path("structures/nouvelle/", views.structure_create, name="create"),
    path("structures/<uuid:uuid>/", views.structure_detail, name="detail"),
    path("structures/<uuid:uuid>/modifier/", views.structure_edit, name="edit"),
    path("structures/<uuid:uuid>/statut/", views.structure_statut, name="statut"),
    path("structures/<uuid:uuid>/conventionnement/", views.structure_conventionnement, name="conventionnement"),
    path("structures/<uuid:uuid>/membres/", views.membership_add, name="membership_add"),
    path("membres/<int:pk>/retirer/", views.membership_remove, name="membership_remove"),
    path("structures/<uuid:uuid>/lieux/nouveau/", views.lieu_create, name="lieu_create"),
    path("lieux/", views.lieu_list, name="lieux"),
    path("lieux/<uuid:uuid>/modifier/", views.lieu_edit, name="lieu_edit"),
    path("lieux/<uuid:uuid>/publication/", views.lieu_toggle, name="lieu_toggle"),
    path("lieux/<uuid:uuid>/arrets/", views.arret_create, name="arret_create"),
    path("arrets/<uuid:uuid>/supprimer/", views.arret_delete, name="arret_delete"),
]
