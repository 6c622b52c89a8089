"""Erasing personal data in rows and in every version of their history (django-simple-history does not see a
queryset's ``update``, so the history is updated as well, by hand)."""

from django.db import transaction


def effacer(queryset, *, champs, marque, now, reason):
    """Give ``champs`` (field → erased value) to the rows of ``queryset`` not yet erased (``marque`` is NULL), and
    to every version of their history, and set ``marque`` to ``now``. Joins the caller's transaction when there is
    one; the rows are locked while they are erased. Returns how many rows were erased."""
    model = queryset.model
    with transaction.atomic():
        rows = list(queryset.select_for_update(of=("self",)).filter(**{f"{marque}__isnull": True}).order_by("pk"))
        if not rows:
            return 0
        for row in rows:
            for name, value in champs.items():
                setattr(row, name, value)
            setattr(row, marque, now)
        model.objects.bulk_update(rows, [*champs, marque])
        model.history.filter(id__in=[row.pk for row in rows]).update(
            **champs, **{marque: now}, history_change_reason=reason
        )
    return len(rows)
