"""Settings of the real Celery worker started by the tests: the test settings, with e-mails written to files (the
test process cannot see a worker's in-memory outbox)."""

import os

from sicoval_numerique.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["TEST_EMAIL_FILE_PATH"]
