"""Fixtures of the outbox tests: ``make_email`` writes rows in any state; ``mail_worker`` starts a real Celery worker
whose e-mails land in files."""

import os
import subprocess
import sys
import uuid

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from notifications.models import Email
from tests.notifications.helpers import default_queue
from tests.test_celery_worker import REDIS_TEST_DB, WORKER_START_TIMEOUT, database_url_of_this_test, redis_url, wait_for


@pytest.fixture
def make_email(db):
    counter = iter(range(1_000_000))

    def _make(**fields):
        n = next(counter)
        values = {
            "destinataire": f"personne{n}@example.org",
            "type": "inscription_confirmee",
            "objet": f"inscription:{uuid.uuid4()}",
            "sujet": f"Inscription confirmée {n}",
            "texte": f"Bonjour Prénom{n},\n\nVotre inscription est confirmée.",
            "html": f"<p>Bonjour Prénom{n},</p><p>Votre inscription est confirmée.</p>",
            "prochain_essai": timezone.now(),
        }
        values.update(fields)
        return Email.objects.create(**values)

    return _make


@pytest.fixture
def mail_worker(services, transactional_db, tmp_path):
    """A real worker (pool solo) on a queue of its own, against Redis and the test database, sending e-mails to
    files in ``tmp_path / "mails"``. Yields (queue, mail directory)."""
    queue = f"test-mails-{uuid.uuid4().hex[:12]}"
    mails = tmp_path / "mails"
    mails.mkdir()
    log_path = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "TEST_EMAIL_FILE_PATH": str(mails),
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
        with default_queue(queue):
            yield queue, mails, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        print(log_path.read_text())  # shown by pytest when the test fails
        client = redis.Redis.from_url(redis_url(REDIS_TEST_DB), socket_connect_timeout=2, socket_timeout=2)
        leftovers = list(client.scan_iter(match=f"*{queue}*"))
        if leftovers:
            client.delete(*leftovers)
