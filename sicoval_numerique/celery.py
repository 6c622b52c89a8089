"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix.

Worker: ``celery -A sicoval_numerique worker -l info``.
Beat (exactly one): ``celery -A sicoval_numerique beat -l info``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sicoval_numerique.settings.dev")

app = Celery("sicoval_numerique")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
