"""Loading the territory: communes and EPCIs, from the bundled files or from the files of the npm package
``@etalab/decoupage-administratif`` (``data/communes.json``, ``data/epci.json``)."""

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .models import Commune, Epci

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class TerritoireError(Exception):
    """A reference file is missing or malformed; the message is in French and nothing has been written."""


@dataclass
class LoadReport:
    epci_created: int = 0
    epci_updated: int = 0
    communes_created: int = 0
    communes_updated: int = 0
    communes_detached: int = 0
    warnings: list = field(default_factory=list)

    def __str__(self):
        return (
            f"EPCI : {self.epci_created} créé(s), {self.epci_updated} mis à jour ; "
            f"communes : {self.communes_created} créée(s), {self.communes_updated} mise(s) à jour, "
            f"{self.communes_detached} détachée(s) de l'EPCI."
        )


def _upsert_epcis(records, report):
    existing = {e.siren: e for e in Epci.objects.filter(siren__in=[r["siren"] for r in records])}
    for record in records:
        epci = existing.get(record["siren"])
        if epci is None:
            existing[record["siren"]] = Epci.objects.create(**record)
            report.epci_created += 1
            continue
        changed = {k: v for k, v in record.items() if v not in (None, "") and getattr(epci, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(epci, key, value)
            epci.save(update_fields=list(changed))
            report.epci_updated += 1
    return existing


COMMUNE_FIELDS = ["nom", "siren", "codes_postaux", "population", "departement", "epci"]


def _upsert_communes(records, report):
    existing = {c.code_insee: c for c in Commune.objects.filter(code_insee__in=[r["code_insee"] for r in records])}
    to_create, to_update = [], []
    for record in records:
        commune = existing.get(record["code_insee"])
        if commune is None:
            to_create.append(Commune(**record))
            continue
        if any(getattr(commune, name) != record[name] for name in COMMUNE_FIELDS):
            for name in COMMUNE_FIELDS:
                setattr(commune, name, record[name])
            to_update.append(commune)
    Commune.objects.bulk_create(to_create, batch_size=500)
    Commune.objects.bulk_update(to_update, COMMUNE_FIELDS, batch_size=500)
    report.communes_created += len(to_create)
    report.communes_updated += len(to_update)


def _read_csv(path):
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as error:
        raise TerritoireError(f"Fichier illisible : {path} ({error.strerror}).") from error


@transaction.atomic
def load_bundled():
    """The Haute-Garonne's communes with their EPCIs, and the Sicoval's EPCI record (idempotent)."""
    report = LoadReport()
    rows = _read_csv(FIXTURES / "communes_haute_garonne.csv")
    sicoval = json.loads((FIXTURES / "epci_sicoval.json").read_text(encoding="utf-8"))
    epci_records = {
        row["epci_siren"]: {"siren": row["epci_siren"], "nom": row["epci_nom"]} for row in rows if row["epci_siren"]
    }
    epci_records[sicoval["code"]] = {
        "siren": sicoval["code"],
        "nom": sicoval["nom"],
        "type": sicoval["type"],
        "population": sicoval["populationTotale"],
    }
    epcis = _upsert_epcis(list(epci_records.values()), report)
    communes = [
        {
            "code_insee": row["code_insee"],
            "nom": row["nom"],
            "siren": row["siren"],
            "codes_postaux": [code for code in row["codes_postaux"].split("|") if code],
            "population": int(row["population"]) if row["population"] else None,
            "departement": row["code_insee"][:2],
            "epci": epcis.get(row["epci_siren"]),
        }
        for row in rows
    ]
    _upsert_communes(communes, report)
    members = set(sicoval["membres"])
    loaded = set(Commune.objects.filter(epci__siren=sicoval["code"]).values_list("code_insee", flat=True))
    if members - loaded:
        raise TerritoireError(f"Communes du Sicoval absentes du fichier : {', '.join(sorted(members - loaded))}.")
    return report


def _read_json_list(path, what):
    path = Path(path)
    if not path.is_file():
        raise TerritoireError(f"Fichier {what} introuvable : {path}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TerritoireError(f"Le fichier {what} n'est pas un JSON valide : {error}.") from error
    if not isinstance(data, list):
        raise TerritoireError(f"Le fichier {what} doit contenir une liste (format @etalab/decoupage-administratif).")
    return data


def _member_code(member):
    return member.get("code") if isinstance(member, dict) else member


@transaction.atomic
def import_epci(*, siren, communes_path, epci_path):
    """Load one EPCI and its member communes from the package's ``epci.json`` and ``communes.json``.

    Raises ``TerritoireError`` (and writes nothing) on a missing file, bad JSON, an unknown EPCI or a member
    commune missing from ``communes.json``.
    """
    epcis = _read_json_list(epci_path, "des EPCI")
    communes = _read_json_list(communes_path, "des communes")
    record = next((e for e in epcis if isinstance(e, dict) and e.get("code") == siren), None)
    if record is None:
        raise TerritoireError(f"L'EPCI de SIREN {siren} n'est pas dans le fichier des EPCI.")
    try:
        members = {_member_code(m) for m in record["membres"]}
        epci_fields = {
            "siren": record["code"],
            "nom": record["nom"],
            "type": record.get("type", ""),
            "population": record.get("populationTotale"),
        }
    except (KeyError, TypeError) as error:
        raise TerritoireError(f"Fiche EPCI incomplète dans le fichier des EPCI : champ {error} manquant.") from error
    by_code = {
        c.get("code"): c
        for c in communes
        if isinstance(c, dict) and c.get("type", "commune-actuelle") == "commune-actuelle"
    }
    missing = sorted(code for code in members if code not in by_code)
    if missing:
        raise TerritoireError(f"Communes membres absentes du fichier des communes : {', '.join(missing)}.")
    report = LoadReport()
    epci = _upsert_epcis([epci_fields], report)[siren]
    try:
        records = [
            {
                "code_insee": code,
                "nom": by_code[code]["nom"],
                "siren": by_code[code].get("siren", ""),
                "codes_postaux": list(by_code[code].get("codesPostaux", [])),
                "population": by_code[code].get("population"),
                "departement": by_code[code].get("departement", code[:2]),
                "epci": epci,
            }
            for code in sorted(members)
        ]
    except KeyError as error:
        raise TerritoireError(f"Commune incomplète dans le fichier des communes : champ {error} manquant.") from error
    _upsert_communes(records, report)
    # A commune that has left the EPCI since the last import is no longer counted as part of it.
    report.communes_detached = Commune.objects.filter(epci=epci).exclude(code_insee__in=members).update(epci=None)
    return report
