from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(name="accounts.tasks.sessions_clear_expired")
def sessions_clear_expired():
    """Delete expired sessions (idempotent), like ``manage.py clearsessions``. Returns how many were deleted."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
