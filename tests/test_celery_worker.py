"""The job pipeline with real parts: a task sent from this process goes through Redis to a real Celery worker
process, which does its work in the test database. And with the broker unreachable or hung, sending a task fails
fast instead of holding the caller."""

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.tasks import sessions_clear_expired
from sicoval_numerique.celery import app as celery_app

# A Redis database of its own for these tests, and a queue name per run: parallel runs and a developer's worker on
# the same Redis never take each other's messages.
REDIS_TEST_DB = 14
WORKER_START_TIMEOUT = 20
TASK_TIMEOUT = 30


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


def redis_url(db):
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def database_url_of_this_test():
    """DATABASE_URL of the database this test runs on (the test database, test_…), for the worker process."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def worker(services, transactional_db, tmp_path):
    """A real worker process (pool solo) on a queue of its own, against Redis and the test database.

    Yields the queue name; the worker is always stopped, and its log shown when the test fails."""
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sicoval_numerique.settings.test",
        "CELERY_USE_BROKER_IN_TESTS": "1",
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": redis_url(REDIS_TEST_DB),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "sicoval_numerique", "worker", "--pool=solo", "-c", "1",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-Q", queue,
               "-n", f"{queue}@%h"]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        ready = wait_for(lambda: " ready." in log_path.read_text() or process.poll() is not None, WORKER_START_TIMEOUT)
        assert ready and process.poll() is None, "le worker n'a pas démarré :\n" + log_path.read_text()
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        print(log_path.read_text())  # shown by pytest when the test fails
        # The queue and its bindings were made for this run only.
        client = redis.Redis.from_url(redis_url(REDIS_TEST_DB), socket_connect_timeout=2, socket_timeout=2)
        leftovers = list(client.scan_iter(match=f"*{queue}*"))
        if leftovers:
            client.delete(*leftovers)


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
