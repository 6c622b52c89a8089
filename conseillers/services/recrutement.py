"""Conseillers and their recruitment records (mises en relation)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from conseillers.choices import MISE_EN_RELATION_TRANSITIONS, STATUTS_RECRUTES, StatutMiseEnRelation
from conseillers.models import Conseiller, MiseEnRelation
from structures.models import Structure

from ._common import _granted_count, _hired_count, _require_conseiller_editor, _require_structure_editor, _save

CONSEILLER_FIELDS = {"prenom", "nom", "email", "telephone", "est_coordinateur", "coordinateur", "user"}
# Linking a person to a login account is staff's call: the account then sees that person's data.
CONSEILLER_STAFF_ONLY_FIELDS = {"user"}


def _check_conseiller_fields(fields, by):
    unknown = set(fields) - CONSEILLER_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    if not by.is_staff and CONSEILLER_STAFF_ONLY_FIELDS & set(fields):
        raise PermissionDenied("Seule l'équipe Sicoval relie un conseiller à un compte.")


def _check_coordination(conseiller):
    coordinateur = conseiller.coordinateur
    if coordinateur is not None:
        if coordinateur.pk and coordinateur.pk == conseiller.pk:
            raise ValidationError({"coordinateur": "Un conseiller ne peut pas être son propre coordinateur."})
        if not coordinateur.est_coordinateur:
            raise ValidationError({"coordinateur": f"{coordinateur} n'est pas coordinateur."})


@transaction.atomic
def conseiller_create(*, by, structure=None, **fields):
    """Record a person. A référent records the conseillers of their structure: ``structure`` is then required and a
    recruitment record (``nouvelle``) links the person to it."""
    _check_conseiller_fields(fields, by)
    if not by.is_staff:
        if structure is None:
            raise PermissionDenied("Précisez la structure qui recrute ce conseiller.")
        _require_structure_editor(by, structure)
    conseiller = Conseiller(**fields)
    _check_coordination(conseiller)
    _save(conseiller, by)
    if structure is not None:
        _save(MiseEnRelation(conseiller=conseiller, structure=structure), by)
    return conseiller


@transaction.atomic
def conseiller_update(*, conseiller, by, **fields):
    _check_conseiller_fields(fields, by)
    conseiller = Conseiller.objects.select_for_update().get(pk=conseiller.pk)
    _require_conseiller_editor(by, conseiller)
    for name, value in fields.items():
        setattr(conseiller, name, value)
    _check_coordination(conseiller)
    if not conseiller.est_coordinateur and conseiller.coordonnes.exists():
        raise ValidationError(
            {"est_coordinateur": "Cette personne coordonne encore des conseillers : rattachez-les d'abord à un autre."}
        )
    return _save(conseiller, by, conflict="Ce compte est déjà relié à un autre conseiller.")


@transaction.atomic
def mise_en_relation_create(*, conseiller, structure, by):
    """Open a recruitment record between a candidate and a structure (status ``nouvelle``)."""
    _require_structure_editor(by, structure)
    if MiseEnRelation.objects.filter(conseiller=conseiller, structure=structure).exists():
        raise ValidationError("Cette candidature existe déjà pour cette structure.", code="duplicate")
    return _save(
        MiseEnRelation(conseiller=conseiller, structure=structure),
        by,
        conflict="Cette candidature existe déjà pour cette structure.",
    )


@transaction.atomic
def mise_en_relation_transition(*, mise_en_relation, statut, date=None, by):
    """Move a recruitment record along the national workflow. Hiring (entering a status that holds a post) is
    refused when the structure's hired people would exceed its granted posts; the structure's row is locked so that
    two concurrent hires cannot both pass the count."""
    _require_structure_editor(by, mise_en_relation.structure)
    structure = Structure.objects.select_for_update().get(pk=mise_en_relation.structure_id)
    mer = MiseEnRelation.objects.select_for_update().get(pk=mise_en_relation.pk)
    current = StatutMiseEnRelation(mer.statut)
    try:
        target = StatutMiseEnRelation(statut)
    except ValueError:
        raise ValidationError({"statut": "Statut de mise en relation inconnu."}) from None
    if target not in MISE_EN_RELATION_TRANSITIONS[current]:
        raise ValidationError(
            f"Passage impossible du statut « {current.label} » à « {target.label} ».", code="invalid_transition"
        )
    if target in STATUTS_RECRUTES and current not in STATUTS_RECRUTES:
        hired, granted = _hired_count(structure), _granted_count(structure)
        if hired + 1 > granted:
            raise ValidationError(
                f"{structure} a déjà {hired} personne(s) recrutée(s) pour {granted} poste(s) attribué(s) : "
                "un recrutement de plus dépasserait ses postes.",
                code="hired_exceeds_granted",
            )
    date = date or timezone.localdate()
    if target == StatutMiseEnRelation.RECRUTEE:
        mer.date_recrutement = date
    elif target == StatutMiseEnRelation.NOUVELLE_RUPTURE:
        mer.date_rupture = date
    elif current == StatutMiseEnRelation.NOUVELLE_RUPTURE and target == StatutMiseEnRelation.FINALISEE:
        mer.date_rupture = None  # the rupture was withdrawn
    mer.statut = target
    return _save(mer, by)
