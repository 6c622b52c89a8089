"""The funding in the Django admin, for Sicoval staff.

Every money write goes through ``financements.services`` so that the admin keeps the same rules, French messages
and history as the pages: the forms run the service while validating (its errors land on the form) and the admin's
own save does nothing more. A rejected submission is rolled back whole. Money rows are never deleted.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from sicoval_numerique.admin import AutocompleteSurMixin

from . import services
from .choices import StatutConvention
from .models import Avoir, Bareme, Convention, Financeur, LigneFinancement, Versement


class ServiceForm(forms.ModelForm):
    """A model form validated by running its service; the saved object becomes the form's instance. Each subclass
    defines ``call_service(self, data)``, which calls the service with the cleaned data and returns the saved row."""

    request_user = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            saved = self.call_service(data)
        except ValidationError as error:
            self._add_service_error(error)
            return data
        except PermissionDenied as error:
            self.add_error(None, str(error))
            return data
        self.instance = saved
        for name in self.fields:  # what the service filled in (pre-filled amounts…) is what the form shows
            if hasattr(saved, name):
                data[name] = getattr(saved, name)
        return data

    def _add_service_error(self, error):
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


def _bind_user(form_class, request):
    return type(form_class.__name__, (form_class,), {"request_user": request.user})


class ServiceAdminMixin:
    """Binds the acting user to the service forms, keeps the admin's save a no-op, rolls back a rejected POST."""

    def get_form(self, request, obj=None, **kwargs):
        return _bind_user(super().get_form(request, obj, **kwargs), request)

    def get_formsets_with_inlines(self, request, obj=None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            formset.form = _bind_user(formset.form, request)
            yield formset, inline

    def save_model(self, request, obj, form, change):
        pass  # saved by the service while the form validated

    def save_formset(self, request, form, formset, change):
        # Saved by their services while validating; the admin's change message still reads these lists.
        formset.new_objects = [f.instance for f in formset.extra_forms if f.has_changed() and f.instance.pk]
        formset.changed_objects = []
        formset.deleted_objects = []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic():
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if request.method == "POST" and response.status_code != 302:
                transaction.set_rollback(True)  # a form or an inline refused: nothing of the submission stays
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # money and history are never hard-deleted


class NoDeleteAdmin(AutocompleteSurMixin, SimpleHistoryAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


# --- funders and reference amounts ---------------------------------------------------------------------------------
@admin.register(Financeur)
class FinanceurAdmin(NoDeleteAdmin):
    list_display = ["nom", "type", "structure"]
    list_filter = ["type"]
    search_fields = ["nom", "structure__nom"]
    list_select_related = ["structure"]
    autocomplete_fields = ["structure"]
    readonly_fields = ["uuid"]


@admin.register(Bareme)
class BaremeAdmin(NoDeleteAdmin):
    list_display = [
        "code",
        "libelle",
        "enveloppe",
        "secteur",
        "annee",
        "montant",
        "bonus_qpv_zrr",
        "duree_mois",
        "outre_mer",
        "valide_du",
        "valide_au",
    ]
    list_filter = ["enveloppe", "secteur", "annee", "outre_mer"]
    search_fields = ["code", "libelle", "source"]


# --- inline listings (read-only) and inline additions (through the services) ---------------------------------------
class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AddOnlyInline(admin.TabularInline):
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


class LigneAddForm(ServiceForm):
    class Meta:
        model = LigneFinancement
        fields = ["convention", "poste", "bareme", "montant_base", "bonus_qpv_zrr"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty, the amounts are pre-filled from the reference amounts (barème).
        for name in ("montant_base", "bonus_qpv_zrr"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].initial = None

    def call_service(self, data):
        convention = data.get("convention") or self.instance.convention
        return services.ligne_create(
            convention=convention,
            poste=data["poste"],
            bareme=data.get("bareme"),
            montant_base=data.get("montant_base"),
            bonus_qpv_zrr=data.get("bonus_qpv_zrr"),
            by=self.request_user,
        )


class LigneChangeForm(ServiceForm):
    class Meta:
        model = LigneFinancement
        fields = ["montant_base", "bonus_qpv_zrr"]

    def call_service(self, data):
        return services.ligne_update(
            ligne=self.instance,
            montant_base=data["montant_base"],
            bonus_qpv_zrr=data["bonus_qpv_zrr"],
            by=self.request_user,
        )


class LigneInline(ReadOnlyInline):
    model = LigneFinancement
    fields = ["poste", "bareme", "montant_base", "bonus_qpv_zrr", "montant_total"]
    readonly_fields = fields


class LigneAddInline(AddOnlyInline):
    model = LigneFinancement
    form = LigneAddForm
    fields = ["poste", "bareme", "montant_base", "bonus_qpv_zrr"]
    raw_id_fields = ["poste"]
    verbose_name = "nouvelle ligne de financement"
    verbose_name_plural = "ajouter des lignes (montants vides : pré-remplis d'après le barème)"


class VersementPlanForm(ServiceForm):
    class Meta:
        model = Versement
        fields = ["ligne", "numero", "date_prevue", "montant_prevu"]

    def call_service(self, data):
        return services.versement_plan(
            ligne=data.get("ligne") or self.instance.ligne,
            numero=data["numero"],
            date_prevue=data["date_prevue"],
            montant_prevu=data["montant_prevu"],
            by=self.request_user,
        )


class VersementRecordForm(ServiceForm):
    class Meta:
        model = Versement
        fields = ["date_versement", "montant_verse"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True

    def call_service(self, data):
        return services.versement_record(
            versement=self.instance,
            date_versement=data["date_versement"],
            montant_verse=data["montant_verse"],
            by=self.request_user,
        )


class AvoirRecordForm(ServiceForm):
    class Meta:
        model = Avoir
        fields = ["ligne", "date", "montant", "motif", "commentaire"]

    def call_service(self, data):
        return services.avoir_record(
            ligne=data.get("ligne") or self.instance.ligne,
            date=data["date"],
            montant=data["montant"],
            motif=data["motif"],
            commentaire=data.get("commentaire", ""),
            by=self.request_user,
        )


class VersementInline(ReadOnlyInline):
    model = Versement
    fields = ["numero", "date_prevue", "montant_prevu", "date_versement", "montant_verse"]
    readonly_fields = fields


class VersementAddInline(AddOnlyInline):
    model = Versement
    form = VersementPlanForm
    fields = ["numero", "date_prevue", "montant_prevu"]
    verbose_name = "nouvelle échéance"
    verbose_name_plural = "prévoir des échéances"


class AvoirInline(ReadOnlyInline):
    model = Avoir
    fields = ["date", "montant", "motif", "commentaire"]
    readonly_fields = fields


class AvoirAddInline(AddOnlyInline):
    model = Avoir
    form = AvoirRecordForm
    fields = ["date", "montant", "motif", "commentaire"]
    verbose_name = "nouvel avoir"
    verbose_name_plural = "enregistrer un avoir (reversement)"


# --- agreements, lines, instalments, repayments --------------------------------------------------------------------
class ConventionForm(ServiceForm):
    class Meta:
        model = Convention
        fields = [
            "reference",
            "financeur",
            "structure",
            "enveloppe",
            "phase",
            "date_debut",
            "date_fin",
            "date_debut_financement",
            "date_fin_financement",
            "date_signature",
        ]

    def call_service(self, data):
        by = self.request_user
        fields = {name: data[name] for name in services.CONVENTION_EDITABLE_FIELDS if name in self.fields}
        if self.instance.pk is None:
            convention = services.convention_create(**fields, by=by)
        else:
            changed = {name: value for name, value in fields.items() if name in self.changed_data}
            convention = (
                services.convention_update(convention=self.instance, by=by, **changed) if changed else self.instance
            )
        if data.get("date_signature") and convention.statut == StatutConvention.EN_PREPARATION:
            convention = services.convention_sign(convention=convention, date_signature=data["date_signature"], by=by)
        return convention


def _change_statut_action(statut, label):
    @admin.action(description=label)
    def action(modeladmin, request, queryset):
        for convention in queryset:
            try:
                services.convention_change_statut(convention=convention, statut=statut, by=request.user)
            except (ValidationError, PermissionDenied) as error:
                modeladmin.message_user(request, f"{convention} : {' '.join(error.messages)}", messages.ERROR)

    action.__name__ = f"mark_{statut}"
    return action


@admin.register(Convention)
class ConventionAdmin(AutocompleteSurMixin, ServiceAdminMixin, SimpleHistoryAdmin):
    form = ConventionForm
    list_display = [
        "__str__",
        "reference",
        "enveloppe",
        "statut",
        "date_signature",
        "date_debut_financement",
        "date_fin_financement",
    ]
    list_filter = ["enveloppe", "statut", "phase", "financeur"]
    search_fields = ["reference", "structure__nom", "financeur__nom"]
    list_select_related = ["financeur", "structure"]
    autocomplete_fields = ["financeur", "structure"]
    date_hierarchy = "date_debut"
    actions = [
        _change_statut_action(StatutConvention.SOLDEE, "Marquer comme soldées"),
        _change_statut_action(StatutConvention.RESILIEE, "Marquer comme résiliées"),
    ]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["uuid", "statut", "created_at", "updated_at"]
        if obj is not None and obj.statut != StatutConvention.EN_PREPARATION:
            fixed.append("date_signature")  # signed once
        return fixed

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if obj.statut in services.CLOSED:
            return [LigneInline]
        return [LigneInline, LigneAddInline]


@admin.register(LigneFinancement)
class LigneFinancementAdmin(AutocompleteSurMixin, ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ["poste", "convention", "montant_base", "bonus_qpv_zrr", "montant_total"]
    list_filter = ["convention__enveloppe", "convention__statut", "convention__financeur"]
    search_fields = ["poste__structure__nom", "convention__reference", "convention__structure__nom"]
    list_select_related = ["poste__structure", "convention__financeur", "convention__structure"]
    autocomplete_fields = ["convention"]
    raw_id_fields = ["poste"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = LigneAddForm if obj is None else LigneChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return LigneAddForm.Meta.fields
        return ["uuid", "convention", "poste", "bareme", "montant_base", "bonus_qpv_zrr", "montant_total"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["uuid", "convention", "poste", "bareme", "montant_total"]

    def get_inlines(self, request, obj):
        return [] if obj is None else [VersementInline, VersementAddInline, AvoirInline, AvoirAddInline]


@admin.register(Versement)
class VersementAdmin(AutocompleteSurMixin, ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ["ligne", "numero", "date_prevue", "montant_prevu", "date_versement", "montant_verse"]
    list_filter = [
        "ligne__convention__financeur",
        "ligne__convention__statut",
        ("date_versement", admin.EmptyFieldListFilter),
    ]
    search_fields = ["ligne__poste__structure__nom", "ligne__convention__reference"]
    list_select_related = ["ligne__poste__structure", "ligne__convention"]
    autocomplete_fields = ["ligne"]
    date_hierarchy = "date_prevue"

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = VersementPlanForm if obj is None else VersementRecordForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return VersementPlanForm.Meta.fields
        return ["ligne", "numero", "date_prevue", "montant_prevu", "date_versement", "montant_verse"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["ligne", "numero", "date_prevue", "montant_prevu"]


@admin.register(Avoir)
class AvoirAdmin(AutocompleteSurMixin, ServiceAdminMixin, SimpleHistoryAdmin):
    form = AvoirRecordForm
    list_display = ["ligne", "date", "montant", "motif"]
    list_filter = ["motif", "ligne__convention__financeur"]
    search_fields = ["ligne__poste__structure__nom", "ligne__convention__reference", "commentaire"]
    list_select_related = ["ligne__poste__structure", "ligne__convention"]
    autocomplete_fields = ["ligne"]
    date_hierarchy = "date"

    def has_change_permission(self, request, obj=None):
        return False  # a recorded repayment is corrected by another one, never edited
