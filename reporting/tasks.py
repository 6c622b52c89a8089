"""Celery tasks of the reporting app: thin, they call the services."""

from celery import shared_task

from . import resume
from .tasks_rapports import *  # noqa: F403  (the reports' tasks, registered with the app's)


@shared_task(name="reporting.tasks.resumes_mettre_a_jour", ignore_result=True)
def resumes_mettre_a_jour():
    """Recompute the summary slices whose activities changed (after each change, and every minute by beat).
    Idempotent; two runs at once take different slices."""
    return {"tranches": resume.mettre_a_jour()}


@shared_task(name="reporting.tasks.resumes_reconstruire", ignore_result=True)
def resumes_reconstruire():
    """Rebuild every summary row from the facts (every night): whatever a missed update left, it is repaired."""
    mois, lignes = resume.reconstruire()
    return {"mois": mois, "lignes": lignes}
