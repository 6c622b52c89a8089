"""Reference amounts: the row in force for an envelope and sector, and the three-year V2 schedule."""

from django.core.exceptions import ValidationError
from django.db.models import Q

from financements import choices
from financements.models import Bareme

from ._common import ZERO, _date


def is_outre_mer(structure):
    return (structure.commune.departement or "").startswith(("97", "98"))


def bareme_for(*, enveloppe, secteur, on_date, annee=None, outre_mer=False):
    """The reference row in force on ``on_date`` for an envelope and sector (and year of a V2 agreement): among the
    rows valid that day, the one that took effect last. Two rows taking effect the same day are ambiguous: the
    caller must then choose the row (e.g. the two overseas V1 amounts)."""
    rows = list(
        Bareme.objects.filter(
            enveloppe=enveloppe, secteur=secteur, annee=annee, outre_mer=outre_mer, valide_du__lte=on_date
        )
        .filter(Q(valide_au__isnull=True) | Q(valide_au__gte=on_date))
        .order_by("-valide_du", "pk")[:2]
    )
    year = f", année {annee}" if annee else ""
    if not rows:
        raise ValidationError(
            f"Aucun barème {enveloppe} ({secteur}{year}) n'est en vigueur au {_date(on_date)} : indiquez les montants.",
            code="no_bareme",
        )
    if len(rows) == 2 and rows[0].valide_du == rows[1].valide_du:
        raise ValidationError(
            f"Plusieurs barèmes {enveloppe} ({secteur}{year}) s'appliquent au {_date(on_date)} : choisissez-le.",
            code="ambiguous_bareme",
        )
    return rows[0]


def _v2_schedule(*, structure, on_date):
    """The three yearly rows of a V2 agreement for a structure: [(year, base, bonus, row), …]."""
    bonus_applies = structure.qpv or structure.zrr
    schedule = []
    for annee in (1, 2, 3):
        row = bareme_for(
            enveloppe=choices.Enveloppe.V2,
            secteur=structure.secteur,
            annee=annee,
            on_date=on_date,
            outre_mer=is_outre_mer(structure),
        )
        schedule.append((annee, row.montant, row.bonus_qpv_zrr if bonus_applies else ZERO, row))
    return schedule
