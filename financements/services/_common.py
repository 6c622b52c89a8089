"""Helpers shared by the financements services: amounts, agreement statuses, saving with history, staff
checks and line locks and sums."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from financements import choices
from financements.models import Avoir, Convention, LigneFinancement, Versement

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


def _sums(ligne):
    """(planned, paid, repaid) on a line, in euros; call with the line locked."""
    versements = Versement.objects.filter(ligne=ligne).aggregate(prevu=Sum("montant_prevu"), verse=Sum("montant_verse"))
    repaid = Avoir.objects.filter(ligne=ligne).aggregate(total=Sum("montant"))["total"]
    return versements["prevu"] or ZERO, versements["verse"] or ZERO, repaid or ZERO


def _lock_ligne(ligne):
    ligne = LigneFinancement.objects.select_for_update().get(pk=ligne.pk)
    ligne.convention = Convention.objects.get(pk=ligne.convention_id)
    return ligne
