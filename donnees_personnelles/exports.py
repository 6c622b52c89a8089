"""A person's records as a file to hand over (right of access): JSON, one object per record and the
accompaniments inside the followed person's file; or CSV, one line per field (« Enregistrement ; Identifiant ;
Champ ; Valeur »), so that records of different kinds fit in one sheet. Labels are French, choices shown as their
labels. The CSV is written as the other exports of the platform: UTF-8 with a BOM, « ; », a text starting like a
formula kept as text.

The notes of an individual accompaniment are about that one person: they are in the file. Those of a workshop are
about a group and stay with the conseiller. An e-mail's text is in the file; its HTML (the same text) and its
attachments (calendar invitations) are not."""

import csv
import datetime
import io
import json

from django.utils import timezone

from accompagnements import choices as c
from conseillers.exports import FORMULA_STARTS

from .models import TypeCritere

BOM = "\ufeff"
CSV_HEADER = ("Enregistrement", "Identifiant", "Champ", "Valeur")

GENRE = dict(c.GENRE)
TRANCHE_AGE = dict(c.TRANCHE_AGE)
STATUT_SOCIAL = dict(c.STATUT_SOCIAL)


def _name(commune):
    return commune.nom if commune is not None else None


def _accompagnement(row):
    activite = row.activite
    fields = [
        ("date", "Date", activite.date),
        ("type", "Type", activite.get_type_display()),
        ("duree", "Durée (minutes)", activite.duree),
        ("thematiques", "Thématiques", ", ".join(activite.thematique_labels())),
        ("lieu", "Lieu", activite.get_type_lieu_display()),
        ("lieu_activite", "Lieu d'activité", activite.lieu.nom if activite.lieu_id else None),
        ("commune", "Commune de l'activité", _name(activite.commune)),
        ("conseiller", "Conseiller", str(activite.conseiller)),
        ("premier_accompagnement", "Premier accompagnement", row.premier_accompagnement),
        ("genre", "Genre", GENRE.get(row.genre, row.genre)),
        ("tranche_age", "Tranche d'âge", TRANCHE_AGE.get(row.tranche_age, row.tranche_age)),
        ("statut_social", "Statut", STATUT_SOCIAL.get(row.statut_social, row.statut_social)),
        ("commune_residence", "Commune de résidence", _name(row.commune_residence)),
        ("supprimee", "Activité supprimée", activite.supprimee_le is not None),
    ]
    if activite.type == c.INDIVIDUEL:
        fields.append(("notes", "Notes du conseiller", activite.notes))
    return {"table": "accompagnement", "label": "Accompagnement", "uuid": activite.uuid, "fields": fields}


def _beneficiaire(row):
    fields = [
        ("prenom", "Prénom", row.prenom),
        ("nom", "Nom", row.nom),
        ("annee_naissance", "Année de naissance", row.annee_naissance),
        ("telephone", "Téléphone", row.telephone),
        ("email", "E-mail", row.email),
        ("commune_residence", "Commune de résidence", _name(row.commune_residence)),
        ("genre", "Genre", row.get_genre_display()),
        ("tranche_age", "Tranche d'âge", row.get_tranche_age_display()),
        ("statut_social", "Statut", row.get_statut_social_display()),
        ("suivi_par", "Suivi par", str(row.conseiller)),
        ("consentement_le", "Accord pour le suivi recueilli le", row.consentement_le),
        ("dernier_contact", "Dernier contact", row.dernier_contact),
    ]
    children = [_accompagnement(accompagnement) for accompagnement in row.accompagnements.all()]
    return {
        "table": "beneficiaire",
        "label": "Bénéficiaire suivi",
        "uuid": row.uuid,
        "fields": fields,
        "children": children,
    }


def _inscription(row):
    seance = row.seance
    fields = [
        ("prenom", "Prénom", row.prenom),
        ("nom", "Nom", row.nom),
        ("email", "E-mail", row.email),
        ("telephone", "Téléphone", row.telephone),
        ("atelier", "Atelier", seance.atelier.titre),
        ("seance_debut", "Séance (début)", seance.debut),
        ("lieu", "Lieu", seance.lieu.nom if seance.lieu_id else None),
        ("statut", "Statut", row.get_statut_display()),
        ("source", "Inscription", row.get_source_display()),
        ("presence", "Présence", row.get_presence_display() if row.presence else None),
        ("genre", "Genre", row.get_genre_display() if row.genre else None),
        ("tranche_age", "Tranche d'âge", row.get_tranche_age_display() if row.tranche_age else None),
        ("statut_social", "Statut social", row.get_statut_social_display() if row.statut_social else None),
        ("commune", "Commune de résidence", _name(row.commune)),
        ("consentement_le", "Accord recueilli le", row.consentement_le),
        ("created_at", "Inscrite le", row.created_at),
        ("annulee_le", "Annulée le", row.annulee_le),
    ]
    return {"table": "inscription", "label": "Inscription à un atelier", "uuid": row.uuid, "fields": fields}


def _orientation(row):
    fields = [
        ("prenom", "Prénom", row.prenom),
        ("telephone", "Téléphone", row.telephone),
        ("email", "E-mail", row.email),
        ("contact_prefere", "Contact préféré", row.get_contact_prefere_display()),
        ("besoins", "Besoins", ", ".join(c.THEMATIQUE_LABELS.get(t, t) for t in row.thematiques)),
        ("precision", "Précision", row.precision),
        ("commune", "Commune", _name(row.commune)),
        ("urgence", "Urgence", row.get_urgence_display()),
        ("aidant", "Orientée par", f"{row.aidant.prenom} {row.aidant.nom}"),
        ("conseiller", "Conseiller", str(row.conseiller) if row.conseiller_id else None),
        ("seance", "Atelier proposé", row.seance.atelier.titre if row.seance_id else None),
        ("statut", "Statut", row.get_statut_display()),
        ("resultat", "Suite donnée", row.resultat),
        ("consentement_le", "Accord recueilli le", row.consentement_le),
        ("created_at", "Envoyée le", row.created_at),
        ("cloturee_le", "Close le", row.cloturee_le),
    ]
    return {"table": "orientation", "label": "Orientation", "uuid": row.uuid, "fields": fields}


def _email(row):
    fields = [
        ("destinataire", "Destinataire", row.destinataire),
        ("type", "Type", row.type),
        ("sujet", "Sujet", row.sujet),
        ("statut", "Statut", row.get_statut_display()),
        ("created_at", "Écrit le", row.created_at),
        ("envoye_le", "Envoyé le", row.envoye_le),
        ("texte", "Texte", row.texte),
    ]
    return {"table": "email", "label": "E-mail", "uuid": row.uuid, "fields": fields}


def records(dossier):
    """The person's records, each ``{table, label, uuid, fields: [(key, label, value)], children}``."""
    yield from (_beneficiaire(row) for row in dossier.beneficiaires)
    yield from (_inscription(row) for row in dossier.inscriptions)
    yield from (_orientation(row) for row in dossier.orientations)
    yield from (_email(row) for row in dossier.emails)


# --- JSON ---------------------------------------------------------------------------------------------------------
def _json_value(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _json_record(record):
    data = {"identifiant": str(record["uuid"])}
    data.update((key, _json_value(value)) for key, _label, value in record["fields"])
    if "children" in record:
        data["accompagnements"] = [_json_record(child) for child in record["children"]]
    return data


def as_json(dossier, *, now=None):
    """The file as UTF-8 JSON bytes; the criterion appears masked, as in the journal."""
    grouped = {"beneficiaires": [], "inscriptions": [], "orientations": [], "emails": []}
    keys = {"beneficiaire": "beneficiaires", "inscription": "inscriptions", "orientation": "orientations"}
    for record in records(dossier):
        grouped[keys.get(record["table"], "emails")].append(_json_record(record))
    document = {
        "genere_le": timezone.localtime(now or timezone.now()).isoformat(),
        "critere": {
            "type": TypeCritere(dossier.critere.type).label,
            "valeur_masquee": dossier.critere.masque(),
        },
        **grouped,
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# --- CSV ----------------------------------------------------------------------------------------------------------
def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%d/%m/%Y %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a text typed as "=…" stays text in a spreadsheet (CSV injection)
    return value


def _csv_rows(record):
    for _key, label, value in record["fields"]:
        yield (record["label"], str(record["uuid"]), label, _csv_value(value))
    for child in record.get("children", ()):
        yield from _csv_rows(child)


def as_csv(dossier):
    """The file as CSV bytes (UTF-8 with a BOM, « ; »), one line per field of each record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for record in records(dossier):
        writer.writerows(_csv_rows(record))
    return (BOM + buffer.getvalue()).encode("utf-8")
