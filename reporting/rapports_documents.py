"""The documents of a report: its figures, the HTML of its PDF (with the same SVG charts as the pages), the PDF
laid out by WeasyPrint, and the XLSX workbook.

A monthly or on-demand report shows the dashboard of the whole territory (``reporting.tableau``). The annual report,
for the State and the Département, shows the programme's national indicators in the national definitions: posts
granted and occupied on 1 January and 31 December, with the occupancy rate (occupied ÷ granted); accompaniments
(individual ones, and one per participant of a collective workshop); activities per thématique under their national
codes and labels; collective workshops (the activity log's « atelier collectif » activities) and their participants.
Its workbook is the dashboard's with a sheet of those indicators added.

Nothing is fetched while the PDF is laid out: the HTML holds everything (charts are inline SVG, the stylesheet is
given as a string), and the URL fetcher refuses every address.
"""

import io
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.statistiques import Statistiques
from conseillers.selectors import postes_counts_at

from .models import TypeRapport

TEMPLATE_PDF = "reporting/rapports/pdf.html"
TEMPLATE_PDF_ANNUEL = "reporting/rapports/pdf_annuel.html"
TEMPLATE_CSS = "reporting/rapports/pdf.css"
FEUILLE_NATIONALE = "Indicateurs nationaux"
SOMMAIRE_ANNUEL = [
    ("section-postes", "1. Postes de conseillers numériques"),
    ("section-accompagnements", "2. Accompagnements"),
    ("section-thematiques", "3. Thématiques"),
    ("section-ateliers", "4. Ateliers collectifs"),
    ("section-publics", "5. Lieux, durées et publics"),
]


# WeasyPrint logs every layout step at INFO: one line per page and pass, nothing an operator needs.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class MiseEnPageIndisponible(RuntimeError):
    """WeasyPrint cannot load the system libraries it draws with (Pango): a server set-up problem, not a data one."""


@dataclass
class IndicateurNational:
    code: str
    label: str
    value: object  # an int, or a rate as a Decimal between 0 and 1
    taux: bool = False

    @property
    def affichage(self):
        if self.value is None:
            return "—"
        if self.taux:
            return f"{self.value * 100:.1f}".replace(".", ",") + "\u00a0%"
        return f"{int(self.value):,}".replace(",", "\u00a0")


@dataclass
class BilanNational:
    """The annual report's indicators, in the national definitions."""

    du: object
    au: object
    postes: list  # [(title, [IndicateurNational])] on 1 January and on 31 December
    accompagnements: list  # [IndicateurNational]
    ateliers: list  # [IndicateurNational]
    thematiques: list  # [(code, label, activities, share of activities in %)]
    demarches: list  # [(code, label, activities, share of administrative-procedure activities in %)]
    stats: Statistiques
    mois: object = None  # accompaniments per month
    repartitions: list = field(default_factory=list)  # places, durations and people, with their charts
    postes_par_structure: object = None  # from the dashboard
    seances: list = field(default_factory=list)  # the dashboard's key numbers of the sessions held on the platform


@dataclass
class Contenu:
    rapport: object
    tableau: object  # reporting.tableau.Tableau of the whole territory
    bilan: BilanNational | None = None
    produit_le: object = None


# --- Figures ---------------------------------------------------------------------------------------------------------
def contenu(rapport):
    """The figures of ``rapport``'s period, read from the summary tables."""
    from .tableau import Perimetre, tableau_de_bord

    tableau = tableau_de_bord(rapport.du, rapport.au, Perimetre())
    bilan = None
    if rapport.type == TypeRapport.ANNUEL:
        bilan = bilan_national(rapport.du, rapport.au)
        bilan.postes_par_structure = tableau.section("postes").figure("structures")
        bilan.seances = tableau.section("ateliers").cartes
    return Contenu(rapport=rapport, tableau=tableau, bilan=bilan, produit_le=timezone.localtime())


def _postes(date):
    figures = postes_counts_at(date)
    return [
        IndicateurNational("postes_attribues", "Postes attribués", figures["granted"]),
        IndicateurNational("postes_occupes", "Postes occupés", figures["occupied"]),
        IndicateurNational("postes_vacants", "Postes vacants", figures["vacant"]),
        IndicateurNational(
            "taux_occupation", "Taux d'occupation (occupés ÷ attribués)", figures["occupancy_rate"], taux=True
        ),
        IndicateurNational("postes_rendus", "Postes rendus (cumul)", figures["returned"]),
    ]


def _par_code(vocabulary, counts, base):
    return [
        (code, label, counts.get(code) or 0, 100 * (counts.get(code) or 0) / base if base else None)
        for code, label in vocabulary
    ]


def bilan_national(du, au):
    from . import resume

    stats = resume.statistiques(du, au)
    chiffres = stats.chiffres
    thematiques = {ligne.code: ligne.value for ligne in stats.figure("thematiques").lignes}
    demarches = {ligne.code: ligne.value for ligne in stats.figure("demarches").lignes}
    collectifs, participants = chiffres["collectifs"], chiffres["participants_ateliers"]
    return BilanNational(
        du=du,
        au=au,
        postes=[(f"Au {du:%d/%m/%Y}", _postes(du)), (f"Au {au:%d/%m/%Y}", _postes(au))],
        accompagnements=[
            IndicateurNational("accompagnements", "Accompagnements", chiffres["accompagnements"]),
            IndicateurNational("accompagnements_individuels", "Accompagnements individuels", chiffres["individuels"]),
            IndicateurNational("participants_ateliers", "Participants des ateliers collectifs", participants),
            IndicateurNational("nouveaux", "Accompagnements de nouveaux bénéficiaires", chiffres["nouveaux"]),
            IndicateurNational(
                "deja_accompagnes", "Accompagnements de bénéficiaires déjà accompagnés", chiffres["deja_accompagnes"]
            ),
            IndicateurNational(
                "activites", "Activités (accompagnements individuels et ateliers)", chiffres["activites"]
            ),
            IndicateurNational("heures", "Heures d'accompagnement", round(chiffres["duree"] / 60)),
        ],
        ateliers=[
            IndicateurNational("ateliers_collectifs", "Ateliers collectifs", collectifs),
            IndicateurNational("participants_ateliers", "Participants", participants),
            IndicateurNational(
                "participants_par_atelier",
                "Participants par atelier (moyenne, arrondie)",
                round(participants / collectifs) if collectifs else None,
            ),
        ],
        thematiques=_par_code(c.THEMATIQUES_GENERALES, thematiques, chiffres["activites"]),
        demarches=_par_code(c.THEMATIQUES_ADMINISTRATIVES, demarches, thematiques.get(c.AIDE_DEMARCHES, 0)),
        stats=stats,
        mois=stats.figure("mois"),
        repartitions=[stats.figure(key) for key in ("lieux", "durees", "genre", "tranche_age", "statut_social")],
    )


# --- Documents ------------------------------------------------------------------------------------------------------
def html(contenu):
    """The HTML of the PDF, with its SVG charts drawn."""
    rapport = contenu.rapport
    if contenu.bilan is not None:
        template, sommaire = TEMPLATE_PDF_ANNUEL, SOMMAIRE_ANNUEL
        titre = f"Bilan annuel {rapport.du.year} du dispositif Conseiller numérique"
    else:
        template = TEMPLATE_PDF
        sommaire = [(f"section-{section.key}", section.title) for section in contenu.tableau.sections]
        titre = f"{rapport.get_type_display()} — {rapport.periode_libelle}"
    return render_to_string(
        template,
        {
            "rapport": rapport,
            "titre": titre,
            "sommaire": [*sommaire, ("lire-ce-rapport", "Lire ce rapport")],
            "periode": rapport.periode_dates,
            "tableau": contenu.tableau,
            "bilan": contenu.bilan,
            "produit_le": contenu.produit_le,
            "platform_name": settings.PLATFORM_NAME,
            "territoire_nom": settings.TERRITOIRE_NOM,
        },
    )


def pdf(document_html):
    """The PDF of ``document_html``, tagged (headings, tables and the charts' text alternatives are kept for
    assistive technologies)."""
    try:
        import weasyprint  # here, not at import time: the quick start runs without Pango
    except OSError as error:
        raise MiseEnPageIndisponible(str(error)) from error
    css = weasyprint.CSS(string=render_to_string(TEMPLATE_CSS))
    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    document = weasyprint.HTML(string=document_html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], pdf_tags=True)


def xlsx(contenu):
    """The workbook of the dashboard; the annual report's has its national indicators on a sheet of their own."""
    from .exports import tableau_xlsx

    data = tableau_xlsx(contenu.tableau)
    if contenu.bilan is None:
        return data
    return _avec_indicateurs_nationaux(data, contenu.bilan)


def _avec_indicateurs_nationaux(data, bilan):
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.create_sheet(FEUILLE_NATIONALE, 0)
    bold = Font(bold=True)
    sheet.append([f"Indicateurs nationaux du {bilan.du:%d/%m/%Y} au {bilan.au:%d/%m/%Y}"])
    sheet["A1"].font = bold
    for title, indicateurs in [
        *[(f"Postes — {when.lower()}", rows) for when, rows in bilan.postes],
        ("Accompagnements", bilan.accompagnements),
        ("Ateliers collectifs", bilan.ateliers),
    ]:
        sheet.append([])
        sheet.append([title, "Code", "Valeur"])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for indicateur in indicateurs:
            value = indicateur.value
            if indicateur.taux and value is not None:
                value = float(value)
            sheet.append([indicateur.label, indicateur.code, value])
            if indicateur.taux:
                sheet.cell(sheet.max_row, 3).number_format = "0.0%"
    for title, rows, base in [
        ("Activités par thématique", bilan.thematiques, "Part des activités"),
        ("Aides aux démarches administratives par domaine", bilan.demarches, "Part des aides aux démarches"),
    ]:
        sheet.append([])
        sheet.append([title, "Code national", "Activités", base])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for code, label, value, part in rows:
            sheet.append([label, code, value, None if part is None else part / 100])
            sheet.cell(sheet.max_row, 4).number_format = "0.0%"
    sheet.column_dimensions["A"].width = 60
    sheet.column_dimensions["B"].width = 38
    sheet.column_dimensions["C"].width = 14
    sheet.column_dimensions["D"].width = 22
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
