"""Celery tasks of the workshops: thin, they call the services."""

from celery import shared_task

from . import services


@shared_task(name="ateliers.tasks.passes_expirer")
def passes_expirer():
    """Expire the Pass numériques not used by their tolerance date (run by beat every night; idempotent). Returns
    how many expired."""
    return {"expires": services.passes_expirer()}


@shared_task(name="ateliers.tasks.inscriptions_purger")
def inscriptions_purger():
    """Erase the contact details of registrants 12 months after their session (every night; idempotent)."""
    return {"anonymisees": services.inscriptions_purger()}
