"""Filters of the workshops' partner API (unknown or empty values are refused with a 400, never ignored)."""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from accompagnements import choices as cra
from ateliers.models import Atelier, Inscription, Seance, StatutInscription, StatutSeance
from sicoval_numerique.api.partner import SyncFilterSet
from structures.fields import list_contains

ANNEE_MIN, ANNEE_MAX = 1900, 2100
BORNE_MIN = datetime.datetime(ANNEE_MIN, 1, 1, tzinfo=datetime.UTC)
BORNE_MAX = datetime.datetime(ANNEE_MAX, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


class MomentField(IsoDateTimeField):
    """An ISO 8601 moment, brought back within 1900–2100: a date at the edge of the calendar
    (9999-12-31T23:59:59-14:00) would overflow when the database converts it to UTC, and no workshop is dated
    outside that range, so the filter means the same."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            utc = moment.astimezone(datetime.UTC)
        except OverflowError:
            utc = BORNE_MIN if moment.year < ANNEE_MIN else BORNE_MAX
        return min(max(utc, BORNE_MIN), BORNE_MAX)


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false``; anything else (an empty value included) is refused, never read as "no filter"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value is None:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError("Choisissez true ou false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentField


class AtelierFilter(SyncFilterSet):
    actif = StrictBooleanFilter(help_text="true : les ateliers actifs ; false : les inactifs.")
    thematique = django_filters.ChoiceFilter(
        choices=cra.THEMATIQUES, method="filter_thematique", help_text="Une thématique nationale de l'atelier."
    )

    class Meta:
        model = Atelier
        fields = ["actif", "thematique", "modified_since"]

    def filter_thematique(self, queryset, name, value):
        return queryset.filter(list_contains("thematiques", value))


class SeanceFilter(SyncFilterSet):
    atelier = django_filters.UUIDFilter(field_name="atelier__uuid", help_text="UUID d'un atelier.")
    debut_apres = MomentFilter(
        field_name="debut", lookup_expr="gte", help_text="Séances commençant à cette date ou après (ISO 8601)."
    )
    debut_avant = MomentFilter(
        field_name="debut", lookup_expr="lt", help_text="Séances commençant avant cette date (ISO 8601)."
    )
    statut = django_filters.ChoiceFilter(choices=StatutSeance.choices, help_text="Planifiée ou annulée.")
    commune = django_filters.CharFilter(
        method="filter_commune", help_text="Code INSEE de la commune du lieu ou de l'arrêt du lieu itinérant."
    )

    class Meta:
        model = Seance
        fields = ["atelier", "debut_apres", "debut_avant", "statut", "commune", "modified_since"]

    def filter_commune(self, queryset, name, value):
        return queryset.filter(Q(lieu__commune__code_insee=value) | Q(arret__commune__code_insee=value))


class InscriptionFilter(SyncFilterSet):
    seance = django_filters.UUIDFilter(field_name="seance__uuid", help_text="UUID d'une séance.")
    statut = django_filters.ChoiceFilter(
        choices=StatutInscription.choices, help_text="Confirmée, sur liste d'attente ou annulée."
    )

    class Meta:
        model = Inscription
        fields = ["seance", "statut", "modified_since"]
