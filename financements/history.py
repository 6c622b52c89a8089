"""The history of an agreement as its page shows it: the changes to the agreement, its lines, their instalments and
repayments, newest first, each with the acting user and what changed (a fixed number of queries, see
``sicoval_numerique.history``)."""

from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils.text import capfirst

from sicoval_numerique.history import HistorySource, history_entries

from .models import Avoir, Convention, LigneFinancement, Versement
from .services import euros

# Links the page already implies; naming a post or a line would cost a query per row.
IMPLIED = ("uuid", "convention", "poste", "ligne")


def _money_labels():
    return {
        capfirst(field.verbose_name)
        for model in (LigneFinancement, Versement, Avoir)
        for field in model._meta.concrete_fields
        if isinstance(field, models.DecimalField)
    }


def _as_euros(value):
    try:
        return euros(Decimal(value))
    except (InvalidOperation, ValueError):
        return value  # "—" for no amount


def convention_history(convention, *, ligne_labels, limit=30):
    """The last ``limit`` changes of an agreement and of its money rows. ``ligne_labels`` maps a line's pk to the
    label of its post (the page has them already)."""
    ligne_ids = list(ligne_labels)

    def label(ligne_id):
        return ligne_labels.get(ligne_id, "poste")

    entries = history_entries(
        [
            HistorySource(Convention.history.filter(id=convention.pk), "Convention", exclude=IMPLIED),
            HistorySource(
                LigneFinancement.history.filter(convention_id=convention.pk),
                lambda record, _: f"Ligne de financement — {label(record.id)}",
                exclude=IMPLIED,
            ),
            HistorySource(
                Versement.history.filter(ligne_id__in=ligne_ids),
                lambda record, _: f"Échéance n° {record.numero} — {label(record.ligne_id)}",
                exclude=IMPLIED,
            ),
            HistorySource(
                Avoir.history.filter(ligne_id__in=ligne_ids),
                lambda record, _: f"Avoir du {record.date:%d/%m/%Y} — {label(record.ligne_id)}",
                exclude=IMPLIED,
            ),
        ],
        limit=limit,
    )
    # Amounts read as the rest of the page writes them: « 25 000,00 € », not « 25000.00 ».
    money = _money_labels()
    for entry in entries:
        for change in entry["changes"]:
            if change["label"] in money:
                change["old"], change["new"] = _as_euros(change["old"]), _as_euros(change["new"])
    return entries
