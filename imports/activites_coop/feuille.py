"""The sheet « Activités » of the Coop's export: found, its header located, and the rows of one activity read into
what ``accompagnements.services.externes`` needs."""

import io
import re
import unicodedata
from dataclasses import dataclass, field

from openpyxl import load_workbook

from accompagnements import choices as c
from accompagnements import exports
from accompagnements.services import MAX_PARTICIPANTS

from ..base import FichierInvalide, verifier_archive
from .cellules import (
    ATTRIBUTS,
    CANAL,
    CANAUX,
    COLONNES_MIN_ENTETE,
    COMMUNES_A_L_ACTIVITE,
    CONNUES,
    DATE,
    DEMARCHE,
    DUREE,
    ENDOMMAGE,
    ID_CONUM,
    ID_CRA,
    ILLISIBLE,
    INSEE,
    INSEE_BENEFICIAIRE,
    LIGNES_AVANT_ENTETE,
    MATERIEL,
    MATERIEL_CODES,
    NIVEAU,
    NOM_LIEU,
    NOM_MEDIATEUR,
    NOTES,
    OBLIGATOIRES,
    OLE_MAGIC,
    ORIENTE,
    PARTICIPANTS,
    PRENOM_MEDIATEUR,
    REDIRECTION,
    REDIRECTIONS,
    THEMATIQUE_CODES,
    THEMATIQUES,
    TITRE,
    TYPE,
    TYPE_LABELS,
    TYPES,
    ZIP_MAGIC,
    Erreur,
    _cle,
    _code,
    _codes,
    _date,
    _duree,
    _etoiles,
    _insee,
    _oui_non,
    _participant,
    _plage,
    _texte,
)


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
    # The size a sheet declares is not trusted: too large, it would make every row 16,384 cells wide; too small, it
    # would silently drop rows. The rows are read as they are, each only as wide as the table.
    feuille.reset_dimensions()
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
        elif total > MAX_PARTICIPANTS:
            erreurs.append(f"Un atelier compte au plus {MAX_PARTICIPANTS} participants (lu : {total}).")
        elif len(rangs) != total and not illisibles:
            manquants = [f"{rang}/{total}" for rang in range(1, total + 1) if rang not in rangs]
            if len(manquants) > 10:
                manquants = [*manquants[:10], "…"]
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
