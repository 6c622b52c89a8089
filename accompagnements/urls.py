from django.urls import path

from .views import beneficiaires, export, historique, saisie, statistiques

app_name = "accompagnements"

urlpatterns = [
    path("", historique.activite_list, name="list"),
    path("nouvelle/", saisie.activite_create, name="create"),
    path("export.csv", export.export_csv, name="export_csv"),
    path("export.xlsx", export.export_xlsx, name="export_xlsx"),
    path("<uuid:uuid>/", saisie.activite_detail, name="detail"),
    path("<uuid:uuid>/modifier/", saisie.activite_edit, name="edit"),
    path("<uuid:uuid>/supprimer/", saisie.activite_delete, name="delete"),
    path("statistiques/", statistiques.statistiques, name="statistiques"),
    path("statistiques/partages/", statistiques.partage_create, name="partage_create"),
    path("statistiques/partages/<uuid:uuid>/revoquer/", statistiques.partage_revoke, name="partage_revoke"),
    path("statistiques/partage/<str:token>/", statistiques.partage_public, name="partage_public"),
    path("beneficiaires/", beneficiaires.beneficiaire_list, name="beneficiaires"),
    path("beneficiaires/nouveau/", beneficiaires.beneficiaire_create, name="beneficiaire_create"),
    path("beneficiaires/<uuid:uuid>/", beneficiaires.beneficiaire_detail, name="beneficiaire"),
    path("beneficiaires/<uuid:uuid>/modifier/", beneficiaires.beneficiaire_edit, name="beneficiaire_edit"),
]
