"""The cells of the Coop's activity export: its columns, and each cell read back to national codes (French errors
naming the column and the value)."""

import datetime
import re
import unicodedata
import uuid
import zipfile
import zlib

from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from accompagnements import choices as c
from accompagnements import exports
from accompagnements.models import Activite
from structures.selectors import normalise_nom

# --- Columns -------------------------------------------------------------------------------------------------------
DATE = "Date"
TYPE = "Type"
PARTICIPANTS = "Participants"
CANAL = "Canaux d’accompagnement"
NOM_LIEU = "Nom du lieu"
INSEE = "Code Insee"
DUREE = "Durée (min)"
TITRE = "Nom de l’atelier"
MATERIEL = "Matériel numérique utilisé"
THEMATIQUES = "Thématique(s) d’accompagnement"
DEMARCHE = "Nom de la démarche administrative"
NIVEAU = "Niveau d’autonomie (ou de l’atelier)"
ORIENTE = "Bénéficiaire réorienté"
REDIRECTION = "Structure de redirection"
INSEE_BENEFICIAIRE = "Code Insee du bénéficiaire"
GENRE = "Genre du bénéficiaire"
TRANCHE_AGE = "Tranche d’âge du bénéficiaire"
STATUT = "Statut du bénéficiaire"
ID_CRA = "ID CRA"
PRENOM_MEDIATEUR, NOM_MEDIATEUR, ROLE, ID_CONUM = c.EXPORT_COLONNES_EQUIPE
NOTES = exports.NOTES
SOURCE_DONNEE = "Source de la donnée"  # written by the Coop for the mediators who used its first version

# The national columns this importer reads: a file without one of them is refused at upload.
OBLIGATOIRES = (
    DATE,
    TYPE,
    PARTICIPANTS,
    CANAL,
    NOM_LIEU,
    INSEE,
    DUREE,
    TITRE,
    MATERIEL,
    THEMATIQUES,
    DEMARCHE,
    NIVEAU,
    ORIENTE,
    REDIRECTION,
    INSEE_BENEFICIAIRE,
    GENRE,
    TRANCHE_AGE,
    STATUT,
    ID_CRA,
)
CONNUES = (*c.EXPORT_COLONNES, *c.EXPORT_COLONNES_EQUIPE, exports.BENEFICIAIRE, NOTES, SOURCE_DONNEE)
# What one activity's rows must agree on (the participant's own columns may differ).
COMMUNES_A_L_ACTIVITE = (
    DATE,
    TYPE,
    CANAL,
    NOM_LIEU,
    INSEE,
    DUREE,
    TITRE,
    MATERIEL,
    THEMATIQUES,
    DEMARCHE,
    NIVEAU,
    ORIENTE,
    REDIRECTION,
    PRENOM_MEDIATEUR,
    NOM_MEDIATEUR,
    ID_CONUM,
)
# The header is looked for among the first rows, and must name at least this many known columns.
LIGNES_AVANT_ENTETE = 50
COLONNES_MIN_ENTETE = 3

# What reading a damaged workbook may raise (a bad archive, a missing part, malformed XML or values).
ILLISIBLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,  # xml.etree's ParseError
    zlib.error,  # a damaged deflate stream
    NotImplementedError,  # an unknown compression method
    RuntimeError,  # an encrypted member
)
ENDOMMAGE = (
    "Ce fichier n'est pas un classeur Excel (.xlsx) lisible : il est peut-être endommagé. Exportez de nouveau vos "
    "activités depuis la Coop, puis déposez-le."
)
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary Excel format (.xls) of Excel 97–2003
INSEE_RE = re.compile(r"^([013-9]\d|2[AB1-9])\d{3}$")
ETOILES_RE = re.compile(r"^([1-9])\s*/\s*3$")
PARTICIPANT_RE = re.compile(r"^(\d{1,6})\s*/\s*(\d{1,6})$")  # bounded: int() of a huge text is refused
ID_EXTERNE_MAX = Activite._meta.get_field("id_externe").max_length


# --- Text and labels -----------------------------------------------------------------------------------------------
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "–": "-", "—": "-", "\xa0": " "})


def _cle(text):
    """A header or a label for comparisons: same letters whatever the case, the spaces and the apostrophes."""
    text = unicodedata.normalize("NFC", str(text)).translate(APOSTROPHES)
    return " ".join(text.split()).casefold()


def _texte(value):
    """A cell as text: a whole number without « .0 », nothing for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _inverse(*vocabularies):
    """{label or code, normalised: code} of vocabularies given as (code, label) lists."""
    index = {}
    for vocabulary in vocabularies:
        for code, label in vocabulary:
            index.setdefault(_cle(label), code)
            index.setdefault(_cle(code), code)
    return index


TYPES = _inverse(c.TYPE_ACTIVITE)
CANAUX = _inverse(c.TYPE_LIEU)
THEMATIQUE_CODES = _inverse(c.THEMATIQUES)
MATERIEL_CODES = _inverse(c.MATERIEL)
REDIRECTIONS = _inverse(c.STRUCTURE_REDIRECTION)
AUTONOMIES = _inverse(c.AUTONOMIE)
NIVEAUX = _inverse(c.NIVEAU_ATELIER)
ATTRIBUTS = {
    GENRE: ("genre", _inverse(c.GENRE)),
    TRANCHE_AGE: ("tranche_age", _inverse(c.TRANCHE_AGE)),
    # The Coop's label of an unknown status is « Non communiqué ou hétérogène »; « Non communiqué » is read too.
    STATUT: ("statut_social", {**_inverse(c.STATUT_SOCIAL), _cle("Non communiqué"): c.NON_COMMUNIQUE}),
}
# Stars back to codes: the autonomy of an individual session, the level of a workshop.
ETOILES = {
    c.INDIVIDUEL: {c.ETOILES[code]: code for code, _label in c.AUTONOMIE},
    c.COLLECTIF: {c.ETOILES[code]: code for code, _label in c.NIVEAU_ATELIER},
}
OUI_NON = {_cle("Oui"): True, _cle("Non"): False, "true": True, "false": False, "vrai": True, "faux": False}
TYPE_LABELS = dict(c.TYPE_ACTIVITE)
THEMATIQUE_LABELS = c.THEMATIQUE_LABELS


class Erreur(ValueError):
    """A cell that cannot be read: the French message names the column and the value."""


def _court(value, longueur=80):
    """A cell's value as quoted in a reason: a very long text is cut (the reason stays readable)."""
    text = str(value)
    return text if len(text) <= longueur else text[: longueur - 1] + "…"


def _inconnue(colonne, value):
    return Erreur(f"colonne « {colonne} » : valeur inconnue « {_court(value)} ».")


def _code(colonne, value, index, *, vide=""):
    text = _texte(value)
    if not text:
        return vide
    code = index.get(_cle(text))
    if code is None:
        raise _inconnue(colonne, text)
    return code


def _codes(colonne, value, index):
    """The codes of a multi-valued cell (one label per line), each once, in order."""
    codes = []
    for part in re.split(r"[\r\n]+", _texte(value)):
        part = part.strip()
        if not part:
            continue
        code = index.get(_cle(part))
        if code is None:
            raise _inconnue(colonne, part)
        if code not in codes:
            codes.append(code)
    return codes


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return from_excel(value).date()  # a date cell that lost its date format
    text = _texte(value)
    if not text:
        raise Erreur(f"colonne « {DATE} » : la date manque.")
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise Erreur(f"colonne « {DATE} » : « {text} » n'est pas une date (attendu : jj/mm/aaaa).")


def _duree(value):
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer():
            return int(value)
    else:
        text = _texte(value)
        if not text:
            raise Erreur(f"colonne « {DUREE} » : la durée manque.")
        if re.fullmatch(r"-?\d{1,9}", text):
            return int(text)
    raise Erreur(f"colonne « {DUREE} » : « {_texte(value)} » n'est pas un nombre entier de minutes.")


def _insee(colonne, value):
    text = _texte(value).upper()
    if text.isdigit() and len(text) < 5:
        text = text.zfill(5)  # a code read as a number lost its leading zero
    if text and not INSEE_RE.match(text):
        raise Erreur(f"colonne « {colonne} » : « {_texte(value)} » n'est pas un code Insee de commune.")
    return text


def _oui_non(value):
    text = _texte(value)
    if not text:
        return None
    if _cle(text) not in OUI_NON:
        raise Erreur(f"colonne « {ORIENTE} » : « {text} » n'est ni « Oui » ni « Non ».")
    return OUI_NON[_cle(text)]


def _etoiles(type_, value):
    """(autonomie, niveau) of the stars cell, for the activity's type."""
    text = _texte(value)
    if not text:
        return "", ""
    match = ETOILES_RE.match(text)
    if match:
        code = ETOILES[type_].get(int(match.group(1)))
    else:  # a label typed instead of the stars
        code = (AUTONOMIES if type_ == c.INDIVIDUEL else NIVEAUX).get(_cle(text))
    if code is None:
        raise Erreur(f"colonne « {NIVEAU} » : « {text} » n'est pas un niveau (attendu : 1/3, 2/3 ou 3/3).")
    return (code, "") if type_ == c.INDIVIDUEL else ("", code)


def _participant(value):
    """(rank, count) of the « Participants » cell: « 1 » alone, or 'i/n'."""
    text = _texte(value)
    if text == "1":
        return 1, 1
    match = PARTICIPANT_RE.match(text)
    if match:
        rang, total = int(match.group(1)), int(match.group(2))
        if 1 <= rang <= total:
            return rang, total
    raise Erreur(f"colonne « {PARTICIPANTS} » : « {text} » n'est ni « 1 » ni de la forme « 2/5 ».")


def _id_cra(value):
    text = _texte(value)
    try:
        return str(uuid.UUID(text))  # the canonical spelling, whatever the case
    except ValueError:
        return text


def _nom_complet(prenom, nom):
    return normalise_nom(f"{prenom} {nom}")


def _plage(numeros):
    numeros = sorted(numeros)
    if len(numeros) == 1:
        return str(numeros[0])
    if numeros == list(range(numeros[0], numeros[-1] + 1)):
        return f"{numeros[0]} à {numeros[-1]}"
    return ", ".join(str(n) for n in numeros)
