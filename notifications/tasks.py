from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.relay_outbox", ignore_result=True)
def relay_outbox():
    """Send the e-mails that are due (run by beat every minute, and right after a change that writes one)."""
    sent, failed = services.relay()
    return {"envoyes": sent, "echecs": failed}
