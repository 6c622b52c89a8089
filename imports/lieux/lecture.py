"""Reading a file of places in the national standard: CSV (« , » or « ; », with or without BOM) or JSON (a list,
``{"data": [...]}`` or GeoJSON), into one ``Ligne`` per place."""

import csv
import io
import json
import re
from pathlib import PurePath

from structures import lieux_standard

from ..base import FichierInvalide, Ligne
from .colonnes import (
    required_columns,
    standard_columns,
)


# --- Reading -------------------------------------------------------------------------------------------------------
def _decode(contenu):
    try:
        return contenu.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FichierInvalide(
            "Le fichier n'est pas encodé en UTF-8 : enregistrez-le au format « CSV UTF-8 » (ou JSON en UTF-8)."
        ) from None


def _est_json(nom_fichier, texte):
    suffix = PurePath(nom_fichier or "").suffix.lower()
    if suffix in (".json", ".geojson"):
        return True
    if suffix == ".csv":
        return False
    return texte.lstrip()[:1] in ("[", "{")


def _texte(name, value):
    """A JSON value as the text the standard's CSV would hold (raises ValueError for what cannot be one)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError(f"{name} : une valeur texte est attendue, pas « {str(value).lower()} ».")
    if isinstance(value, int):
        text = str(value)
        # A postcode or an INSEE code written as a number lost its leading zero.
        width = {"code_postal": 5, "code_insee": 5, "pivot": 14}.get(name)
        return text.zfill(width) if width else text
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if any(isinstance(item, list | dict) for item in value):
            raise ValueError(f"{name} : une liste de textes est attendue, pas une liste de listes.")
        return lieux_standard.SEPARATOR.join(_texte(name, item) for item in value if item not in (None, ""))
    raise ValueError(f"{name} : valeur illisible (un texte, un nombre ou une liste est attendu).")


def _libelle(row):
    nom = (row.get("nom") or "").strip() or "(sans nom)"
    commune = (row.get("commune") or "").strip() or (row.get("code_insee") or "").strip()
    return f"{nom} — {commune}" if commune else nom


# Control characters (NUL first, which PostgreSQL refuses in a text) have no place in a place's fields; tabs and line
# breaks are kept (presentations have paragraphs).
CONTROLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _ligne(numero, row, erreur=""):
    controles = [name for name, value in row.items() if isinstance(value, str) and CONTROLE_RE.search(value)]
    if controles and not erreur:
        erreur = " ; ".join(f"{name} : caractère de contrôle interdit." for name in controles)
    cle = CONTROLE_RE.sub("", (row.get("id") or "")).strip()
    return Ligne(numero=str(numero), cle=cle, libelle=CONTROLE_RE.sub("", _libelle(row)), donnees=row, erreur=erreur)


def _lire_csv(texte):
    premiere = texte.split("\n", 1)[0]
    delimiter = ";" if premiere.count(";") > premiere.count(",") else ","
    reader = csv.reader(io.StringIO(texte, newline=""), delimiter=delimiter)
    lignes = []
    try:
        header = next(reader, None)
        if header is None:
            raise FichierInvalide("Le fichier est vide.")
        header = [name.strip().lstrip("\ufeff").lower() for name in header]
        missing = [name for name in required_columns() if name not in header]
        if missing:
            raise FichierInvalide(
                "Ce fichier n'est pas au standard « Lieux de médiation numérique » : colonne(s) obligatoire(s) "
                f"absente(s) de l'en-tête : {', '.join(missing)}."
            )
        positions = {}
        for index, name in enumerate(header):
            if name in standard_columns() and name not in positions:
                positions[name] = index
        for numero, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            erreur = ""
            if len(values) > len(header) and any(value.strip() for value in values[len(header) :]):
                erreur = f"La ligne compte {len(values)} valeurs pour {len(header)} colonnes dans l'en-tête."
            row = {name: (values[index] if index < len(values) else "") for name, index in positions.items()}
            lignes.append(_ligne(numero, row, erreur))
    except csv.Error as error:
        raise FichierInvalide(f"Le fichier CSV est illisible (ligne {reader.line_num}) : {error}.") from None
    return lignes


def _objets_json(data):
    if isinstance(data, dict):
        if isinstance(data.get("data"), list):
            return data["data"]
        if data.get("type") == "FeatureCollection" and isinstance(data.get("features"), list):
            return [_depuis_feature(feature) for feature in data["features"]]
        raise FichierInvalide(
            "Le fichier JSON doit contenir une liste de lieux (ou un objet dont « data » est cette liste)."
        )
    if isinstance(data, list):
        return data
    raise FichierInvalide("Le fichier JSON doit contenir une liste de lieux.")


def _depuis_feature(feature):
    """A GeoJSON feature: its properties, and its point as latitude and longitude when they are not given."""
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        return feature
    item = dict(feature["properties"])
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        geometry = {}
    coordinates = geometry.get("coordinates")
    if geometry.get("type") == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
        item.setdefault("longitude", coordinates[0])
        item.setdefault("latitude", coordinates[1])
    return item


def _lire_json(texte):
    try:
        data = json.loads(texte)
    except RecursionError:
        raise FichierInvalide("Le fichier JSON est trop profondément imbriqué pour être une liste de lieux.") from None
    except ValueError as error:
        line = getattr(error, "lineno", None)
        where = f" (ligne {line})" if line else ""
        raise FichierInvalide(f"Le fichier JSON est illisible{where} : vérifiez sa syntaxe.") from None
    items = _objets_json(data)
    names = set(standard_columns())
    if items and not any(isinstance(item, dict) and names & set(item) for item in items):
        raise FichierInvalide(
            "Ce fichier n'est pas au standard « Lieux de médiation numérique » : aucun de ses objets ne porte les "
            "champs du standard (id, nom, adresse…)."
        )
    lignes = []
    for numero, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            lignes.append(Ligne(numero=str(numero), cle="", libelle="", erreur="Cet élément n'est pas un objet JSON."))
            continue
        row, erreurs = {}, []
        for name in standard_columns():
            try:
                row[name] = _texte(name, item.get(name))
            except ValueError as error:
                row[name] = ""
                erreurs.append(str(error))
        lignes.append(_ligne(numero, row, " ; ".join(erreurs)))
    return lignes


def _marquer_doublons(lignes):
    """A second row with the same ``id`` is invalid: the first one alone is imported."""
    premieres = {}
    for ligne in lignes:
        if not ligne.cle:
            continue
        if ligne.cle in premieres:
            if not ligne.erreur:
                ligne.erreur = f"id : l'identifiant « {ligne.cle} » figure déjà ligne {premieres[ligne.cle]}."
        else:
            premieres[ligne.cle] = ligne.numero
