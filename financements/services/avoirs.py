"""Repayments to the funder."""

from django.core.exceptions import ValidationError
from django.db import transaction

from financements.models import Avoir

from ._common import _lock_ligne, _money, _require_staff, _save, _sums, euros


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
