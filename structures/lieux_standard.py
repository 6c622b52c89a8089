"""The national standard "Lieux de médiation numérique" v1.0.2 (schema.data.gouv.fr, LaMednum/standard-mediation-num):
export of our places in its columns and order, and a validator of rows against its Table Schema (bundled in
``structures/fixtures/lieux-mediation-numerique.schema.json``)."""

import csv
import io
import json
import re
from datetime import date
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone

SCHEMA_PATH = Path(__file__).resolve().parent / "fixtures" / "lieux-mediation-numerique.schema.json"
SEPARATOR = "|"


@cache
def schema():
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


def columns():
    return [field["name"] for field in schema()["fields"]]


def _multi(values):
    return SEPARATOR.join(values)


def _number(value):
    return "" if value is None else format(value.normalize(), "f")


def lieu_to_row(lieu):
    """One place as a row of the standard: every column, as text, multi-values joined with ``|``."""
    structure = lieu.structure
    row = {
        "id": str(lieu.uuid),
        "pivot": lieu.pivot or structure.siret or structure.rna or "",
        "nom": lieu.nom,
        "commune": lieu.commune.nom,
        "code_postal": lieu.code_postal,
        "code_insee": lieu.commune.code_insee,
        "adresse": lieu.adresse,
        "complement_adresse": lieu.complement_adresse,
        "latitude": _number(lieu.latitude),
        "longitude": _number(lieu.longitude),
        "typologie": _multi(lieu.typologie),
        "telephone": lieu.telephone,
        "courriels": _multi(lieu.courriels),
        "site_web": _multi(lieu.site_web),
        "horaires": lieu.horaires,
        "presentation_resume": lieu.presentation_resume,
        "presentation_detail": lieu.presentation_detail,
        "source": lieu.source or settings.PLATFORM_NAME,
        "itinerance": lieu.itinerance,
        "structure_parente": lieu.structure_parente,
        "date_maj": timezone.localdate(lieu.updated_at).isoformat(),
        "services": _multi(lieu.services),
        "publics_specifiquement_adresses": _multi(lieu.publics_specifiquement_adresses),
        "prise_en_charge_specifique": _multi(lieu.prise_en_charge_specifique),
        "frais_a_charge": _multi(lieu.frais_a_charge),
        "dispositif_programmes_nationaux": _multi(lieu.dispositif_programmes_nationaux),
        "formations_labels": _multi(lieu.formations_labels),
        "autres_formations_labels": lieu.autres_formations_labels,
        "modalites_acces": _multi(lieu.modalites_acces),
        "modalites_accompagnement": _multi(lieu.modalites_accompagnement),
        "fiche_acces_libre": lieu.fiche_acces_libre,
        "prise_rdv": lieu.prise_rdv,
    }
    return {name: row[name] for name in columns()}


def rows(lieux):
    for lieu in lieux:
        yield lieu_to_row(lieu)


class _Echo:
    def write(self, value):
        return value


def csv_lines(lieux):
    """The CSV file line by line (for streaming): header then one line per place."""
    writer = csv.DictWriter(_Echo(), fieldnames=columns(), lineterminator="\n")
    yield writer.writeheader()
    for row in rows(lieux):
        yield writer.writerow(row)


def to_csv(lieux):
    return "".join(csv_lines(lieux))


def to_json(lieux):
    """JSON export: a list of objects with the standard's fields, numbers as numbers, empty fields left out."""
    types = {field["name"]: field.get("type") for field in schema()["fields"]}
    items = []
    for row in rows(lieux):
        item = {}
        for name, value in row.items():
            if value == "":
                continue
            item[name] = float(value) if types[name] == "number" else value
        items.append(item)
    return items


def validate_rows(table):
    """Check rows (dicts of text, as in the CSV) against the Table Schema: columns, required fields, patterns,
    max lengths, dates, numbers and unique keys. Returns a list of French messages, empty when valid."""
    errors = []
    fields = schema()["fields"]
    seen = {field["name"]: set() for field in fields if field.get("constraints", {}).get("unique")}
    for index, row in enumerate(table, start=1):
        if list(row.keys()) != [field["name"] for field in fields]:
            errors.append(f"ligne {index} : colonnes différentes de celles du standard")
            continue
        for field in fields:
            name, constraints = field["name"], field.get("constraints", {})
            value = row[name]
            if value in ("", None):
                if constraints.get("required"):
                    errors.append(f"ligne {index} : « {name} » est obligatoire")
                continue
            value = str(value)
            pattern = constraints.get("pattern")
            if pattern and not re.fullmatch(pattern, value):
                errors.append(f"ligne {index} : « {name} » ne respecte pas le motif du standard ({value!r})")
            if "maxLength" in constraints and len(value) > constraints["maxLength"]:
                errors.append(f"ligne {index} : « {name} » dépasse {constraints['maxLength']} caractères")
            if field.get("type") == "date":
                try:
                    date.fromisoformat(value)
                except ValueError:
                    errors.append(f"ligne {index} : « {name} » n'est pas une date AAAA-MM-JJ")
            if field.get("type") == "number":
                try:
                    float(value)
                except ValueError:
                    errors.append(f"ligne {index} : « {name} » n'est pas un nombre")
            if name in seen:
                if value in seen[name]:
                    errors.append(f"ligne {index} : « {name} » {value!r} apparaît deux fois")
                seen[name].add(value)
    return errors


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))
