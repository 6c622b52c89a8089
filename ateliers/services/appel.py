"""Attendance of a session: the sheet (present or absent for each registrant), walk-ins, and closing it.

Closing creates the collective activity in the facilitator's activity log (``accompagnements.services``): one
participant per person present, counted once, with the profile they gave (genre, age band, status) where known. It
is idempotent: the session row is locked, and a closed sheet returns what was recorded the first time, so a double
click or a second device never counts a workshop twice.

Walk-ins are people who came without registering. They are recorded confirmed and present, from the session's day,
outside the capacity: they never push a registrant to the waiting list nor keep someone waiting from a freed seat
(``inscriptions.seats_taken`` leaves them out), and no e-mail is sent to them.
"""

import uuid as uuid_lib
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accompagnements import choices as cra
from accompagnements.services import Participants, activite_create, normalise_telephone
from ateliers.models import Inscription, Presence, SourceInscription, StatutInscription, StatutSeance
from conseillers.models import Conseiller
from partenaires.actor import history_user

from .inscriptions import cle_personne, lock_seance, next_rang
from .permissions import require_seance_manager

PROFILE_FIELDS = ("genre", "tranche_age", "statut_social")
_VOCABULARIES = {name: {code for code, _label in vocabulary} for name, vocabulary, _ in cra.ATTRIBUTS_BENEFICIAIRE}


def jour_de_la_seance(seance):
    return timezone.localtime(seance.debut).date()


def appel_ouvert(seance):
    """Whether the sheet can be filled now: from the session's day, for a scheduled session not yet closed."""
    return (
        seance.statut == StatutSeance.PLANIFIEE
        and seance.appel_cloture_le is None
        and timezone.localdate() >= jour_de_la_seance(seance)
    )


def _require_sheet_open(seance):
    if seance.statut == StatutSeance.ANNULEE:
        raise ValidationError("Cette séance est annulée : il n'y a pas d'appel.", code="seance_annulee")
    if seance.appel_cloture_le is not None:
        raise ValidationError(
            "L'appel de cette séance est clos : corrigez si besoin l'activité dans le journal de l'animateur.",
            code="appel_clos",
        )
    if timezone.localdate() < jour_de_la_seance(seance):
        raise ValidationError(
            f"L'appel se fait le jour de la séance, à partir du {jour_de_la_seance(seance):%d/%m/%Y}.",
            code="trop_tot",
        )


def animateur_conseiller(seance):
    """The facilitator's conseiller profile (whose activity log gets the workshop), or None (an aidant)."""
    if seance.animateur_id is None:
        return None
    return Conseiller.objects.filter(user_id=seance.animateur_id).first()


# --- The sheet -----------------------------------------------------------------------------------------------------
def _uuid_key(value):
    try:
        return str(uuid_lib.UUID(str(value)))
    except ValueError:
        raise ValidationError(
            "Une personne de la liste n'est pas inscrite à cette séance : rechargez la feuille d'appel."
        ) from None


def appel_enregistrer(*, seance, presences, by):
    """Record who is present or absent: ``presences`` maps registrations' uuids to ``"present"`` or ``"absent"``
    (registrations not mentioned keep their mark). Returns the number of marks changed."""
    require_seance_manager(by, seance)
    marks = {}
    for key, value in (presences or {}).items():
        if value not in Presence.values:
            raise ValidationError("Pour chaque personne, choisissez « présent » ou « absent ».", code="presence")
        marks[_uuid_key(key)] = value
    with transaction.atomic():
        seance = lock_seance(seance)
        _require_sheet_open(seance)
        rows = {
            str(row.uuid): row
            for row in Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE)
        }
        if set(marks) - set(rows):
            raise ValidationError(
                "Une personne de la liste n'est pas (ou plus) inscrite à cette séance : rechargez la feuille d'appel.",
                code="inconnue",
            )
        changed = 0
        for key, value in marks.items():
            row = rows[key]
            if row.presence != value:
                row.presence = value
                row._history_user = history_user(by)
                row.save(update_fields=["presence", "updated_at"])
                changed += 1
    return changed


def _walk_in_values(data):
    values = {
        "prenom": (data.get("prenom") or "").strip(),
        "nom": (data.get("nom") or "").strip(),
        "email": (data.get("email") or "").strip().lower(),
        "telephone": (data.get("telephone") or "").strip(),
    }
    errors = {}
    if not values["prenom"]:
        errors["prenom"] = "Indiquez le prénom de la personne."
    if not values["nom"]:
        errors["nom"] = "Indiquez le nom de la personne."
    if values["telephone"]:
        values["telephone"] = normalise_telephone(values["telephone"])
    # Someone who came on the day needs no way to be reached; contact details, when given, need their consent.
    if (values["email"] or values["telephone"]) and not data.get("consentement"):
        errors["consentement"] = "Cochez la case : la personne doit accepter que ses coordonnées soient gardées."
    for name in PROFILE_FIELDS:
        values[name] = data.get(name) or ""
        if values[name] and values[name] not in _VOCABULARIES[name]:
            errors[name] = "Valeur inconnue."
    values["commune"] = data.get("commune") or None
    if errors:
        raise ValidationError(errors)
    return values


def participant_sur_place_add(*, seance, data, by):
    """Add a person who came without registering: confirmed, present, source ``sur_place``, beyond capacity."""
    require_seance_manager(by, seance)
    values = _walk_in_values(data)
    now = timezone.now()
    with transaction.atomic():
        seance = lock_seance(seance)
        _require_sheet_open(seance)
        cle = cle_personne(values["email"], values["telephone"])
        existing = (
            Inscription.objects.filter(seance=seance, cle_personne=cle)
            .exclude(statut=StatutInscription.ANNULEE)
            .first()
        )
        if existing is not None:
            where = "sur la liste d'attente" if existing.statut == StatutInscription.ATTENTE else "inscrite"
            raise ValidationError(
                f"Cette personne est déjà {where} ({existing.prenom} {existing.nom}) : "
                "marquez-la présente dans la liste.",
                code="deja_inscrit",
            )
        inscription = Inscription(
            seance=seance,
            cle_personne=cle,
            statut=StatutInscription.CONFIRMEE,
            source=SourceInscription.SUR_PLACE,
            rang=next_rang(seance),
            consentement_le=now,
            presence=Presence.PRESENT,
            cree_par=history_user(by),
            **values,
        )
        inscription._history_user = history_user(by)
        try:
            with transaction.atomic():
                inscription.save()
        except IntegrityError as error:
            raise ValidationError("Cette personne est déjà inscrite à cette séance.", code="deja_inscrit") from error
    return inscription


# --- Closing -------------------------------------------------------------------------------------------------------
def repartition_of(inscriptions):
    """The known profile of the people present, attribute by attribute ({"genre": {"feminin": 3}, …})."""
    repartition = {}
    for name in PROFILE_FIELDS:
        counts = Counter(
            getattr(row, name) for row in inscriptions if getattr(row, name) not in ("", cra.NON_COMMUNIQUE)
        )
        if counts:
            repartition[name] = dict(counts)
    return repartition


def _activite_data(seance):
    atelier = seance.atelier
    minutes = round((seance.fin - seance.debut).total_seconds() / 60)
    data = {
        "type": cra.COLLECTIF,
        "date": jour_de_la_seance(seance),
        "duree": max(1, min(minutes, cra.DUREE_MAX)),
        "thematiques": list(atelier.thematiques),
        "titre_atelier": atelier.titre,
        "niveau": atelier.niveau,
        "materiel": [],
    }
    if seance.lieu_id is not None:
        data.update(type_lieu=cra.LIEU_ACTIVITE, lieu=seance.lieu)
    else:
        data.update(type_lieu=cra.AUTRE_LIEU, lieu=None, commune=seance.arret.commune)
    return data


def appel_cloturer(*, seance, by):
    """Close the sheet and record the workshop in the facilitator's activity log. Registrants left unmarked are
    counted absent. Returns the activity; None when nobody came or when the facilitator has no conseiller profile
    (an aidant: the sheet closes without an activity). Closing again returns what the first closing recorded."""
    require_seance_manager(by, seance)
    with transaction.atomic():
        seance = lock_seance(seance)
        if seance.appel_cloture_le is not None:
            return seance.activite
        _require_sheet_open(seance)
        rows = list(Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE))
        for row in rows:
            if row.statut == StatutInscription.CONFIRMEE and not row.presence:
                row.presence = Presence.ABSENT
                row._history_user = history_user(by)
                row.save(update_fields=["presence", "updated_at"])
        present = [row for row in rows if row.presence == Presence.PRESENT]
        conseiller = animateur_conseiller(seance)
        activite = None
        if conseiller is not None and present:
            try:
                activite = activite_create(
                    by=by,
                    conseiller=conseiller,
                    data=_activite_data(seance),
                    participants=Participants(anonymes=len(present), repartition=repartition_of(present)),
                )
            except ValidationError as error:
                name = f"{conseiller.prenom} {conseiller.nom}"
                if getattr(error, "code", None) == "no_employer":
                    detail = (
                        f"{name} n'est rattaché(e) à aucune structure employeuse le "
                        f"{jour_de_la_seance(seance):%d/%m/%Y} : demandez à son référent de l'y rattacher."
                    )
                else:
                    detail = " ".join(error.messages)
                raise ValidationError(
                    f"L'atelier n'a pas pu être ajouté au journal d'activité de {name} : {detail}", code="activite"
                ) from error
        seance.activite = activite
        seance.appel_cloture_le = timezone.now()
        seance._history_user = history_user(by)
        seance.save(update_fields=["activite", "appel_cloture_le", "updated_at"])
    return activite
