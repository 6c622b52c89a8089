"""Calendar entries (RFC 5545) of sessions: one for an e-mail attachment, and the feed of the public agenda."""

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

FEED_REFRESH = "PT6H"  # how often a subscribed calendar app should fetch the feed again


def _escape(text):
    return (
        str(text or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _utc(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line):
    """Lines of at most 75 octets, continued with a space (RFC 5545, 3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def where(seance):
    if seance.lieu_id:
        lieu = seance.lieu
        adresse = f"{lieu.adresse}, {lieu.complement_adresse}" if lieu.complement_adresse else lieu.adresse
        return f"{lieu.nom}, {adresse}, {lieu.code_postal} {lieu.commune.nom}"
    arret = seance.arret
    return f"{arret.lieu.nom}, {arret.emplacement}, {arret.commune.nom}"


def _uid_domain():
    """The platform's host name (RFC 5545 recommends a domain on the right of a UID's "@")."""
    return urlsplit(settings.SITE_URL).hostname or "sicoval-numerique.localhost"


def _sequence(seance):
    moment = seance.updated_at or seance.created_at
    return int(moment.timestamp()) - 1_700_000_000 if moment else 0


def event_lines(seance, *, url=""):
    status = "CANCELLED" if seance.statut == "annulee" else "CONFIRMED"
    lines = [
        "BEGIN:VEVENT",
        f"UID:seance-{seance.uuid}@{_uid_domain()}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(seance.debut)}",
        f"DTEND:{_utc(seance.fin)}",
        f"SUMMARY:{_escape(seance.atelier.titre)}",
        f"LOCATION:{_escape(where(seance))}",
        f"STATUS:{status}",
        # A calendar replaces its copy of the event when the sequence grows: it follows each change of the session.
        f"SEQUENCE:{_sequence(seance)}",
    ]
    if seance.atelier.description:
        lines.append(f"DESCRIPTION:{_escape(seance.atelier.description)}")
    if url:
        lines.append(f"URL:{url}")
    lines.append("END:VEVENT")
    return lines


def calendar(events, *, name=None):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{settings.PLATFORM_NAME}//Ateliers//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:  # a feed to subscribe to
        lines += [
            f"X-WR-CALNAME:{_escape(name)}",
            f"REFRESH-INTERVAL;VALUE=DURATION:{FEED_REFRESH}",
            f"X-PUBLISHED-TTL:{FEED_REFRESH}",
        ]
    for event in events:
        lines.extend(event)
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def attachment(seance):
    """The session as an e-mail attachment."""
    return {"nom": "seance.ics", "type": "text/calendar", "contenu": calendar([event_lines(seance)])}
