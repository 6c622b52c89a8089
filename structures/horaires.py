"""Opening hours in the OpenStreetMap ``opening_hours`` syntax (the subset places use) and their plain French.

Supported: rules separated by ``;``; days ``Mo Tu We Th Fr Sa Su`` as ranges (``Mo-Fr``) and lists (``Mo,We``),
public holidays ``PH``; time spans ``09:00-12:00`` separated by commas; ``off``; ``24/7``. Anything else is refused
with a message, so that what the public reads is always what was meant.
"""

import re
from dataclasses import dataclass

DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
DAY_NAMES = {
    "Mo": "lundi",
    "Tu": "mardi",
    "We": "mercredi",
    "Th": "jeudi",
    "Fr": "vendredi",
    "Sa": "samedi",
    "Su": "dimanche",
    "PH": "jours fériés",
}
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d|24:00"
_SPAN_RE = re.compile(rf"^({_TIME})-({_TIME})$")
_DAY_RE = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su|PH)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")


class HorairesError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    days: tuple  # e.g. ("Mo", "Tu") or ("PH",)
    spans: tuple  # (("09:00", "12:00"), …); empty when closed
    day_text: str

    @property
    def closed(self):
        return not self.spans


def _parse_days(text):
    days = []
    parts = []
    for chunk in text.split(","):
        match = _DAY_RE.match(chunk)
        if not match:
            raise HorairesError(f"Jour non reconnu : « {chunk} » (attendu : Mo, Tu, We, Th, Fr, Sa, Su ou PH).")
        start, end = match.groups()
        if end:
            if start == "PH":
                raise HorairesError("Les jours fériés (PH) ne forment pas une plage.")
            i, j = DAYS.index(start), DAYS.index(end)
            if j <= i:
                raise HorairesError(f"Plage de jours à l'envers : « {chunk} ».")
            days.extend(DAYS[i : j + 1])
            parts.append(f"du {DAY_NAMES[start]} au {DAY_NAMES[end]}")
        else:
            days.append(start)
            parts.append(DAY_NAMES[start])
    return tuple(days), _join(parts)


def _parse_spans(text):
    spans = []
    for chunk in text.split(","):
        match = _SPAN_RE.match(chunk)
        if not match:
            raise HorairesError(f"Horaire non reconnu : « {chunk} » (attendu : 09:00-12:00).")
        start, end = match.groups()
        if end <= start:
            raise HorairesError(f"L'heure de fin doit suivre l'heure de début : « {chunk} ».")
        spans.append((start, end))
    return tuple(spans)


def parse(value):
    """Parse ``value`` into rules; raise ``HorairesError`` with a French message when it cannot."""
    value = (value or "").strip()
    if not value:
        return []
    if value == "24/7":
        return [Rule(days=tuple(DAYS), spans=(("00:00", "24:00"),), day_text="tous les jours")]
    rules = []
    for raw in value.split(";"):
        raw = raw.strip()
        if not raw:
            continue
        pieces = raw.split()
        if len(pieces) != 2:
            raise HorairesError(f"Règle non reconnue : « {raw} » (attendu : « Mo-Fr 09:00-12:00 »).")
        days, day_text = _parse_days(pieces[0])
        spans = () if pieces[1] == "off" else _parse_spans(pieces[1])
        rules.append(Rule(days=days, spans=spans, day_text=day_text))
    return rules


NBSP = "\u00a0"  # French typography: "18 h 30" never wraps inside


def _hour(text):
    hours, minutes = text.split(":")
    return f"{int(hours)}{NBSP}h" if minutes == "00" else f"{int(hours)}{NBSP}h{NBSP}{minutes}"


def _join(parts):
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " et " + parts[-1]


def en_francais(value):
    """Lines of plain French, one per rule: « Du lundi au vendredi : de 9 h à 12 h et de 14 h à 18 h 30 »."""
    try:
        rules = parse(value)
    except HorairesError:
        return [value] if value else []
    lines = []
    for rule in rules:
        label = rule.day_text[0].upper() + rule.day_text[1:]
        if rule.closed:
            lines.append(f"{label} : fermé")
        else:
            lines.append(f"{label} : " + _join([f"de {_hour(a)} à {_hour(b)}" for a, b in rule.spans]))
    return lines
