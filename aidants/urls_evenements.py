"""Routes of the network's events and of the coordination log (mounted under ``/gestion/aidants/``)."""

from django.urls import path

from .views import coordination, evenements

urlpatterns = [
    path("evenements/", evenements.evenement_list, name="evenement_list"),
    path("evenements/passes/", evenements.evenement_past, name="evenement_past"),
    path("evenements/nouveau/", evenements.evenement_create, name="evenement_create"),
    path("evenements/mes-invitations/", evenements.evenement_invitations, name="evenement_invitations"),
    path("evenements/<uuid:uuid>/", evenements.evenement_detail, name="evenement"),
    path("evenements/<uuid:uuid>/modifier/", evenements.evenement_edit, name="evenement_edit"),
    path("evenements/<uuid:uuid>/annuler/", evenements.evenement_cancel, name="evenement_cancel"),
    path("evenements/<uuid:uuid>/inviter/", evenements.evenement_invite, name="evenement_invite"),
    path("evenements/<uuid:uuid>/reponse/", evenements.evenement_answer, name="evenement_answer"),
    path("evenements/<uuid:uuid>/presences/", evenements.evenement_attendance, name="evenement_attendance"),
    path("evenements/<uuid:uuid>/presences/cloturer/", evenements.evenement_close, name="evenement_close"),
    path("coordination/", coordination.coordination_list, name="coordination_list"),
    path("coordination/nouvelle/", coordination.coordination_create, name="coordination_create"),
    path("coordination/<uuid:uuid>/modifier/", coordination.coordination_edit, name="coordination_edit"),
    path("coordination/<uuid:uuid>/supprimer/", coordination.coordination_delete, name="coordination_delete"),
]
