"""Back-office pages of the funding (mounted under /gestion/financements/)."""

from django.urls import path

from .views import conventions, financeurs, overview

app_name = "financements"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("conventions/", conventions.convention_list, name="conventions"),
    path("conventions/nouvelle/", conventions.convention_create, name="convention_create"),
    path("conventions/<uuid:uuid>/", conventions.convention_detail, name="convention_detail"),
    path("conventions/<uuid:uuid>/modifier/", conventions.convention_edit, name="convention_edit"),
    path("conventions/<uuid:uuid>/signature/", conventions.convention_sign, name="convention_sign"),
    path("conventions/<uuid:uuid>/statut/", conventions.convention_statut, name="convention_statut"),
    path("conventions/<uuid:uuid>/lignes/nouvelle/", conventions.ligne_create, name="ligne_create"),
    path("lignes/<uuid:uuid>/echeances/nouvelle/", conventions.versement_plan, name="versement_plan"),
    path("lignes/<uuid:uuid>/echeances-v2/", conventions.versements_plan_v2, name="versements_plan_v2"),
    path("lignes/<uuid:uuid>/avoirs/nouveau/", conventions.avoir_record, name="avoir_record"),
    path("echeances/<uuid:uuid>/versement/", conventions.versement_record, name="versement_record"),
    path("financeurs/", financeurs.financeur_list, name="financeurs"),
    path("financeurs/nouveau/", financeurs.financeur_create, name="financeur_create"),
]
