"""The workshops in the Django admin, for staff: read-only. Programmes, sessions and registrations change through the
back-office pages (``/gestion/ateliers/``), whose services keep capacity, waiting list, notifications and history
consistent; the admin shows them, with their history."""

from django.contrib import admin

from sicoval_numerique.admin import ReadOnlyAdmin

from .models import Atelier, Inscription, Seance


@admin.register(Atelier)
class AtelierAdmin(ReadOnlyAdmin):
    list_display = ["titre", "structure", "niveau", "duree", "prevention", "formation_pass", "actif"]
    list_filter = ["actif", "prevention", "formation_pass", "niveau"]
    search_fields = ["uuid", "titre", "structure__nom"]
    list_select_related = ["structure"]
    show_full_result_count = False


@admin.register(Seance)
class SeanceAdmin(ReadOnlyAdmin):
    list_display = [
        "debut",
        "atelier",
        "lieu",
        "arret",
        "animateur",
        "capacite",
        "publique",
        "statut",
        "appel_cloture_le",
    ]
    list_filter = ["statut", "publique", ("appel_cloture_le", admin.EmptyFieldListFilter)]
    search_fields = ["uuid", "atelier__titre", "lieu__nom", "serie"]
    list_select_related = ["atelier", "lieu", "arret", "arret__lieu", "arret__commune", "animateur"]
    date_hierarchy = "debut"
    show_full_result_count = False


@admin.register(Inscription)
class InscriptionAdmin(ReadOnlyAdmin):
    list_display = ["seance", "prenom", "nom", "statut", "source", "rang", "presence", "promue_le", "annulee_le"]
    list_filter = ["statut", "source", "presence"]
    search_fields = ["uuid", "nom", "email", "seance__atelier__titre"]
    list_select_related = ["seance", "seance__atelier"]
    exclude = ["cle_personne"]
    show_full_result_count = False
