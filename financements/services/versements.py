"""Instalments: planning, payment records and the yearly V2 schedule."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from financements import choices
from financements.models import Versement

from ._common import PAYABLE, ZERO, _date, _lock_ligne, _money, _refuse_closed, _require_staff, _save, _sums, euros
from .baremes import _v2_schedule


def _check_planned_date(convention, date_prevue):
    if date_prevue is None:
        raise ValidationError({"date_prevue": "Indiquez la date prévue de l'échéance."})
    if date_prevue > convention.date_fin_financement:
        raise ValidationError(
            {
                "date_prevue": "Impossible de prévoir une échéance après la fin de la convention : le financement "
                f"s'arrête le {_date(convention.date_fin_financement)}."
            }
        )
    if date_prevue < convention.date_debut_financement:
        raise ValidationError(
            {
                "date_prevue": "Impossible de prévoir une échéance avant le début du financement "
                f"({_date(convention.date_debut_financement)})."
            }
        )


@transaction.atomic
def versement_plan(*, ligne, numero, date_prevue, montant_prevu, by):
    """Plan instalment ``numero`` of a line: within the financing period, and the planned instalments of the line
    never add up to more than its total."""
    _require_staff(by, "prévoit les versements")
    ligne = _lock_ligne(ligne)
    _refuse_closed(ligne.convention)
    montant_prevu = _money(montant_prevu, field="montant_prevu", label="montant prévu")
    _check_planned_date(ligne.convention, date_prevue)
    if Versement.objects.filter(ligne=ligne, numero=numero).exists():
        raise ValidationError({"numero": f"L'échéance n° {numero} existe déjà sur cette ligne."})
    planned, _, _ = _sums(ligne)
    if planned + montant_prevu > ligne.montant_total:
        raise ValidationError(
            {
                "montant_prevu": f"Les échéances prévues ({euros(planned + montant_prevu)}) dépasseraient le montant "
                f"accordé sur la ligne ({euros(ligne.montant_total)})."
            }
        )
    versement = Versement(ligne=ligne, numero=numero, date_prevue=date_prevue, montant_prevu=montant_prevu)
    return _save(versement, by)


@transaction.atomic
def versement_record(*, versement, date_versement, montant_verse, by):
    """Record (or correct) the payment of an instalment: never more in total on the line than its agreed amount."""
    _require_staff(by, "enregistre les versements")
    ligne = _lock_ligne(versement.ligne)
    versement = Versement.objects.select_for_update().get(pk=versement.pk)
    convention = ligne.convention
    if convention.statut not in PAYABLE:
        raise ValidationError(
            f"Un versement s'enregistre sur une convention signée (celle-ci est "
            f"{convention.get_statut_display().lower()}).",
            code="convention_not_payable",
        )
    montant_verse = _money(montant_verse, field="montant_verse", label="montant versé")
    if date_versement is None:
        raise ValidationError({"date_versement": "Indiquez la date du versement."})
    if date_versement > datetime.date.today():
        raise ValidationError({"date_versement": "La date du versement ne peut pas être dans le futur."})
    paid_elsewhere = (
        Versement.objects.filter(ligne=ligne).exclude(pk=versement.pk).aggregate(total=Sum("montant_verse"))["total"]
        or ZERO
    )
    if paid_elsewhere + montant_verse > ligne.montant_total:
        raise ValidationError(
            {
                "montant_verse": f"Ce versement porterait le total versé à {euros(paid_elsewhere + montant_verse)}, "
                f"au-delà du montant accordé sur la ligne ({euros(ligne.montant_total)})."
            }
        )
    versement.date_versement = date_versement
    versement.montant_verse = montant_verse
    return _save(versement, by)


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def versements_plan_v2(*, ligne, by):
    """Plan the three yearly instalments of a V2 line from its agreement's financing start: year n on the start
    date plus n − 1 years, for the year's reference amount plus its bonus when the structure is in a QPV or a ZRR
    (public: 20 000, 17 500 and 12 500 € with the bonus). The line's total must be the sum of the schedule."""
    _require_staff(by, "prévoit les versements")
    ligne = _lock_ligne(ligne)
    convention = ligne.convention
    if convention.enveloppe != choices.Enveloppe.V2:
        raise ValidationError("Le calendrier annuel ne concerne que les conventions V2.", code="not_v2")
    if Versement.objects.filter(ligne=ligne).exists():
        raise ValidationError("Cette ligne a déjà des échéances.", code="already_planned")
    schedule = _v2_schedule(structure=convention.structure, on_date=convention.date_debut)
    total = sum((base + bonus for _, base, bonus, _ in schedule), ZERO)
    if total != ligne.montant_total:
        raise ValidationError(
            f"Le montant de la ligne ({euros(ligne.montant_total)}) ne correspond pas au barème V2 "
            f"({euros(total)}) : prévoyez les échéances une à une.",
            code="not_v2_schedule",
        )
    return [
        versement_plan(
            ligne=ligne,
            numero=annee,
            date_prevue=_add_years(convention.date_debut_financement, annee - 1),
            montant_prevu=base + bonus,
            by=by,
        )
        for annee, base, bonus, _ in schedule
    ]
