from celery import shared_task

from . import purge, services
from .rappels import services as rappels

# A relay stops claiming after this, well before the task's time limits: a run killed mid-send would leave its row
# claimed until CLAIM_TIMEOUT. Beat starts the next run within a minute.
RELAY_TASK_SECONDS = 300


@shared_task(name="notifications.tasks.relay_outbox", ignore_result=True)
def relay_outbox():
    """Send the e-mails that are due (run by beat every minute, and right after a change that writes one). Safe to
    run twice at once or to redeliver: each e-mail is claimed by one relay only."""
    sent, failed = services.relay(max_seconds=RELAY_TASK_SECONDS)
    return {"envoyes": sent, "echecs": failed}


@shared_task(name="notifications.tasks.rappels_famille", ignore_result=True)
def rappels_famille(code):
    """Run one family of reminders (beat has one entry per family). Idempotent: a reminder already in the outbox is
    not written again, so a run twice, at once or redelivered after a worker died sends each reminder once."""
    run = rappels.famille_run(code)
    return {
        "statut": run.statut,
        "envoyes": run.envoyes,
        "deja_traites": run.deja_traites,
        "manques": run.manques,
        "erreurs": run.erreurs,
    }


@shared_task(name="notifications.tasks.emails_purger")
def emails_purger():
    """Delete the e-mails sent (or, never sent, written) more than 12 months ago (every night; idempotent)."""
    return {"supprimes": purge.emails_purger()}
