"""The outbox keeps an e-mail (recipient, bodies) 12 months after it was sent, or after it was written when it never
left; then it is deleted. Idempotent, scheduled every night."""

import datetime

import pytest
import time_machine

from notifications import purge
from notifications.models import Email, StatutEmail
from notifications.tasks import emails_purger

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
WRITTEN = datetime.datetime(2025, 2, 10, 9, tzinfo=UTC)
SENT = datetime.datetime(2025, 2, 20, 9, tzinfo=UTC)


def test_an_email_is_deleted_12_months_after_it_was_sent_and_not_before(make_email):
    with time_machine.travel(WRITTEN, tick=False):
        sent = make_email(destinataire="rose@example.org", statut=StatutEmail.ENVOYE, envoye_le=SENT)
        failed = make_email(statut=StatutEmail.ECHEC, derniere_erreur="SMTPException")
        missed = make_email(statut=StatutEmail.MANQUE)
    with time_machine.travel(datetime.datetime(2026, 2, 9, 9, tzinfo=UTC), tick=False):
        assert purge.emails_purger() == 0
    # Never sent: 12 months after it was written.
    with time_machine.travel(datetime.datetime(2026, 2, 11, 9, tzinfo=UTC), tick=False):
        assert purge.emails_purger() == 2
    assert set(Email.objects.values_list("pk", flat=True)) == {sent.pk}
    assert not Email.objects.filter(pk__in=[failed.pk, missed.pk]).exists()
    # Sent: 12 months after it left.
    with time_machine.travel(datetime.datetime(2026, 2, 19, 9, tzinfo=UTC), tick=False):
        assert purge.emails_purger() == 0
    with time_machine.travel(datetime.datetime(2026, 2, 21, 9, tzinfo=UTC), tick=False):
        assert emails_purger.apply().get() == {"supprimes": 1}
        assert purge.emails_purger() == 0  # idempotent
    assert not Email.objects.exists()


def test_recent_emails_are_kept(make_email):
    kept = make_email(statut=StatutEmail.ENVOYE)
    assert emails_purger.apply().get() == {"supprimes": 0}
    assert Email.objects.filter(pk=kept.pk).exists()


def test_many_emails_are_deleted_in_batches(make_email):
    with time_machine.travel(WRITTEN, tick=False):
        for _ in range(5):
            make_email(statut=StatutEmail.ANNULE)
    with time_machine.travel(WRITTEN + datetime.timedelta(days=400), tick=False):
        assert purge.emails_purger(batch=2) == 5
    assert not Email.objects.exists()


def test_the_purge_is_scheduled_every_night():
    from django.conf import settings

    from sicoval_numerique.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["notifications-emails-purger"]
    assert entry["task"] == "notifications.tasks.emails_purger"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {5}
