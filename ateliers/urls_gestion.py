"""Routes of the workshops' back-office (``/gestion/ateliers/…``): workshops, planning, a session's registrations
and its attendance sheet."""

from django.urls import path

from .views import appel, gestion

urlpatterns = [
    path("gestion/ateliers/", gestion.atelier_list, name="gestion_ateliers"),
    path("gestion/ateliers/nouveau/", gestion.atelier_create, name="gestion_atelier_create"),
    path("gestion/ateliers/<uuid:uuid>/", gestion.atelier_detail, name="gestion_atelier"),
    path("gestion/ateliers/<uuid:uuid>/modifier/", gestion.atelier_edit, name="gestion_atelier_edit"),
    path("gestion/ateliers/<uuid:uuid>/seances/nouvelle/", gestion.seance_create, name="gestion_seance_create"),
    path("gestion/ateliers/seances/<uuid:uuid>/", gestion.seance_detail, name="gestion_seance"),
    path("gestion/ateliers/seances/<uuid:uuid>/modifier/", gestion.seance_edit, name="gestion_seance_edit"),
    path("gestion/ateliers/seances/<uuid:uuid>/annuler/", gestion.seance_cancel, name="gestion_seance_cancel"),
    path("gestion/ateliers/seances/<uuid:uuid>/inscrire/", gestion.inscrire, name="gestion_inscrire"),
    path(
        "gestion/ateliers/inscriptions/<uuid:uuid>/annuler/",
        gestion.inscription_cancel,
        name="gestion_inscription_cancel",
    ),
    path(
        "gestion/ateliers/inscriptions/<uuid:uuid>/deplacer/",
        gestion.inscription_move,
        name="gestion_inscription_move",
    ),
    path("gestion/ateliers/seances/<uuid:uuid>/appel/", appel.appel, name="gestion_appel"),
    path("gestion/ateliers/seances/<uuid:uuid>/appel/sur-place/", appel.sur_place, name="gestion_appel_sur_place"),
    path(
        "gestion/ateliers/seances/<uuid:uuid>/appel/cloturer/",
        appel.appel_cloturer,
        name="gestion_appel_cloturer",
    ),
]
