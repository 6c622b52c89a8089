"""Reads of the outbox for staff: the filtered list (without the bodies), the counts by status, the kinds known; and
of the reminders: each family's settings with its last run, its runs, the history of its settings."""

import datetime

from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from .models import Email, ExecutionRappel, ReglageRappel, StatutEmail

LIST_FIELDS = (
    "uuid",
    "destinataire",
    "type",
    "objet",
    "sujet",
    "statut",
    "tentatives",
    "prochain_essai",
    "envoye_le",
    "envoyer_avant",
    "derniere_erreur",
    "created_at",
)


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def emails_for_staff(*, statut=None, type=None, du=None, au=None, destinataire=None):
    """The outbox, newest first, filtered; bodies and attachments are not read."""
    emails = Email.objects.only(*LIST_FIELDS).order_by("-created_at", "-pk")
    if statut:
        emails = emails.filter(statut=statut)
    if type:
        emails = emails.filter(type=type)
    if du:
        emails = emails.filter(created_at__gte=_start_of(du))
    if au:
        emails = emails.filter(created_at__lt=_start_of(au + datetime.timedelta(days=1)))
    if destinataire:
        emails = emails.filter(destinataire=destinataire.strip().lower())
    return emails


def counts_by_statut():
    """{statut: number} for every status, in one query."""
    counts = dict.fromkeys(StatutEmail.values, 0)
    rows = Email.objects.order_by().values_list("statut").annotate(n=Count("pk"))
    counts.update(dict(rows))
    return counts


def email_types():
    """The kinds of e-mail present in the outbox, for the filter."""
    return list(Email.objects.order_by("type").values_list("type", flat=True).distinct())


# --- Reminders ---------------------------------------------------------------------------------------------------
def reglages_with_last_run():
    """({family code: its settings row}, {run pk: the family's last run}), in two queries whatever the runs."""
    last = ExecutionRappel.objects.filter(famille=OuterRef("famille")).order_by("-debut", "-pk").values("pk")[:1]
    reglages = {r.famille: r for r in ReglageRappel.objects.annotate(derniere_execution_id=Subquery(last))}
    ids = [r.derniere_execution_id for r in reglages.values() if r.derniere_execution_id]
    return reglages, ExecutionRappel.objects.select_related("lance_par").in_bulk(ids)


def executions_of(code, limit=10):
    return ExecutionRappel.objects.filter(famille=code).select_related("lance_par").order_by("-debut", "-pk")[:limit]


def reglage_history(famille, reglage, limit=20):
    """The changes of a family's settings, newest first, as ``includes/history.html`` shows them: who, when, and each
    value changed (the first recorded version shows its values). Two queries."""
    if reglage is None:
        return []
    records = list(reglage.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    labels = {p.nom: p for p in famille.parametres}

    def shown(parametre, values):
        value = (values or {}).get(parametre.nom)
        return "—" if value is None else parametre.affiche(value)

    entries = []
    for index, record in enumerate(records[:limit]):
        before = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if before is None or before.actif != record.actif:
            changes.append(
                {
                    "label": "Actif",
                    "old": "—" if before is None else ("oui" if before.actif else "non"),
                    "new": "oui" if record.actif else "non",
                }
            )
        for parametre in labels.values():
            old = shown(parametre, before.parametres if before is not None else None)
            new = shown(parametre, record.parametres)
            if before is None or old != new:
                changes.append({"label": parametre.libelle, "old": old, "new": new})
        entries.append(
            {
                "date": record.history_date,
                "user": record.history_user,
                "reason": record.history_change_reason or "",
                "kind": "Création" if record.history_type == "+" else "Modification",
                "subject": "",
                "changes": changes,
            }
        )
    return entries
