"""Funders and agreements: creation, corrections, signature and status changes."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from financements.models import Convention, Financeur, Versement

from ._common import STATUT_TRANSITIONS, Statut, _refuse_closed, _require_staff, _save


# --- funders -------------------------------------------------------------------------------------------------------
@transaction.atomic
def financeur_create(*, nom, type, structure=None, by):
    _require_staff(by, "enregistre les financeurs")
    return _save(Financeur(nom=nom, type=type, structure=structure), by)


@transaction.atomic
def financeur_update(*, financeur, by, **fields):
    unknown = set(fields) - {"nom", "type", "structure"}
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    _require_staff(by, "modifie les financeurs")
    financeur = Financeur.objects.select_for_update().get(pk=financeur.pk)
    for name, value in fields.items():
        setattr(financeur, name, value)
    return _save(financeur, by)


# --- agreements ----------------------------------------------------------------------------------------------------
CONVENTION_EDITABLE_FIELDS = {
    "reference",
    "financeur",
    "structure",
    "enveloppe",
    "phase",
    "date_debut",
    "date_fin",
    "date_debut_financement",
    "date_fin_financement",
}
# Once an agreement has lines, who pays whom under which envelope is settled.
CONVENTION_FIELDS_FIXED_BY_LINES = {"financeur", "structure", "enveloppe"}


def _check_convention_dates(convention):
    c = convention
    errors = {}
    if c.date_debut and c.date_fin and c.date_fin <= c.date_debut:
        errors["date_fin"] = "La fin de la convention doit suivre son début."
    if c.date_debut_financement and c.date_fin_financement and c.date_fin_financement <= c.date_debut_financement:
        errors["date_fin_financement"] = "La fin du financement doit suivre son début."
    if not errors and all((c.date_debut, c.date_fin, c.date_debut_financement, c.date_fin_financement)):
        if c.date_debut_financement < c.date_debut:
            errors["date_debut_financement"] = "Le financement ne peut pas commencer avant la convention."
        if c.date_fin_financement > c.date_fin:
            errors["date_fin_financement"] = "Le financement ne peut pas se prolonger après la fin de la convention."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def convention_create(
    *,
    financeur,
    structure,
    enveloppe,
    date_debut,
    date_fin,
    date_debut_financement,
    date_fin_financement,
    phase=None,
    reference="",
    by,
):
    """Record an agreement in preparation; it is signed with ``convention_sign``."""
    _require_staff(by, "enregistre les conventions")
    convention = Convention(
        financeur=financeur,
        structure=structure,
        enveloppe=enveloppe,
        phase=phase,
        reference=reference,
        date_debut=date_debut,
        date_fin=date_fin,
        date_debut_financement=date_debut_financement,
        date_fin_financement=date_fin_financement,
    )
    _check_convention_dates(convention)
    return _save(convention, by)


@transaction.atomic
def convention_update(*, convention, by, **fields):
    """Correct an open agreement. Its financing period must keep every planned instalment; once it has lines, its
    funder, structure and envelope no longer change."""
    unknown = set(fields) - CONVENTION_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    _require_staff(by, "modifie les conventions")
    convention = Convention.objects.select_for_update().get(pk=convention.pk)
    _refuse_closed(convention)
    changed = {name for name, value in fields.items() if getattr(convention, name) != value}
    if changed & CONVENTION_FIELDS_FIXED_BY_LINES and convention.lignes.exists():
        raise ValidationError(
            "La convention a déjà des lignes de financement : son financeur, sa structure et son enveloppe ne "
            "changent plus.",
            code="convention_has_lines",
        )
    for name, value in fields.items():
        setattr(convention, name, value)
    _check_convention_dates(convention)
    outside = Versement.objects.filter(ligne__convention=convention).filter(
        Q(date_prevue__lt=convention.date_debut_financement) | Q(date_prevue__gt=convention.date_fin_financement)
    )
    if outside.exists():
        raise ValidationError(
            {
                "date_fin_financement": "Des échéances prévues sortiraient de la période de financement : "
                "déplacez-les d'abord."
            }
        )
    return _save(convention, by)


@transaction.atomic
def convention_sign(*, convention, date_signature, by):
    _require_staff(by, "enregistre la signature d'une convention")
    convention = Convention.objects.select_for_update().get(pk=convention.pk)
    if convention.statut != Statut.EN_PREPARATION:
        raise ValidationError(
            f"La convention est déjà {convention.get_statut_display().lower()}.", code="invalid_transition"
        )
    if date_signature is None:
        raise ValidationError({"date_signature": "Indiquez la date de signature."})
    if date_signature > datetime.date.today():
        raise ValidationError({"date_signature": "La date de signature ne peut pas être dans le futur."})
    convention.statut = Statut.SIGNEE
    convention.date_signature = date_signature
    return _save(convention, by)


@transaction.atomic
def convention_change_statut(*, convention, statut, by):
    """Close (soldée) or terminate (résiliée) a signed agreement."""
    _require_staff(by, "change le statut d'une convention")
    convention = Convention.objects.select_for_update().get(pk=convention.pk)
    current, target = Statut(convention.statut), Statut(statut)
    if target == Statut.SIGNEE and current == Statut.EN_PREPARATION:
        raise ValidationError("Une convention se signe avec sa date de signature.", code="signature_needed")
    if target not in STATUT_TRANSITIONS[current]:
        raise ValidationError(
            f"Passage impossible du statut « {current.label} » à « {target.label} ».", code="invalid_transition"
        )
    convention.statut = target
    return _save(convention, by)
