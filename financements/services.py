"""Every write on funders, agreements, funding lines, instalments and repayments.

Money is Sicoval staff's business: each service refuses anyone else (PermissionDenied), validates with French
messages keyed by field (ValidationError), owns its transaction, locks the parent row before summing its children
(PostgreSQL refuses ``FOR UPDATE`` with aggregates) and records the acting user in the history.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from conseillers.models import Poste, Rattachement

from . import choices
from .models import Avoir, Bareme, Convention, Financeur, LigneFinancement, Versement

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
Statut = choices.StatutConvention

# Signing goes through ``convention_sign`` (it needs its date); closing or terminating through
# ``convention_change_statut``. Closed agreements take no more changes.
STATUT_TRANSITIONS = {
    Statut.EN_PREPARATION: {Statut.SIGNEE},
    Statut.SIGNEE: {Statut.SOLDEE, Statut.RESILIEE},
    Statut.SOLDEE: set(),
    Statut.RESILIEE: set(),
}
CLOSED = {Statut.SOLDEE, Statut.RESILIEE}
# A payment is recorded on a signed agreement, or on a terminated one (its last payment may follow the termination).
PAYABLE = {Statut.SIGNEE, Statut.RESILIEE}

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


def euros(amount):
    """``12500.5`` → ``12 500,50 €`` (French grouping with no-break spaces)."""
    text = f"{Decimal(amount).quantize(CENT):,.2f}".replace(",", "\u00a0").replace(".", ",")
    return f"{text}\u00a0€"


def _date(value):
    return value.strftime("%d/%m/%Y")


def _require_staff(by, what):
    if not getattr(by, "is_staff", False):
        raise PermissionDenied(f"Seule l'équipe Sicoval {what}.")


def _money(value, *, field, label, allow_zero=True):
    """An amount in euros with at most two decimals, never negative (nor zero when ``allow_zero`` is False)."""
    if value is None or value == "":
        raise ValidationError({field: f"Indiquez le {label}."})
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: f"Le {label} n'est pas un nombre."}) from None
    if not amount.is_finite():
        raise ValidationError({field: f"Le {label} n'est pas un nombre."})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: f"Le {label} s'exprime en euros et centimes (deux décimales au plus)."})
    if amount < 0:
        raise ValidationError({field: f"Le {label} ne peut pas être négatif."})
    if not allow_zero and amount == 0:
        raise ValidationError({field: f"Le {label} doit être supérieur à zéro."})
    return amount.quantize(CENT)


def _save(instance, by):
    instance._history_user = by
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError("Cet enregistrement entre en conflit avec un autre : rechargez la page.") from error
    return instance


def _refuse_closed(convention):
    if convention.statut in CLOSED:
        raise ValidationError(
            f"La convention est {convention.get_statut_display().lower()} : elle ne peut plus être modifiée.",
            code="convention_closed",
        )


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


# --- reference amounts ---------------------------------------------------------------------------------------------
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


# --- funding lines -------------------------------------------------------------------------------------------------
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


def _sums(ligne):
    """(planned, paid, repaid) on a line, in euros; call with the line locked."""
    versements = Versement.objects.filter(ligne=ligne).aggregate(prevu=Sum("montant_prevu"), verse=Sum("montant_verse"))
    repaid = Avoir.objects.filter(ligne=ligne).aggregate(total=Sum("montant"))["total"]
    return versements["prevu"] or ZERO, versements["verse"] or ZERO, repaid or ZERO


def _lock_ligne(ligne):
    ligne = LigneFinancement.objects.select_for_update().get(pk=ligne.pk)
    ligne.convention = Convention.objects.get(pk=ligne.convention_id)
    return ligne


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


# --- instalments ---------------------------------------------------------------------------------------------------
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


# --- repayments ----------------------------------------------------------------------------------------------------
@transaction.atomic
def avoir_record(*, ligne, date, montant, motif, commentaire="", by):
    """Record a repayment to the funder: positive, and never more than what was paid on the line minus the earlier
    repayments."""
    _require_staff(by, "enregistre les avoirs")
    ligne = _lock_ligne(ligne)
    montant = _money(montant, field="montant", label="montant de l'avoir", allow_zero=False)
    if date is None:
        raise ValidationError({"date": "Indiquez la date de l'avoir."})
    _, paid, repaid = _sums(ligne)
    if montant > paid - repaid:
        raise ValidationError(
            {
                "montant": f"L'avoir ({euros(montant)}) dépasse ce qui reste versé sur la ligne : "
                f"{euros(paid)} versés, {euros(repaid)} déjà reversés."
            }
        )
    avoir = Avoir(ligne=ligne, date=date, montant=montant, motif=motif, commentaire=commentaire)
    return _save(avoir, by)
