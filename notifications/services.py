"""Writing e-mails to the outbox and relaying them.

``email_enqueue`` is called inside the transaction of the change that causes the e-mail: the row commits with the
change or not at all. After commit, the relay is started (inline without a broker; otherwise published from a
background thread, so that a broker that is down or hung never holds the request). Beat also runs the relay every
minute: nothing waits for the broker to come back.

``relay`` claims due rows one at a time (``select_for_update(skip_locked=True)`` on PostgreSQL), sends, and marks them
sent; an SMTP error schedules a retry with exponential backoff, up to ``MAX_TENTATIVES``. A row claimed by a worker
that died is taken again after ``CLAIM_TIMEOUT``.
"""

import datetime
import logging
import threading

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Email, StatutEmail

logger = logging.getLogger(__name__)

MAX_TENTATIVES = 8
CLAIM_TIMEOUT = datetime.timedelta(minutes=10)


def render_email(template, context):
    """The subject, text and HTML of ``template`` (``<template>_sujet.txt``, ``.txt``, ``.html``)."""
    sujet = " ".join(render_to_string(f"{template}_sujet.txt", context).split())
    texte = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    return sujet, texte, html


def email_enqueue(*, destinataire, type, objet, template, context, pieces_jointes=()):
    """Put an e-mail in the outbox, once per (recipient, kind, object): a second call for the same is ignored.
    Returns whether a row was written."""
    if not destinataire:
        return False
    sujet, texte, html = render_email(template, context)
    created = Email.objects.bulk_create(
        [
            Email(
                destinataire=destinataire.strip().lower(),
                type=type,
                objet=str(objet)[:120],
                sujet=sujet[:255],
                texte=texte,
                html=html,
                pieces_jointes=list(pieces_jointes),
                prochain_essai=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )
    if not any(callback is kick_relay for _sids, callback, _robust in connection.run_on_commit):
        transaction.on_commit(kick_relay)  # once per transaction, however many e-mails it writes
    return bool(created)


def kick_relay():
    """Start the relay now rather than at the next beat tick."""
    from .tasks import relay_outbox

    if settings.CELERY_TASK_ALWAYS_EAGER:
        relay_outbox.apply()
        return

    def publish():
        try:
            relay_outbox.apply_async(retry=False)
        except Exception:  # the broker is down: beat will relay once it is back
            logger.warning("Relais des e-mails non lancé : courtier injoignable ; le beat le relancera.")

    threading.Thread(target=publish, name="kick-relay", daemon=True).start()


def _due():
    now = timezone.now()
    return Email.objects.filter(
        Q(statut=StatutEmail.A_ENVOYER, prochain_essai__lte=now)
        | Q(statut=StatutEmail.EN_COURS, pris_le__lt=now - CLAIM_TIMEOUT)
    )


def _claim():
    """Take one due e-mail for this worker, or None."""
    with transaction.atomic():
        rows = _due().order_by("prochain_essai", "pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        email = rows.first()
        if email is None:
            return None
        email.statut = StatutEmail.EN_COURS
        email.pris_le = timezone.now()
        email.tentatives += 1
        email.save(update_fields=["statut", "pris_le", "tentatives"])
        return email


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
        message.attach(piece["nom"], piece["contenu"], piece.get("type", "application/octet-stream"))
    return message


def send_one(email):
    """Send a claimed e-mail and record the outcome (sent, retry later, or failed for good)."""
    try:
        _message(email).send(fail_silently=False)
    except Exception as error:  # SMTP errors, refused connections, timeouts: all retried
        failed = email.tentatives >= MAX_TENTATIVES
        email.statut = StatutEmail.ECHEC if failed else StatutEmail.A_ENVOYER
        email.prochain_essai = None if failed else timezone.now() + datetime.timedelta(minutes=2**email.tentatives)
        email.derniere_erreur = f"{type(error).__name__}: {error}"[:1000]
        email.save(update_fields=["statut", "prochain_essai", "derniere_erreur"])
        logger.warning("E-mail %s non envoyé (tentative %s) : %s", email.uuid, email.tentatives, type(error).__name__)
        return False
    email.statut = StatutEmail.ENVOYE
    email.envoye_le = timezone.now()
    email.derniere_erreur = ""
    email.save(update_fields=["statut", "envoye_le", "derniere_erreur"])
    return True


def relay(*, limit=200):
    """Send what is due, at most ``limit`` e-mails; returns (sent, failed)."""
    sent = failed = 0
    for _ in range(limit):
        email = _claim()
        if email is None:
            break
        if send_one(email):
            sent += 1
        else:
            failed += 1
    return sent, failed
