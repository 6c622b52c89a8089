from celery import shared_task
from django.utils import timezone
from oauth2_provider.models import clear_expired

from sicoval_numerique.api.partner import IDEMPOTENCY_TTL

from .models import CleIdempotence


@shared_task(name="partenaires.tasks.nettoyer")
def nettoyer():
    """Delete expired API tokens and idempotency records past their 24 hours (idempotent). Returns how many
    idempotency records were deleted."""
    clear_expired()
    deleted, _ = CleIdempotence.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    return deleted
