"""Every endpoint of ``/api/v1/``, one block per app. Public directory first, then the partner resources."""

from rest_framework.routers import DefaultRouter

from accompagnements.api.activites import ActiviteViewSet
from accompagnements.api.statistiques import StatistiquesViewSet
from ateliers.api.views import AtelierViewSet, InscriptionViewSet, SeanceViewSet
from conseillers.api.views import PosteViewSet
from financements.api.views import ConventionViewSet
from structures.api.views import CommuneViewSet, LieuViewSet, StructureViewSet

router = DefaultRouter()
router.include_root_view = False

# --- structures: the territory's directory and places ------------------------------------------------------------
router.register("communes", CommuneViewSet, basename="commune")
router.register("structures", StructureViewSet, basename="structure")
router.register("lieux", LieuViewSet, basename="lieu")

# --- conseillers and financements: posts and conventions (read) -------------------------------------------------
router.register("postes", PosteViewSet, basename="poste")
router.register("conventions", ConventionViewSet, basename="convention")

# --- ateliers: workshops, sessions, registrations ---------------------------------------------------------------
router.register("ateliers", AtelierViewSet, basename="atelier")
router.register("seances", SeanceViewSet, basename="seance")
router.register("inscriptions", InscriptionViewSet, basename="inscription")

# --- accompagnements: activities (read, anonymised) and territorial statistics ----------------------------------
router.register("activites", ActiviteViewSet, basename="activite")
router.register("statistiques", StatistiquesViewSet, basename="statistiques")
