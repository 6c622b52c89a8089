"""Every route of the workshops, in one namespace: the public agenda and registration, the back-office of planning,
registrations and attendance, and the Pass numérique."""

from . import urls_gestion, urls_pass, urls_public

app_name = "ateliers"

urlpatterns = [*urls_public.urlpatterns, *urls_gestion.urlpatterns, *urls_pass.urlpatterns]
