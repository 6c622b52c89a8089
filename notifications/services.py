"""Writing e-mails to the outbox and relaying them.

``email_enqueue`` is called inside the transaction of the change that causes the e-mail: the row commits with the
change or not at all, and a second call for the same (recipient, kind, object) writes nothing (unique constraint,
``INSERT … ON CONFLICT DO NOTHING``). After commit, the relay is started: inline without a broker (quick start,
tests); otherwise published from a background thread, so that a broker that is down or hung never holds the request.
Beat also runs the relay every minute: nothing waits for the broker to come back.

``relay`` claims due rows one at a time (``select_for_update(skip_locked=True)`` on PostgreSQL, and a conditional
UPDATE everywhere), sends, and records the outcome only if the row is still its claim; an error schedules a retry
with exponential backoff (2, 4, 8… minutes), up to ``MAX_TENTATIVES``, then the e-mail is failed for good (staff may
send it again). A row claimed by a relay that died is taken again after ``CLAIM_TIMEOUT``. Two relays never send the
same row; the only way an e-mail leaves twice is a relay dying between the SMTP answer and recording it.

An e-mail may have a send-by moment (``envoyer_avant``, reminders have one): once it has passed, the relay no longer
sends it, whatever the reason it is still in the outbox (relay or SMTP down, retries, a claim gone stale), and marks
it ``MANQUE`` instead. A row written already past its moment is written ``MANQUE`` at once (the ledger of missed
reminders: the unique constraint then keeps it from ever being written again to be sent).

Logs carry the e-mail's uuid only, never an address, a name or a body.
"""

import datetime
import logging
import re
import smtplib
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from sicoval_numerique.kicker import TaskKicker

from .models import Email, StatutEmail

logger = logging.getLogger(__name__)

MAX_TENTATIVES = 8
CLAIM_TIMEOUT = datetime.timedelta(minutes=10)
# A kick that no worker took within this delay is dropped by the worker: beat has relayed since.
KICK_EXPIRES = 300
CLAIM_ATTEMPTS = 5


def backoff(tentatives):
    """Delay before the next try after ``tentatives`` failed tries: 2, 4, 8… minutes."""
    return datetime.timedelta(minutes=2**tentatives)


def mask_email(address):
    """``j***@example.org``: enough for staff to recognise a delivery, not to collect addresses."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


# --- Writing to the outbox --------------------------------------------------------------------------------------
def render_email(template, context):
    """The subject, text and HTML of ``template`` (``<template>_sujet.txt``, ``.txt``, ``.html``)."""
    sujet = " ".join(render_to_string(f"{template}_sujet.txt", context).split())
    texte = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    return sujet, texte, html


def _checked_attachments(pieces_jointes):
    """Attachments as stored: ``{nom, type, contenu}`` with text content. A malformed one is refused now rather than
    failing eight sends later."""
    checked = []
    for piece in pieces_jointes:
        if not isinstance(piece, dict) or not isinstance(piece.get("nom"), str) or not piece["nom"]:
            raise ValueError("Pièce jointe invalide : un nom est requis.")
        if not isinstance(piece.get("contenu"), str):
            raise ValueError("Pièce jointe invalide : le contenu doit être du texte.")
        checked.append(
            {"nom": piece["nom"], "type": piece.get("type") or "application/octet-stream", "contenu": piece["contenu"]}
        )
    return checked


MISSED_MESSAGE = "Non envoyé : son heure limite d'envoi était passée."


def normalise_address(address):
    return (address or "").strip().lower()


def _write(*, destinataire, type, objet, template, context, pieces_jointes=(), **fields):
    """Write one row unless (recipient, kind, object) is already in the outbox; returns the row or None."""
    sujet, texte, html = render_email(template, context)
    email = Email(
        destinataire=destinataire,
        type=type,
        objet=str(objet)[:120],
        sujet=sujet[:255],
        texte=texte,
        html=html,
        pieces_jointes=_checked_attachments(pieces_jointes),
        **fields,
    )
    Email.objects.bulk_create([email], ignore_conflicts=True)
    # With ON CONFLICT DO NOTHING the database does not say whether it wrote: our uuid is there only if it did.
    return email if Email.objects.filter(uuid=email.uuid).exists() else None


def email_record_missed(*, destinataire, type, objet, template, context, envoyer_avant):
    """Record in the outbox an e-mail whose moment to be sent has passed, as ``MANQUE``: it is never sent, and the
    unique (recipient, kind, object) keeps it from being written again to be sent. Returns whether this call wrote
    the row (False when the e-mail was already in the outbox, sent or not)."""
    destinataire = normalise_address(destinataire)
    if not destinataire:
        return False
    email = _write(
        destinataire=destinataire,
        type=type,
        objet=objet,
        template=template,
        context=context,
        statut=StatutEmail.MANQUE,
        envoyer_avant=envoyer_avant,
        prochain_essai=None,
        derniere_erreur=MISSED_MESSAGE,
    )
    return email is not None


def email_enqueue(*, destinataire, type, objet, template, context, pieces_jointes=(), envoyer_avant=None):
    """Put an e-mail in the outbox, once per (recipient, kind, object): a second call for the same is ignored, even
    from a concurrent transaction. With ``envoyer_avant``, the e-mail is never sent after that moment (already past:
    it is recorded as missed, see ``email_record_missed``). Returns whether this call wrote the row."""
    destinataire = normalise_address(destinataire)
    if not destinataire:
        return False
    if envoyer_avant is not None and envoyer_avant <= timezone.now():
        return email_record_missed(
            destinataire=destinataire,
            type=type,
            objet=objet,
            template=template,
            context=context,
            envoyer_avant=envoyer_avant,
        )
    email = _write(
        destinataire=destinataire,
        type=type,
        objet=objet,
        template=template,
        context=context,
        pieces_jointes=pieces_jointes,
        prochain_essai=timezone.now(),
        envoyer_avant=envoyer_avant,
    )
    written = email is not None
    if written and not any(callback is kick_relay for _sids, callback, _robust in connection.run_on_commit):
        # Once per transaction, however many e-mails it writes. A callback still registered can only be dropped by
        # rolling back a savepoint that also holds this row, so one is enough.
        transaction.on_commit(kick_relay, robust=True)
    return written


# --- Starting the relay right after commit ----------------------------------------------------------------------
_kicker = TaskKicker(
    "notifications.tasks.relay_outbox",
    expires=KICK_EXPIRES,
    label="Relais des e-mails",
    thread_name="notifications-kick-relay",
)


def kick_relay():
    """Start the relay now rather than at the next beat tick. Without a broker, the relay runs inline; with one, the
    task is published from a background thread (returned, for tests), and this returns at once."""
    return _kicker.run()


# --- Relaying ---------------------------------------------------------------------------------------------------
def _due(now):
    return Email.objects.filter(
        Q(statut=StatutEmail.A_ENVOYER, prochain_essai__lte=now)
        | Q(statut=StatutEmail.EN_COURS, pris_le__lt=now - CLAIM_TIMEOUT),
        Q(envoyer_avant__isnull=True) | Q(envoyer_avant__gt=now),
    )


def expire_late(now=None):
    """Mark ``MANQUE`` every e-mail still owed whose send-by moment has passed (one UPDATE); returns how many. A claim
    gone stale past its moment is marked too: it may or may not have left, but it will not leave late."""
    now = now or timezone.now()
    owed = Q(statut=StatutEmail.A_ENVOYER) | Q(statut=StatutEmail.EN_COURS, pris_le__lt=now - CLAIM_TIMEOUT)
    count = Email.objects.filter(owed, envoyer_avant__lte=now).update(
        statut=StatutEmail.MANQUE, prochain_essai=None, derniere_erreur=MISSED_MESSAGE
    )
    if count:
        logger.warning("Relais des e-mails : %s e-mail(s) non envoyé(s), leur heure limite était passée.", count)
    return count


def _claim():
    """Take one due e-mail for this relay, or None. The row lock (PostgreSQL) keeps two relays from reading the same
    row; the conditional UPDATE makes the claim safe on any database."""
    for _ in range(CLAIM_ATTEMPTS):
        with transaction.atomic():
            now = timezone.now()
            rows = _due(now).order_by("prochain_essai", "pk").only("pk", "statut", "tentatives", "pris_le")
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            candidate = rows.first()
            if candidate is None:
                return None
            taken = Email.objects.filter(
                pk=candidate.pk, statut=candidate.statut, tentatives=candidate.tentatives, pris_le=candidate.pris_le
            ).update(statut=StatutEmail.EN_COURS, pris_le=now, tentatives=F("tentatives") + 1)
            if taken:
                return Email.objects.get(pk=candidate.pk)
    return None


def _message(email):
    message = EmailMultiAlternatives(
        subject=email.sujet,
        body=email.texte,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.destinataire],
        headers={"X-Sicoval-Email": str(email.uuid)},
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    for piece in email.pieces_jointes:
        message.attach(piece["nom"], piece["contenu"], piece.get("type") or "application/octet-stream")
    return message


def _permanent(error):
    """The server refused every recipient for good (5xx, e.g. unknown mailbox): trying again would not help."""
    return isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        isinstance(answer, tuple) and int(answer[0]) >= 500 for answer in error.recipients.values()
    )


def _describe(error, email):
    """The error for staff, with the recipient's address masked (SMTP servers quote it)."""
    text = f"{type(error).__name__}: {error}"
    return re.sub(re.escape(email.destinataire), mask_email(email.destinataire), text, flags=re.IGNORECASE)[:1000]


def _record(email, **fields):
    """Write the outcome if the row is still this relay's claim (a claim gone stale may have been taken again)."""
    recorded = Email.objects.filter(pk=email.pk, statut=StatutEmail.EN_COURS, pris_le=email.pris_le).update(**fields)
    for name, value in fields.items():
        setattr(email, name, value)
    if not recorded:
        logger.warning(
            "E-mail %s : pris en charge entre-temps par un autre relais ; résultat non enregistré.", email.uuid
        )
    return bool(recorded)


def send_one(email):
    """Send a claimed e-mail and record the outcome (sent, retry later, failed for good, or missed when its
    send-by moment passed since it was claimed)."""
    if email.envoyer_avant is not None and timezone.now() >= email.envoyer_avant:
        _record(email, statut=StatutEmail.MANQUE, prochain_essai=None, derniere_erreur=MISSED_MESSAGE)
        logger.warning("E-mail %s non envoyé : son heure limite était passée.", email.uuid)
        return False
    try:
        _message(email).send(fail_silently=False)
    except Exception as error:  # SMTP errors, refused connections, timeouts: all retried but a refused recipient
        failed = _permanent(error) or email.tentatives >= MAX_TENTATIVES
        _record(
            email,
            statut=StatutEmail.ECHEC if failed else StatutEmail.A_ENVOYER,
            prochain_essai=None if failed else timezone.now() + backoff(email.tentatives),
            derniere_erreur=_describe(error, email),
        )
        logger.warning(
            "E-mail %s non envoyé (tentative %s sur %s) : %s ; %s.",
            email.uuid,
            email.tentatives,
            MAX_TENTATIVES,
            type(error).__name__,
            "abandon" if failed else f"nouvel essai dans {int(backoff(email.tentatives).total_seconds() // 60)} min",
        )
        return False
    _record(email, statut=StatutEmail.ENVOYE, envoye_le=timezone.now(), prochain_essai=None, derniere_erreur="")
    logger.info("E-mail %s envoyé.", email.uuid)
    return True


def relay(*, limit=200, max_seconds=None):
    """Send what is due, at most ``limit`` e-mails (and stop claiming after ``max_seconds``); returns (sent,
    failed)."""
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    expire_late()
    sent = failed = 0
    for _ in range(limit):
        if deadline is not None and time.monotonic() >= deadline:
            break
        email = _claim()
        if email is None:
            break
        if send_one(email):
            sent += 1
        else:
            failed += 1
    if sent or failed:
        logger.info("Relais des e-mails : %s envoyé(s), %s non envoyé(s).", sent, failed)
    return sent, failed


# --- Staff actions ----------------------------------------------------------------------------------------------
def email_resend(*, email, by):
    """Put an e-mail that failed for good back in the outbox (attempts from zero), and start the relay."""
    if not (by and by.is_staff):
        raise PermissionDenied("Seule l'équipe Sicoval renvoie les e-mails.")
    with transaction.atomic():
        now = timezone.now()
        reset = (
            Email.objects.filter(pk=email.pk, statut=StatutEmail.ECHEC)
            .filter(Q(envoyer_avant__isnull=True) | Q(envoyer_avant__gt=now))
            .update(statut=StatutEmail.A_ENVOYER, tentatives=0, prochain_essai=now, pris_le=None)
        )
        if not reset:
            current = Email.objects.filter(pk=email.pk).values_list("statut", "envoyer_avant").first()
            if current and current[0] == StatutEmail.ECHEC:
                raise ValidationError(
                    "Cet e-mail ne peut plus être renvoyé : son heure limite d'envoi "
                    f"({timezone.localtime(current[1]):%d/%m/%Y à %H:%M}) est passée.",
                    code="trop_tard",
                )
            raise ValidationError("Seul un e-mail en échec définitif peut être renvoyé.", code="pas_en_echec")
        transaction.on_commit(kick_relay, robust=True)
    logger.info("E-mail %s remis en file par l'utilisateur %s.", email.uuid, by.pk)
    email.refresh_from_db()
    return email
