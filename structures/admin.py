from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ArretItinerant, Commune, Epci, Lieu, Membership, Structure


@admin.register(Epci)
class EpciAdmin(admin.ModelAdmin):
    list_display = ["nom", "siren", "type", "population"]
    list_filter = ["type"]
    search_fields = ["nom", "siren"]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["nom", "code_insee", "departement", "epci", "population"]
    list_filter = ["departement", "epci"]
    search_fields = ["nom", "code_insee", "siren"]
    list_select_related = ["epci"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class LieuInline(admin.TabularInline):
    model = Lieu
    extra = 0
    fields = ["nom", "commune", "itinerance", "is_active"]
    readonly_fields = ["nom", "commune", "itinerance", "is_active"]
    show_change_link = True
    can_delete = False


@admin.register(Structure)
class StructureAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "commune", "type_juridique", "statut", "conventionnement", "siret", "rna"]
    list_filter = ["type_juridique", "secteur", "phase", "statut", "conventionnement", *Structure.ROLE_FIELDS]
    search_fields = ["nom", "siret", "rna", "commune__nom"]
    list_select_related = ["commune"]
    autocomplete_fields = ["commune"]
    # Statuses follow the national workflow: they change on the structure's page, through the services that refuse
    # invalid transitions, never by free editing here.
    readonly_fields = ["uuid", "statut", "conventionnement", "created_at", "updated_at"]
    inlines = [MembershipInline, LieuInline]

    def has_delete_permission(self, request, obj=None):
        return False  # structures carry history and money: never hard-deleted


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "structure", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__last_name", "structure__nom"]
    autocomplete_fields = ["user", "structure"]
    list_select_related = ["user", "structure"]


class ArretInline(admin.TabularInline):
    model = ArretItinerant
    extra = 0
    autocomplete_fields = ["commune"]


@admin.register(Lieu)
class LieuAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "structure", "commune", "itinerance", "is_active", "updated_at"]
    list_filter = ["is_active", "itinerance", "commune"]
    search_fields = ["nom", "structure__nom", "commune__nom", "adresse"]
    list_select_related = ["structure", "commune"]
    autocomplete_fields = ["structure", "commune"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [ArretInline]

    def has_delete_permission(self, request, obj=None):
        return False  # a place is retired (is_active), never deleted


@admin.register(ArretItinerant)
class ArretItinerantAdmin(SimpleHistoryAdmin):
    list_display = ["lieu", "commune", "date", "heure_debut", "heure_fin"]
    list_filter = ["date", "commune"]
    search_fields = ["lieu__nom", "commune__nom", "emplacement"]
    autocomplete_fields = ["lieu", "commune"]
    list_select_related = ["lieu", "commune"]
