"""Demo of the imports: the staff imported last quarter's activities of two conseillers who log everything in the
Coop (a team export, as the Coop writes it, with its workshops of several rows), and a file of the national
cartographie waits in its preview, for staff to read and confirm (two new places of the territory, one out of it,
one with opening hours the standard does not accept).

Both go through the import engine as a file uploaded on the pages would. Deterministic, and done once: a demo that
already has an import is left as it is.
"""

import datetime
import io
import json
import random
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from accompagnements import choices as c
from accompagnements import exports
from conseillers.models import Conseiller
from imports import services
from imports.models import Import, TypeImport
from structures.models import Commune, Lieu

MEDIATEURS = [("Sarah", "Martin"), ("Thomas", "Petit")]
THEMES = ["email", "aide_aux_demarches_administratives", "prendre_en_main_du_materiel", "securite_numerique", "sante"]
ATELIERS = [("Le smartphone au quotidien", ["prendre_en_main_du_materiel"], "debutant")]


def _ligne(rng, conseiller, jour, lieu, commune):
    """One individual session as a row of the Coop's team export (labels, as the Coop writes them)."""
    theme = rng.choice(THEMES)
    themes = [theme] + (["social_sante"] if theme == "aide_aux_demarches_administratives" else [])
    return {
        "Date": jour,
        "Enregistré le": f"{jour:%d/%m/%Y} à 17:30",
        "Prénom du médiateur": conseiller.prenom,
        "Nom du médiateur": conseiller.nom,
        "Rôle": exports.ROLE_CONSEILLER,
        "ID - Conum": "",
        "Type": exports.TYPE_LABELS[c.INDIVIDUEL],
        "Participants": "1",
        "Canaux d’accompagnement": exports.TYPE_LIEU_LABELS[c.LIEU_ACTIVITE if lieu else c.DOMICILE],
        "Nom du lieu": lieu.nom if lieu else "",
        "Commune": commune.nom,
        "Code postal": commune.code_postal_principal,
        "Code Insee": commune.code_insee,
        "Durée (min)": rng.choice([30, 45, 60, 90]),
        "Matériel numérique utilisé": exports.MATERIEL_LABELS[rng.choice(["ordinateur", "telephone"])],
        "Thématique(s) d’accompagnement": "\n".join(c.THEMATIQUE_LABELS[code] for code in themes),
        "Niveau d’autonomie (ou de l’atelier)": f"{rng.randint(1, 3)}/3",
        "Bénéficiaire réorienté": "Non",
        "Genre du bénéficiaire": exports.GENRE_LABELS[rng.choice(["feminin", "masculin", "non_communique"])],
        "Tranche d’âge du bénéficiaire": exports.TRANCHE_AGE_LABELS[
            rng.choice(["soixante_soixante_neuf", "soixante_dix_plus", "quarante_cinquante_neuf"])
        ],
        "Statut du bénéficiaire": exports.STATUT_LABELS[rng.choice(["retraite", "en_emploi", "sans_emploi"])],
        "ID CRA": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }


def _atelier(rng, conseiller, jour, lieu, commune, participants):
    titre, themes, niveau = ATELIERS[0]
    base = _ligne(rng, conseiller, jour, lieu, commune)
    base.update(
        {
            "Type": exports.TYPE_LABELS[c.COLLECTIF],
            "Durée (min)": 120,
            "Nom de l’atelier": titre,
            "Thématique(s) d’accompagnement": "\n".join(c.THEMATIQUE_LABELS[code] for code in themes),
            "Niveau d’autonomie (ou de l’atelier)": f"{c.ETOILES[niveau]}/3",
            "Bénéficiaire réorienté": "",
        }
    )
    return [
        {
            **base,
            "Participants": f"{rang}/{participants}",
            "Genre du bénéficiaire": exports.GENRE_LABELS[rng.choice(["feminin", "masculin"])],
            "Tranche d’âge du bénéficiaire": exports.TRANCHE_AGE_LABELS["soixante_dix_plus"],
            "Statut du bénéficiaire": exports.STATUT_LABELS["retraite"],
        }
        for rang in range(1, participants + 1)
    ]


def _export_coop(rng, today):
    """The Coop's team export of two conseillers over the last three months (bytes of an XLSX file)."""
    colonnes = exports.columns(team=True)
    lieu = Lieu.objects.filter(commune__code_insee="31113", is_active=True).select_related("commune").first()
    domicile = Commune.objects.filter(code_insee__in=["31113", "31381", "31169"]).order_by("code_insee")
    rows = []
    for prenom, nom in MEDIATEURS:
        conseiller = Conseiller.objects.filter(prenom=prenom, nom=nom).first()
        if conseiller is None:
            continue
        for semaine in range(12, 0, -1):
            jour = today - datetime.timedelta(weeks=semaine, days=rng.randint(0, 3))
            for _ in range(2):
                ici = lieu if rng.random() < 0.6 else None
                rows.append(_ligne(rng, conseiller, jour, ici, ici.commune if ici else rng.choice(domicile)))
            if semaine % 4 == 0 and lieu:
                rows.extend(_atelier(rng, conseiller, jour, lieu, lieu.commune, rng.randint(4, 8)))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = exports.SHEET_NAME
    sheet.append(colonnes)
    for row in rows:
        sheet.append([row.get(colonne, "") for colonne in colonnes])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _cartographie():
    """Four places of the national cartographie for the Haute-Garonne, as its JSON export writes them."""
    commun = {"pivot": "00000000000000", "source": "Cartographie nationale", "date_maj": "2026-10-15"}
    return [
        {
            **commun,
            "id": "carto-31-000412",
            "nom": "France Services de Montgiscard",
            "commune": "Montgiscard",
            "code_postal": "31450",
            "code_insee": "31381",
            "adresse": "2 place de la Mairie",
            "latitude": 43.4571,
            "longitude": 1.5703,
            "typologie": "RFS",
            "services": "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
            "frais_a_charge": "Gratuit",
            "horaires": "Mo-Fr 09:00-12:00",
            "dispositif_programmes_nationaux": "France Services",
        },
        {
            **commun,
            "id": "carto-31-000977",
            "nom": "Tiers-lieu La Fabrique de Baziège",
            "commune": "Baziège",
            "code_postal": "31450",
            "code_insee": "31048",
            "adresse": "5 rue de la Gare",
            "services": "Maîtrise des outils numériques du quotidien|Accès internet et matériel informatique",
            "frais_a_charge": "Gratuit",
        },
        {
            **commun,
            "id": "carto-31-001200",
            "nom": "Médiathèque José Cabanis",
            "commune": "Toulouse",
            "code_postal": "31500",
            "code_insee": "31555",
            "adresse": "1 allée Jacques Chaban-Delmas",
            "services": "Maîtrise des outils numériques du quotidien",
        },
        {
            **commun,
            "id": "carto-31-001301",
            "nom": "Point numérique de l'Union des associations",
            "commune": "Castanet-Tolosan",
            "code_postal": "31320",
            "code_insee": "31113",
            "adresse": "12 avenue de Toulouse",
            "services": "Maîtrise des outils numériques du quotidien",
            "horaires": "le mardi matin",
        },
    ]


def load_imports_demo(*, staff, structure_rattachement):
    """Import the Coop export (done) and leave the cartographie file in its preview. Returns the two imports."""
    if Import.objects.exists():
        return list(Import.objects.order_by("created_at"))
    rng = random.Random(2026)  # noqa: S311 - demo data, reproducible
    today = timezone.localdate()
    activites = services.import_deposer(
        by=staff,
        type=TypeImport.ACTIVITES_COOP,
        fichier=SimpleUploadedFile("export-activites-coop-equipe.xlsx", _export_coop(rng, today)),
    )
    services.import_traiter(activites)  # the analysis, as the worker runs it after the upload
    services.import_confirmer(import_=activites, by=staff)
    services.import_traiter(activites)  # the import (the publications after commit then find nothing left to do)
    lieux = services.import_deposer(
        by=staff,
        type=TypeImport.LIEUX,
        fichier=SimpleUploadedFile(
            "cartographie-haute-garonne.json", json.dumps(_cartographie(), ensure_ascii=False).encode("utf-8")
        ),
        options={"structure": str(structure_rattachement.uuid)},
    )
    services.import_traiter(lieux)
    return [activites, lieux]
