"""French typography for templates."""

from django import template

register = template.Library()

NBSP = "\u00a0"


@register.filter
def heure(value):
    """A time as French write it: 9 h, 9 h 30 (with non-breaking spaces so that it never wraps)."""
    if value is None or value == "":
        return ""
    if value.minute:
        return f"{value.hour}{NBSP}h{NBSP}{value.minute:02d}"
    return f"{value.hour}{NBSP}h"
