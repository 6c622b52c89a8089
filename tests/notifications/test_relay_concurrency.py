"""Relays running at the same time on PostgreSQL (one connection per thread, real commits): every e-mail leaves
exactly once, a relay never waits for a row another one holds, and concurrent writes of the same e-mail leave one
row."""

import threading
import time
from collections import Counter

import pytest
from django.core import mail
from django.db import connection, transaction

from notifications import services
from notifications.models import Email, StatutEmail
from tests.notifications.backends import SlowRecordingBackend
from tests.notifications.helpers import enqueue

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("services"), pytest.mark.django_db(transaction=True)]

SLOW = "tests.notifications.backends.SlowRecordingBackend"


def run_in_threads(target, count):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(n):
        try:
            barrier.wait(timeout=10)
            results.append(target(n))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "un relais ne s'est pas terminé"
    assert errors == []
    return results


@pytest.fixture
def recorded(settings):
    settings.EMAIL_BACKEND = SLOW
    SlowRecordingBackend.sent = []
    yield SlowRecordingBackend.sent
    SlowRecordingBackend.sent = []


def test_concurrent_relays_send_each_email_exactly_once(recorded, make_email):
    for _ in range(40):
        make_email()

    results = run_in_threads(lambda n: services.relay(), 4)

    assert sum(sent for sent, _failed in results) == 40
    assert sum(1 for sent, _failed in results if sent) > 1, "les relais n'ont pas travaillé en parallèle"
    counts = Counter(recorded)
    assert len(counts) == 40
    assert max(counts.values()) == 1, "un e-mail est parti deux fois"
    assert set(Email.objects.values_list("statut", flat=True)) == {StatutEmail.ENVOYE}
    assert set(Email.objects.values_list("tentatives", flat=True)) == {1}


def test_relay_run_twice_at_once_by_the_task_sends_once(recorded, make_email):
    from notifications.tasks import relay_outbox

    for _ in range(10):
        make_email()
    run_in_threads(lambda n: relay_outbox.apply(), 2)  # beat's tick and a kick, or a redelivery
    assert sorted(Counter(recorded).values()) == [1] * 10


def test_a_relay_skips_the_row_another_one_holds_without_waiting(make_email):
    first = make_email()
    second = make_email()
    held, release = threading.Event(), threading.Event()

    def hold_first_row():
        try:
            with transaction.atomic():
                Email.objects.select_for_update().get(pk=first.pk)
                held.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first_row)
    holder.start()
    try:
        assert held.wait(timeout=10)
        start = time.monotonic()
        claimed = services._claim()
        elapsed = time.monotonic() - start
    finally:
        release.set()
        holder.join(timeout=20)

    assert claimed.pk == second.pk
    assert elapsed < 1, f"le relais a attendu {elapsed:.1f} s la ligne verrouillée"
    first.refresh_from_db()
    assert first.statut == StatutEmail.A_ENVOYER  # left for the relay that holds it


def test_concurrent_writes_of_the_same_email_leave_one_row():
    def write(n):
        with transaction.atomic():
            written = enqueue(objet="seance:meme")
            time.sleep(0.05)  # keep the transactions open together
        return written

    results = run_in_threads(write, 8)

    assert sorted(results) == [False] * 7 + [True]
    assert Email.objects.count() == 1
    assert len(mail.outbox) == 1  # the winner's commit started the relay (inline in tests)
