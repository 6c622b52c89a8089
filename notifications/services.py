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

Logs carry the e-mail's uuid only, never an address, a name or a body.
"""

import datetime
import logging
import os
import re
import smtplib
import threading
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

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


def email_enqueue(*, destinataire, type, objet, template, context, pieces_jointes=()):
    """Put an e-mail in the outbox, once per (recipient, kind, object): a second call for the same is ignored, even
    from a concurrent transaction. Returns whether this call wrote the row."""
    destinataire = (destinataire or "").strip().lower()
    if not destinataire:
        return False
    sujet, texte, html = render_email(template, context)
    email = Email(
        destinataire=destinataire,
        type=type,
        objet=str(objet)[:120],
        sujet=sujet[:255],
        texte=texte,
        html=html,
        pieces_jointes=_checked_attachments(pieces_jointes),
        prochain_essai=timezone.now(),
    )
    Email.objects.bulk_create([email], ignore_conflicts=True)
    # With ON CONFLICT DO NOTHING the database does not say whether it wrote: our uuid is there only if it did.
    written = Email.objects.filter(uuid=email.uuid).exists()
    if written and not any(callback is kick_relay for _sids, callback, _robust in connection.run_on_commit):
        # Once per transaction, however many e-mails it writes. A callback still registered can only be dropped by
        # rolling back a savepoint that also holds this row, so one is enough.
        transaction.on_commit(kick_relay, robust=True)
    return written


# --- Starting the relay right after commit ----------------------------------------------------------------------
class _Kicker:
    """Publishes ``relay_outbox`` from one background thread per process. Kicks made while a publication is under
    way are folded into one more publication after it, so a hung broker holds one thread, never one per request."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self.thread = None

    def kick(self):
        with self._lock:
            if self._running:
                self._again = True
                return self.thread
            self._running = True
            self._again = False
            thread = threading.Thread(target=self._run, name="notifications-kick-relay", daemon=True)
            self.thread = thread
        try:
            thread.start()
        except RuntimeError:  # no thread left: beat will relay
            with self._lock:
                self._running = False
            logger.warning("Relais des e-mails non lancé (fil indisponible) ; le beat le relancera.")
            return None
        return thread

    def _run(self):
        from .tasks import relay_outbox

        while True:
            try:
                relay_outbox.apply_async(retry=False, expires=KICK_EXPIRES)
            except Exception as error:  # the broker is down or hung: beat relays once it is back
                with self._lock:
                    self._running = self._again = False
                logger.warning(
                    "Relais des e-mails non lancé : courtier injoignable (%s) ; le beat le relancera.",
                    type(error).__name__,
                )
                return
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False


_kicker = _Kicker()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_kicker._reset)  # a forked worker starts with no publication under way


def kick_relay():
    """Start the relay now rather than at the next beat tick. Without a broker, the relay runs inline; with one, the
    task is published from a background thread (returned, for tests), and this returns at once."""
    from .tasks import relay_outbox

    if relay_outbox.app.conf.task_always_eager:
        relay_outbox.apply()
        return None
    return _kicker.kick()


# --- Relaying ---------------------------------------------------------------------------------------------------
def _due(now):
    return Email.objects.filter(
        Q(statut=StatutEmail.A_ENVOYER, prochain_essai__lte=now)
        | Q(statut=StatutEmail.EN_COURS, pris_le__lt=now - CLAIM_TIMEOUT)
    )


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
    """Send a claimed e-mail and record the outcome (sent, retry later, or failed for good)."""
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
        reset = Email.objects.filter(pk=email.pk, statut=StatutEmail.ECHEC).update(
            statut=StatutEmail.A_ENVOYER, tentatives=0, prochain_essai=timezone.now(), pris_le=None
        )
        if not reset:
            raise ValidationError("Seul un e-mail en échec définitif peut être renvoyé.", code="pas_en_echec")
        transaction.on_commit(kick_relay, robust=True)
    logger.info("E-mail %s remis en file par l'utilisateur %s.", email.uuid, by.pk)
    email.refresh_from_db()
    return email
