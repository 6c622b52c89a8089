"""Charts and figures in templates: ``{% load charts %}``.

- ``{% bar_chart data chart_id="…" title="…" unit="…" vertical=False total=True %}``: an accessible SVG bar chart
  of (label, value) pairs, or (label, value, spoken label) (see ``sicoval_numerique.charts``).
- ``|nombre``: 1 234; ``|duree``: minutes as 12 h 05 min; ``|pourcent``: 12 %, « < 1 % » below one.
"""

from django import template

from sicoval_numerique import charts

register = template.Library()

NBSP = "\u00a0"


@register.simple_tag
def bar_chart(data, *, chart_id, title, unit="", desc=None, vertical=False, total=True):
    draw = charts.vertical_bar_chart if vertical else charts.horizontal_bar_chart
    return draw(data, chart_id=chart_id, title=title, unit=unit, desc=desc, total=total)


@register.filter
def nombre(value):
    if value is None or value == "":
        return ""
    return charts.number(value)


@register.filter
def duree(minutes):
    """A duration in minutes as French write it: 45 min, 2 h, 1 234 h 05 min (non-breaking spaces)."""
    if minutes is None or minutes == "":
        return ""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest}{NBSP}min"
    if not rest:
        return f"{charts.number(hours)}{NBSP}h"
    return f"{charts.number(hours)}{NBSP}h{NBSP}{rest:02d}{NBSP}min"


@register.filter
def pourcent(value):
    """A share in percent, rounded to the unit; a share that is not zero never reads as 0 %."""
    if value is None or value == "":
        return "—"
    if 0 < value < 1:
        return f"<{NBSP}1{NBSP}%"
    return f"{round(value)}{NBSP}%"
