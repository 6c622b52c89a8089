"""Helpers of the tests of the Coop activity import: XLSX files in the national layout (the three variants of columns,
with or without the Coop's rows about the export above the table), conseillers with an employer, imports, and a run
of an importer as the engine does it (read, decide, apply the creations and updates in one transaction)."""

import datetime
import io
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from accompagnements import choices as c
from accompagnements import exports
from accounts.models import Role
from conseillers.choices import TypeContrat
from imports.activites_coop import ImporteurActivitesCoop
from imports.base import Action
from imports.models import Import, TypeImport
from tests import factories

NATIONAL = list(c.EXPORT_COLONNES)
CONSEILLER = exports.columns(team=False)
EQUIPE = exports.columns(team=True)
VARIANTES = {"national": NATIONAL, "conseiller": CONSEILLER, "equipe": EQUIPE}
LABELS = {
    "type": dict(c.TYPE_ACTIVITE),
    "type_lieu": dict(c.TYPE_LIEU),
    "thematiques": dict(c.THEMATIQUES),
    "materiel": dict(c.MATERIEL),
    "autonomie": dict(c.AUTONOMIE),
    "structure_redirection": dict(c.STRUCTURE_REDIRECTION),
    "niveau": dict(c.NIVEAU_ATELIER),
    "genre": dict(c.GENRE),
    "tranche_age": dict(c.TRANCHE_AGE),
    "statut_social": dict(c.STATUT_SOCIAL),
}
ECRITURES = (Action.CREER, Action.METTRE_A_JOUR)


def hier(jours=1):
    return timezone.localdate() - datetime.timedelta(days=jours)


def ligne(**cellules):
    """One row of an individual session at home (labels, as the Coop writes them); override any column."""
    row = {
        "Date": hier(),
        "Enregistré le": "02/10/2026 à 10:15",
        "Type": "Accompagnement individuel",
        "Participants": "1",
        "Canaux d’accompagnement": "À domicile",
        "Nom du lieu": "",
        "Commune": "",
        "Code Insee": "",
        "Durée (min)": 45,
        "Nom de l’atelier": "",
        "Matériel numérique utilisé": "Ordinateur",
        "Thématique(s) d’accompagnement": "E-mail",
        "Niveau d’autonomie (ou de l’atelier)": "2/3",
        "Bénéficiaire réorienté": "Non",
        "Genre du bénéficiaire": "Non communiqué",
        "Tranche d’âge du bénéficiaire": "Non communiqué",
        "Statut du bénéficiaire": "Non communiqué ou hétérogène",
        "ID CRA": str(uuid.uuid4()),
    }
    row.update(cellules)
    return row


def atelier(participants, **cellules):
    """The rows of a workshop: one per participant (dicts of their own columns), 'i/n' and one ID CRA."""
    cellules.setdefault("ID CRA", str(uuid.uuid4()))
    commun = {
        "Type": "Atelier collectif",
        "Nom de l’atelier": "Découverte de l’e-mail",
        "Niveau d’autonomie (ou de l’atelier)": "1/3",
        "Bénéficiaire réorienté": "",
        **cellules,
    }
    total = len(participants)
    return [
        ligne(**{**commun, "Participants": f"{rang}/{total}", **participant})
        for rang, participant in enumerate(participants, start=1)
    ]


METADONNEES_COOP = [
    ["Informations export"],
    ["Nom", "Dupré"],
    ["Prénom", "Camille"],
    ["Rôle", "Médiateur"],
    ["Date d’export", "03/10/2026"],
    ["Nombre total d’accompagnements", 3],
    [],
    ["Filtres"],
    ["Période", "Du 01/01/2026 au 03/10/2026"],
    [""],
]


def classeur(rows, *, variante="national", colonnes=None, feuille=exports.SHEET_NAME, coop=False):
    """The bytes of an XLSX file: the sheet, (the Coop's rows about the export), the header, then the rows (dicts by
    column; a missing column is an empty cell; dates are date cells)."""
    colonnes = list(colonnes or VARIANTES[variante])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = feuille
    if coop:
        for meta in METADONNEES_COOP:
            sheet.append(meta)
    sheet.append(colonnes)
    for row in rows:
        sheet.append([row.get(colonne, "") for colonne in colonnes])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def employe(structure, *, prenom=None, nom=None, depuis=None):
    """A conseiller with an account (member of ``structure``) and a permanent contract on a post of it: their
    employer on any day of the programme."""
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    conseiller = factories.ConseillerFactory(user=user, prenom=prenom or user.first_name, nom=nom or user.last_name)
    factories.ContratFactory(
        conseiller=conseiller,
        poste=factories.PosteFactory(structure=structure),
        type=TypeContrat.CDI,
        date_debut=depuis or settings.PROGRAMME_DATE_DEBUT,
        date_fin=None,
    )
    return conseiller


def import_de(conseiller=None, *, par=None):
    """A personal import (``conseiller``) or a team import (``par`` a staff user)."""
    return Import.objects.create(
        type=TypeImport.ACTIVITES_COOP,
        nom_fichier="activites.xlsx",
        conseiller=conseiller,
        demande_par=par or conseiller.user,
    )


def decider(contenu, import_):
    importeur = ImporteurActivitesCoop()
    return importeur.decider(importeur.lire(contenu, "activites.xlsx", import_.options), import_)


def importer(contenu, import_, *, lot=None):
    """Read, decide and apply as the engine does (batches of ``lot`` activities, each decided then applied in one
    transaction); the decisions."""
    importeur = ImporteurActivitesCoop()
    importeur.verifier(contenu, "activites.xlsx", import_.options)
    lignes = importeur.lire(contenu, "activites.xlsx", import_.options)
    lot = lot or max(len(lignes), 1)
    decisions = []
    for debut in range(0, len(lignes), lot):
        with transaction.atomic():
            batch = importeur.decider(lignes[debut : debut + lot], import_)
            importeur.appliquer([d for d in batch if d.action in ECRITURES], import_)
        decisions.extend(batch)
    importeur.apres(import_)
    return decisions


def actions(decisions):
    return [decision.action for decision in decisions]
