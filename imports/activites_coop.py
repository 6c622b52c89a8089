"""Import of the activity export of the national tool (La Coop de la médiation numérique), as an XLSX file.

What is read (``export_notes`` and ``export_cellules`` of the vocabulary fixture, and ``accompagnements.exports``,
which writes the same format):

- the sheet « Activités »; the Coop writes a few rows about the export (who, when, filters) above its table, so the
  header is the row, among the first ones, that names the most national columns;
- one row per accompaniment: a workshop of n participants is n rows (« Participants » 'i/n') sharing one « ID CRA »,
  read back as one activity (the rows are grouped by ID CRA, wherever they are); the Coop writes « 1 » for an
  activity of one participant, this platform « 1/1 » for a workshop of one: both are read;
- labels, not codes, in the cells (multi-values separated by line breaks), read back to the stored national codes,
  whatever the case, the spaces and the apostrophes; the autonomy or the workshop's level as 'k/3' stars;
- three variants of columns: the plain national one, a conseiller's own export (« Bénéficiaire » and « Notes
  supplémentaires »), the team export (« Prénom du médiateur », « Nom du médiateur », « Rôle », « ID - Conum »).

Who the activities are for: a personal import gives them to its conseiller (the rows of another mediator, when the
file says whose they are, are refused); a team import (staff) finds each activity's conseiller by « ID - Conum »
(the conseiller's id here, or the Coop mediator's id or conseiller numérique id known from the synchronisation),
else by first and last name.

Everything is written by ``accompagnements.services.externes`` (the one path for external activities): this module
only reads the file and finds the related rows, with a fixed number of queries per batch. The beneficiary's name is
never read: no followed beneficiary is created from a file (no consent is recorded here).
"""

import datetime
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field

from django.db.models import Q
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from accompagnements import choices as c
from accompagnements import exports
from accompagnements.models import Activite
from accompagnements.services import externes
from conseillers.models import Conseiller
from structures.models import Commune
from structures.selectors import lieux_par_nom, normalise_nom

from .base import Action, Decision, FichierInvalide, Importeur, Ligne, verifier_archive
from .models import MediateurCoop, TypeImport

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
)
ENDOMMAGE = (
    "Ce fichier n'est pas un classeur Excel (.xlsx) lisible : il est peut-être endommagé. Exportez de nouveau vos "
    "activités depuis la Coop, puis déposez-le."
)
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary Excel format (.xls) of Excel 97–2003
INSEE_RE = re.compile(r"^([013-9]\d|2[AB1-9])\d{3}$")
ETOILES_RE = re.compile(r"^([1-9])\s*/\s*3$")
PARTICIPANT_RE = re.compile(r"^(\d+)\s*/\s*(\d+)$")
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


def _inconnue(colonne, value):
    return Erreur(f"colonne « {colonne} » : valeur inconnue « {value} ».")


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
        if re.fullmatch(r"-?\d+", text):
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


# --- The file ------------------------------------------------------------------------------------------------------
@dataclass
class Feuille:
    """The sheet « Activités » opened: its header row's number and {column: index}."""

    classeur: object
    feuille: object
    entete: int
    colonnes: dict = field(default_factory=dict)

    @property
    def equipe(self):
        return any(name in self.colonnes for name in (PRENOM_MEDIATEUR, NOM_MEDIATEUR, ID_CONUM))

    def fermer(self):
        self.classeur.close()


def _ouvrir(contenu):
    """The sheet « Activités » with its header, or ``FichierInvalide`` saying why the file cannot be imported."""
    if contenu[:4] == OLE_MAGIC:
        raise FichierInvalide(
            "Ce fichier est au format Excel 97-2003 (.xls) : enregistrez-le au format .xlsx, ou exportez de nouveau "
            "vos activités depuis la Coop, puis déposez-le."
        )
    if contenu[:4] != ZIP_MAGIC:
        raise FichierInvalide(
            "Ce fichier n'est pas un classeur Excel (.xlsx) : déposez l'export des activités de la Coop au format "
            "Excel, pas en CSV ni en PDF."
        )
    verifier_archive(contenu)
    try:
        classeur = load_workbook(io.BytesIO(contenu), read_only=True, data_only=True)
    except ILLISIBLE as error:
        raise FichierInvalide(ENDOMMAGE) from error
    noms = {_cle(unicodedata.normalize("NFC", name)): name for name in classeur.sheetnames}
    nom = noms.get(_cle(exports.SHEET_NAME))
    if nom is None:
        classeur.close()
        trouvees = ", ".join(f"« {name} »" for name in classeur.sheetnames) or "aucune"
        raise FichierInvalide(
            f"Le classeur n'a pas de feuille « {exports.SHEET_NAME} » (feuilles trouvées : {trouvees}) : déposez "
            "l'export des activités de la Coop sans le modifier."
        )
    feuille = classeur[nom]
    connues = {_cle(name): name for name in CONNUES}
    meilleure = (0, 0, {})
    try:
        for numero, row in enumerate(feuille.iter_rows(max_row=LIGNES_AVANT_ENTETE, values_only=True), start=1):
            colonnes = {}
            for index, value in enumerate(row):
                name = connues.get(_cle(value)) if isinstance(value, str) else None
                if name is not None and name not in colonnes:
                    colonnes[name] = index
            if len(colonnes) > meilleure[0]:
                meilleure = (len(colonnes), numero, colonnes)
    except ILLISIBLE as error:
        classeur.close()
        raise FichierInvalide(ENDOMMAGE) from error
    score, entete, colonnes = meilleure
    if score < COLONNES_MIN_ENTETE:
        classeur.close()
        raise FichierInvalide(
            f"La feuille « {exports.SHEET_NAME} » ne contient pas le tableau des activités de la Coop (aucune ligne "
            f"d'en-tête avec les colonnes « {DATE} », « {TYPE} », « {ID_CRA} »…) : déposez l'export des activités de "
            "la Coop sans le modifier."
        )
    manquantes = [name for name in OBLIGATOIRES if name not in colonnes]
    if manquantes:
        classeur.close()
        liste = ", ".join(f"« {name} »" for name in manquantes)
        pluriel = "s" if len(manquantes) > 1 else ""
        raise FichierInvalide(
            f"Colonne{pluriel} obligatoire{pluriel} absente{pluriel} de la feuille « {exports.SHEET_NAME} » : {liste}. "
            "Déposez l'export des activités de la Coop sans en retirer ni renommer de colonnes."
        )
    return Feuille(classeur, feuille, entete, colonnes)


# --- One activity from its rows ------------------------------------------------------------------------------------
def _activite(id_cra, rows, equipe):
    """(donnees, erreurs) of one activity from its rows [(row number, {column: value})]."""
    erreurs = []
    plusieurs = len(rows) > 1

    def lu(numero, fonction, *args):
        try:
            return fonction(*args)
        except Erreur as error:
            erreurs.append(f"Ligne {numero}, {error}" if plusieurs else str(error)[0].upper() + str(error)[1:])
            return None

    premier_numero, premiere = rows[0]
    # The activity's columns are the same on each of its rows.
    for colonne in COMMUNES_A_L_ACTIVITE:
        valeurs = {}
        for numero, row in rows:
            valeurs.setdefault(_texte(row.get(colonne)), []).append(numero)
        if len(valeurs) > 1:
            details = " ; ".join(
                f"« {value or 'vide'} » ligne{'s' if len(n) > 1 else ''} {_plage(n)}" for value, n in valeurs.items()
            )
            erreurs.append(f"Les lignes de cette activité ne concordent pas, colonne « {colonne} » : {details}.")

    type_ = lu(premier_numero, _code, TYPE, premiere.get(TYPE), TYPES)
    if type_ == "":
        erreurs.append(f"Colonne « {TYPE} » : le type d'activité manque.")
        type_ = None
    date = lu(premier_numero, _date, premiere.get(DATE))
    duree = lu(premier_numero, _duree, premiere.get(DUREE))
    type_lieu = lu(premier_numero, _code, CANAL, premiere.get(CANAL), CANAUX)
    insee = lu(premier_numero, _insee, INSEE, premiere.get(INSEE))
    thematiques = lu(premier_numero, _codes, THEMATIQUES, premiere.get(THEMATIQUES), THEMATIQUE_CODES) or []
    materiel = lu(premier_numero, _codes, MATERIEL, premiere.get(MATERIEL), MATERIEL_CODES) or []
    oriente = lu(premier_numero, _oui_non, premiere.get(ORIENTE))
    redirection = lu(premier_numero, _code, REDIRECTION, premiere.get(REDIRECTION), REDIRECTIONS)
    autonomie, niveau = "", ""
    if type_:
        autonomie, niveau = lu(premier_numero, _etoiles, type_, premiere.get(NIVEAU)) or ("", "")

    # Participants: « 1 » for one person, 'i/n' on each of the n rows of a workshop.
    rangs = {}
    totaux = set()
    illisibles = False
    for numero, row in rows:
        valeur = lu(numero, _participant, row.get(PARTICIPANTS))
        if valeur is None:
            illisibles = True
            continue
        rang, total = valeur
        totaux.add(total)
        if rang in rangs:
            erreurs.append(f"Le participant {rang}/{total} figure deux fois (lignes {rangs[rang][0]} et {numero}).")
            illisibles = True
            continue
        rangs[rang] = (numero, row)
    if len(totaux) > 1:
        erreurs.append(
            f"Colonne « {PARTICIPANTS} » : les lignes de cette activité n'indiquent pas le même nombre de participants "
            f"({', '.join(str(n) for n in sorted(totaux))})."
        )
    elif totaux:
        (total,) = totaux
        if type_ == c.INDIVIDUEL and (total != 1 or plusieurs):
            erreurs.append(
                f"Un accompagnement individuel concerne une seule personne : cet ID CRA figure sur "
                f"{len(rows)} ligne{'s' if plusieurs else ''} ({_plage([n for n, _ in rows])}), "
                f"participants « {total} »."
            )
        elif len(rangs) != total and not illisibles:
            manquants = [f"{rang}/{total}" for rang in range(1, total + 1) if rang not in rangs]
            erreurs.append(
                f"Atelier incomplet : {len(rangs)} ligne{'s' if len(rangs) > 1 else ''} sur {total} dans le fichier "
                f"(il manque le{'s' if len(manquants) > 1 else ''} participant{'s' if len(manquants) > 1 else ''} "
                f"{', '.join(manquants)})."
            )

    participants = []
    for rang in sorted(rangs):
        numero, row = rangs[rang]
        participant = {"code_insee": lu(numero, _insee, INSEE_BENEFICIAIRE, row.get(INSEE_BENEFICIAIRE)) or ""}
        for colonne, (attribut, index) in ATTRIBUTS.items():
            participant[attribut] = lu(numero, _code, colonne, row.get(colonne), index) or c.NON_COMMUNIQUE
        participants.append(participant)

    notes = next((_texte(row.get(NOTES)) for _numero, row in rows if _texte(row.get(NOTES))), "")
    mediateur = None
    if equipe:
        mediateur = {
            "prenom": _texte(premiere.get(PRENOM_MEDIATEUR)),
            "nom": _texte(premiere.get(NOM_MEDIATEUR)),
            "id": _texte(premiere.get(ID_CONUM)),
        }
    donnees = {
        "id_cra": id_cra,
        "type": type_ or "",
        "date": date.isoformat() if date else None,
        "duree": duree,
        "type_lieu": type_lieu or "",
        "nom_lieu": _texte(premiere.get(NOM_LIEU)),
        "code_insee": insee or "",
        "thematiques": thematiques,
        "nom_demarche": _texte(premiere.get(DEMARCHE)),
        "materiel": materiel,
        "autonomie": autonomie,
        "oriente": oriente,
        "structure_redirection": redirection or "",
        "titre_atelier": _texte(premiere.get(TITRE)),
        "niveau": niveau,
        "notes": notes,
        "participants": participants,
        "mediateur": mediateur,
    }
    return donnees, erreurs


def _libelle(rows):
    """« Atelier collectif du 03/10/2026 — Découverte de l’e-mail (3 participants) », from the raw cells (also for
    rows that cannot be read)."""
    premiere = rows[0][1]
    type_ = TYPES.get(_cle(_texte(premiere.get(TYPE))))
    label = TYPE_LABELS.get(type_) or _texte(premiere.get(TYPE)) or "Activité"
    try:
        label += f" du {_date(premiere.get(DATE)):%d/%m/%Y}"
    except (Erreur, ValueError, OverflowError):
        if _texte(premiere.get(DATE)):
            label += f" du {_texte(premiere.get(DATE))}"
    if type_ == c.COLLECTIF:
        titre = _texte(premiere.get(TITRE))
        if titre:
            label += f" — {titre}"
        label += f" ({len(rows)} participant{'s' if len(rows) > 1 else ''})"
    else:
        themes = [part.strip() for part in re.split(r"[\r\n]+", _texte(premiere.get(THEMATIQUES))) if part.strip()]
        if themes:
            label += f" — {', '.join(themes)}"
    mediateur = " ".join(
        part for part in (_texte(premiere.get(PRENOM_MEDIATEUR)), _texte(premiere.get(NOM_MEDIATEUR))) if part
    )
    if mediateur:
        label += f", par {mediateur}"
    return label


# --- Who the activities are for ------------------------------------------------------------------------------------
@dataclass
class Mediateurs:
    """The conseillers a batch's mediators may be: by id here, by Coop ids, by normalised name."""

    par_uuid: dict = field(default_factory=dict)
    par_mediateur_id: dict = field(default_factory=dict)
    par_conum: dict = field(default_factory=dict)
    par_nom: dict = field(default_factory=dict)


def _par_id(mediateurs, identifiant):
    if not identifiant:
        return None
    try:
        value = str(uuid.UUID(identifiant))
    except ValueError:
        value = None
    if value is not None:
        return mediateurs.par_uuid.get(value) or mediateurs.par_mediateur_id.get(value)
    if identifiant.isdigit():
        return mediateurs.par_conum.get(int(identifiant))
    return None  # the Coop may write « true »/« false » here, or an id of its first version


def _lieu(lieux, code_insee, nom):
    """The place of this name in this commune (``lieux_par_nom``'s index)."""
    return lieux.get((code_insee, normalise_nom(nom)))


def _ids_coop(uuids, conums):
    """The condition on the Coop mediators known by one of these mediator ids or conseiller numérique ids."""
    condition = Q(pk__in=[])
    if uuids:
        condition |= Q(mediateur_id__in=uuids)
    if conums:
        condition |= Q(conum_id_pg__in=conums)
    return condition


def _nom(mediateur):
    return " ".join(part for part in (mediateur["prenom"], mediateur["nom"]) if part) or "sans nom"


# --- The importer --------------------------------------------------------------------------------------------------
class ImporteurActivitesCoop(Importeur):
    type = TypeImport.ACTIVITES_COOP
    extensions = (".xlsx",)
    description = (
        "L'export des activités de la Coop de la médiation numérique (fichier Excel, feuille « Activités ») : "
        "vos propres activités, ou celles de l'équipe pour le territoire."
    )

    # --- Reading
    def verifier(self, contenu, nom_fichier, options):
        """The header only: the whole file is read by the analysis."""
        _ouvrir(bytes(contenu)).fermer()

    def lire(self, contenu, nom_fichier, options):
        feuille = _ouvrir(bytes(contenu))
        try:
            groupes, sans_id = self._lignes(feuille)
        except ILLISIBLE as error:  # the rows are parsed as they are read
            raise FichierInvalide(ENDOMMAGE) from error
        finally:
            feuille.fermer()
        equipe = feuille.equipe

        lignes = []
        for id_cra, rows in groupes.items():
            numero = _plage([n for n, _ in rows])
            libelle = _libelle(rows)
            if len(id_cra) > ID_EXTERNE_MAX:
                lignes.append(
                    Ligne(
                        numero,
                        id_cra,
                        libelle,
                        erreur=f"Colonne « {ID_CRA} » : identifiant trop long ({len(id_cra)} caractères, au plus "
                        f"{ID_EXTERNE_MAX}).",
                    )
                )
                continue
            donnees, erreurs = _activite(id_cra, rows, equipe)
            lignes.append(Ligne(numero, id_cra, libelle, donnees=donnees, erreur=" ".join(erreurs)))
        for numero, valeurs in sans_id:
            lignes.append(
                Ligne(
                    str(numero),
                    "",
                    _libelle([(numero, valeurs)]),
                    erreur=f"Colonne « {ID_CRA} » vide : sans son identifiant, l'activité ne peut pas être importée "
                    "(ni reconnue à l'import suivant).",
                )
            )
        lignes.sort(key=lambda ligne: int(re.match(r"\d+", ligne.numero).group()))
        return lignes

    def _lignes(self, feuille):
        """The table's rows ({column: value}) grouped by ID CRA, in file order, and the rows without one."""
        groupes = {}
        sans_id = []
        largeur = max(feuille.colonnes.values()) + 1
        for numero, row in enumerate(
            feuille.feuille.iter_rows(min_row=feuille.entete + 1, values_only=True), start=feuille.entete + 1
        ):
            row = tuple(row) + (None,) * (largeur - len(row))
            if all(value is None or (isinstance(value, str) and not value.strip()) for value in row):
                continue
            valeurs = {name: row[index] for name, index in feuille.colonnes.items()}
            id_cra = _id_cra(valeurs.get(ID_CRA))
            if not id_cra:
                sans_id.append((numero, valeurs))
            else:
                groupes.setdefault(id_cra, []).append((numero, valeurs))
        return groupes, sans_id

    # --- Deciding
    def decider(self, lignes, import_):
        lisibles = [ligne for ligne in lignes if not ligne.erreur]
        personnel = import_.conseiller_id is not None
        communes = self._communes(lisibles)
        lieux = self._lieux(lisibles)
        mediateurs = self._mediateurs(lisibles, import_)
        notes = {} if personnel else self._notes_existantes(lisibles)

        refus = {}  # id(ligne): reason, for activities not planned at all
        a_planifier = []
        for ligne in lisibles:
            donnees = ligne.donnees
            if personnel:
                conseiller = import_.conseiller
                motif = self._autre_mediateur(donnees["mediateur"], conseiller, mediateurs)
            else:
                conseiller, motif = self._conseiller_equipe(donnees["mediateur"], mediateurs)
            if motif:
                refus[id(ligne)] = motif
                continue
            a_planifier.append((ligne, self._externe(donnees, conseiller, communes, lieux, personnel, notes)))

        plans = externes.planifier([externe for _ligne, externe in a_planifier])
        par_ligne = {id(ligne): plan for (ligne, _externe), plan in zip(a_planifier, plans, strict=True)}
        changements = self._changements([plan for plan in plans if plan.action == externes.METTRE_A_JOUR])

        decisions = []
        for ligne in lignes:
            if ligne.erreur:
                decisions.append(Decision(ligne, Action.INVALIDE, raison=ligne.erreur))
            elif id(ligne) in refus:
                decisions.append(Decision(ligne, Action.INVALIDE, raison=refus[id(ligne)]))
            else:
                decisions.append(self._decision(ligne, par_ligne[id(ligne)], changements))
        return decisions

    def _decision(self, ligne, plan, changements):
        if plan.action == externes.CREER:
            return Decision(ligne, Action.CREER, cible=plan)
        if plan.action == externes.METTRE_A_JOUR:
            return Decision(ligne, Action.METTRE_A_JOUR, changements=changements.get(plan.existante, []), cible=plan)
        if plan.action == externes.INCHANGE:
            return Decision(ligne, Action.INCHANGE, cible=plan)
        raison = plan.raison
        externe = plan.externe
        if externe.type_lieu == c.LIEU_ACTIVITE and externe.lieu is None:
            donnees = ligne.donnees
            cherche = f"« {donnees['nom_lieu']} »" if donnees["nom_lieu"] else "sans nom"
            raison += f" Lieu cherché : {cherche}, code Insee « {donnees['code_insee'] or 'vide'} »."
        # A file never deletes: SUPPRIMER cannot be planned for it (``supprimee`` is never set).
        return Decision(ligne, Action.INVALIDE, raison=raison, cible=plan)

    def _externe(self, donnees, conseiller, communes, lieux, personnel, notes):
        type_lieu = donnees["type_lieu"]
        lieu = None
        if type_lieu == c.LIEU_ACTIVITE:
            lieu = _lieu(lieux, donnees["code_insee"], donnees["nom_lieu"])
        return externes.ActiviteExterne(
            id_externe=donnees["id_cra"],
            source=c.Source.IMPORT_COOP,
            conseiller=conseiller,
            type=donnees["type"],
            date=datetime.date.fromisoformat(donnees["date"]) if donnees["date"] else None,
            duree=donnees["duree"],
            type_lieu=type_lieu,
            lieu=lieu,
            commune=communes.get(donnees["code_insee"]),
            thematiques=list(donnees["thematiques"]),
            nom_demarche=donnees["nom_demarche"],
            materiel=list(donnees["materiel"]),
            autonomie=donnees["autonomie"],
            oriente=donnees["oriente"],
            structure_redirection=donnees["structure_redirection"],
            titre_atelier=donnees["titre_atelier"],
            niveau=donnees["niveau"],
            # Notes are private: only their author's import brings them; a team import keeps those already here.
            notes=donnees["notes"] if personnel else notes.get(donnees["id_cra"], ""),
            participants=[
                {
                    "genre": p["genre"],
                    "tranche_age": p["tranche_age"],
                    "statut_social": p["statut_social"],
                    "commune_residence": communes.get(p["code_insee"]),
                }
                for p in donnees["participants"]
            ],
        )

    # --- Bulk lookups (one query each, per batch)
    def _communes(self, lignes):
        codes = set()
        for ligne in lignes:
            codes.add(ligne.donnees["code_insee"])
            codes.update(p["code_insee"] for p in ligne.donnees["participants"])
        codes.discard("")
        if not codes:
            return {}
        return {commune.code_insee: commune for commune in Commune.objects.filter(code_insee__in=codes)}

    def _lieux(self, lignes):
        codes = {
            ligne.donnees["code_insee"]
            for ligne in lignes
            if ligne.donnees["type_lieu"] == c.LIEU_ACTIVITE and ligne.donnees["code_insee"]
        }
        return lieux_par_nom(codes) if codes else {}

    def _mediateurs(self, lignes, import_):
        """What the batch's mediators may be: for a team import every conseiller (by name, by id) and the Coop
        mediators mapped to one (by the Coop's ids); for a personal import, the importer's own Coop ids."""
        mediateurs = Mediateurs()
        lus = [ligne.donnees["mediateur"] for ligne in lignes if ligne.donnees["mediateur"]]
        if not lus:
            return mediateurs
        ids = {m["id"] for m in lus if m["id"]}
        uuids, conums = set(), set()
        for identifiant in ids:
            try:
                uuids.add(uuid.UUID(identifiant))
            except ValueError:
                if identifiant.isdigit():
                    conums.add(int(identifiant))
        coop = MediateurCoop.objects.filter(conseiller__isnull=False).select_related("conseiller")
        if import_.conseiller_id is not None:
            coop = coop.filter(conseiller_id=import_.conseiller_id)
            mediateurs.par_uuid[str(import_.conseiller.uuid)] = import_.conseiller
        else:
            for conseiller in Conseiller.objects.all():
                mediateurs.par_uuid[str(conseiller.uuid)] = conseiller
                mediateurs.par_nom.setdefault(_nom_complet(conseiller.prenom, conseiller.nom), []).append(conseiller)
        if uuids or conums:
            for mediateur in coop.filter(_ids_coop(uuids, conums)):
                mediateurs.par_mediateur_id[str(mediateur.mediateur_id)] = mediateur.conseiller
                if mediateur.conum_id_pg is not None:
                    mediateurs.par_conum[mediateur.conum_id_pg] = mediateur.conseiller
        return mediateurs

    def _notes_existantes(self, lignes):
        """{ID CRA: notes} of the activities already imported: a team import leaves their author's notes alone."""
        ids = {ligne.donnees["id_cra"] for ligne in lignes}
        if not ids:
            return {}
        return dict(Activite.objects.filter(id_externe__in=ids).exclude(notes="").values_list("id_externe", "notes"))

    def _autre_mediateur(self, mediateur, conseiller, mediateurs):
        """For a personal import: why this activity is someone else's, or "" when it is the importer's (or the file
        does not say whose it is)."""
        if mediateur is None or not (mediateur["id"] or mediateur["prenom"] or mediateur["nom"]):
            return ""
        if _par_id(mediateurs, mediateur["id"]) == conseiller:
            return ""
        if _nom_complet(mediateur["prenom"], mediateur["nom"]) == _nom_complet(conseiller.prenom, conseiller.nom):
            return ""
        return f"Activité d'un autre médiateur ({_nom(mediateur)}) : vous n'importez ici que vos propres activités."

    def _conseiller_equipe(self, mediateur, mediateurs):
        """For a team import: (the activity's conseiller, "") or (None, why none was found)."""
        if mediateur is None:
            return None, (
                f"Le fichier ne dit pas qui a réalisé cette activité (colonnes « {PRENOM_MEDIATEUR} », "
                f"« {NOM_MEDIATEUR} » et « {ID_CONUM} » absentes) : importez l'export de l'équipe, ou importez ce "
                "fichier depuis le compte du conseiller."
            )
        conseiller = _par_id(mediateurs, mediateur["id"])
        if conseiller is not None:
            return conseiller, ""
        homonymes = mediateurs.par_nom.get(_nom_complet(mediateur["prenom"], mediateur["nom"]), [])
        if len(homonymes) == 1:
            return homonymes[0], ""
        identifiant = f" (ID - Conum « {mediateur['id']} »)" if mediateur["id"] else ""
        if len(homonymes) > 1:
            return None, (
                f"Plusieurs conseillers s'appellent {_nom(mediateur)}{identifiant} : associez ce médiateur de la Coop "
                "à son conseiller (synchronisation avec la Coop), puis importez de nouveau."
            )
        return None, (
            f"Aucun conseiller du territoire ne correspond au médiateur {_nom(mediateur)}{identifiant} : créez sa "
            "fiche ou associez-le à son conseiller, puis importez de nouveau."
        )

    def _changements(self, plans):
        """{activity pk: labels of the fields an update changes} (two queries, only when there are updates)."""
        if not plans:
            return {}
        activites = Activite.objects.filter(pk__in=[plan.existante for plan in plans]).prefetch_related(
            "accompagnements"
        )
        activites = {activite.pk: activite for activite in activites}
        changements = {}
        for plan in plans:
            activite = activites.get(plan.existante)
            if activite is None:
                continue
            externe = plan.externe
            labels = []
            for name in externes.CHAMPS:
                model_field = Activite._meta.get_field(name)
                avant = getattr(activite, model_field.attname)
                apres = getattr(externe, name)
                if model_field.is_relation:
                    apres = apres.pk if apres is not None else None
                if avant != apres:
                    labels.append(str(model_field.verbose_name))
            avant = [
                (row.genre, row.tranche_age, row.statut_social, row.commune_residence_id)
                for row in sorted(activite.accompagnements.all(), key=lambda row: row.rang)
            ]
            apres = [
                (
                    p["genre"],
                    p["tranche_age"],
                    p["statut_social"],
                    p["commune_residence"].pk if p["commune_residence"] else None,
                )
                for p in externe.participants
            ]
            if avant != apres:
                labels.append("participants")
            changements[plan.existante] = labels
        return changements

    # --- Writing
    def appliquer(self, decisions, import_):
        return externes.appliquer([decision.cible for decision in decisions], by=import_.demande_par)
