"""With the broker hung or down, the change that writes an e-mail commits and answers at once (the relay is published
from a background thread), the row waits in the outbox, and it leaves once a relay runs: inline here, or through a
real Celery worker on Redis once Redis is back."""

import socket
import threading
import time
from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from notifications import services as outbox
from notifications.models import Email, StatutEmail
from notifications.tasks import relay_outbox
from tests import factories
from tests.notifications.helpers import ADDRESS, broker, enqueue
from tests.workers import REDIS_TEST_DB, TASK_TIMEOUT, redis_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER_WITHIN = 2  # seconds: the quality bar for a request that writes an e-mail
GIVE_UP_WITHIN = 15  # seconds: the background publication gives up on a hung broker (socket timeouts)
ICS = {"nom": "atelier.ics", "type": "text/calendar", "contenu": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"}


@contextmanager
def hung_broker():
    """A Redis that hangs: a socket that accepts connections (backlog) and never answers."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        with broker(f"redis://127.0.0.1:{hung.getsockname()[1]}/0"):
            try:
                yield
            finally:
                wait_for_kick()


@contextmanager
def stopped_broker():
    """A Redis that is stopped: nothing listens on port 1, the connection is refused."""
    with broker("redis://127.0.0.1:1/0"):
        try:
            yield
        finally:
            wait_for_kick()


def wait_for_kick():
    """Wait for the background publication to give up (or succeed); returns how long that took."""
    thread = outbox._kicker.thread
    start = time.monotonic()
    if thread is not None:
        thread.join(timeout=GIVE_UP_WITHIN)
        assert not thread.is_alive(), f"la publication n'a pas abandonné en {GIVE_UP_WITHIN} s"
    return time.monotonic() - start


def timed(action):
    start = time.monotonic()
    result = action()
    return result, time.monotonic() - start


def commit_one_email(**kwargs):
    with transaction.atomic():
        return enqueue(**kwargs)


@pytest.mark.parametrize("down", [hung_broker, stopped_broker], ids=["redis-muet", "redis-arrete"])
def test_commit_answers_at_once_and_the_email_waits_for_a_relay(down):
    with down():
        written, elapsed = timed(commit_one_email)
        assert written
        email = Email.objects.get()
        assert (email.statut, email.tentatives) == (StatutEmail.A_ENVOYER, 0)
        gave_up_after = wait_for_kick()
    print(f"commit : {elapsed * 1000:.0f} ms ; publication abandonnée après {gave_up_after:.1f} s de plus")
    assert elapsed < ANSWER_WITHIN, f"le commit a mis {elapsed:.2f} s"
    assert mail.outbox == []

    assert outbox.relay() == (1, 0)  # beat's next tick
    email.refresh_from_db()
    assert email.statut == StatutEmail.ENVOYE
    assert len(mail.outbox) == 1


def test_a_staff_request_that_starts_the_relay_answers_at_once_with_a_hung_broker(client):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    email = Email.objects.create(
        destinataire=ADDRESS, type="rappel", objet="seance:1", sujet="Rappel", texte="…", statut=StatutEmail.ECHEC
    )
    with hung_broker():
        response, elapsed = timed(lambda: client.post(reverse("notifications:resend", args=[email.uuid])))
    print(f"requête « Renvoyer » avec Redis muet : {elapsed * 1000:.0f} ms")
    assert response.status_code == 302
    assert elapsed < ANSWER_WITHIN, f"la requête a mis {elapsed:.2f} s"
    email.refresh_from_db()
    assert email.statut == StatutEmail.A_ENVOYER


def test_registering_answers_at_once_with_a_hung_broker():
    from ateliers.services import inscription_create

    seance = factories.SeanceFactory(capacite=3)
    data = {"prenom": "Jeanne", "nom": "Martin", "email": ADDRESS, "consentement": True}
    with hung_broker():
        inscription, elapsed = timed(lambda: inscription_create(seance=seance, data=data))
    print(f"inscription avec Redis muet : {elapsed * 1000:.0f} ms")
    assert elapsed < ANSWER_WITHIN, f"l'inscription a mis {elapsed:.2f} s"
    email = Email.objects.get(objet=f"inscription:{inscription.uuid}")
    assert email.statut == StatutEmail.A_ENVOYER
    assert outbox.relay() == (1, 0)
    assert mail.outbox[0].to == [ADDRESS]


def test_many_commits_with_a_hung_broker_hold_one_thread():
    with hung_broker():
        for n in range(20):
            with transaction.atomic():
                enqueue(objet=f"seance:{n}")
        kicks = [thread for thread in threading.enumerate() if thread.name == "notifications-kick-relay"]
        assert len(kicks) == 1
    assert Email.objects.filter(statut=StatutEmail.A_ENVOYER).count() == 20


def test_without_a_broker_the_relay_runs_inline_after_commit():
    commit_one_email()
    assert Email.objects.get().statut == StatutEmail.ENVOYE
    assert outbox._kicker.thread is None or not outbox._kicker.thread.is_alive()


# --- A real worker on Redis --------------------------------------------------------------------------------------
def sent(email):
    email.refresh_from_db()
    return email.statut == StatutEmail.ENVOYE


@pytest.mark.services
def test_a_real_worker_sends_the_email_right_after_commit(mail_worker):
    _queue, mails, log_path = mail_worker
    with broker(redis_url(REDIS_TEST_DB)):
        _written, elapsed = timed(lambda: commit_one_email(pieces_jointes=[ICS]))
        wait_for_kick()
    assert elapsed < ANSWER_WITHIN
    email = Email.objects.get()

    assert wait_for(lambda: sent(email), TASK_TIMEOUT), "le worker n'a pas envoyé l'e-mail"
    assert email.tentatives == 1
    files = list(mails.iterdir())
    assert len(files) == 1
    content = files[0].read_text()
    assert f"To: {ADDRESS}" in content
    assert f"X-Sicoval-Email: {email.uuid}" in content
    assert 'filename="atelier.ics"' in content
    worker_log = log_path.read_text()
    assert str(email.uuid) in worker_log
    assert ADDRESS not in worker_log


@pytest.mark.services
def test_the_email_leaves_once_redis_is_back(mail_worker):
    _queue, mails, _log = mail_worker
    with hung_broker():
        _written, elapsed = timed(commit_one_email)
    assert elapsed < ANSWER_WITHIN
    email = Email.objects.get()
    assert email.statut == StatutEmail.A_ENVOYER

    with broker(redis_url(REDIS_TEST_DB)):
        relay_outbox.apply_async()  # beat's tick once Redis answers again

    assert wait_for(lambda: sent(email), TASK_TIMEOUT), "l'e-mail n'est pas parti une fois Redis revenu"
    assert len(list(mails.iterdir())) == 1
