"""Every change made through the partner API is attributed, in the history, to the client and its structure."""

from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


def api_change_reason(client):
    return f"API : {client.nom} ({client.structure.nom})"[:100]


@receiver(pre_create_historical_record)
def attribute_api_changes(sender, history_instance, **kwargs):
    request = getattr(HistoricalRecords.context, "request", None)
    client = getattr(request, "client_api", None)
    if client is not None and not history_instance.history_change_reason:
        history_instance.history_change_reason = api_change_reason(client)
