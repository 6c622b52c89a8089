"""Celery tasks of the aidants network: thin, they call the services."""

from celery import shared_task

from . import services_orientations


@shared_task(name="aidants.tasks.orientations_purger")
def orientations_purger():
    """Erase the personal data of referrals closed more than 12 months ago (every night; idempotent)."""
    return {"anonymisees": services_orientations.orientations_purger()}
