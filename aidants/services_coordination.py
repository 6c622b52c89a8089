"""The coordination log of Sicoval staff, as the national tool defines it: each member of staff records, corrects and
removes their own activities. What each type needs:

- animation (of the network): duration, participants, thématiques;
- événement: intitulé, territorial scale, participants (duration optional);
- partenariat: partner structures, territorial scale.

Fields a type does not use are emptied, so that the totals of the territorial reports count only what the type means.
A removed activity is kept (``supprimee_le``) and no longer counted.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accompagnements.choices import THEMATIQUE_LABELS
from structures.models import Structure

from .models import ActiviteCoordination, EchelleTerritoriale, TypeCoordination

FIELDS = {"type", "date", "duree", "intitule", "echelle", "participants", "thematiques", "notes"}
MAX_PARTICIPANTS = 100_000
MAX_DUREE = 1440
# For each type: the fields it requires, and those it may hold.
REQUIRED = {
    TypeCoordination.ANIMATION: {"duree", "participants", "thematiques"},
    TypeCoordination.EVENEMENT: {"echelle", "participants"},
    TypeCoordination.PARTENARIAT: {"structures_partenaires", "echelle"},
}
OPTIONAL = {
    TypeCoordination.ANIMATION: set(),
    TypeCoordination.EVENEMENT: {"duree"},
    TypeCoordination.PARTENARIAT: set(),
}
MISSING = {
    "duree": "Indiquez la durée en minutes.",
    "participants": "Indiquez le nombre de participants.",
    "thematiques": "Choisissez au moins une thématique.",
    "echelle": "Choisissez l'échelle territoriale.",
    "structures_partenaires": "Choisissez au moins une structure partenaire.",
}
EMPTY = {"duree": None, "participants": None, "thematiques": [], "echelle": ""}


def _require_staff(by):
    if not (by and by.is_authenticated and by.is_staff):
        raise PermissionDenied("Seule l'équipe Sicoval tient le journal de coordination.")


def _require_author(activite, by):
    _require_staff(by)
    if activite.auteur_id != by.pk:
        raise PermissionDenied("Chacun ne modifie que ses propres activités de coordination.")
    if activite.supprimee_le:
        raise ValidationError("Cette activité a été supprimée.", code="supprimee")


def _int(value):
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError
    return int(value)


def _apply(activite, fields, structures):
    """Set and check the fields; returns the partner structures to keep (a list)."""
    unknown = set(fields) - FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        if name in {"intitule", "notes", "echelle"}:
            value = (value or "").strip()
        setattr(activite, name, value)
    errors = {}
    if activite.type not in TypeCoordination.values:
        raise ValidationError({"type": "Choisissez un type d'activité : animation, événement ou partenariat."})
    kind = TypeCoordination(activite.type)
    if not activite.intitule:
        errors["intitule"] = "Indiquez l'intitulé de l'activité."
    if not isinstance(activite.date, datetime.date) or isinstance(activite.date, datetime.datetime):
        errors["date"] = "Indiquez la date de l'activité."
    elif activite.date > timezone.localdate():
        errors["date"] = "La date ne peut pas être dans le futur : enregistrez l'activité une fois réalisée."
    elif activite.date.year < 2000:
        errors["date"] = "Saisissez une date valide."
    for name, converter, bounds, message in (
        ("duree", _int, (1, MAX_DUREE), "La durée est comprise entre 1 minute et 24 heures (1 440 minutes)."),
        ("participants", _int, (1, MAX_PARTICIPANTS), "Le nombre de participants est compris entre 1 et 100 000."),
    ):
        try:
            value = converter(getattr(activite, name))
        except (TypeError, ValueError):
            errors[name] = message
            continue
        if value is not None and not bounds[0] <= value <= bounds[1]:
            errors[name] = message
        setattr(activite, name, value)
    if not isinstance(activite.thematiques, list | tuple):
        errors["thematiques"] = "Choisissez les thématiques dans la liste nationale."
    else:
        activite.thematiques = list(dict.fromkeys(activite.thematiques))
        unknown_themes = [str(t) for t in activite.thematiques if t not in THEMATIQUE_LABELS]
        if unknown_themes:
            errors["thematiques"] = f"Thématique(s) hors de la liste nationale : {', '.join(unknown_themes)}."
    if activite.echelle and activite.echelle not in EchelleTerritoriale.values:
        errors["echelle"] = "Choisissez une échelle territoriale de la liste."
    structures = list(dict.fromkeys(structures or []))
    if any(not isinstance(s, Structure) or s.pk is None for s in structures):
        errors["structures_partenaires"] = "Choisissez des structures du réseau."
    # What the type needs, and nothing it does not use.
    used = REQUIRED[kind] | OPTIONAL[kind]
    values = {
        "duree": activite.duree,
        "participants": activite.participants,
        "thematiques": activite.thematiques,
        "echelle": activite.echelle,
        "structures_partenaires": structures,
    }
    for name in REQUIRED[kind]:
        if name not in errors and values[name] in (None, "", []):
            errors[name] = MISSING[name]
    if errors:
        raise ValidationError(errors)
    for name, empty in EMPTY.items():
        if name not in used:
            setattr(activite, name, empty)
    return structures if "structures_partenaires" in used else []


def _save(activite, by):
    activite._history_user = by
    activite.full_clean(exclude=["auteur"])
    try:
        activite.save()
    except IntegrityError as error:
        raise ValidationError("Cet enregistrement entre en conflit avec un autre : rechargez la page.") from error
    return activite


@transaction.atomic
def coordination_create(*, by, structures_partenaires=(), **fields):
    """Record one of your coordination activities (staff)."""
    _require_staff(by)
    activite = ActiviteCoordination(auteur=by, thematiques=[])
    structures = _apply(activite, fields, structures_partenaires)
    _save(activite, by)
    activite.structures_partenaires.set(structures)
    return activite


@transaction.atomic
def coordination_update(*, activite, by, structures_partenaires=None, **fields):
    """Correct one of your coordination activities. ``structures_partenaires=None`` keeps them (if the type uses
    them)."""
    activite = ActiviteCoordination.objects.select_for_update().get(pk=activite.pk)
    _require_author(activite, by)
    if structures_partenaires is None:
        structures_partenaires = list(activite.structures_partenaires.all())
    structures = _apply(activite, fields, structures_partenaires)
    _save(activite, by)
    activite.structures_partenaires.set(structures)
    return activite


@transaction.atomic
def coordination_delete(*, activite, by):
    """Remove one of your activities: kept with its history, no longer listed nor counted. Twice does nothing."""
    activite = ActiviteCoordination.objects.select_for_update().get(pk=activite.pk)
    _require_staff(by)
    if activite.auteur_id != by.pk:
        raise PermissionDenied("Chacun ne supprime que ses propres activités de coordination.")
    if activite.supprimee_le:
        return activite
    activite.supprimee_le = timezone.now()
    return _save(activite, by)
