"""Accessible bar charts drawn on the server as SVG: no JavaScript, no inline style, nothing fetched.

Each chart is an image for assistive technologies (``role="img"``) named by its ``<title>`` and described by its
``<desc>``, which summarises the data; the page shows the full data in a table right after it. Every text is
escaped. Sizes are in viewBox units, so that the chart scales with its container on a phone, and every colour and
font is a presentation attribute, so that the same markup renders in a PDF without the site's stylesheet.

Colours: bars ``#1d3e8a`` (10:1 on white), texts ``#1e1e1e``, axis ``#595959`` (7:1): all above the 3:1 that WCAG
1.4.11 asks of graphical objects, and the 4.5:1 of text.
"""

import re

from django.utils.html import format_html
from django.utils.safestring import mark_safe

BAR = "#1d3e8a"
TEXT = "#1e1e1e"
AXIS = "#595959"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"

# A chart is 400 units wide: on a 375 px phone a unit is about 0.86 px, so a 17-unit label reads at 14.6 px.
WIDTH = 400
LABEL_SIZE = 17  # labels of a horizontal chart
VALUE_SIZE = 15  # values of a horizontal chart
COLUMN_TEXT_SIZE = 15  # largest labels and values of a vertical chart (smaller when they do not fit a bar)
MAX_LABEL_CHARS = 40
MAX_COLUMNS = 12  # a year of months fits the phone's width; more bars widen the chart
MONTH_SLOT = 36  # viewBox width per bar of a widened vertical chart

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def number(value):
    """An integer as written in French: 1 234 (a non-breaking space between thousands)."""
    return f"{int(value):,}".replace(",", "\u00a0")


def _shorten(label, limit=MAX_LABEL_CHARS):
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _fitting_size(text, room, size):
    """The value's font size, smaller for a large number on a narrow bar (a digit is about 0.6 em wide)."""
    return max(10, min(size, int((room - 2) / (0.6 * max(len(text), 1)))))


def _check(chart_id, data):
    """The rows as (label, value, spoken label): a row may carry a third item, its label in the description when
    the drawn one is abbreviated ("janv." for "janvier 2024")."""
    if not _ID.match(chart_id or ""):
        raise ValueError(f"Identifiant de graphique invalide : {chart_id!r}")
    rows = []
    for label, value, *spoken in data:
        value = int(value or 0)
        if value < 0:
            raise ValueError("Un graphique en barres ne montre que des valeurs positives ou nulles.")
        rows.append((str(label), value, str(spoken[0]) if spoken else str(label).replace("\n", " ")))
    return rows


def _with_unit(value, unit):
    """« 0 activité », « 1 activité », « 2 activités » (French singular below two)."""
    if not unit:
        return number(value)
    if value < 2:
        unit = " ".join(word[:-1] if word.endswith("s") else word for word in unit.split())
    return f"{number(value)} {unit}"


def summary(rows, unit="", *, total=True):
    """What a screen reader hears about a chart: its number of bars, its highest bar and, when the values add up,
    their total. ``rows`` as returned by ``_check``."""
    if not rows or not any(value for _label, value, _spoken in rows):
        return "Aucune donnée sur la période."
    _label, top_value, top_spoken = max(rows, key=lambda row: row[1])
    text = (
        f"{len(rows)} barre{'s' if len(rows) > 1 else ''}. "
        f"Valeur la plus élevée : {top_spoken} ({_with_unit(top_value, unit)})."
    )
    if total:
        text += f" Total : {_with_unit(sum(value for _label, value, _spoken in rows), unit)}."
    return text + " Le tableau qui suit donne toutes les valeurs."


def _svg(chart_id, title, desc, width, height, body, *, css_class):
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        'aria-labelledby="{id}-titre {id}-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'font-family="{font}">'
        '<title id="{id}-titre">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        css_class=css_class,
        id=chart_id,
        w=width,
        h=height,
        font=FONT,
        title=title,
        desc=desc,
        body=body,
    )


def _empty(chart_id, title, desc, css_class):
    body = format_html(
        '<text x="{x}" y="34" font-size="{size}" fill="{fill}" text-anchor="middle">{text}</text>',
        x=WIDTH // 2,
        size=VALUE_SIZE,
        fill=TEXT,
        text="Aucune donnée sur la période.",
    )
    return _svg(chart_id, title, desc, WIDTH, 56, body, css_class=css_class)


def horizontal_bar_chart(data, *, chart_id, title, desc=None, unit="", total=True):
    """One bar per (label, value), the label above its bar and the value at its end; bars in the given order.

    ``chart_id`` (letters, digits, - and _) prefixes the ids of the title and description, so that several charts
    can share a page. ``desc`` replaces the generated summary; ``total=False`` leaves the total out of it, for
    values that do not add up (an activity counted under each of its themes).
    """
    rows = _check(chart_id, data)
    desc = desc or summary(rows, unit, total=total)
    if not rows:
        return _empty(chart_id, title, desc, "chart chart-horizontal")
    top, row_height, value_room = 4, 50, 70
    largest = max(value for _label, value, _spoken in rows)
    scale = (WIDTH - value_room) / largest if largest else 0
    parts = []
    for index, (label, value, _spoken) in enumerate(rows):
        y = top + index * row_height
        bar = round(value * scale, 1)
        parts.append(
            format_html(
                '<text x="0" y="{ly}" font-size="{ls}" fill="{text}">{label}</text>'
                '<rect x="0" y="{by}" width="{bw}" height="16" fill="{bar}"/>'
                '<text x="{vx}" y="{vy}" font-size="{vs}" fill="{text}" font-weight="600">{value}</text>',
                ly=y + 17,
                ls=LABEL_SIZE,
                text=TEXT,
                label=_shorten(label),
                by=y + 24,
                bw=bar,
                bar=BAR,
                vx=round(bar + 6, 1),
                vy=y + 37,
                vs=VALUE_SIZE,
                value=number(value),
            )
        )
    height = top + len(rows) * row_height
    body = mark_safe("".join(parts))  # noqa: S308 — every part was built by format_html  # nosec B308 B703
    return _svg(chart_id, title, desc, WIDTH, height, body, css_class="chart chart-horizontal")


def vertical_bar_chart(data, *, chart_id, title, desc=None, unit="", total=True):
    """One column per (label, value), left to right (months…), the value above each bar. A label may hold a second
    line after a line break ("J\\n2024"), written from the bar's left edge so that it may run over the next bars.
    Up to twelve bars share the phone width; more bars widen the chart (``chart-wide``), which the page then scrolls
    rather than shrinks. Texts take the largest size that fits their bar, up to 15 units."""
    rows = _check(chart_id, data)
    desc = desc or summary(rows, unit, total=total)
    if not rows:
        return _empty(chart_id, title, desc, "chart chart-vertical")
    margin, plot_top, plot_height = 8, 24, 160
    wide = len(rows) > MAX_COLUMNS
    slot = MONTH_SLOT if wide else (WIDTH - 2 * margin) / len(rows)
    width = round(len(rows) * slot + 2 * margin) if wide else WIDTH
    baseline = plot_top + plot_height
    labels = [(label.split("\n") + [""])[:2] for label, _value, _spoken in rows]
    label_size = _fitting_size(max((first for first, _second in labels), key=len), slot, COLUMN_TEXT_SIZE)
    largest = max(value for _label, value, _spoken in rows)
    scale = plot_height / largest if largest else 0
    bar_width = round(min(slot * 0.64, 40), 1)
    parts = [
        format_html(
            '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{axis}" stroke-width="1.5"/>',
            x1=margin,
            x2=width - margin,
            y=baseline,
            axis=AXIS,
        )
    ]
    for index, ((_label, value, _spoken), (first, second)) in enumerate(zip(rows, labels, strict=True)):
        left = margin + slot * index
        center = round(left + slot / 2, 1)
        height = round(value * scale, 1)
        parts.append(
            format_html(
                '<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="{bar}"/>'
                '<text x="{cx}" y="{vy}" font-size="{vs}" fill="{text}" text-anchor="middle" '
                'font-weight="600">{value}</text>'
                '<text x="{cx}" y="{ly}" font-size="{ls}" fill="{text}" text-anchor="middle">{first}</text>',
                bx=round(center - bar_width / 2, 1),
                by=round(baseline - height, 1),
                bw=bar_width,
                bh=height,
                bar=BAR,
                cx=center,
                vy=round(baseline - height - 6, 1),
                vs=_fitting_size(number(value), slot, COLUMN_TEXT_SIZE),
                text=TEXT,
                value=number(value),
                ly=baseline + label_size + 4,
                ls=label_size,
                first=_shorten(first, 8),
            )
        )
        if second:
            parts.append(
                format_html(
                    '<text x="{x}" y="{y}" font-size="{size}" fill="{text}">{second}</text>',
                    x=round(left + (slot - bar_width) / 2, 1),
                    y=baseline + 2 * label_size + 8,
                    size=label_size,
                    text=TEXT,
                    second=_shorten(second, 12),
                )
            )
    body = mark_safe("".join(parts))  # noqa: S308 — every part was built by format_html  # nosec B308 B703
    css_class = "chart chart-vertical chart-wide" if wide else "chart chart-vertical"
    return _svg(chart_id, title, desc, width, baseline + 2 * label_size + 14, body, css_class=css_class)
