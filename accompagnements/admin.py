"""The activity log in the Django admin, for staff: read-only. Activities change through their author's pages (or
the national tool for imported ones); notes and the identities of followed people never show here."""

from django.contrib import admin

from sicoval_numerique.admin import ReadOnlyAdmin

from .models import Activite, PartageStatistiques


@admin.register(Activite)
class ActiviteAdmin(ReadOnlyAdmin):
    list_display = ["date", "type", "conseiller", "structure", "duree", "type_lieu", "participants", "source"]
    list_filter = ["type", "type_lieu", "source", ("supprimee_le", admin.EmptyFieldListFilter)]
    search_fields = ["uuid", "conseiller__nom", "structure__nom", "titre_atelier", "id_externe"]
    list_select_related = ["conseiller", "structure"]
    date_hierarchy = "date"
    exclude = ["notes"]
    show_full_result_count = False


@admin.register(PartageStatistiques)
class PartageStatistiquesAdmin(ReadOnlyAdmin):
    list_display = ["conseiller", "date_debut", "date_fin", "libelle", "created_at", "revoque_le"]
    list_select_related = ["conseiller"]
    exclude = ["token"]
