"""The synchronisation with the Coop's pages, included by ``imports.urls`` under ``coop/`` (namespace ``imports``)."""

from django.urls import path

from . import views_coop

urlpatterns = [
    path("", views_coop.coop, name="coop"),
    path("connexion/", views_coop.coop_connexion, name="coop_connexion"),
    path("tester/", views_coop.coop_tester, name="coop_tester"),
    path("mediateurs/actualiser/", views_coop.coop_mediateurs_actualiser, name="coop_mediateurs_actualiser"),
    path("mediateurs/<int:pk>/associer/", views_coop.coop_mediateur_associer, name="coop_mediateur_associer"),
    path("synchroniser/", views_coop.coop_synchroniser, name="coop_synchroniser"),
]
