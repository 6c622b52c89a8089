"""Read-only views of imports and synchronisations for the administration; every action goes through the pages
(``/imports/``), which check permissions and keep the rules. The Coop's secret is never shown."""

from django.contrib import admin

from .models import ActiviteCoopEnAttente, ConnexionCoop, Import, MediateurCoop, SynchroCoop


class LectureSeuleAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Import)
class ImportAdmin(LectureSeuleAdmin):
    list_display = ["nom_fichier", "type", "statut", "demande_par", "created_at"]
    list_filter = ["type", "statut"]
    exclude = ["fichier"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("fichier")  # up to 20 MB each: never loaded to list them


@admin.register(ConnexionCoop)
class ConnexionCoopAdmin(LectureSeuleAdmin):
    list_display = ["client_id", "url", "active", "depuis"]
    exclude = ["secret_chiffre"]


@admin.register(MediateurCoop)
class MediateurCoopAdmin(LectureSeuleAdmin):
    list_display = ["__str__", "email", "conseiller", "associe_le"]
    search_fields = ["nom", "prenom", "email"]


@admin.register(SynchroCoop)
class SynchroCoopAdmin(LectureSeuleAdmin):
    list_display = ["commence_le", "statut", "creees", "mises_a_jour", "supprimees", "inchangees", "ignorees"]
    list_filter = ["statut"]


@admin.register(ActiviteCoopEnAttente)
class ActiviteCoopEnAttenteAdmin(LectureSeuleAdmin):
    list_display = ["id_coop", "modification", "raison", "derniere_fois"]
    search_fields = ["id_coop"]
