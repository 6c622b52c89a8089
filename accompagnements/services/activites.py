"""Recording, correcting and deleting activities.

The accompaniment rows (one per participant) and the thématique rows of an activity are derived here from what was
typed, in the same transaction, so that they never disagree with the activity.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accompagnements import choices as c
from accompagnements.models import Accompagnement, Activite, ActiviteThematique, Beneficiaire
from accounts.models import Role
from conseillers.models import Conseiller
from conseillers.selectors import structure_employeuse
from structures.models import Structure

MAX_PARTICIPANTS = 500


# --- What a form hands over ----------------------------------------------------------------------------------------
@dataclass
class Participants:
    """The people of an activity: identified beneficiaries (followed, with consent) and anonymous people.

    For an individual session: either one beneficiary, or one anonymous person described by ``anonyme`` (genre,
    tranche_age, statut_social, commune_residence) and ``deja_accompagne``. For a workshop: any beneficiaries plus
    ``anonymes`` people, with optional breakdowns ``repartition`` = {"genre": {code: n}, …}, each summing to at
    most ``anonymes``.
    """

    beneficiaires: list = field(default_factory=list)
    anonymes: int = 0
    anonyme: dict = field(default_factory=dict)
    deja_accompagne: bool = False
    repartition: dict = field(default_factory=dict)


ACTIVITE_FIELDS = (
    "type",
    "date",
    "duree",
    "type_lieu",
    "lieu",
    "commune",
    "thematiques",
    "nom_demarche",
    "materiel",
    "autonomie",
    "oriente",
    "structure_redirection",
    "titre_atelier",
    "niveau",
    "notes",
)


# Related rows come from querysets already (the form's choices, the service's lookups): not fetched again.
RELATIONS_CHECKED = ["conseiller", "structure", "lieu", "commune"]


# --- Rules ---------------------------------------------------------------------------------------------------------
def _check_date(date):
    today = timezone.localdate()
    if date > today:
        raise ValidationError({"date": "La date ne peut pas être dans le futur."}, code="future_date")
    start = settings.PROGRAMME_DATE_DEBUT
    if date < start:
        raise ValidationError(
            {"date": f"La date ne peut pas précéder le début du programme ({start:%d/%m/%Y})."}, code="too_old"
        )


def _check_thematiques(data):
    themes = data.get("thematiques") or []
    errors = {}
    if not themes:
        errors["thematiques"] = "Choisissez au moins une thématique."
    elif len(set(themes)) != len(themes):
        errors["thematiques"] = "Une thématique est cochée deux fois."
    elif set(themes) & c.CODES_ADMINISTRATIFS and c.AIDE_DEMARCHES not in themes:
        errors["thematiques"] = (
            "Les thématiques de démarches administratives vont avec « Aide aux démarches administratives » : "
            "cochez-la aussi."
        )
    if data.get("nom_demarche") and c.AIDE_DEMARCHES not in themes:
        errors["nom_demarche"] = "Le nom de la démarche ne s'indique que pour une aide aux démarches administratives."
    materiel = data.get("materiel") or []
    if c.AUCUN_MATERIEL in materiel and len(materiel) > 1:
        errors["materiel"] = "« Pas de matériel » ne se combine pas avec un autre matériel."
    if errors:
        raise ValidationError(errors)


def _check_place(data):
    type_lieu = data.get("type_lieu")
    if type_lieu == c.LIEU_ACTIVITE:
        if data.get("lieu") is None:
            raise ValidationError({"lieu": "Choisissez le lieu d'activité."}, code="lieu_required")
        data["commune"] = data["lieu"].commune
    else:
        data["lieu"] = None
        if type_lieu != c.A_DISTANCE and data.get("commune") is None:
            raise ValidationError({"commune": "Indiquez la commune où l'activité a eu lieu."}, code="commune_required")


def _normalise_by_type(data):
    """Blank what does not belong to the activity's type, so that a switch of type leaves nothing behind."""
    if data["type"] == c.COLLECTIF:
        data.update(autonomie="", oriente=None, structure_redirection="")
        if not (data.get("titre_atelier") or "").strip():
            raise ValidationError({"titre_atelier": "Donnez un titre à l'atelier."}, code="titre_required")
    else:
        data.update(titre_atelier="", niveau="")
        if not data.get("oriente"):
            data["structure_redirection"] = ""
    if c.AIDE_DEMARCHES not in (data.get("thematiques") or []):
        data["nom_demarche"] = ""


def _check_participants(type, participants, conseiller):
    identified = list(participants.beneficiaires)
    if any(b.conseiller_id != conseiller.pk for b in identified):
        raise ValidationError({"beneficiaires": "Vous ne pouvez choisir que les bénéficiaires que vous suivez."})
    if type == c.INDIVIDUEL:
        if len(identified) > 1:
            raise ValidationError({"beneficiaires": "Un accompagnement individuel concerne une seule personne."})
        return 1
    anonymes = participants.anonymes or 0
    if anonymes < 0:
        raise ValidationError({"anonymes": "Le nombre de participants ne peut pas être négatif."})
    total = len(identified) + anonymes
    if total < 1:
        raise ValidationError(
            {"anonymes": "Un atelier compte au moins un participant : indiquez leur nombre ou choisissez-les."},
            code="no_participant",
        )
    if total > MAX_PARTICIPANTS:
        raise ValidationError({"anonymes": f"Un atelier compte au plus {MAX_PARTICIPANTS} participants."})
    errors = {}
    for attribut, vocabulary, label in c.ATTRIBUTS_BENEFICIAIRE:
        counts = (participants.repartition or {}).get(attribut) or {}
        allowed = {code for code, _ in vocabulary}
        if set(counts) - allowed or any((n or 0) < 0 for n in counts.values()):
            errors[f"repartition_{attribut}"] = f"Répartition par {label.lower()} invalide."
        elif sum(n or 0 for n in counts.values()) > anonymes:
            errors[f"repartition_{attribut}"] = (
                f"La répartition par {label.lower()} ({sum(n or 0 for n in counts.values())}) dépasse le nombre de "
                f"participants anonymes ({anonymes})."
            )
    if errors:
        raise ValidationError(errors)
    return total


def _require_author(activite, by):
    if not by.is_authenticated or activite.conseiller.user_id != by.pk:
        raise PermissionDenied("Seul l'auteur d'une activité peut la modifier ou la supprimer.")
    if activite.importee:
        raise PermissionDenied(
            "Cette activité vient de l'outil national : modifiez-la là-bas, elle sera mise à jour ici."
        )
    if activite.supprimee_le is not None:
        raise PermissionDenied("Cette activité a été supprimée.")


def conseiller_of(user):
    """The conseiller profile of a user, or PermissionDenied: only conseillers record activities."""
    conseiller = Conseiller.objects.filter(user=user).first() if user.is_authenticated else None
    if conseiller is None:
        raise PermissionDenied("Seuls les conseillers numériques enregistrent des activités.")
    return conseiller


def employeur(conseiller, date):
    """The employer structure on the activity's day; a conseiller's structure membership when no post or
    contract says it."""
    structure = structure_employeuse(conseiller, date)
    if structure is None and conseiller.user_id:
        structure = Structure.objects.filter(
            memberships__user_id=conseiller.user_id, memberships__role=Role.CONSEILLER
        ).first()
    if structure is None:
        raise ValidationError(
            "Vous n'êtes rattaché(e) à aucune structure employeuse à cette date : demandez à votre référent de "
            "vous rattacher.",
            code="no_employer",
        )
    return structure


# --- Derived rows --------------------------------------------------------------------------------------------------
def _expand(repartition, attribut, count):
    """The anonymous participants' values for one attribute, in order, completed with « non communiqué »."""
    values = []
    vocabulary = dict(next(v for a, v, _ in c.ATTRIBUTS_BENEFICIAIRE if a == attribut))
    for code in vocabulary:
        values.extend([code] * ((repartition.get(attribut) or {}).get(code) or 0))
    values = [v for v in values if v != c.NON_COMMUNIQUE]
    return (values + [c.NON_COMMUNIQUE] * count)[:count]


def _accompagnement_specs(activite, participants):
    """What the accompaniment rows of an activity must be: dicts of field values, in rank order. A followed
    person's "first accompaniment" flag is set afterwards, from the dates (``_recompute_premiers``)."""
    specs = []
    for beneficiaire in participants.beneficiaires:
        specs.append(
            {
                "beneficiaire": beneficiaire,
                "premier_accompagnement": True,
                "genre": beneficiaire.genre,
                "tranche_age": beneficiaire.tranche_age,
                "statut_social": beneficiaire.statut_social,
                "commune_residence": beneficiaire.commune_residence,
            }
        )
    if activite.type == c.INDIVIDUEL:
        if not specs:
            anonyme = participants.anonyme or {}
            specs.append(
                {
                    "beneficiaire": None,
                    "premier_accompagnement": not participants.deja_accompagne,
                    "genre": anonyme.get("genre") or c.NON_COMMUNIQUE,
                    "tranche_age": anonyme.get("tranche_age") or c.NON_COMMUNIQUE,
                    "statut_social": anonyme.get("statut_social") or c.NON_COMMUNIQUE,
                    "commune_residence": anonyme.get("commune_residence"),
                }
            )
        return specs
    count = participants.anonymes or 0
    columns = {a: _expand(participants.repartition or {}, a, count) for a, _v, _l in c.ATTRIBUTS_BENEFICIAIRE}
    for i in range(count):
        specs.append(
            {
                "beneficiaire": None,
                "premier_accompagnement": True,
                **{attribut: values[i] for attribut, values in columns.items()},
                "commune_residence": None,
            }
        )
    return specs


def _write_accompagnements(activite, specs, by, *, existing=()):
    """Make the activity's accompaniment rows match ``specs``. A row keeps its rank when it is the same person (or
    still an anonymous one) and is updated in place; the others are deleted first (freeing their rank and person),
    then the missing rows are created in bulk. Every change is in the history."""
    existing = {row.rang: row for row in existing}
    to_create, to_update = [], []
    for rang, spec in enumerate(specs, start=1):
        row = existing.get(rang)
        wanted = spec["beneficiaire"].pk if spec["beneficiaire"] else None
        if row is not None and row.beneficiaire_id == wanted:
            existing.pop(rang)
            changed = [name for name, value in spec.items() if name != "beneficiaire" and getattr(row, name) != value]
            if changed:
                for name in changed:
                    setattr(row, name, spec[name])
                to_update.append(row)
        else:
            to_create.append(Accompagnement(activite=activite, rang=rang, **spec))
    for row in existing.values():
        row._history_user = by
        row.delete()
    for row in to_update:
        row._history_user = by
        row.save()
    if to_create:
        bulk_create_with_history(to_create, Accompagnement, default_user=by)


def _recompute_premiers(beneficiaire_ids, by):
    """A followed person's first accompaniment is their earliest live one (by date, then by recording order):
    recomputed for these people after any change to their activities."""
    if not beneficiaire_ids:
        return
    rows = (
        Accompagnement.objects.filter(beneficiaire__in=beneficiaire_ids, activite__supprimee_le__isnull=True)
        .select_related("activite")
        .order_by("beneficiaire_id", "activite__date", "activite_id")
    )
    seen = set()
    for row in rows:
        first = row.beneficiaire_id not in seen
        seen.add(row.beneficiaire_id)
        if row.premier_accompagnement != first:
            row.premier_accompagnement = first
            row._history_user = by
            row.save(update_fields=["premier_accompagnement"])


def _write_thematiques(activite, *, replace):
    if replace:
        ActiviteThematique.objects.filter(activite=activite).delete()
    ActiviteThematique.objects.bulk_create(
        [ActiviteThematique(activite=activite, thematique=code) for code in activite.thematiques]
    )


def _touch_beneficiaires(participants, date):
    for beneficiaire in participants.beneficiaires:
        if beneficiaire.dernier_contact is None or beneficiaire.dernier_contact < date:
            # Conditional on the stored value (the instance may be stale): the last contact, which dates the
            # anonymisation two years later, never moves back.
            Beneficiaire.objects.filter(pk=beneficiaire.pk).filter(
                Q(dernier_contact__isnull=True) | Q(dernier_contact__lt=date)
            ).update(dernier_contact=date)


def _anonymes_saisis(type, participants):
    if type == c.INDIVIDUEL:
        return {}
    return {
        "total": participants.anonymes or 0,
        **{
            a: {k: n for k, n in ((participants.repartition or {}).get(a) or {}).items() if n}
            for a, _v, _l in c.ATTRIBUTS_BENEFICIAIRE
        },
    }


def _validated(data, participants, conseiller):
    data = {name: data.get(name) for name in ACTIVITE_FIELDS}
    data["thematiques"] = list(data.get("thematiques") or [])
    data["materiel"] = list(data.get("materiel") or [])
    data["nom_demarche"] = (data.get("nom_demarche") or "").strip()
    for name in ("autonomie", "structure_redirection", "titre_atelier", "niveau", "notes"):
        data[name] = (data.get(name) or "").strip()
    if data["type"] not in (c.INDIVIDUEL, c.COLLECTIF):
        raise ValidationError({"type": "Choisissez un accompagnement individuel ou un atelier collectif."})
    if data.get("date") is None:
        raise ValidationError({"date": "Indiquez la date."})
    _check_date(data["date"])
    duree = data.get("duree")
    if duree is None or not 1 <= duree <= c.DUREE_MAX:
        raise ValidationError({"duree": f"La durée doit être comprise entre 1 et {c.DUREE_MAX} minutes."})
    _check_place(data)
    _check_thematiques(data)
    _normalise_by_type(data)
    data["participants"] = _check_participants(data["type"], participants, conseiller)
    data["participants_anonymes"] = _anonymes_saisis(data["type"], participants)
    return data


# --- Activities ----------------------------------------------------------------------------------------------------
def activite_create(*, by, data, participants=None, conseiller=None):
    """Record an activity for the conseiller ``by`` (or ``conseiller`` for imports and demo data)."""
    participants = participants or Participants()
    conseiller = conseiller or conseiller_of(by)
    data = _validated(data, participants, conseiller)
    structure = employeur(conseiller, data["date"])
    activite = Activite(conseiller=conseiller, structure=structure, **data)
    activite._history_user = by
    activite.full_clean(exclude=RELATIONS_CHECKED, validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        activite.save()
        _write_thematiques(activite, replace=False)
        _write_accompagnements(activite, _accompagnement_specs(activite, participants), by)
        _touch_beneficiaires(participants, activite.date)
        _recompute_premiers([b.pk for b in participants.beneficiaires], by)
    return activite


def activite_update(*, activite, by, data, participants=None):
    """Correct an activity: only its author, and never an activity imported from the national tool."""
    participants = participants or Participants()
    with transaction.atomic():
        activite = Activite.objects.select_for_update().select_related("conseiller").get(pk=activite.pk)
        _require_author(activite, by)
        data = _validated(data, participants, activite.conseiller)
        if data["date"] != activite.date:
            activite.structure = employeur(activite.conseiller, data["date"])
        themes_changed = data["thematiques"] != activite.thematiques
        for name, value in data.items():
            setattr(activite, name, value)
        activite._history_user = by
        activite.full_clean(exclude=RELATIONS_CHECKED, validate_unique=False, validate_constraints=False)
        activite.save()
        if themes_changed:
            _write_thematiques(activite, replace=True)
        existing = list(activite.accompagnements.all())
        _write_accompagnements(activite, _accompagnement_specs(activite, participants), by, existing=existing)
        _touch_beneficiaires(participants, activite.date)
        followed = {row.beneficiaire_id for row in existing if row.beneficiaire_id}
        _recompute_premiers(followed | {b.pk for b in participants.beneficiaires}, by)
    return activite


def activite_delete(*, activite, by):
    """Soft-delete an activity: it leaves every list and figure, and stays in the history."""
    with transaction.atomic():
        activite = Activite.objects.select_for_update().select_related("conseiller").get(pk=activite.pk)
        _require_author(activite, by)
        activite.supprimee_le = timezone.now()
        activite._history_user = by
        activite.save(update_fields=["supprimee_le", "updated_at"])
        _recompute_premiers(
            list(activite.accompagnements.filter(beneficiaire__isnull=False).values_list("beneficiaire_id", flat=True)),
            by,
        )
    return activite


def participants_of(activite):
    """What the form needs to edit or duplicate an activity's participants."""
    rows = list(activite.accompagnements.select_related("beneficiaire"))
    beneficiaires = [row.beneficiaire for row in rows if row.beneficiaire_id]
    anonymous = [row for row in rows if row.beneficiaire_id is None]
    if activite.type == c.INDIVIDUEL:
        row = anonymous[0] if anonymous else None
        return Participants(
            beneficiaires=beneficiaires,
            anonyme={
                "genre": row.genre,
                "tranche_age": row.tranche_age,
                "statut_social": row.statut_social,
                "commune_residence": row.commune_residence,
            }
            if row
            else {},
            deja_accompagne=bool(row and not row.premier_accompagnement),
        )
    saisis = activite.participants_anonymes or {}
    return Participants(
        beneficiaires=beneficiaires,
        anonymes=len(anonymous),
        repartition={a: saisis.get(a) or {} for a, _v, _l in c.ATTRIBUTS_BENEFICIAIRE},
    )
