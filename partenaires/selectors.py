"""Reads of partner API clients for the web pages, scoped like the structures they belong to."""

from django.db.models import F

from sicoval_numerique.history import HistorySource, history_entries
from structures.selectors import structures_visible_to

from .models import ClientAPI

LIST_RELATED = ("structure", "application", "cree_par", "revoque_par")
# Active clients first (no revocation date), then the most recently revoked.
ACTIVE_FIRST = F("revoque_le").desc(nulls_first=True)


def clients_visible_to(user):
    """Clients of the structures ``user`` can see (whether they may manage them is ``can_manage_clients``)."""
    return ClientAPI.objects.filter(structure__in=structures_visible_to(user).values("pk")).select_related(
        *LIST_RELATED
    )


def clients_of_structure(structure):
    """A structure's clients, the active ones first."""
    return (
        ClientAPI.objects.filter(structure=structure).select_related(*LIST_RELATED).order_by(ACTIVE_FIRST, "nom", "pk")
    )


def client_list(*, statut=""):
    """Every client of the territory (staff), optionally only the active (``actifs``) or revoked (``revoques``)."""
    qs = ClientAPI.objects.select_related(*LIST_RELATED)
    if statut == "actifs":
        qs = qs.filter(revoque_le__isnull=True)
    elif statut == "revoques":
        qs = qs.filter(revoque_le__isnull=False)
    return qs.order_by("structure__nom", ACTIVE_FIRST, "nom", "pk")


def client_history(client, *, limit=30):
    """Who created the client and who revoked it, with what changed (the revocation date is the entry's date)."""
    source = HistorySource(client.history.all(), exclude=("application", "structure", "revoque_le"))
    return history_entries([source], limit=limit)
