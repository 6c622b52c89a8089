from celery import shared_task

from . import services

# A relay stops claiming after this, well before the task's time limits: a run killed mid-send would leave its row
# claimed until CLAIM_TIMEOUT. Beat starts the next run within a minute.
RELAY_TASK_SECONDS = 300


@shared_task(name="notifications.tasks.relay_outbox", ignore_result=True)
def relay_outbox():
    """Send the e-mails that are due (run by beat every minute, and right after a change that writes one). Safe to
    run twice at once or to redeliver: each e-mail is claimed by one relay only."""
    sent, failed = services.relay(max_seconds=RELAY_TASK_SECONDS)
    return {"envoyes": sent, "echecs": failed}
