"""Celery tasks of the reports: thin, they take a uuid or nothing and call ``reporting.rapports``. Every one is safe
to run twice or to be redelivered: a report is claimed by one build, made once per period when automatic, and
e-mailed once per recipient."""

from celery import shared_task
from django.utils import timezone

from . import rapports
from .models import Rapport

__all__ = ["rapport_annuel", "rapport_construire", "rapport_mensuel", "rapports_relancer"]


@shared_task(name="reporting.tasks.rapport_construire", ignore_result=True)
def rapport_construire(rapport_uuid):
    """Build a report asked for on a page (or relaunched)."""
    rapport = Rapport.objects.defer("pdf", "xlsx").filter(uuid=rapport_uuid).first()
    if rapport is None:
        return {"construit": False, "raison": "inconnu"}
    construit = rapports.rapport_construire(rapport)
    return {"construit": construit, "statut": rapport.statut}


@shared_task(name="reporting.tasks.rapport_mensuel", ignore_result=True)
def rapport_mensuel():
    """On the 1st (beat): the previous month's report, built and e-mailed to staff and funders."""
    rapport = rapports.rapport_mensuel_automatique(timezone.localdate())
    return {"rapport": str(rapport.uuid), "statut": rapport.statut}


@shared_task(name="reporting.tasks.rapport_annuel", ignore_result=True)
def rapport_annuel():
    """On 1 January (beat): the previous year's report for the State and the Département."""
    rapport = rapports.rapport_annuel_automatique(timezone.localdate())
    return {"rapport": str(rapport.uuid), "statut": rapport.statut}


@shared_task(name="reporting.tasks.rapports_relancer", ignore_result=True)
def rapports_relancer():
    """Every few minutes (beat): reports left waiting, claims of dead workers, automatic reports whose run was
    missed."""
    return {"construits": rapports.rapports_relancer()}
