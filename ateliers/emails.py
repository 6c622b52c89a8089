"""The e-mails of workshops, written to the outbox (``notifications``) in the transaction of the change: the
registration received (confirmed, or on the waiting list), a seat freed for someone waiting, a cancellation, a
session cancelled. Each carries the session's details, an ``.ics`` calendar entry when a seat is held, and the signed
link to cancel. Nothing is sent to a registration without an e-mail address (reached by phone)."""

from django.conf import settings
from django.urls import reverse

from notifications.services import email_enqueue

from . import ics


def _absolute(path):
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _context(inscription):
    from .services.inscriptions import cancel_token

    seance = inscription.seance
    return {
        "inscription": inscription,
        "seance": seance,
        "atelier": seance.atelier,
        "lieu": seance.lieu,
        "arret": seance.arret,
        "url_seance": _absolute(reverse("ateliers:seance_publique", args=[seance.uuid])),
        "url_annulation": _absolute(reverse("ateliers:annuler", args=[cancel_token(inscription)])),
        "platform_name": settings.PLATFORM_NAME,
    }


def email_context(inscription):
    """The context every e-mail about a registration gets (session, place, its page, the signed cancellation link):
    the reminders (``notifications.rappels``) build theirs the same way."""
    return _context(inscription)


def _send(inscription, type, template, *, with_calendar=False, version=""):
    if not inscription.email:
        return False
    attachments = [ics.attachment(inscription.seance)] if with_calendar else []
    return email_enqueue(
        destinataire=inscription.email,
        type=type,
        objet=f"inscription:{inscription.uuid}{version}",
        template=template,
        context=_context(inscription),
        pieces_jointes=attachments,
    )


def inscription_recue(inscription):
    if inscription.statut == "confirmee":
        return _send(inscription, "inscription_confirmee", "ateliers/emails/inscription_confirmee", with_calendar=True)
    return _send(inscription, "inscription_attente", "ateliers/emails/inscription_attente")


def place_liberee(inscription):
    return _send(inscription, "place_liberee", "ateliers/emails/place_liberee", with_calendar=True)


def inscription_annulee(inscription):
    return _send(inscription, "inscription_annulee", "ateliers/emails/inscription_annulee")


def seance_annulee(inscription):
    return _send(inscription, "seance_annulee", "ateliers/emails/seance_annulee")


def seance_modifiee(inscription, *, version):
    """The session's date, time or place changed: once per change (``version`` names it)."""
    return _send(
        inscription,
        "seance_modifiee",
        "ateliers/emails/seance_modifiee",
        with_calendar=inscription.statut == "confirmee",
        version=f":{version}",
    )
