"""Fixtures of the outbox tests: ``make_email`` writes rows in any state; ``mail_worker`` starts a real Celery worker
whose e-mails land in files."""

import uuid

import pytest
from django.utils import timezone

from notifications.models import Email
from tests.notifications.helpers import default_queue
from tests.workers import celery_worker


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
    files in ``tmp_path / "mails"``. Yields (queue, mail directory, worker log)."""
    mails = tmp_path / "mails"
    mails.mkdir()
    settings_module, env = "tests.notifications.worker_settings", {"TEST_EMAIL_FILE_PATH": str(mails)}
    worker = celery_worker(tmp_path, prefix="test-mails", settings_module=settings_module, env=env)
    with worker as (queue, log_path), default_queue(queue):
        yield queue, mails, log_path
