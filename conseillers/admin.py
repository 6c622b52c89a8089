from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from sicoval_numerique.admin import AutocompleteSurMixin, ReadOnlyAdmin

from . import services
from .models import Affectation, Avenant, Conseiller, Contrat, Formation, MiseEnRelation, Poste, Rattachement


class ReadOnlyInline(admin.TabularInline):
    """Dated rows that change only through the post services (move, assign, release, return)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RattachementInline(ReadOnlyInline):
    model = Rattachement
    fields = ["structure", "date_debut", "date_fin"]


class AffectationInline(ReadOnlyInline):
    model = Affectation
    fields = ["conseiller", "date_debut", "date_fin"]


class PosteForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        coselec, attribution = cleaned.get("coselec_date"), cleaned.get("date_attribution")
        if coselec and attribution and coselec > attribution:
            self.add_error("coselec_date", services.COSELEC_AFTER_ATTRIBUTION)
        return cleaned


@admin.register(Poste)
class PosteAdmin(SimpleHistoryAdmin):
    form = PosteForm
    list_display = ["__str__", "typologie", "structure", "etat", "phase", "date_attribution", "date_rendu"]
    list_filter = ["etat", "typologie", "phase", "structure__secteur"]
    search_fields = ["uuid", "structure__nom", "coselec_reference", "affectations__conseiller__nom"]
    list_select_related = ["structure"]
    date_hierarchy = "date_attribution"
    inlines = [RattachementInline, AffectationInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # a new post gets its first attachment from the service

    def get_readonly_fields(self, request, obj=None):
        # The structure and state are caches of the dated attachments and assignments: they change through the
        # services (on the post's page), never by free editing. On creation, the first attachment is made here.
        fixed = ["uuid", "etat", "date_rendu", "created_at", "updated_at"]
        return [*fixed, "structure", "date_attribution"] if obj else fixed

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.poste_create(
            structure=obj.structure,
            typologie=obj.typologie,
            phase=obj.phase,
            date_attribution=obj.date_attribution,
            coselec_date=obj.coselec_date,
            coselec_reference=obj.coselec_reference,
            by=request.user,
        )
        obj.pk = created.pk
        obj.uuid = created.uuid

    def has_delete_permission(self, request, obj=None):
        return False  # posts carry history and money: returned, never deleted


@admin.register(Rattachement)
class RattachementAdmin(ReadOnlyAdmin):
    list_display = ["poste", "structure", "date_debut", "date_fin"]
    list_filter = ["structure__secteur"]
    search_fields = ["structure__nom", "poste__uuid"]
    list_select_related = ["poste", "poste__structure", "structure"]


@admin.register(Affectation)
class AffectationAdmin(RattachementAdmin):
    list_display = ["poste", "conseiller", "date_debut", "date_fin"]
    list_filter = []
    search_fields = ["conseiller__nom", "conseiller__prenom", "poste__structure__nom"]
    list_select_related = ["poste", "poste__structure", "conseiller"]


class ContratInline(admin.TabularInline):
    model = Contrat
    extra = 0
    can_delete = False
    fields = ["poste", "type", "date_debut", "date_fin", "date_rupture", "motif_rupture"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class FormationInline(admin.TabularInline):
    model = Formation
    extra = 0
    can_delete = False
    fields = ["type", "intitule", "date_debut", "date_fin", "heures", "certification"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conseiller)
class ConseillerAdmin(AutocompleteSurMixin, SimpleHistoryAdmin):
    list_display = ["nom", "prenom", "email", "est_coordinateur", "coordinateur", "user"]
    list_filter = ["est_coordinateur"]
    search_fields = ["nom", "prenom", "email", "user__email"]
    list_select_related = ["coordinateur", "user"]
    autocomplete_fields = ["user", "coordinateur"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [ContratInline, FormationInline]

    def has_delete_permission(self, request, obj=None):
        return False  # contracts and history hang on the person


@admin.register(MiseEnRelation)
class MiseEnRelationAdmin(AutocompleteSurMixin, SimpleHistoryAdmin):
    list_display = ["conseiller", "structure", "statut", "date_recrutement", "date_rupture", "updated_at"]
    list_filter = ["statut"]
    search_fields = ["conseiller__nom", "conseiller__prenom", "structure__nom"]
    list_select_related = ["conseiller", "structure"]
    autocomplete_fields = ["conseiller", "structure"]
    # The status follows the national workflow and the hired ≤ granted rule: it changes through the service.
    readonly_fields = ["uuid", "statut", "date_recrutement", "date_rupture", "created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        return False


class RuleCheckedForm(forms.ModelForm):
    """Runs the service's rules on the admin form, so that a broken rule is a French message on the form."""

    check = None
    required_relations = ()

    def _post_clean(self):
        super()._post_clean()
        if all(getattr(self.instance, f"{name}_id", None) for name in self.required_relations):
            try:
                type(self).check(self.instance)
            except ValidationError as error:
                self._update_errors(error)


class ContratForm(RuleCheckedForm):
    check = staticmethod(services.contrat_check)
    required_relations = ("conseiller", "poste")


class FormationForm(RuleCheckedForm):
    check = staticmethod(services.formation_check)
    required_relations = ("conseiller",)


class NoDeleteAdmin(AutocompleteSurMixin, SimpleHistoryAdmin):
    def has_delete_permission(self, request, obj=None):
        return False  # money and history: never hard-deleted


@admin.register(Contrat)
class ContratAdmin(NoDeleteAdmin):
    form = ContratForm
    list_display = ["conseiller", "poste", "type", "date_debut", "date_fin", "date_rupture", "motif_rupture"]
    list_filter = ["type", "temps_plein", "motif_rupture"]
    search_fields = ["conseiller__nom", "conseiller__prenom", "poste__structure__nom"]
    list_select_related = ["conseiller", "poste", "poste__structure"]
    autocomplete_fields = ["conseiller", "poste"]
    date_hierarchy = "date_debut"
    readonly_fields = ["uuid", "created_at", "updated_at"]


@admin.register(Formation)
class FormationAdmin(NoDeleteAdmin):
    form = FormationForm
    list_display = ["conseiller", "type", "intitule", "date_debut", "heures", "certification", "titre", "pix"]
    list_filter = ["type", "certification", "titre", "pix"]
    search_fields = ["conseiller__nom", "conseiller__prenom", "intitule"]
    list_select_related = ["conseiller"]
    autocomplete_fields = ["conseiller"]
    readonly_fields = ["uuid"]


@admin.register(Avenant)
class AvenantAdmin(NoDeleteAdmin):
    list_display = ["structure", "type", "typologie", "nombre_postes", "statut", "date_demande", "date_decision"]
    list_filter = ["statut", "type", "typologie"]
    search_fields = ["structure__nom", "motif"]
    list_select_related = ["structure"]
    autocomplete_fields = ["structure"]
    readonly_fields = ["uuid", "statut", "date_decision", "created_at"]

    # Requests and decisions go through the back-office pages (their services check phase, pending request and
    # the structure's posts); the admin only lists them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
