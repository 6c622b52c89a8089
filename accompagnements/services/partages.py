"""Sharing a conseiller's figures for a period through a revocable read-only link."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accompagnements.models import PartageStatistiques

from .activites import conseiller_of


# --- Sharing figures -----------------------------------------------------------------------------------------------
def partage_create(*, by, date_debut, date_fin, libelle=""):
    conseiller = conseiller_of(by)
    if date_debut is None or date_fin is None:
        raise ValidationError("Indiquez la période à partager.")
    if date_fin < date_debut:
        raise ValidationError({"date_fin": "La fin de la période doit suivre son début."})
    partage = PartageStatistiques(
        conseiller=conseiller, date_debut=date_debut, date_fin=date_fin, libelle=(libelle or "").strip()
    )
    partage._history_user = by
    partage.full_clean()
    try:
        with transaction.atomic():
            partage.save()
    except IntegrityError as error:  # a token collision: astronomically unlikely, never a 500
        raise ValidationError("Le lien n'a pas pu être créé : réessayez.") from error
    return partage


def partage_revoke(*, partage, by):
    if not by.is_authenticated or partage.conseiller.user_id != by.pk:
        raise PermissionDenied("Seul le conseiller qui a partagé ce lien peut le révoquer.")
    if partage.revoque_le is None:
        partage.revoque_le = timezone.now()
        partage._history_user = by
        partage.save(update_fields=["revoque_le"])
    return partage
