"""Helpers shared by the conseillers services: saving with history, permission checks, dates, post locks
and the hired-within-granted count."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from conseillers.choices import STATUTS_RECRUTES, EtatPoste
from conseillers.models import MiseEnRelation, Poste
from conseillers.selectors import conseillers_editable_by
from structures.selectors import structures_editable_by


def _fmt(date):
    return f"{date:%d/%m/%Y}"


def _save(instance, by, *, conflict="Cet enregistrement entre en conflit avec un autre."):
    instance._history_user = by
    instance.full_clean()
    try:
        # A savepoint keeps the caller's transaction usable after a constraint refused the row.
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(conflict) from error
    return instance


def _require_staff(by, what):
    if not by.is_staff:
        raise PermissionDenied(f"Seule l'équipe Sicoval {what}.")


def _require_structure_editor(by, structure, message="Vous ne pouvez agir que pour votre structure."):
    if not by.is_staff and not structures_editable_by(by).filter(pk=structure.pk).exists():
        raise PermissionDenied(message)


def _require_conseiller_editor(by, conseiller):
    if not by.is_staff and not conseillers_editable_by(by).filter(pk=conseiller.pk).exists():
        raise PermissionDenied("Vous ne pouvez modifier que les conseillers de votre structure.")


def _refuse_future(date):
    if date > timezone.localdate():
        raise ValidationError(
            "Cette date est dans le futur : enregistrez ce changement le jour venu.", code="future_date"
        )


def _lock_poste(poste):
    return Poste.objects.select_for_update().select_related("structure").get(pk=poste.pk)


def _granted_count(structure):
    """Posts currently attached to the structure and not returned."""
    return Poste.objects.filter(structure=structure).exclude(etat=EtatPoste.RENDU).count()


def _hired_count(structure):
    return MiseEnRelation.objects.filter(structure=structure, statut__in=STATUTS_RECRUTES).count()


def _check_hired_within_granted(structure, *, leaving):
    """After a post leaves ``structure`` (move or return), its hired people must still fit in its posts.
    The caller holds the structure's row lock."""
    hired, granted = _hired_count(structure), _granted_count(structure) - leaving
    if hired > granted:
        raise ValidationError(
            f"{structure} compte {hired} personne(s) recrutée(s) : elle ne peut pas descendre à {granted} poste(s). "
            "Clôturez d'abord un recrutement.",
            code="hired_exceeds_granted",
        )
