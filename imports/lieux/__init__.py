"""The import of places in the national standard: ``importeur`` (matching and deciding), ``lecture`` (CSV and JSON
files), ``colonnes`` (the standard's columns and the row validator)."""

from .colonnes import required_columns, standard_columns
from .importeur import ImporteurLieux

__all__ = ["ImporteurLieux", "required_columns", "standard_columns"]
