"""Helpers of the outbox tests: ``enqueue(...)`` through the service with the generic message template, the
broker this process publishes to, and the worker's queue as default queue."""

from contextlib import contextmanager

from kombu import pools

from notifications.services import email_enqueue
from sicoval_numerique.celery import app as celery_app

ADDRESS = "jeanne.martin@example.org"
NAME = "Jeanne"


def enqueue(destinataire=ADDRESS, type="rappel", objet="seance:1", pieces_jointes=(), **context):
    context = {
        "sujet": "Rappel de votre atelier",
        "salutation": f"Bonjour {NAME}",
        "paragraphes": ["À demain."],
    } | context
    return email_enqueue(
        destinataire=destinataire,
        type=type,
        objet=objet,
        template="notifications/emails/message",
        context=context,
        pieces_jointes=pieces_jointes,
    )


@contextmanager
def default_queue(name):
    """Tasks published without a queue (the relay's kick) go to ``name``, the worker's own queue."""
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    try:
        yield
    finally:
        celery_app.conf.task_default_queue = saved


def _reset_broker_pools():
    """Drop the broker connections made so far. Celery's pools live in kombu's registries, keyed by broker URL: a
    closed pool left there would answer "Acquire on closed pool" the next time that URL is used, so the registries
    are emptied too."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url):
    """This process publishes tasks to URL for real (the test settings run them inline), then all is restored."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = url, False
    _reset_broker_pools()
    try:
        yield
    finally:
        _reset_broker_pools()
        conf.broker_url, conf.task_always_eager = saved
