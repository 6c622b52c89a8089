from celery import shared_task
from django.utils import timezone

from .models import UserSession


@shared_task(name="accounts.tasks.sessions_clear_expired")
def sessions_clear_expired():
    """Delete expired sessions (idempotent), like ``manage.py clearsessions``. Returns how many were deleted."""
    deleted, _ = UserSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
