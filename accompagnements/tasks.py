"""Celery tasks of the activity log: thin, they call the services."""

from celery import shared_task

from .services import purge


@shared_task(name="accompagnements.tasks.donnees_anonymiser")
def donnees_anonymiser():
    """Anonymise the followed people without contact for two years and empty the notes of activities older than two
    years (every night; idempotent)."""
    return {
        "beneficiaires_anonymises": purge.beneficiaires_anonymiser(),
        "notes_effacees": purge.activites_notes_purger(),
    }
