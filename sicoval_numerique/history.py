"""Readable change history of objects kept by django-simple-history, for the back-office pages.

``history_entries`` turns the last historical records of one or more objects into entries (date, acting user, kind,
subject, changed fields with old and new values), in a fixed number of queries whatever the number of records: per
source, one query for the records (each annotated with its predecessor's id) and one for the predecessors; then one
query per model that foreign keys point to, to show names instead of ids.
"""

from dataclasses import dataclass, field

from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils.text import capfirst

HISTORY_KINDS = {"+": "Création", "~": "Modification", "-": "Suppression"}


@dataclass
class HistorySource:
    """Historical records of one model (``queryset`` of its history model), named on the page by ``subject``:
    a text, or a callable ``subject(record, label_of)`` where ``label_of(field_name, value)`` gives the display of
    a value. ``exclude`` lists fields never shown (a foreign key the page already implies, for instance)."""

    queryset: models.QuerySet
    subject: object = ""
    exclude: tuple = ()
    model: type = field(init=False)

    def __post_init__(self):
        self.model = self.queryset.model.instance_type


def _with_previous(queryset):
    """Each record with the id of the record just before it for the same object."""
    history_model = queryset.model
    pk_name = history_model.instance_type._meta.pk.attname
    previous = history_model.objects.filter(**{pk_name: OuterRef(pk_name)}).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    return queryset.annotate(
        previous_id=Subquery(previous.order_by("-history_date", "-history_id").values("history_id")[:1])
    )


def _display(model_field, value, labels):
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        if model_field.many_to_many:  # the rows of the link table, as django-simple-history gives them
            return f"{len(value)} élément{'s' if len(value) > 1 else ''}"
        item_labels = dict(getattr(model_field, "item_choices", ()))  # a list of national codes
        return ", ".join(str(item_labels.get(item, item)) for item in value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return "oui" if value else "non"
    if isinstance(model_field, models.DateField) and not isinstance(model_field, models.DateTimeField):
        return f"{value:%d/%m/%Y}"
    if model_field.is_relation:
        related = labels.get(model_field.related_model, {}).get(value)
        return str(related) if related is not None else str(value)
    return str(value)


def history_entries(sources, *, limit=30):
    """The last ``limit`` changes of the ``sources`` (``HistorySource``s, or historical querysets), newest first."""
    sources = [source if isinstance(source, HistorySource) else HistorySource(source) for source in sources]
    fetched = []
    for source in sources:
        records = list(
            _with_previous(source.queryset.select_related("history_user")).order_by("-history_date", "-history_id")[
                :limit
            ]
        )
        wanted = [record.previous_id for record in records if record.previous_id]
        previous = source.queryset.model.objects.in_bulk(wanted) if wanted else {}
        fetched.append((source, records, previous))

    # Names of the related objects, one query per related model.
    ids = {}
    for source, records, previous in fetched:
        for model_field in source.model._meta.concrete_fields:
            if model_field.is_relation and model_field.name not in source.exclude:
                values = ids.setdefault(model_field.related_model, set())
                for record in [*records, *previous.values()]:
                    value = getattr(record, model_field.attname)
                    if value is not None:
                        values.add(value)
    labels = {model: model._default_manager.in_bulk(values) for model, values in ids.items() if values}

    entries = []
    for source, records, previous in fetched:

        def label_of(name, value, model=source.model):
            return _display(model._meta.get_field(name), value, labels)

        for record in records:
            before = previous.get(record.previous_id)
            changes = []
            if before is not None:
                delta = record.diff_against(before, excluded_fields=source.exclude)
                for change in delta.changes:
                    model_field = source.model._meta.get_field(change.field)
                    changes.append(
                        {
                            "label": capfirst(model_field.verbose_name),
                            "old": _display(model_field, change.old, labels),
                            "new": _display(model_field, change.new, labels),
                        }
                    )
            subject = source.subject(record, label_of) if callable(source.subject) else source.subject
            entries.append(
                {
                    "date": record.history_date,
                    "user": record.history_user,
                    "reason": record.history_change_reason or "",
                    "kind": HISTORY_KINDS.get(record.history_type, record.history_type),
                    "subject": subject,
                    "changes": changes,
                    "_order": (record.history_date, record.history_id),
                }
            )
    entries.sort(key=lambda entry: entry["_order"], reverse=True)
    for entry in entries:
        del entry["_order"]
    return entries[:limit]
