"""Back-office pages of posts and conseillers (Sicoval staff, référents for their structure, funders read-only)."""

from django.urls import path

from .views import avenants, personnes, postes, recrutements

app_name = "conseillers"

urlpatterns = [
    path("postes/", postes.poste_list, name="postes"),
    path("postes/export.csv", postes.poste_export_csv, name="postes_export_csv"),
    path("postes/export.xlsx", postes.poste_export_xlsx, name="postes_export_xlsx"),
    path("postes/nouveau/", postes.poste_create, name="poste_create"),
    path("postes/<uuid:uuid>/", postes.poste_detail, name="poste"),
    path("postes/<uuid:uuid>/affecter/", postes.poste_assign, name="poste_assign"),
    path("postes/<uuid:uuid>/liberer/", postes.poste_release, name="poste_release"),
    path("postes/<uuid:uuid>/deplacer/", postes.poste_move, name="poste_move"),
    path("postes/<uuid:uuid>/rendre/", postes.poste_return, name="poste_return"),
    path("postes/<uuid:uuid>/contrats/", postes.contrat_create, name="contrat_create"),
    path("postes/<uuid:uuid>/rupture/", postes.contrat_rupture, name="contrat_rupture"),
    path("contrats/<uuid:uuid>/modifier/", postes.contrat_edit, name="contrat_edit"),
    path("conseillers/", personnes.conseiller_list, name="conseillers"),
    path("conseillers/nouveau/", personnes.conseiller_create, name="conseiller_create"),
    path("conseillers/<uuid:uuid>/", personnes.conseiller_detail, name="conseiller"),
    path("conseillers/<uuid:uuid>/modifier/", personnes.conseiller_edit, name="conseiller_edit"),
    path("conseillers/<uuid:uuid>/formations/", personnes.formation_add, name="formation_add"),
    path("recrutements/", recrutements.recrutement_list, name="recrutements"),
    path("recrutements/nouveau/", recrutements.recrutement_create, name="recrutement_create"),
    path("recrutements/<uuid:uuid>/", recrutements.recrutement_detail, name="recrutement"),
    path("recrutements/<uuid:uuid>/statut/", recrutements.recrutement_statut, name="recrutement_statut"),
    path("structures/<uuid:uuid>/avenants/", avenants.avenant_request, name="avenant_request"),
    path("avenants/<uuid:uuid>/decision/", avenants.avenant_decide, name="avenant_decide"),
]
