"""Celery tasks of the reporting app: thin, they call the services."""

from celery import shared_task

from . import resume
from .tasks_rapports import *  # noqa: F403  (the reports' tasks, registered with the app's)


@shared_task(name="reporting.tasks.resumes_mettre_a_jour", ignore_result=True)
def resumes_mettre_a_jour():
    """Add the new activities to the summaries and recompute the slices whose activities changed (after each change,
    and every minute by beat). Idempotent; two runs at once take turns (one lock)."""
    return {"tranches": resume.mettre_a_jour()}


@shared_task(name="reporting.tasks.resumes_reconstruire", ignore_result=True)
def resumes_reconstruire(derniers_mois=None):
    """Rebuild summary rows from the facts: the ``derniers_mois`` last months (every night: the months people are
    still logging), or the whole history (every week). Whatever a missed update left there is repaired."""
    du = resume.debut_des_derniers_mois(derniers_mois) if derniers_mois else None
    mois, lignes = resume.reconstruire(du)
    resume.entretenir()
    return {"mois": mois, "lignes": lignes}
