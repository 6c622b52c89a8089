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


def point_de_controle():
    """``CHECKPOINT``: the pages written before (a rebuild of months, a day of activities: gigabytes) reach the disk
    now, rather than by the checkpoint the server spreads over the next minutes, during the measurements that follow
    (in production the nightly rebuild's is over long before the day's readings). Returns whether it ran (it needs a
    superuser or the pg_checkpoint role)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("checkpoint")
    except DatabaseError:
        return False
    return True


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


def a_rythme(instants, action, fils=64):
    """Open loop: ``action(rang)`` started at each of ``instants`` (seconds from now, sorted), whatever the answers
    before it take, as real people arrive. Returns [(instant, result)] in order. ``fils`` bounds the requests in
    flight (raised when the server falls behind, which the latencies then show)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    depart = time.perf_counter() + 0.5
    verrou = threading.Lock()
    resultats = []

    def lancer(rang):
        attente = depart + instants[rang] - time.perf_counter()
        if attente > 0:
            time.sleep(attente)
        resultat = action(rang)
        with verrou:
            resultats.append((instants[rang], resultat))

    with ThreadPoolExecutor(max_workers=fils) as pool:
        list(pool.map(lancer, range(len(instants))))
    return sorted(resultats, key=lambda paire: paire[0])


def arrivees_poisson(nombre, fenetre_s, graine):
    """``nombre`` arrival instants of a Poisson process spread over ``fenetre_s`` seconds (sorted uniform draws)."""
    import random

    rng = random.Random(graine)
    return sorted(rng.uniform(0, fenetre_s) for _ in range(nombre))
