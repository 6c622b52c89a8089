"""The aidants network in the back-office: directory, aidants, trainings, Aidants Connect habilitation requests."""

from django.urls import path

from . import urls_evenements, urls_maillage, urls_orientations
from .views import annuaire, habilitations

app_name = "aidants"

urlpatterns = [
    path("", annuaire.aidant_list, name="annuaire"),
    path("export.csv", annuaire.aidant_export_csv, name="export_csv"),
    path("export.xlsx", annuaire.aidant_export_xlsx, name="export_xlsx"),
    path("nouveau/", annuaire.aidant_create, name="aidant_create"),
    path("<uuid:uuid>/", annuaire.aidant_detail, name="aidant"),
    path("<uuid:uuid>/modifier/", annuaire.aidant_edit, name="aidant_edit"),
    path("<uuid:uuid>/formations/", annuaire.formation_add, name="formation_add"),
    path("<uuid:uuid>/compte/", annuaire.account_link, name="account_link"),
    path("<uuid:uuid>/activite/", annuaire.aidant_activity, name="aidant_activity"),
    path("habilitations/", habilitations.demande_list, name="habilitations"),
    path("habilitations/structures/<uuid:uuid>/", habilitations.demande_structure, name="habilitations_structure"),
    path("habilitations/<uuid:uuid>/statut/", habilitations.demande_transition, name="demande_transition"),
    *urls_orientations.urlpatterns,
    *urls_maillage.urlpatterns,
    *urls_evenements.urlpatterns,
]
