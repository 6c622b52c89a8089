"""Helpers shared by the HTML scenarios (registration burst, activity logging)."""

import contextlib
import os
import re
from unittest import mock

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The broker of the processes under test: the same Redis database as their cache (outils.environnement).
BROKER = "redis://127.0.0.1:6379/7"


def statiques():
    """Collect the static files once (the production settings serve them from a manifest, built by the image's
    ``collectstatic``; without it every HTML page answers 500)."""
    from django.conf import settings
    from django.core.management import call_command

    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)


@contextlib.contextmanager
def environ(**values):
    """``os.environ`` with ``values`` set for the block (a gunicorn started inside inherits them)."""
    avant = {cle: os.environ.get(cle) for cle in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for cle, valeur in avant.items():
            if valeur is None:
                os.environ.pop(cle, None)
            else:
                os.environ[cle] = valeur


@contextlib.contextmanager
def sans_publication():
    """After-commit tasks (e-mail relay, summary update) neither run nor get published in this process: publishing
    costs no SQL query, and running them inline (this process may have no broker) would count the task's queries as
    the request's."""
    from sicoval_numerique.kicker import TaskKicker

    with mock.patch.object(TaskKicker, "run", lambda self: None):
        yield
