"""The outbox: one row per (recipient, kind, object) whatever calls twice; rows commit with the change or not at all;
the relay sends each row once, retries SMTP errors after 2, 4, 8… minutes, fails for good after MAX_TENTATIVES,
takes back a stale claim, carries attachments; nothing personal reaches the logs."""

import datetime
import logging

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Email, StatutEmail
from notifications.services import CLAIM_TIMEOUT, MAX_TENTATIVES, relay
from notifications.tasks import relay_outbox
from tests import factories
from tests.notifications.helpers import ADDRESS, NAME, enqueue

pytestmark = pytest.mark.django_db

FAILING = "tests.notifications.backends.FailingBackend"
REFUSING = "tests.notifications.backends.RefusingBackend"
ICS = {"nom": "atelier.ics", "type": "text/calendar", "contenu": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"}
T0 = datetime.datetime(2025, 3, 3, 9, 0, tzinfo=datetime.UTC)


# --- Writing ---------------------------------------------------------------------------------------------------
def test_enqueue_twice_writes_one_row_and_sends_one_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert enqueue() is True
        assert enqueue() is False
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert enqueue(destinataire=f"  {ADDRESS.upper()} ") is False  # same address, written differently

    assert Email.objects.count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [ADDRESS]
    assert Email.objects.get().statut == StatutEmail.ENVOYE


def test_each_recipient_kind_and_object_gets_its_own_row():
    assert enqueue()
    assert enqueue(destinataire="autre@example.org")
    assert enqueue(type="annulation")
    assert enqueue(objet="seance:2")
    assert Email.objects.count() == 4


def test_rollback_of_the_causing_change_leaves_no_row_and_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue()
        raise RuntimeError("la modification échoue après l'écriture de l'e-mail")
    assert callbacks == []
    assert not Email.objects.exists()
    assert mail.outbox == []


def test_rollback_of_an_inner_savepoint_keeps_the_relay_for_the_outer_emails(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue(objet="seance:annulee")
            raise RuntimeError
        enqueue(objet="seance:gardee")
        enqueue(objet="seance:gardee-2")
    assert len(callbacks) == 1  # one relay per transaction, however many e-mails
    assert sorted(Email.objects.values_list("objet", flat=True)) == ["seance:gardee", "seance:gardee-2"]
    assert len(mail.outbox) == 2


def test_no_address_no_row():
    assert enqueue(destinataire="") is False
    assert enqueue(destinataire=None) is False
    assert not Email.objects.exists()


def test_a_malformed_attachment_is_refused_when_written():
    with pytest.raises(ValueError, match="Pièce jointe invalide"):
        enqueue(pieces_jointes=[{"nom": "a.ics", "contenu": b"binaire"}])
    assert not Email.objects.exists()


# --- Relaying once ---------------------------------------------------------------------------------------------
def test_relay_twice_sends_once():
    enqueue()
    assert relay() == (1, 0)
    assert relay() == (0, 0)
    relay_outbox.apply()  # a redelivered task
    assert len(mail.outbox) == 1
    email = Email.objects.get()
    assert (email.statut, email.tentatives, email.prochain_essai) == (StatutEmail.ENVOYE, 1, None)
    assert email.envoye_le is not None


def test_relay_sends_oldest_first_and_stops_at_its_limit():
    for n in range(3):
        enqueue(objet=f"seance:{n}")
    assert relay(limit=2) == (2, 0)
    assert Email.objects.filter(statut=StatutEmail.A_ENVOYER).get().objet == "seance:2"


def test_attachments_and_html_arrive():
    enqueue(pieces_jointes=[ICS])
    relay()
    message = mail.outbox[0]
    assert message.subject == "Rappel de votre atelier"
    assert f"Bonjour {NAME}," in message.body
    assert message.alternatives[0].mimetype == "text/html"
    assert f"<p>Bonjour {NAME},</p>" in message.alternatives[0].content
    assert message.attachments == [(ICS["nom"], ICS["contenu"], "text/calendar")]
    assert message.extra_headers["X-Sicoval-Email"] == str(Email.objects.get().uuid)


def test_a_registration_writes_its_email_with_the_calendar_entry(django_capture_on_commit_callbacks):
    from ateliers.services import inscription_create

    seance = factories.SeanceFactory(capacite=3)
    data = {"prenom": "Jeanne", "nom": "Martin", "email": ADDRESS, "consentement": True}
    with django_capture_on_commit_callbacks(execute=True):
        inscription = inscription_create(seance=seance, data=data)

    email = Email.objects.get(objet=f"inscription:{inscription.uuid}")
    assert (email.type, email.statut) == ("inscription_confirmee", StatutEmail.ENVOYE)
    assert mail.outbox[0].attachments[0][2] == "text/calendar"


# --- Retries ---------------------------------------------------------------------------------------------------
def _due_now(email):
    Email.objects.filter(pk=email.pk).update(prochain_essai=timezone.now())


def test_smtp_error_is_retried_after_2_then_4_then_8_minutes(settings):
    settings.EMAIL_BACKEND = FAILING
    with time_machine.travel(T0, tick=False):
        enqueue()
        email = Email.objects.get()
        delays = []
        for attempt in range(1, 4):
            assert relay() == (0, 1)
            email.refresh_from_db()
            assert (email.statut, email.tentatives) == (StatutEmail.A_ENVOYER, attempt)
            assert "SMTPException" in email.derniere_erreur
            delays.append(email.prochain_essai - T0)
            assert relay() == (0, 0)  # not due before its time
            _due_now(email)
    assert delays == [datetime.timedelta(minutes=m) for m in (2, 4, 8)]


def test_the_retry_waits_for_its_time(settings):
    settings.EMAIL_BACKEND = FAILING
    with time_machine.travel(T0, tick=False):
        enqueue()
        relay()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(T0 + datetime.timedelta(minutes=1, seconds=59), tick=False):
        assert relay() == (0, 0)
    with time_machine.travel(T0 + datetime.timedelta(minutes=2), tick=False):
        assert relay() == (1, 0)
    email = Email.objects.get()
    assert (email.statut, email.tentatives, email.derniere_erreur) == (StatutEmail.ENVOYE, 2, "")


def test_after_max_attempts_the_email_fails_for_good(settings):
    settings.EMAIL_BACKEND = FAILING
    enqueue()
    email = Email.objects.get()
    for _ in range(MAX_TENTATIVES):
        _due_now(email)
        assert relay() == (0, 1)
    email.refresh_from_db()
    assert (email.statut, email.tentatives, email.prochain_essai) == (StatutEmail.ECHEC, MAX_TENTATIVES, None)
    Email.objects.filter(pk=email.pk).update(prochain_essai=timezone.now())
    assert relay() == (0, 0)  # never tried again by itself
    assert mail.outbox == []


def test_a_recipient_refused_for_good_fails_at_once_with_the_address_masked(settings):
    settings.EMAIL_BACKEND = REFUSING
    enqueue()
    assert relay() == (0, 1)
    email = Email.objects.get()
    assert (email.statut, email.tentatives) == (StatutEmail.ECHEC, 1)
    assert "SMTPRecipientsRefused" in email.derniere_erreur
    assert "j***@example.org" in email.derniere_erreur
    assert ADDRESS not in email.derniere_erreur


# --- Claims ----------------------------------------------------------------------------------------------------
def test_a_stale_claim_is_taken_again(make_email):
    stale = make_email(
        statut=StatutEmail.EN_COURS,
        tentatives=1,
        pris_le=timezone.now() - CLAIM_TIMEOUT - datetime.timedelta(seconds=1),
    )
    fresh = make_email(
        statut=StatutEmail.EN_COURS, tentatives=1, pris_le=timezone.now() - datetime.timedelta(minutes=1)
    )

    assert relay() == (1, 0)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.statut, stale.tentatives) == (StatutEmail.ENVOYE, 2)
    assert fresh.statut == StatutEmail.EN_COURS  # its relay is still at work
    assert mail.outbox[0].to == [stale.destinataire]


def test_a_late_relay_does_not_overwrite_the_one_that_took_its_stale_claim(make_email):
    make_email()
    late = services._claim()
    # Its claim went stale, and another relay took the row and sent it.
    Email.objects.filter(pk=late.pk).update(pris_le=timezone.now() - CLAIM_TIMEOUT - datetime.timedelta(seconds=1))
    assert relay() == (1, 0)
    services.send_one(late)  # the late relay finishes
    late.refresh_from_db()
    assert (late.statut, late.tentatives) == (StatutEmail.ENVOYE, 2)


def test_claim_marks_the_row_and_counts_the_attempt(make_email):
    email = make_email()
    claimed = services._claim()
    assert claimed.pk == email.pk
    assert (claimed.statut, claimed.tentatives) == (StatutEmail.EN_COURS, 1)
    assert services._claim() is None


def test_an_email_due_later_is_not_claimed(make_email):
    make_email(prochain_essai=timezone.now() + datetime.timedelta(minutes=5))
    make_email(statut=StatutEmail.ENVOYE)
    make_email(statut=StatutEmail.ECHEC)
    assert services._claim() is None


# --- Staff: sending again --------------------------------------------------------------------------------------
def test_resend_puts_a_failed_email_back_with_no_attempts(make_email, staff_user, django_capture_on_commit_callbacks):
    email = make_email(statut=StatutEmail.ECHEC, tentatives=MAX_TENTATIVES, prochain_essai=None, derniere_erreur="x")
    with django_capture_on_commit_callbacks(execute=True):
        services.email_resend(email=email, by=staff_user)
    email.refresh_from_db()
    assert (email.statut, email.tentatives) == (StatutEmail.ENVOYE, 1)
    assert len(mail.outbox) == 1


def test_resend_refuses_an_email_that_did_not_fail(make_email, staff_user):
    email = make_email(statut=StatutEmail.ENVOYE)
    with pytest.raises(ValidationError, match="échec définitif"):
        services.email_resend(email=email, by=staff_user)
    email.refresh_from_db()
    assert email.statut == StatutEmail.ENVOYE


def test_resend_is_for_staff(make_email, referent):
    email = make_email(statut=StatutEmail.ECHEC)
    with pytest.raises(PermissionDenied):
        services.email_resend(email=email, by=referent)


# --- Logs ------------------------------------------------------------------------------------------------------
def test_logs_carry_the_uuid_only(settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = REFUSING
    enqueue(objet="seance:refus")
    relay()
    settings.EMAIL_BACKEND = FAILING
    enqueue(objet="seance:panne")
    relay()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    enqueue(objet="seance:ok")
    relay()

    assert caplog.records, "le relais journalise ses envois"
    for email in Email.objects.all():
        assert str(email.uuid) in caplog.text
    for personal in (ADDRESS, ADDRESS.split("@")[0], NAME, "Rappel de votre atelier", "À demain"):
        assert personal not in caplog.text


def test_mask_email():
    assert services.mask_email("jeanne.martin@example.org") == "j***@example.org"
    assert services.mask_email("j@example.org") == "j***@example.org"
    assert services.mask_email("pas-une-adresse") == "***"
    assert services.mask_email("") == "***"


def test_relay_stops_claiming_after_its_time(make_email):
    for _ in range(3):
        make_email()
    assert relay(max_seconds=0) == (0, 0)
    assert relay(max_seconds=60) == (3, 0)
