"""What a dashboard is made of: key numbers (``Chiffre``), figures with a typed data table (``FigureTableau``),
sections and the whole ``Tableau``, the French formats of their values, and the hiding of small counts of people.

They reuse ``accompagnements.statistiques`` (``Carte``, ``Figure``, ``Ligne``) so that the chart tags and the figure
templates draw them; the page, the CSV/XLSX exports and the reports read the same objects.
"""

import datetime
from dataclasses import dataclass, field, fields
from types import SimpleNamespace

from accompagnements.statistiques import PETIT_EFFECTIF, Carte, Figure, Ligne, hide_small_counts
from financements.services import euros
from sicoval_numerique.charts import number
from sicoval_numerique.templatetags.charts import duree, pourcent

NOMBRE, DUREE, EUROS, POURCENT, DECIMAL = "nombre", "duree", "euros", "pourcent", "decimal"
MASQUE = "moins de 5"
NON_DIFFUSE = "non diffusé"
VIDE = "—"
STRUCTURES_DANS_LE_GRAPHIQUE = 10


def formater(value, format=NOMBRE):
    """A value as French write it: 1 234, 12 h 05 min, 50 000,00 €, 75 %, 12,3 (no-break spaces)."""
    if value is None:
        return VIDE
    if format == EUROS:
        return euros(value)
    if format == POURCENT:
        return pourcent(value)
    if format == DUREE:
        return duree(value)
    if format == DECIMAL:
        text = f"{value:,.1f}".removesuffix(".0")
        return text.replace(",", "\u00a0").replace(".", ",")
    return number(value)


def part(value, base):
    """``value`` as a percentage of ``base`` (a float), None without a base."""
    return 100 * float(value) / float(base) if base else None


# --- What the sections are made of ---------------------------------------------------------------------------------
@dataclass
class Chiffre(Carte):
    """A key number. ``personnes``: a count of people, hidden from 1 to 4 outside staff and référent views;
    ``groupe``: cards that add up to another (hidden together, so that no hidden one can be worked out);
    ``masque_avec``: the keys of cards whose hiding hides this one too (a rate that would give a count back);
    ``masque``: what a hidden card shows instead of its value (then None): « moins de 5 », or « non diffusé » for a
    card hidden so that another cannot be worked out."""

    format: str = NOMBRE
    personnes: bool = False
    groupe: str = ""
    masque_avec: tuple = ()
    masque: str = ""

    @property
    def texte(self):
        return self.masque or formater(self.value, self.format)


@dataclass
class Colonne:
    """A column of a figure's data table after the counted value: ``cle`` names a ``Ligne`` attribute (``part``,
    ``activites``) or a key of ``LigneTableau.extras``."""

    titre: str
    cle: str
    format: str = NOMBRE


@dataclass
class LigneTableau(Ligne):
    extras: dict = field(default_factory=dict)

    def valeur(self, cle):
        return self.extras[cle] if cle in self.extras else getattr(self, cle, None)


def _valeur(ligne, cle):
    return ligne.valeur(cle) if isinstance(ligne, LigneTableau) else getattr(ligne, cle, None)


@dataclass
class FigureTableau(Figure):
    """A figure with the format of its counted value (``format``) and the other columns of its data table."""

    format: str = NOMBRE
    colonnes: list = field(default_factory=list)
    unite_graphique: str = ""  # what the chart's description counts ("accompagnements", "euros")

    @property
    def en_tetes(self):
        return [self.dimension, self.unit, *(colonne.titre for colonne in self.colonnes)]

    @property
    def formats(self):
        return [self.format, *(colonne.format for colonne in self.colonnes)]

    def donnees(self):
        """[(label, [value, *column values])] as typed values (None: hidden or not applicable)."""
        return [
            (ligne.label, [ligne.value, *(_valeur(ligne, colonne.cle) for colonne in self.colonnes)])
            for ligne in self.lignes
        ]

    @property
    def rangees(self):
        """[(label, [texts])]: the data table as the page shows it."""
        rows = []
        for label, values in self.donnees():
            texts = [MASQUE if values[0] is None else formater(values[0], self.format)]
            texts += [formater(value, colonne.format) for value, colonne in zip(values[1:], self.colonnes, strict=True)]
            rows.append((label, texts))
        return rows


@dataclass
class Section:
    key: str
    title: str
    cartes: list
    figures: list
    note: str = ""

    def figure(self, key):
        return next(figure for figure in self.figures if figure.key == key)

    def carte(self, key):
        return next(carte for carte in self.cartes if carte.key == key)


@dataclass
class Tableau:
    du: datetime.date
    au: datetime.date
    perimetre: object  # a ``perimetre.Perimetre``
    sections: list

    def section(self, key):
        return next(section for section in self.sections if section.key == key)


def proteger(cartes, figures):
    """Hide every count of people from 1 to 4 ("moins de 5"), with the complementary rule of
    ``accompagnements.statistiques.hide_small_counts``; a hidden row of a figure hides all its columns."""
    hide_small_counts(SimpleNamespace(figures=figures))
    for figure in figures:
        for ligne in figure.lignes:
            if ligne.value is None:
                ligne.activites = None
                if isinstance(ligne, LigneTableau):
                    ligne.extras = dict.fromkeys(ligne.extras)
    groupes = {carte.groupe for carte in cartes if carte.groupe and _petit(carte)}
    for carte in cartes:
        if not carte.masque and _petit(carte):
            carte.masque = MASQUE
        elif not carte.masque and carte.groupe in groupes:
            carte.masque = NON_DIFFUSE
    masquees = {carte.key for carte in cartes if carte.masque}
    for carte in cartes:
        if not carte.masque and masquees.intersection(carte.masque_avec):
            carte.masque = NON_DIFFUSE
        if carte.masque:
            carte.value = None


def _petit(carte):
    return carte.personnes and carte.value is not None and petit_nombre(carte.value)


def petit_nombre(value):
    return 0 < value < PETIT_EFFECTIF


def depuis(figure, **changes):
    """A figure of ``accompagnements.statistiques`` as a ``FigureTableau`` (its default columns: the activities of
    each month, else the share)."""
    values = {f.name: getattr(figure, f.name) for f in fields(Figure)}
    values.update(changes)
    if "colonnes" not in values:
        values["colonnes"] = (
            [Colonne("Activités", "activites")] if figure.vertical else [Colonne("Part", "part", POURCENT)]
        )
    values.setdefault("unite_graphique", figure.unit.lower())
    return FigureTableau(**values)
