"""Every write of the aidants network: aidants, their trainings and accounts, and the structures' Aidants Connect
habilitation requests. Each service checks who acts, validates with French messages, owns its transaction and records
the acting user in the history (``_history_user``).

Rules (DOMAIN.md): Aidants Connect habilitation is held by the structure; an aidant may be habilitated only as a
professional of a habilitated structure, with a 7 h or 14 h Aidants Connect training on record. A validated request
makes the structure habilitated; closing a validated request withdraws it, and its aidants lose their habilitation.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accompagnements.choices import THEMATIQUE_LABELS
from accounts.models import Role
from structures.models import Commune, Membership, Structure
from structures.selectors import structures_editable_by

from .models import (
    TRANSITIONS_HABILITATION,
    Aidant,
    DemandeHabilitation,
    FormationAidant,
    StatutHabilitation,
    TypeAidant,
    TypeFormationAidant,
)
from .selectors import FORMATIONS_AIDANTS_CONNECT, OPEN_STATUSES

AIDANT_FIELDS = {
    "prenom",
    "nom",
    "email",
    "telephone",
    "profession",
    "type",
    "thematiques",
    "habilite_aidants_connect",
    "date_habilitation",
}
DEFAULT_HOURS = {
    TypeFormationAidant.AIDANTS_CONNECT_7H: Decimal(7),
    TypeFormationAidant.AIDANTS_CONNECT_14H: Decimal(14),
}
MAX_HOURS = Decimal(500)


def _save(instance, by):
    instance._history_user = by
    instance.full_clean()
    try:
        instance.save()
    except IntegrityError as error:  # a concurrent write broke a constraint the checks above let through
        raise ValidationError("Cet enregistrement entre en conflit avec un autre : rechargez la page.") from error
    return instance


def _require_editor(by, structure):
    if not by.is_authenticated or (not by.is_staff and not structures_editable_by(by).filter(pk=structure.pk).exists()):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de la structure gèrent ses aidants.")


def _resolve_communes(communes):
    """Commune instances or INSEE codes → communes of the platform's referential; unknown ones are refused."""
    communes = list(communes or [])
    codes = {c.code_insee if isinstance(c, Commune) else str(c) for c in communes}
    found = list(Commune.objects.filter(code_insee__in=codes))
    missing = codes - {c.code_insee for c in found}
    if missing:
        raise ValidationError(
            {"communes": f"Commune(s) inconnue(s) du référentiel : {', '.join(sorted(missing))}."}, code="invalid"
        )
    return found


def _check_thematiques(thematiques):
    if not isinstance(thematiques, list | tuple):
        raise ValidationError({"thematiques": "Choisissez les thématiques dans la liste nationale."})
    unknown = [str(t) for t in thematiques if t not in THEMATIQUE_LABELS]
    if unknown:
        raise ValidationError(
            {"thematiques": f"Thématique(s) hors de la liste nationale : {', '.join(unknown)}."}, code="invalid"
        )


def _check_habilitation(aidant, structure, *, today):
    """The Aidants Connect rules, checked whenever an aidant is habilitated (or stays so)."""
    if not aidant.habilite_aidants_connect:
        aidant.date_habilitation = None
        return
    errors = []
    if aidant.type != TypeAidant.PROFESSIONNEL:
        errors.append(
            "Seuls les professionnels peuvent être habilités Aidants Connect (pas les bénévoles ni les services "
            "civiques)."
        )
    if not structure.habilitee_aidants_connect:
        errors.append(
            f"La structure « {structure.nom} » n'est pas habilitée Aidants Connect : ses aidants ne peuvent pas l'être."
        )
    if aidant.pk is None or not aidant.formations.filter(type__in=FORMATIONS_AIDANTS_CONNECT).exists():
        errors.append(
            "Une formation Aidants Connect (7 h ou 14 h) doit être enregistrée avant l'habilitation : enregistrez "
            "l'aidant, ajoutez sa formation, puis habilitez-le."
        )
    if aidant.date_habilitation is None:
        aidant.date_habilitation = today
    elif aidant.date_habilitation > today:
        errors.append("La date d'habilitation ne peut pas être dans le futur.")
    if errors:
        raise ValidationError({"habilite_aidants_connect": errors})


def _apply(aidant, fields):
    unknown = set(fields) - AIDANT_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    if "thematiques" in fields:
        fields["thematiques"] = list(fields["thematiques"] or [])
        _check_thematiques(fields["thematiques"])
    for name, value in fields.items():
        setattr(aidant, name, value)


def _locked_structure(structure):
    return Structure.objects.select_for_update().get(pk=structure.pk)


@transaction.atomic
def aidant_create(*, by, structure, communes=(), **fields):
    """Record an aidant of a structure (staff, or a référent of that structure)."""
    if structure is None:
        raise ValidationError({"structure": "Choisissez la structure de l'aidant."})
    _require_editor(by, structure)
    structure = _locked_structure(structure)  # a closing habilitation waits for this aidant, or this one for it
    communes = _resolve_communes(communes)
    aidant = Aidant(structure=structure)
    _apply(aidant, fields)
    _check_habilitation(aidant, structure, today=timezone.localdate())
    _save(aidant, by)
    if communes:
        aidant.communes.set(communes)
    return aidant


@transaction.atomic
def aidant_update(*, aidant, by, structure=None, communes=None, **fields):
    """Correct an aidant, move them to another structure the user edits, habilitate them or withdraw it."""
    aidant = Aidant.objects.select_for_update().get(pk=aidant.pk)
    _require_editor(by, aidant.structure)
    if structure is not None and structure.pk != aidant.structure_id:
        _require_editor(by, structure)
        aidant.structure = structure
    structure = _locked_structure(aidant.structure)
    _apply(aidant, fields)
    _check_habilitation(aidant, structure, today=timezone.localdate())
    _save(aidant, by)
    if communes is not None:
        aidant.communes.set(_resolve_communes(communes))
    return aidant


@transaction.atomic
def aidant_set_active(*, aidant, actif, by):
    """An aidant who leaves the network becomes inactive (kept for history) and loses their habilitation."""
    aidant = Aidant.objects.select_for_update().get(pk=aidant.pk)
    _require_editor(by, aidant.structure)
    aidant.actif = bool(actif)
    if not aidant.actif:
        aidant.habilite_aidants_connect = False
        aidant.date_habilitation = None
    return _save(aidant, by)


@transaction.atomic
def formation_add(*, aidant, by, type, date, heures=None, intitule=""):
    """Record a training the aidant followed: a past date, a duration above 0 hours (7 or 14 h by default for
    Aidants Connect)."""
    _require_editor(by, aidant.structure)
    if type not in TypeFormationAidant.values:
        raise ValidationError({"type": "Choisissez un type de formation de la liste."})
    if heures is None:
        heures = DEFAULT_HOURS.get(type)
    errors = {}
    if heures is None:
        errors["heures"] = "Indiquez la durée de la formation en heures."
    elif not Decimal(0) < Decimal(heures) <= MAX_HOURS:
        errors["heures"] = "La durée doit être supérieure à 0 et d'au plus 500 heures."
    if not isinstance(date, datetime.date):
        errors["date"] = "Indiquez la date de la formation."
    elif date > timezone.localdate():
        errors["date"] = "La date de la formation ne peut pas être dans le futur : enregistrez-la une fois suivie."
    if errors:
        raise ValidationError(errors)
    formation = FormationAidant(aidant=aidant, type=type, date=date, heures=heures, intitule=intitule or "")
    return _save(formation, by)


@transaction.atomic
def aidant_link_account(*, aidant, user, by):
    """Link the aidant to a platform account holding the aidant role in the same structure (``user=None`` unlinks)."""
    aidant = Aidant.objects.select_for_update().get(pk=aidant.pk)
    _require_editor(by, aidant.structure)
    if user is not None:
        if not Membership.objects.filter(user=user, structure=aidant.structure_id, role=Role.AIDANT).exists():
            raise ValidationError(
                {"user": f"Ce compte n'a pas le rôle « Aidant » dans la structure « {aidant.structure.nom} »."}
            )
        other = Aidant.objects.filter(user=user).exclude(pk=aidant.pk).first()
        if other is not None:
            raise ValidationError({"user": f"Ce compte est déjà lié à l'aidant {other}."})
    aidant.user = user
    return _save(aidant, by)


# --- Aidants Connect habilitation requests ------------------------------------------------------------------------
def _check_pressentis(structure, aidants):
    aidants = list(aidants or [])
    wrong = [a for a in aidants if a.structure_id != structure.pk or not a.actif or a.type != TypeAidant.PROFESSIONNEL]
    if wrong:
        names = ", ".join(str(a) for a in wrong)
        raise ValidationError(
            {"aidants_pressentis": f"Seuls les professionnels actifs de la structure peuvent être proposés : {names}."}
        )
    return aidants


@transaction.atomic
def demande_create(*, structure, by, aidants_pressentis=(), motif=""):
    """Open a draft request for a structure (staff, or a référent of it): one open request per structure."""
    if not by.is_authenticated or (not by.is_staff and not structures_editable_by(by).filter(pk=structure.pk).exists()):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de la structure demandent son habilitation.")
    structure = _locked_structure(structure)
    if DemandeHabilitation.objects.filter(structure=structure, statut__in=OPEN_STATUSES).exists():
        raise ValidationError("Cette structure a déjà une demande en cours.", code="open_request")
    if structure.habilitee_aidants_connect:
        raise ValidationError("Cette structure est déjà habilitée Aidants Connect.", code="already_habilitated")
    aidants = _check_pressentis(structure, aidants_pressentis)
    demande = _save(DemandeHabilitation(structure=structure, motif=motif or ""), by)
    if aidants:
        demande.aidants_pressentis.set(aidants)
    return demande


def _set_structure_flag(structure, value, by):
    """The structure's ``habilitee_aidants_connect`` follows its request. Written here rather than through
    ``structures.services.structure_update``, which reserves the role flags to staff, while a référent may close a
    validated request; the change keeps its history and acting user all the same."""
    if structure.habilitee_aidants_connect != value:
        structure.habilitee_aidants_connect = value
        structure._history_user = by
        structure.save(update_fields=["habilitee_aidants_connect", "updated_at"])


def _withdraw_habilitations(structure, by):
    """Every aidant of the structure loses their habilitation, one row at a time (history kept)."""
    for aidant in Aidant.objects.select_for_update().filter(structure=structure, habilite_aidants_connect=True):
        aidant.habilite_aidants_connect = False
        aidant.date_habilitation = None
        _save(aidant, by)


@transaction.atomic
def demande_transition(*, demande, statut, by, motif="", date=None):
    """Move a request along the national workflow. Submitting: référent or staff; deciding (validated or refused):
    staff only; closing: staff or référent. The structure's flag and its aidants' habilitations follow."""
    demande = DemandeHabilitation.objects.select_for_update().select_related("structure").get(pk=demande.pk)
    structure = _locked_structure(demande.structure)
    is_referent = by.is_authenticated and structures_editable_by(by).filter(pk=structure.pk).exists()
    if not by.is_authenticated or not (by.is_staff or is_referent):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de la structure suivent cette demande.")
    current = StatutHabilitation(demande.statut)
    try:
        target = StatutHabilitation(statut)
    except ValueError:
        raise ValidationError({"statut": "Choisissez un statut de la liste."}) from None
    if target not in TRANSITIONS_HABILITATION[current]:
        raise ValidationError(
            {"statut": f"Passage impossible de « {current.label} » à « {target.label} »."}, code="invalid_transition"
        )
    if target in (StatutHabilitation.VALIDEE, StatutHabilitation.REFUSEE) and not by.is_staff:
        raise PermissionDenied("Seule l'équipe Sicoval valide ou refuse une demande d'habilitation.")
    today = timezone.localdate()
    date = date or today
    if date > today:
        raise ValidationError({"date": "La date ne peut pas être dans le futur."})
    motif = (motif or "").strip()
    if target == StatutHabilitation.REFUSEE and not motif:
        raise ValidationError({"motif": "Indiquez le motif du refus."})
    if target == StatutHabilitation.EN_ATTENTE:
        demande.date_depot = date
    elif target in (StatutHabilitation.VALIDEE, StatutHabilitation.REFUSEE):
        if demande.date_depot and date < demande.date_depot:
            raise ValidationError({"date": "La décision ne peut pas précéder le dépôt de la demande."})
        demande.date_decision = date
    if motif:
        demande.motif = motif
    previous = current
    demande.statut = target
    _save(demande, by)
    if target == StatutHabilitation.VALIDEE:
        _set_structure_flag(structure, True, by)
    elif target == StatutHabilitation.CLOTUREE and previous == StatutHabilitation.VALIDEE:
        _set_structure_flag(structure, False, by)
        _withdraw_habilitations(structure, by)
    return demande
