"""Every write of the network's events: Sicoval staff create, correct and cancel them, invite their audience (a row
``invite`` per person and an invitation e-mail in the outbox, in the same transaction), take the attendance and close
it; an invited person answers (registers or declines) within the capacity, with a waiting list.

Rules:
- an event takes place somewhere: a place of the network, an address or a connection link; it ends after it starts
  and is created in the future; a cancelled event, or one whose attendance is closed, is no longer changed;
- inviting is idempotent: it adds the people of the audience not yet invited and writes their e-mail once per
  (recipient, kind, event), whatever runs twice;
- answers hold the event's row lock (``select_for_update``): never more registered people than places, the others
  wait in order of answer and take a freed place in that order;
- closing the attendance is idempotent; when the event is a training (``formation`` set) each present aidant gets one
  training on their record (type, date of the event, hours), never twice.
"""

import datetime
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from ateliers import ics
from notifications.services import email_enqueue

from . import services as aidant_services
from .models import (
    Aidant,
    Evenement,
    FormationAidant,
    ParticipationEvenement,
    PublicEvenement,
    StatutParticipation,
    TypeEvenement,
    TypeFormationAidant,
)

EVENEMENT_FIELDS = {
    "type",
    "titre",
    "description",
    "debut",
    "fin",
    "lieu",
    "adresse",
    "lien",
    "public",
    "capacite",
    "formation",
    "heures",
}
MAX_DUREE = datetime.timedelta(days=14)
MAX_CAPACITE = 5000
INVITATION = "evenement_invitation"
ANNULATION = "evenement_annule"
REPONSES = (StatutParticipation.INSCRIT, StatutParticipation.DECLINE)
NOT_STAFF = "Seule l'équipe Sicoval organise les événements du réseau."


def _require_staff(by):
    if not (by and by.is_authenticated and by.is_staff):
        raise PermissionDenied(NOT_STAFF)


def _save(instance, by):
    instance._history_user = by
    instance.full_clean()
    try:
        instance.save()
    except IntegrityError as error:  # a concurrent write broke a constraint the checks above let through
        raise ValidationError("Cet enregistrement entre en conflit avec un autre : rechargez la page.") from error
    return instance


def _locked(evenement):
    return Evenement.objects.select_for_update().get(pk=evenement.pk)


def _require_open(evenement):
    if evenement.annule:
        raise ValidationError("Cet événement est annulé : il ne peut plus être modifié.", code="annule")
    if evenement.appel_clos_le:
        raise ValidationError("Les présences de cet événement sont closes : il ne peut plus être modifié.", code="clos")


# --- Creating, correcting, cancelling ------------------------------------------------------------------------------
def _clean_fields(evenement, fields, *, now, creating):
    unknown = set(fields) - EVENEMENT_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    previous_debut = evenement.debut
    for name, value in fields.items():
        if name in {"titre", "description", "adresse", "lien", "formation"}:
            value = (value or "").strip()
        setattr(evenement, name, value)
    errors = {}
    if evenement.type not in TypeEvenement.values:
        errors["type"] = "Choisissez un type d'événement de la liste."
    if evenement.public not in PublicEvenement.values:
        errors["public"] = "Choisissez le public de l'événement dans la liste."
    debut, fin = evenement.debut, evenement.fin
    if not isinstance(debut, datetime.datetime):
        errors["debut"] = "Indiquez la date et l'heure de début."
    if not isinstance(fin, datetime.datetime):
        errors["fin"] = "Indiquez la date et l'heure de fin."
    if not errors.keys() & {"debut", "fin"}:
        if fin <= debut:
            errors["fin"] = "La fin doit suivre le début."
        elif fin - debut > MAX_DUREE:
            errors["fin"] = "Un événement dure au plus 14 jours : créez-en plusieurs au besoin."
        if debut < now and (creating or debut != previous_debut):
            errors["debut"] = "Le début ne peut pas être dans le passé."
    if not (evenement.lieu_id or evenement.adresse or evenement.lien):
        errors["lieu"] = "Indiquez un lieu du réseau, une adresse ou un lien de connexion."
    capacite = evenement.capacite
    if capacite is not None and (not isinstance(capacite, int) or not 1 <= capacite <= MAX_CAPACITE):
        errors["capacite"] = f"Le nombre de places est compris entre 1 et {MAX_CAPACITE} (vide : sans limite)."
    if evenement.formation:
        if evenement.formation not in TypeFormationAidant.values:
            errors["formation"] = "Choisissez un type de formation de la liste."
        else:
            if evenement.heures is None:
                evenement.heures = aidant_services.DEFAULT_HOURS.get(evenement.formation)
            try:
                heures = None if evenement.heures is None else Decimal(evenement.heures)
            except (InvalidOperation, TypeError, ValueError):
                heures = Decimal(-1)
            if heures is None:
                errors["heures"] = "Indiquez la durée de la formation en heures : elle s'ajoute au dossier des aidants."
            elif not Decimal(0) < heures <= aidant_services.MAX_HOURS:
                errors["heures"] = "La durée doit être supérieure à 0 et d'au plus 500 heures."
    else:
        evenement.heures = None  # hours are those of a training only
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def evenement_create(*, by, **fields):
    """Create an event of the network (staff)."""
    _require_staff(by)
    evenement = Evenement(organisateur=by)
    _clean_fields(evenement, fields, now=timezone.now(), creating=True)
    return _save(evenement, by)


def _inscrits(evenement):
    return ParticipationEvenement.objects.filter(evenement=evenement, statut=StatutParticipation.INSCRIT).count()


def _promote(evenement, by):
    """Waiting people take the free places, in order of answer. Returns the promoted rows."""
    if evenement.capacite is None:
        free = None
    else:
        free = evenement.capacite - _inscrits(evenement)
        if free <= 0:
            return []
    waiting = ParticipationEvenement.objects.filter(evenement=evenement, statut=StatutParticipation.ATTENTE).order_by(
        "updated_at", "pk"
    )
    if free is not None:
        waiting = waiting[:free]
    promoted = []
    for participation in waiting:
        participation.statut = StatutParticipation.INSCRIT
        _save(participation, by)
        promoted.append(participation)
    return promoted


@transaction.atomic
def evenement_update(*, evenement, by, **fields):
    """Correct an event (staff) before its attendance is closed. Places cannot go below the people registered; more
    places let the waiting list in."""
    _require_staff(by)
    evenement = _locked(evenement)
    _require_open(evenement)
    _clean_fields(evenement, fields, now=timezone.now(), creating=False)
    if evenement.capacite is not None:
        inscrits = _inscrits(evenement)
        if evenement.capacite < inscrits:
            raise ValidationError(
                {"capacite": f"{inscrits} personnes sont déjà inscrites : il faut au moins autant de places."}
            )
    _save(evenement, by)
    _promote(evenement, by)
    return evenement


@transaction.atomic
def evenement_cancel(*, evenement, by):
    """Cancel an event (staff): the people registered or waiting are told by e-mail. Cancelling twice does nothing."""
    _require_staff(by)
    evenement = _locked(evenement)
    if evenement.annule:
        return evenement
    if evenement.appel_clos_le:
        raise ValidationError("Les présences de cet événement sont closes : il ne peut plus être annulé.")
    evenement.annule = True
    _save(evenement, by)
    participations = (
        ParticipationEvenement.objects.filter(
            evenement=evenement, statut__in=[StatutParticipation.INSCRIT, StatutParticipation.ATTENTE]
        )
        .select_related("aidant", "user")
        .order_by("pk")
    )
    for participation in participations:
        _email(participation, ANNULATION, "aidants/evenements/emails/annulation")
    return evenement


# --- Invitations ---------------------------------------------------------------------------------------------------
def _absolute(path):
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _where(evenement):
    parts = []
    if evenement.lieu_id:
        lieu = evenement.lieu
        parts.append(f"{lieu.nom}, {lieu.adresse}, {lieu.code_postal} {lieu.commune.nom}")
    if evenement.adresse:
        parts.append(evenement.adresse)
    if evenement.lien:
        parts.append(evenement.lien)
    return " — ".join(parts)


def calendar_attachment(evenement):
    """The event as a calendar entry (RFC 5545) for the invitation e-mail."""
    url = _absolute(reverse("aidants:evenement", args=[evenement.uuid]))
    lines = [
        "BEGIN:VEVENT",
        f"UID:evenement-{evenement.uuid}@{ics._uid_domain()}",
        f"DTSTAMP:{ics._utc(timezone.now())}",
        f"DTSTART:{ics._utc(evenement.debut)}",
        f"DTEND:{ics._utc(evenement.fin)}",
        f"SUMMARY:{ics._escape(evenement.titre)}",
        f"LOCATION:{ics._escape(_where(evenement))}",
        f"STATUS:{'CANCELLED' if evenement.annule else 'CONFIRMED'}",
        f"URL:{url}",
    ]
    if evenement.description:
        lines.append(f"DESCRIPTION:{ics._escape(evenement.description)}")
    lines.append("END:VEVENT")
    return {"nom": "evenement.ics", "type": "text/calendar", "contenu": ics.calendar([lines])}


def _recipient(participation):
    if participation.aidant_id:
        return participation.aidant.email or (participation.aidant.user.email if participation.aidant.user_id else "")
    return participation.user.email


def _person_name(participation):
    if participation.aidant_id:
        return participation.aidant.prenom
    return participation.user.first_name


def _email(participation, kind, template, *, attachments=()):
    evenement = participation.evenement
    return email_enqueue(
        destinataire=_recipient(participation),
        type=kind,
        objet=f"evenement:{evenement.uuid}",
        template=template,
        context={
            "prenom": _person_name(participation),
            "evenement": evenement,
            "lieu": evenement.lieu,
            "url_evenement": _absolute(reverse("aidants:evenement", args=[evenement.uuid])),
            "url_invitations": _absolute(reverse("aidants:evenement_invitations")),
            "platform_name": settings.PLATFORM_NAME,
        },
        pieces_jointes=attachments,
    )


def audience_aidants(evenement):
    """Active aidants with an e-mail (theirs or their account's), when the event is for aidants."""
    if evenement.public == PublicEvenement.CONSEILLERS:
        return Aidant.objects.none()
    return Aidant.objects.filter(actif=True).filter(~Q(email="") | Q(user__isnull=False, user__is_active=True))


def audience_conseillers(evenement):
    """Active accounts of conseillers (a conseiller role or a conseiller's profile), when the event is for them."""
    if evenement.public == PublicEvenement.AIDANTS:
        return User.objects.none()
    return User.objects.filter(is_active=True).filter(
        Q(memberships__role=Role.CONSEILLER) | Q(conseiller__isnull=False)
    )


@transaction.atomic
def evenement_invite(*, evenement, by):
    """Invite the event's audience (staff): a row ``invite`` for each person not invited yet and their invitation
    e-mail (with a calendar entry), written in this transaction. Returns the number of new invitations; inviting
    again only reaches the people who joined the network since."""
    _require_staff(by)
    evenement = (
        Evenement.objects.select_for_update(of=("self",)).select_related("lieu", "lieu__commune").get(pk=evenement.pk)
    )
    _require_open(evenement)
    if evenement.debut <= timezone.now():
        raise ValidationError("Cet événement a commencé : il n'est plus temps d'inviter.", code="commence")
    existing = ParticipationEvenement.objects.filter(evenement=evenement)
    invited_aidants = set(existing.filter(aidant__isnull=False).values_list("aidant_id", flat=True))
    invited_users = set(existing.filter(user__isnull=False).values_list("user_id", flat=True))
    invited_users |= set(existing.filter(aidant__user__isnull=False).values_list("aidant__user_id", flat=True))
    new = []
    for aidant in audience_aidants(evenement).select_related("user").order_by("pk"):
        if aidant.pk in invited_aidants or (aidant.user_id and aidant.user_id in invited_users):
            continue
        new.append(ParticipationEvenement(evenement=evenement, aidant=aidant, statut=StatutParticipation.INVITE))
        if aidant.user_id:
            invited_users.add(aidant.user_id)
    for user in audience_conseillers(evenement).distinct().order_by("pk"):
        if user.pk in invited_users:
            continue
        new.append(ParticipationEvenement(evenement=evenement, user=user, statut=StatutParticipation.INVITE))
        invited_users.add(user.pk)
    attachment = calendar_attachment(evenement)
    for participation in new:
        participation.evenement = evenement
        _save(participation, by)
        _email(participation, INVITATION, "aidants/emails/invitation", attachments=[attachment])
    return len(new)


# --- Answers -------------------------------------------------------------------------------------------------------
def participation_of(evenement, user):
    """The invitation of ``user`` to the event (as an aidant with an account, or as a user), or None."""
    if not (user and user.is_authenticated):
        return None
    return (
        ParticipationEvenement.objects.filter(evenement=evenement)
        .filter(Q(user=user) | Q(aidant__user=user))
        .order_by("pk")
        .first()
    )


@transaction.atomic
def participation_answer(*, evenement, by, reponse):
    """An invited person registers (``inscrit``) or declines (``decline``). Registration takes a place when one is
    free, else a place on the waiting list; declining frees a place for the first person waiting."""
    if reponse not in REPONSES:
        raise ValidationError({"reponse": "Répondez « je viens » ou « je ne viens pas »."})
    if not (by and by.is_authenticated):
        raise PermissionDenied("Connectez-vous pour répondre à une invitation.")
    evenement = _locked(evenement)  # every answer to this event waits here: the count below stays true
    participation = participation_of(evenement, by)
    if participation is None:
        raise PermissionDenied("Vous n'êtes pas invité(e) à cet événement.")
    participation = ParticipationEvenement.objects.select_for_update().get(pk=participation.pk)
    if evenement.annule:
        raise ValidationError("Cet événement est annulé.", code="annule")
    if evenement.appel_clos_le or evenement.debut <= timezone.now():
        raise ValidationError("Cet événement a commencé : il n'est plus possible de répondre.", code="commence")
    if reponse == StatutParticipation.DECLINE:
        if participation.statut == StatutParticipation.DECLINE:
            return participation
        freed = participation.statut == StatutParticipation.INSCRIT
        participation.statut = StatutParticipation.DECLINE
        _save(participation, by)
        if freed:
            _promote(evenement, by)
        return participation
    if participation.statut in (StatutParticipation.INSCRIT, StatutParticipation.ATTENTE):
        return participation
    full = evenement.capacite is not None and _inscrits(evenement) >= evenement.capacite
    participation.statut = StatutParticipation.ATTENTE if full else StatutParticipation.INSCRIT
    return _save(participation, by)


# --- Attendance ----------------------------------------------------------------------------------------------------
def attendance_open(evenement, *, today=None):
    """Attendance is taken from the day the event starts until it is closed, unless the event is cancelled."""
    today = today or timezone.localdate()
    return not evenement.annule and not evenement.appel_clos_le and timezone.localdate(evenement.debut) <= today


def _require_attendance_open(evenement):
    if evenement.annule:
        raise ValidationError("Cet événement est annulé : il n'y a pas de présences à noter.", code="annule")
    if evenement.appel_clos_le:
        raise ValidationError("Les présences de cet événement sont déjà closes.", code="clos")
    if timezone.localdate(evenement.debut) > timezone.localdate():
        jour = timezone.localtime(evenement.debut)
        raise ValidationError(
            f"Les présences se notent à partir du jour de l'événement, le {jour:%d/%m/%Y}.", code="trop_tot"
        )


@transaction.atomic
def attendance_record(*, evenement, by, presences):
    """Mark people present or absent (staff): ``presences`` maps a participation's uuid (text) to True/False."""
    _require_staff(by)
    evenement = _locked(evenement)
    _require_attendance_open(evenement)
    wanted = {str(key): value for key, value in (presences or {}).items()}
    if any(value not in (True, False) for value in wanted.values()):
        raise ValidationError("Choisissez présent(e) ou absent(e).")
    rows = {
        str(p.uuid): p
        for p in ParticipationEvenement.objects.select_for_update().filter(evenement=evenement, uuid__in=_uuids(wanted))
    }
    unknown = set(wanted) - set(rows)
    if unknown:
        raise ValidationError("Une des personnes pointées n'est pas invitée à cet événement : rechargez la page.")
    changed = 0
    for key, present in wanted.items():
        participation = rows[key]
        if participation.present is not present:
            participation.present = present
            _save(participation, by)
            changed += 1
    return changed


def _uuids(wanted):
    valid = []
    for key in wanted:
        try:
            valid.append(uuid.UUID(key))
        except ValueError:
            raise ValidationError("Une des personnes pointées est inconnue : rechargez la page.") from None
    return valid


@transaction.atomic
def attendance_close(*, evenement, by):
    """Close the attendance (staff). For a training, each present aidant gets the training on their record, once.
    Closing again changes nothing. Returns the trainings added."""
    _require_staff(by)
    evenement = _locked(evenement)
    if evenement.appel_clos_le:
        return []
    _require_attendance_open(evenement)
    evenement.appel_clos_le = timezone.now()
    _save(evenement, by)
    if not evenement.formation:
        return []
    date = timezone.localdate(evenement.debut)
    added = []
    presents = (
        ParticipationEvenement.objects.filter(evenement=evenement, present=True, aidant__isnull=False)
        .select_related("aidant", "aidant__structure")
        .order_by("pk")
    )
    for participation in presents:
        aidant = participation.aidant
        already = FormationAidant.objects.filter(
            aidant=aidant, type=evenement.formation, date=date, intitule=evenement.titre[:255]
        ).exists()
        if already:
            continue
        added.append(
            aidant_services.formation_add(
                aidant=aidant,
                by=by,
                type=evenement.formation,
                date=date,
                heures=evenement.heures,
                intitule=evenement.titre[:255],
            )
        )
    return added
