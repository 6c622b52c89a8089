"""Planning workshops: programmes (``atelier_create`` / ``atelier_update``) and their sessions (``seance_create``,
``seances_create_serie`` for the weekly sessions of a cycle, ``seance_update``, ``seance_cancel``).

Rules:
- a programme has a title, at least one national thématique (the administrative sub-themes only with « Aide aux
  démarches administratives », as in the activity log) and at least one audience;
- a session lasts 15 minutes to 8 hours, takes place at a place or at a stop of the itinerant unit (on the stop's
  day), has 1 to 500 seats, is public or reserved to a structure, and is planned in the future;
- a session's capacity never goes below the people already confirmed; raising it gives the new seats to the waiting
  list, in order of arrival, and tells them;
- cancelling a session tells every registrant (by e-mail when they left one), once.

Every change to a session locks its row first (as the registrations do), so that capacity and waiting list stay
consistent with concurrent registrations. Walk-ins (``source="sur_place"``, added on the day) are outside the
capacity: they never take a seat from someone confirmed or waiting.
"""

import datetime
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accompagnements import choices as cra
from ateliers import emails
from ateliers.models import Atelier, Inscription, Public, Seance, StatutInscription, StatutSeance
from partenaires.actor import history_user

from .inscriptions import lock_seance, promote_waiting, seats_taken
from .permissions import can_manage_atelier, require_atelier_manager, require_seance_manager

ATELIER_FIELDS = (
    "titre",
    "description",
    "thematiques",
    "niveau",
    "publics",
    "prevention",
    "formation_pass",
    "duree",
    "actif",
)
SEANCE_FIELDS = ("debut", "fin", "lieu", "arret", "animateur", "capacite", "publique", "reservee_a")

DUREE_MIN, DUREE_MAX = 15, 480
CAPACITE_MAX = 500
SERIE_MAX = 52
INTERVALLE_MAX = 31
MOTIF_MAX = 255

_THEMES = {code for code, _label in cra.THEMATIQUES}
_NIVEAUX = {code for code, _label in cra.NIVEAU_ATELIER}
_PUBLICS = set(Public.values)


# --- Programmes ----------------------------------------------------------------------------------------------------
def _check_list(values, allowed, *, empty, unknown, twice):
    if not values:
        return empty
    if any(value not in allowed for value in values):
        return unknown
    if len(set(values)) != len(values):
        return twice
    return None


def _atelier_values(data):
    values = {
        "titre": (data.get("titre") or "").strip(),
        "description": (data.get("description") or "").strip(),
        "thematiques": list(data.get("thematiques") or []),
        "niveau": data.get("niveau") or "",
        "publics": list(data.get("publics") or []),
        "prevention": bool(data.get("prevention")),
        "formation_pass": bool(data.get("formation_pass")),
        "duree": data.get("duree"),
        "actif": bool(data.get("actif", True)),
    }
    errors = {}
    if not values["titre"]:
        errors["titre"] = "Donnez un titre à l'atelier."
    elif len(values["titre"]) > 200:
        errors["titre"] = "Le titre compte au plus 200 caractères."
    themes = values["thematiques"]
    error = _check_list(
        themes,
        _THEMES,
        empty="Choisissez au moins une thématique.",
        unknown="Thématique inconnue.",
        twice="Une thématique est cochée deux fois.",
    )
    if error is None and set(themes) & cra.CODES_ADMINISTRATIFS and cra.AIDE_DEMARCHES not in themes:
        error = (
            "Les thématiques de démarches administratives vont avec « Aide aux démarches administratives » : "
            "cochez-la aussi."
        )
    if error:
        errors["thematiques"] = error
    error = _check_list(
        values["publics"],
        _PUBLICS,
        empty="Choisissez au moins un public.",
        unknown="Public inconnu.",
        twice="Un public est coché deux fois.",
    )
    if error:
        errors["publics"] = error
    if values["niveau"] and values["niveau"] not in _NIVEAUX:
        errors["niveau"] = "Niveau inconnu."
    duree = values["duree"]
    if not isinstance(duree, int) or isinstance(duree, bool) or not DUREE_MIN <= duree <= DUREE_MAX:
        errors["duree"] = f"Une séance dure de {DUREE_MIN} à {DUREE_MAX} minutes (8 heures)."
    if errors:
        raise ValidationError(errors)
    return values


def atelier_create(*, by, structure, data):
    """Create a workshop programme of ``structure`` (staff, or a référent of the structure)."""
    if not can_manage_atelier(by, Atelier(structure=structure)):
        raise PermissionDenied("Seuls l'équipe du territoire et les référents de la structure créent ses ateliers.")
    values = _atelier_values(data)
    atelier = Atelier(structure=structure, **values)
    atelier._history_user = history_user(by)
    with transaction.atomic():
        atelier.save()
    return atelier


def atelier_update(*, atelier, by, data):
    """Change a programme (its structure stays). Fields not given keep their value."""
    require_atelier_manager(by, atelier)
    with transaction.atomic():
        atelier = Atelier.objects.select_for_update().get(pk=atelier.pk)
        current = {name: getattr(atelier, name) for name in ATELIER_FIELDS}
        values = _atelier_values({**current, **{k: v for k, v in data.items() if k in ATELIER_FIELDS}})
        for name, value in values.items():
            setattr(atelier, name, value)
        atelier._history_user = history_user(by)
        atelier.save()
    return atelier


# --- Sessions ------------------------------------------------------------------------------------------------------
def _seance_values(atelier, data):
    """Validated session fields from ``data`` (``fin`` defaults to ``debut`` + the programme's duration)."""
    values = {name: data.get(name) for name in SEANCE_FIELDS}
    values["publique"] = bool(values["publique"]) if values["publique"] is not None else True
    errors = {}
    debut, fin = values["debut"], values["fin"]
    if not isinstance(debut, datetime.datetime) or timezone.is_naive(debut):
        errors["debut"] = "Indiquez la date et l'heure de début."
    elif debut.year > 2100:
        errors["debut"] = "Choisissez une date avant 2101."
    else:
        if fin is None:
            fin = values["fin"] = debut + datetime.timedelta(minutes=atelier.duree)
        if not isinstance(fin, datetime.datetime) or timezone.is_naive(fin):
            errors["fin"] = "Indiquez l'heure de fin."
        elif fin <= debut:
            errors["fin"] = "La fin de la séance doit suivre son début."
        elif not DUREE_MIN <= (fin - debut).total_seconds() / 60 <= DUREE_MAX:
            errors["fin"] = f"Une séance dure de {DUREE_MIN} minutes à 8 heures."
    lieu, arret = values["lieu"], values["arret"]
    if lieu is not None and arret is not None:
        errors["arret"] = "Choisissez un lieu ou un arrêt du lieu itinérant, pas les deux."
    elif lieu is None and arret is None:
        errors["lieu"] = "Choisissez un lieu ou un arrêt du lieu itinérant."
    elif arret is not None and "debut" not in errors and timezone.localtime(debut).date() != arret.date:
        errors["arret"] = f"Cet arrêt a lieu le {arret.date:%d/%m/%Y} : la séance doit avoir lieu ce jour-là."
    capacite = values["capacite"]
    if not isinstance(capacite, int) or isinstance(capacite, bool) or not 1 <= capacite <= CAPACITE_MAX:
        errors["capacite"] = f"Une séance compte de 1 à {CAPACITE_MAX} places."
    if values["publique"]:
        values["reservee_a"] = None
    elif values["reservee_a"] is None:
        errors["reservee_a"] = "Choisissez la structure à laquelle la séance est réservée."
    animateur = values["animateur"]
    if animateur is not None and not animateur.is_active:
        errors["animateur"] = "Ce compte est désactivé : choisissez une autre personne pour animer la séance."
    if errors:
        raise ValidationError(errors)
    return values


def _require_future(debut, now):
    if debut <= now:
        raise ValidationError({"debut": "Une séance se planifie dans le futur : choisissez une date à venir."})


def _save_seance(seance, by):
    seance._history_user = history_user(by)
    seance.save()
    return seance


def _require_actif(atelier):
    if not atelier.actif:
        raise ValidationError("Cet atelier est inactif : réactivez-le pour planifier des séances.", code="inactif")


def seance_create(*, atelier, by, data):
    """Plan one session of a programme (staff and the programme's référents)."""
    require_atelier_manager(by, atelier)
    _require_actif(atelier)
    values = _seance_values(atelier, data)
    _require_future(values["debut"], timezone.now())
    with transaction.atomic():
        return _save_seance(Seance(atelier=atelier, **values), by)


def _shift_local(moment, days):
    """The same wall-clock time ``days`` later, across daylight-saving changes (14:00 stays 14:00 in November)."""
    local = timezone.localtime(moment)
    try:
        return timezone.make_aware(local.replace(tzinfo=None) + datetime.timedelta(days=days))
    except OverflowError:
        raise ValidationError({"nombre": "Ce cycle finirait après la dernière date possible."}) from None


def seances_create_serie(*, atelier, by, data, nombre, intervalle_jours=7):
    """Plan the sessions of a cycle in one action: ``nombre`` sessions (1–52) every ``intervalle_jours`` days at the
    same local time, same place, facilitator and capacity, sharing one ``serie`` identifier. All or none."""
    require_atelier_manager(by, atelier)
    _require_actif(atelier)
    errors = {}
    if not isinstance(nombre, int) or isinstance(nombre, bool) or not 1 <= nombre <= SERIE_MAX:
        errors["nombre"] = f"Un cycle compte de 1 à {SERIE_MAX} séances."
    if (
        not isinstance(intervalle_jours, int)
        or isinstance(intervalle_jours, bool)
        or not 1 <= intervalle_jours <= INTERVALLE_MAX
    ):
        errors["intervalle_jours"] = f"L'intervalle entre deux séances est de 1 à {INTERVALLE_MAX} jours."
    if errors:
        raise ValidationError(errors)
    first = _seance_values(atelier, data)
    if first["arret"] is not None and nombre > 1:
        raise ValidationError(
            {"arret": "Un arrêt du lieu itinérant n'a lieu qu'un jour : planifiez ces séances une par une."}
        )
    now = timezone.now()
    length = first["fin"] - first["debut"]
    serie = uuid.uuid4()
    seances = []
    for index in range(nombre):
        debut = _shift_local(first["debut"], index * intervalle_jours)
        values = _seance_values(atelier, {**first, "debut": debut, "fin": debut + length})
        try:
            _require_future(values["debut"], now)
        except ValidationError:
            raise ValidationError(
                {"debut": f"La séance n° {index + 1} du cycle ({debut:%d/%m/%Y}) serait dans le passé."}
            ) from None
        seances.append(Seance(atelier=atelier, serie=serie, **values))
    with transaction.atomic():
        for seance in seances:
            _save_seance(seance, by)
    return seances


def _require_open(seance):
    if seance.statut == StatutSeance.ANNULEE:
        raise ValidationError("Cette séance est annulée : elle ne se modifie plus.", code="seance_annulee")
    if seance.appel_cloture_le is not None:
        raise ValidationError("L'appel de cette séance est clos : elle ne se modifie plus.", code="appel_clos")


def seance_update(*, seance, by, data):
    """Change a session (staff, the programme's référents, its facilitator; only the first two change who
    facilitates). Returns ``(seance, promoted)``: the waiting people who got a seat when capacity was raised."""
    require_seance_manager(by, seance)
    with transaction.atomic():
        seance = lock_seance(seance)
        _require_open(seance)
        current = {name: getattr(seance, name) for name in SEANCE_FIELDS}
        values = _seance_values(seance.atelier, {**current, **{k: v for k, v in data.items() if k in SEANCE_FIELDS}})
        if values["animateur"] != current["animateur"] and not can_manage_atelier(by, seance.atelier):
            raise PermissionDenied(
                "Seuls l'équipe et les référents de la structure organisatrice changent l'animateur d'une séance."
            )
        if values["debut"] != current["debut"]:
            _require_future(values["debut"], timezone.now())
        taken = seats_taken(seance)
        if values["capacite"] < taken:
            raise ValidationError(
                {
                    "capacite": f"{taken} personne{'s' if taken > 1 else ''} "
                    f"{'ont' if taken > 1 else 'a'} déjà une place confirmée : la séance ne peut pas compter "
                    f"moins de {taken} places. Annulez ou déplacez d'abord des inscriptions."
                }
            )
        for name, value in values.items():
            setattr(seance, name, value)
        _save_seance(seance, by)
        if any(values[name] != current[name] for name in ("debut", "fin", "lieu", "arret")):
            _notify_change(seance)
        promoted = promote_waiting(seance, by)
    return seance, promoted


def _notify_change(seance):
    """Everyone still registered or waiting learns the new date, time or place (once per change)."""
    version = f"{seance.updated_at:%Y%m%d%H%M%S%f}"
    for inscription in seance.inscriptions.exclude(statut=StatutInscription.ANNULEE).select_related("seance"):
        emails.seance_modifiee(inscription, version=version)


def seance_cancel(*, seance, motif, by):
    """Cancel a session and tell every registrant still concerned (confirmed or waiting) once, by e-mail when they
    left one (the others are to be called: the session's page lists them). Cancelling twice changes nothing."""
    require_seance_manager(by, seance)
    motif = (motif or "").strip()
    if not motif:
        raise ValidationError({"motif": "Indiquez le motif de l'annulation : il est envoyé aux personnes inscrites."})
    if len(motif) > MOTIF_MAX:
        raise ValidationError({"motif": f"Le motif compte au plus {MOTIF_MAX} caractères."})
    with transaction.atomic():
        seance = lock_seance(seance)
        if seance.statut == StatutSeance.ANNULEE:
            return seance
        if seance.appel_cloture_le is not None:
            raise ValidationError("L'appel de cette séance est clos : elle a eu lieu et ne peut plus être annulée.")
        seance.statut = StatutSeance.ANNULEE
        seance.motif_annulation = motif
        _save_seance(seance, by)
        registrants = Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE)
        for inscription in registrants.order_by("rang"):
            inscription.seance = seance  # the e-mail shows the reason: the locked, updated row
            emails.seance_annulee(inscription)
    return seance
