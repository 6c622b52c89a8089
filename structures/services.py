"""Every write on structures, places and memberships. Each service validates, owns its transaction, and records
the acting user in the history."""

import difflib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Role
from partenaires.actor import acts_for, history_user, is_api

from . import choices
from .models import ArretItinerant, Lieu, Membership, Structure
from .selectors import normalise_nom, structures_editable_by

STRUCTURE_EDITABLE_FIELDS = [
    "nom",
    "siret",
    "rna",
    "type_juridique",
    "secteur",
    "phase",
    "commune",
    "adresse",
    "code_postal",
    "contact_nom",
    "contact_email",
    "contact_telephone",
    "site_web",
    "qpv",
    "zrr",
    *Structure.ROLE_FIELDS,
]
# Official identity, labels and funding zones: set by Sicoval staff only (a référent keeps the name, address and
# contacts of their structure up to date).
STRUCTURE_STAFF_ONLY_FIELDS = {
    "siret",
    "rna",
    "type_juridique",
    "secteur",
    "phase",
    "qpv",
    "zrr",
    *Structure.ROLE_FIELDS,
}
# Roles a référent may grant or withdraw in their own structure; funder access (every structure) is staff's call.
REFERENT_GRANTABLE_ROLES = {Role.REFERENT, Role.CONSEILLER, Role.AIDANT}


def structure_find_similar(*, nom, commune, exclude_pk=None, threshold=0.85):
    """Structures of the same commune whose name looks like ``nom`` (possible duplicates to confirm)."""
    target = normalise_nom(nom)
    if not target:
        return []
    candidates = Structure.objects.filter(commune=commune).only("pk", "uuid", "nom", "commune_id")
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    similar = []
    for structure in candidates:
        other = normalise_nom(structure.nom)
        ratio = difflib.SequenceMatcher(None, target, other).ratio()
        if ratio >= threshold or (len(other) > 3 and (other in target or target in other)):
            similar.append(structure)
    return similar


def _save(instance, by, **kwargs):
    instance._history_user = history_user(by)
    instance.full_clean()
    try:
        instance.save(**kwargs)
    except IntegrityError as error:
        raise ValidationError(
            "Cet enregistrement entre en conflit avec un autre (SIRET ou RNA déjà utilisé ?)."
        ) from error
    return instance


def _require_editor(by, structure):
    """Staff edit everything; a référent (or the structure's API client) edits their own structure and its places;
    nobody else writes."""
    if is_api(by):
        if not acts_for(by, structure):
            raise PermissionDenied("Vous ne pouvez pas modifier cette structure ni ses lieux.")
        return
    if not by.is_staff and not structures_editable_by(by).filter(pk=structure.pk).exists():
        raise PermissionDenied("Vous ne pouvez pas modifier cette structure ni ses lieux.")


def _refuse_possible_duplicate(structure):
    similar = structure_find_similar(nom=structure.nom, commune=structure.commune, exclude_pk=structure.pk)
    if similar:
        names = ", ".join(s.nom for s in similar)
        message = f"Doublon possible dans cette commune : {names}. Confirmez qu'il s'agit d'une autre structure."
        # The code sits on the field's error (a dict drops the outer code), so forms can offer the confirmation.
        raise ValidationError({"nom": ValidationError(message, code="possible_duplicate")})


@transaction.atomic
def structure_create(*, by, confirm_not_duplicate=False, **fields):
    """Create a structure (Sicoval staff). A similar name in the same commune must be confirmed as not a duplicate."""
    if not by.is_staff:
        raise PermissionDenied("Seule l'équipe Sicoval crée des structures.")
    structure = Structure(**fields)
    if not confirm_not_duplicate and structure.commune_id:
        _refuse_possible_duplicate(structure)
    return _save(structure, by)


@transaction.atomic
def structure_update(*, structure, by, confirm_not_duplicate=False, **fields):
    """Update identity, contacts and roles. Statuses change only through their own services."""
    unknown = set(fields) - set(STRUCTURE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    _require_editor(by, structure)
    if not by.is_staff:
        locked = sorted(
            name for name in STRUCTURE_STAFF_ONLY_FIELDS & set(fields) if fields[name] != getattr(structure, name)
        )
        if locked:
            labels = ", ".join(str(Structure._meta.get_field(name).verbose_name) for name in locked)
            raise PermissionDenied(f"Seule l'équipe Sicoval modifie : {labels}.")
    renamed = (
        "nom" in fields
        and fields["nom"] != structure.nom
        or "commune" in fields
        and fields["commune"] != structure.commune
    )
    for name, value in fields.items():
        setattr(structure, name, value)
    if renamed and not confirm_not_duplicate:
        _refuse_possible_duplicate(structure)
    return _save(structure, by)


def _change_status(*, structure, field, enum, transitions, target, by, what, noun):
    """Move one of the national statuses along its workflow: staff only, allowed transitions only, with history."""
    if not by.is_staff:
        raise PermissionDenied(f"Seule l'équipe Sicoval change {what}.")
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    current, target = enum(getattr(structure, field)), enum(target)
    if target not in transitions[current]:
        raise ValidationError(
            f"Passage impossible {noun} « {current.label} » à « {target.label} ».", code="invalid_transition"
        )
    return structure, target


@transaction.atomic
def structure_change_statut(*, structure, statut, by):
    """Move the candidature status along the national workflow; only Sicoval staff may."""
    structure, target = _change_status(
        structure=structure,
        field="statut",
        enum=choices.StatutCandidature,
        transitions=choices.STATUT_TRANSITIONS,
        target=statut,
        by=by,
        what="le statut d'une candidature",
        noun="du statut",
    )
    structure.statut = target
    return _save(structure, by)


@transaction.atomic
def structure_change_conventionnement(*, structure, conventionnement, by):
    """Move the agreement status along the national workflow; requires a validated candidature."""
    structure, target = _change_status(
        structure=structure,
        field="conventionnement",
        enum=choices.Conventionnement,
        transitions=choices.CONVENTIONNEMENT_TRANSITIONS,
        target=conventionnement,
        by=by,
        what="le conventionnement d'une structure",
        noun="du conventionnement",
    )
    validated = structure.statut == choices.StatutCandidature.VALIDATION_COSELEC
    if target != choices.Conventionnement.NON_INTERESSE and not validated:
        raise ValidationError(
            "Le conventionnement n'est possible que pour une candidature validée en comité de sélection.",
            code="candidature_not_validated",
        )
    structure.conventionnement = target
    return _save(structure, by)


def grantable_roles(user):
    return set(Role.values) if user.is_staff else set(REFERENT_GRANTABLE_ROLES)


def _check_can_manage_membership(*, structure, role, by):
    _require_editor(by, structure)
    if role not in grantable_roles(by):
        raise PermissionDenied("Seule l'équipe Sicoval attribue ou retire ce rôle.")


@transaction.atomic
def membership_add(*, structure, user, role, by):
    _check_can_manage_membership(structure=structure, role=role, by=by)
    if Membership.objects.filter(structure=structure, user=user, role=role).exists():
        raise ValidationError("Cette personne a déjà ce rôle dans la structure.", code="duplicate_membership")
    return _save(Membership(structure=structure, user=user, role=role), by)


@transaction.atomic
def membership_remove(*, membership, by):
    _check_can_manage_membership(structure=membership.structure, role=membership.role, by=by)
    membership._history_user = by
    membership.delete()


LIEU_FIELDS = [
    field.name
    for field in Lieu._meta.get_fields()
    if getattr(field, "editable", False)
    and field.concrete
    and field.name not in {"id", "uuid", "structure", "is_active"}
]


def _check_lieu(lieu):
    if (
        lieu.commune_id
        and lieu.code_postal
        and lieu.commune.codes_postaux
        and lieu.code_postal not in lieu.commune.codes_postaux
    ):
        postaux = ", ".join(lieu.commune.codes_postaux)
        message = f"Ce code postal ne correspond pas à {lieu.commune.nom} ({postaux})."
        raise ValidationError({"code_postal": message})


@transaction.atomic
def lieu_create(*, structure, by, **fields):
    _require_editor(by, structure)
    lieu = Lieu(structure=structure, **fields)
    _check_lieu(lieu)
    return _save(lieu, by)


@transaction.atomic
def lieu_update(*, lieu, by, **fields):
    unknown = set(fields) - set(LIEU_FIELDS)
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    lieu = Lieu.objects.select_for_update().get(pk=lieu.pk)
    _require_editor(by, lieu.structure)
    for name, value in fields.items():
        setattr(lieu, name, value)
    _check_lieu(lieu)
    if not lieu.is_itinerant and lieu.arrets.exists():
        raise ValidationError(
            {"itinerance": "Ce lieu a des arrêts itinérants : supprimez-les avant de le rendre fixe."}
        )
    return _save(lieu, by)


@transaction.atomic
def lieu_set_active(*, lieu, is_active, by):
    """Retire a place from publication (or publish it again); places are never deleted."""
    lieu = Lieu.objects.select_for_update().get(pk=lieu.pk)
    _require_editor(by, lieu.structure)
    lieu.is_active = is_active
    return _save(lieu, by)


@transaction.atomic
def arret_create(*, lieu, by, **fields):
    # Lock the place so that two concurrent stops cannot both pass the overlap check.
    lieu = Lieu.objects.select_for_update().get(pk=lieu.pk)
    _require_editor(by, lieu.structure)
    if not lieu.is_itinerant:
        raise ValidationError("Seul un lieu itinérant a des arrêts.", code="not_itinerant")
    arret = ArretItinerant(lieu=lieu, **fields)
    if ArretItinerant.objects.filter(
        lieu=lieu, date=arret.date, heure_debut__lt=arret.heure_fin, heure_fin__gt=arret.heure_debut
    ).exists():
        raise ValidationError("Cet arrêt chevauche un autre arrêt du même jour.", code="overlap")
    return _save(arret, by)


@transaction.atomic
def arret_delete(*, arret, by):
    _require_editor(by, arret.lieu.structure)
    arret._history_user = by
    arret.delete()
