"""Settings of the real Celery worker of the pipeline tests: the test settings, with e-mails written to files (the
test process cannot see a worker's in-memory outbox) and the worker's own queue as default queue, so that the tasks
the worker publishes itself (the relay of the outbox, started after the e-mails commit) come back to it."""

import os

from sicoval_numerique.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["TEST_EMAIL_FILE_PATH"]
CELERY_TASK_DEFAULT_QUEUE = os.environ["TEST_CELERY_QUEUE"]
