"""The dashboards' data: the territory (or a user's scope) at a glance over a period, as sections of key numbers
and figures that the page, the CSV/XLSX exports and the periodic reports render alike. Nothing here reads a request.

- ``perimetre_pour(user, structure=…, commune=…)`` turns a user into a ``Perimetre`` (what they may see) once;
- ``tableau_de_bord(du, au, perimetre)`` computes the sections with a fixed number of aggregate queries whatever the
  number of rows (``REQUETES``): activity figures come from ``reporting.resume.statistiques`` only, post and funding
  figures from the selectors of their apps;
- ``statistiques_publiques(du, au)`` is the public page's short version, every count of people from 1 to 4 hidden.

Modules: ``elements`` (what a section is made of, formats, hiding small counts), ``perimetre`` (scope),
``activites``, ``ateliers`` and ``reseau`` (the sections).
"""

from django.utils import timezone

from .activites import section_accompagnements, statistiques_publiques
from .ateliers import section_ateliers, section_pass
from .elements import (
    DECIMAL,
    DUREE,
    EUROS,
    MASQUE,
    NOMBRE,
    NON_DIFFUSE,
    POURCENT,
    Chiffre,
    Colonne,
    FigureTableau,
    LigneTableau,
    Section,
    Tableau,
    formater,
    proteger,
)
from .perimetre import Perimetre, perimetre_pour
from .reseau import section_aidants, section_financements, section_orientations, section_postes

__all__ = [
    "DECIMAL",
    "DUREE",
    "EUROS",
    "MASQUE",
    "NOMBRE",
    "NON_DIFFUSE",
    "POURCENT",
    "REQUETES",
    "Chiffre",
    "Colonne",
    "FigureTableau",
    "LigneTableau",
    "Perimetre",
    "Section",
    "Tableau",
    "formater",
    "perimetre_pour",
    "statistiques_publiques",
    "tableau_de_bord",
]

# Queries of ``tableau_de_bord``, whatever the number of rows: activities 4 (``resume.statistiques``) + populations 1,
# workshops 2, posts 3, funding 4, passes 1, referrals 1, aidants 2.
REQUETES = 18


# --- The dashboard -------------------------------------------------------------------------------------------------
def tableau_de_bord(du, au, perimetre, *, today=None):
    """Every section of the dashboard of ``perimetre`` from ``du`` to ``au`` (both included), in ``REQUETES``
    queries."""
    today = today or timezone.localdate()
    sections = [
        section_accompagnements(du, au, perimetre),
        section_ateliers(du, au, perimetre, now=timezone.now()),
        section_postes(du, au, perimetre, today=today),
        section_financements(du, au, perimetre, today=today),
        section_pass(du, au, perimetre),
        section_orientations(du, au, perimetre),
        section_aidants(du, au, perimetre),
    ]
    if perimetre.public:
        for section in sections:
            proteger(section.cartes, section.figures)
    return Tableau(du=du, au=au, perimetre=perimetre, sections=sections)
