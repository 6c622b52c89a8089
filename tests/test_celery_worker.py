"""The job pipeline with real parts: a task sent from this process goes through Redis to a real Celery worker
process, which does its work in the test database. And with the broker unreachable or hung, sending a task fails
fast instead of holding the caller."""

import socket
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import UserSession as Session  # the session engine's table (accounts.sessions)
from accounts.tasks import sessions_clear_expired
from sicoval_numerique.celery import app as celery_app
from tests.workers import REDIS_TEST_DB, TASK_TIMEOUT, celery_worker, redis_url, wait_for


def _reset_broker_pools():
    """Celery keeps its broker connection and producer pools once made: drop them so the next send uses the broker
    URL of now (the app is shared with the rest of the suite)."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url):
    """This process sends tasks to URL for real (the test settings run them inline), then everything is restored."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = url, False
    _reset_broker_pools()
    try:
        yield
    finally:
        _reset_broker_pools()
        conf.broker_url, conf.task_always_eager = saved


@pytest.fixture
def worker(services, transactional_db, tmp_path):
    """A real worker process on a queue of its own, against Redis and the test database; yields the queue name."""
    with celery_worker(tmp_path, prefix="test-worker") as (queue, _log):
        yield queue


def create_session(expire_date):
    return Session.objects.create(session_key=uuid.uuid4().hex, session_data="", expire_date=expire_date)


@pytest.mark.django_db(transaction=True)
def test_real_worker_clears_expired_sessions_from_the_database(worker):
    now = timezone.now()
    expired = [create_session(now - timedelta(days=1)), create_session(now - timedelta(minutes=1))]
    alive = create_session(now + timedelta(days=14))

    with broker(redis_url(REDIS_TEST_DB)):
        sessions_clear_expired.apply_async(queue=worker)

    cleared = wait_for(
        lambda: not Session.objects.filter(pk__in=[session.pk for session in expired]).exists(), TASK_TIMEOUT
    )
    assert cleared, "le worker n'a pas supprimé les sessions expirées"
    assert Session.objects.filter(pk=alive.pk).exists()


def test_delay_fails_fast_when_the_broker_is_unreachable():
    # Port 1 on the loopback: nothing listens there, the connection is refused.
    with broker("redis://127.0.0.1:1/0"):
        start = time.monotonic()
        with pytest.raises(OperationalError):
            sessions_clear_expired.delay()
        elapsed = time.monotonic() - start
    assert elapsed < 2, f".delay() a mis {elapsed:.1f} s à échouer"


def test_delay_gives_up_on_a_hung_broker_within_its_socket_timeout():
    # A socket that accepts connections (backlog) and never answers, like a Redis that hangs.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        port = hung.getsockname()[1]
        with broker(f"redis://127.0.0.1:{port}/0"):
            start = time.monotonic()
            with pytest.raises(OperationalError):
                sessions_clear_expired.delay()
            elapsed = time.monotonic() - start
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"]
    assert elapsed < 2 * timeout + 1, f".delay() a mis {elapsed:.1f} s à abandonner"
