"""Funding lines: a post funded under an agreement, and corrections of its amounts."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from conseillers.models import Poste, Rattachement
from financements import choices
from financements.models import Convention, LigneFinancement

from ._common import ZERO, _lock_ligne, _money, _refuse_closed, _require_staff, _save, _sums, euros
from .baremes import _v2_schedule, bareme_for, is_outre_mer


def _poste_attached(poste, structure, start, end):
    """The post is the structure's now, or was attached to it at some time of the financing period (an attachment
    ends the day the next one starts)."""
    if poste.structure_id == structure.pk:
        return True
    return (
        Rattachement.objects.filter(poste=poste, structure=structure, date_debut__lte=end)
        .filter(Q(date_fin__isnull=True) | Q(date_fin__gt=start))
        .exists()
    )


@transaction.atomic
def ligne_create(*, convention, poste, by, bareme=None, montant_base=None, bonus_qpv_zrr=None):
    """Fund a post under an agreement.

    Amounts not given are pre-filled from the reference rows (the given ``bareme``, else the one in force at the
    agreement's start for its envelope and the structure's sector): the QPV/ZRR bonus applies only when the
    structure is in a QPV or a ZRR. A V2 line without an explicit row covers the three years (sum of the yearly
    rows; ``bareme`` then references the first year's row, see ``versements_plan_v2``). When ``montant_base`` is
    given, the bonus is what is given (0 by default). A local co-funding has no reference row: give the amount.
    """
    _require_staff(by, "enregistre les lignes de financement")
    convention = Convention.objects.select_for_update().select_related("structure__commune").get(pk=convention.pk)
    _refuse_closed(convention)
    structure = convention.structure
    poste = Poste.objects.get(pk=poste.pk)
    if not _poste_attached(poste, structure, convention.date_debut_financement, convention.date_fin_financement):
        raise ValidationError(
            {"poste": f"Ce poste n'est pas rattaché à {structure} : il ne peut pas être financé par cette convention."}
        )
    if poste.date_rendu and poste.date_rendu < convention.date_debut_financement:
        raise ValidationError({"poste": "Ce poste a été rendu avant le début du financement."})
    if LigneFinancement.objects.filter(convention=convention, poste=poste).exists():
        raise ValidationError({"poste": "Ce poste a déjà une ligne dans cette convention."})

    bonus_applies = structure.qpv or structure.zrr
    if montant_base is None:
        if bareme is not None:
            if bareme.enveloppe != convention.enveloppe or bareme.secteur != structure.secteur:
                raise ValidationError(
                    {
                        "bareme": "Ce barème ne correspond pas à l'enveloppe de la convention ou au secteur de la "
                        "structure."
                    }
                )
            montant_base = bareme.montant
            default_bonus = bareme.bonus_qpv_zrr if bonus_applies else ZERO
        elif convention.enveloppe == choices.Enveloppe.COFINANCEMENT:
            raise ValidationError({"montant_base": "Indiquez le montant : un cofinancement local n'a pas de barème."})
        elif convention.enveloppe == choices.Enveloppe.V2:
            schedule = _v2_schedule(structure=structure, on_date=convention.date_debut)
            bareme = schedule[0][3]
            montant_base = sum((base for _, base, _, _ in schedule), ZERO)
            default_bonus = sum((bonus for _, _, bonus, _ in schedule), ZERO)
        else:
            bareme = bareme_for(
                enveloppe=convention.enveloppe,
                secteur=structure.secteur,
                on_date=convention.date_debut,
                outre_mer=is_outre_mer(structure),
            )
            montant_base = bareme.montant
            default_bonus = bareme.bonus_qpv_zrr if bonus_applies else ZERO
        if bonus_qpv_zrr is None:
            bonus_qpv_zrr = default_bonus
    elif bonus_qpv_zrr is None:
        bonus_qpv_zrr = ZERO

    montant_base = _money(montant_base, field="montant_base", label="montant de base")
    bonus_qpv_zrr = _money(bonus_qpv_zrr, field="bonus_qpv_zrr", label="montant de la bonification")
    if bonus_qpv_zrr and not bonus_applies:
        raise ValidationError(
            {"bonus_qpv_zrr": "La bonification ne s'applique qu'aux structures situées en QPV ou en ZRR."}
        )
    ligne = LigneFinancement(
        convention=convention,
        poste=poste,
        bareme=bareme,
        montant_base=montant_base,
        bonus_qpv_zrr=bonus_qpv_zrr,
        montant_total=montant_base + bonus_qpv_zrr,
    )
    return _save(ligne, by)


@transaction.atomic
def ligne_update(*, ligne, by, montant_base=None, bonus_qpv_zrr=None):
    """Correct the amounts of a line: its total never falls below what is planned or already paid on it."""
    _require_staff(by, "modifie les lignes de financement")
    ligne = _lock_ligne(ligne)
    _refuse_closed(ligne.convention)
    structure = ligne.convention.structure
    if montant_base is not None:
        ligne.montant_base = _money(montant_base, field="montant_base", label="montant de base")
    if bonus_qpv_zrr is not None:
        ligne.bonus_qpv_zrr = _money(bonus_qpv_zrr, field="bonus_qpv_zrr", label="montant de la bonification")
        if ligne.bonus_qpv_zrr and not (structure.qpv or structure.zrr):
            raise ValidationError(
                {"bonus_qpv_zrr": "La bonification ne s'applique qu'aux structures situées en QPV ou en ZRR."}
            )
    ligne.montant_total = ligne.montant_base + ligne.bonus_qpv_zrr
    planned, paid, _ = _sums(ligne)
    floor = max(planned, paid)
    if ligne.montant_total < floor:
        raise ValidationError(
            {
                "montant_base": f"Le montant accordé ({euros(ligne.montant_total)}) ne peut pas être inférieur aux "
                f"échéances prévues ou versées sur la ligne ({euros(floor)})."
            }
        )
    return _save(ligne, by)
