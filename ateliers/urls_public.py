"""Public routes of the workshops: the agenda (page and iCal feed), a session, registration, its confirmation (with
the session as a calendar entry) and the signed cancellation link."""

from django.urls import path

from .views import public

urlpatterns = [
    path("ateliers/", public.agenda, name="agenda"),
    path("ateliers/agenda.ics", public.agenda_ics, name="agenda_ics"),
    path("ateliers/seances/<uuid:uuid>/", public.seance_publique, name="seance_publique"),
    path("ateliers/seances/<uuid:uuid>/inscription/", public.inscription, name="inscription"),
    path("ateliers/inscription/<str:token>/", public.confirmation, name="confirmation"),
    path("ateliers/inscription/<str:token>/atelier.ics", public.inscription_ics, name="inscription_ics"),
    path("ateliers/annulation/<str:token>/", public.annuler, name="annuler"),
]
