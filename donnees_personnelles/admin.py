"""The journal of requests in the Django admin: read only (rows are written by the services, with the action they
record)."""

from django.contrib import admin

from sicoval_numerique.admin import ReadOnlyModelAdmin

from .models import Demande


@admin.register(Demande)
class DemandeAdmin(ReadOnlyModelAdmin):
    list_display = ["le", "type", "par", "type_critere", "critere_masque", "nombre_enregistrements"]
    list_filter = ["type", "le"]
    list_select_related = ["par"]
    ordering = ["-le", "-pk"]
    fields = ["uuid", "le", "type", "par", "type_critere", "critere_masque", "nombre_enregistrements", "detail"]
    readonly_fields = fields
