"""The import of the Coop's activity export (XLSX): ``importeur`` (the importer, and who the activities are for),
``feuille`` (the sheet and one activity from its rows), ``cellules`` (columns and cells)."""

from .cellules import CONNUES, ID_CONUM, NOM_MEDIATEUR, PRENOM_MEDIATEUR
from .importeur import ImporteurActivitesCoop

__all__ = ["CONNUES", "ID_CONUM", "NOM_MEDIATEUR", "PRENOM_MEDIATEUR", "ImporteurActivitesCoop"]
