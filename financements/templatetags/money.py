"""Amounts in euros as French write them: ``{{ amount|euros }}`` → « 50 000,00 € » with no-break spaces."""

from django import template

from financements.services import euros as format_euros

register = template.Library()


@register.filter
def euros(value):
    if value is None or value == "":
        return "—"
    return format_euros(value)
