"""Every figure of a dashboard (``reporting.tableau.Tableau``) as a CSV file or an XLSX workbook.

- CSV: one long table, one row per value (« Rubrique ; Tableau ; Ligne ; Mesure ; Valeur »), so that a spreadsheet
  filters and pivots it; « ; » separator, UTF-8 with BOM and decimal commas, as French spreadsheets expect.
- XLSX: one sheet per section, its key numbers then each figure as a table under its title, with how it is counted;
  numbers, euros and rates are typed cells (the reports reuse ``tableau_xlsx`` for the monthly workbook).

A hidden count reads « moins de 5 » in both, a text starting like a formula stays text (CSV injection).
"""

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from conseillers.exports import FORMULA_STARTS

from .tableau import DECIMAL, DUREE, EUROS, MASQUE, POURCENT

BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_COLUMNS = ["Rubrique", "Tableau", "Ligne", "Mesure", "Valeur"]
CHIFFRES_CLES = "Chiffres clés"
UNITES = {EUROS: " (€)", POURCENT: " (%)", DUREE: " (minutes)"}
XLSX_FORMATS = {EUROS: '#,##0.00\\ "€"', POURCENT: "0.0%", DECIMAL: "0.0", DUREE: "0"}
SHEET_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def nom_de_fichier(tableau, extension):
    return f"pilotage-{tableau.du:%Y-%m}-{tableau.au:%Y-%m}.{extension}"


def periode(tableau):
    return f"Du {tableau.du:%d/%m/%Y} au {tableau.au:%d/%m/%Y} — {tableau.perimetre.libelle}"


def _texte(value):
    """A label as a spreadsheet keeps it: never a formula, never a control character."""
    value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _mesures(section):
    """(table, row label, measure, typed value or text, format) of every value of a section, cards first."""
    for carte in section.cartes:
        value = carte.masque or carte.value
        yield CHIFFRES_CLES, carte.label, "Valeur" + UNITES.get(carte.format, ""), value, carte.format
    for figure in section.figures:
        headers = figure.en_tetes[1:]
        for label, values in figure.donnees():
            for index, (header, value, format) in enumerate(zip(headers, values, figure.formats, strict=True)):
                if index == 0 and value is None:
                    value = MASQUE
                yield figure.title, label, header + UNITES.get(format, ""), value, format


# --- CSV -----------------------------------------------------------------------------------------------------------
def _csv_value(value, format):
    if value is None:
        return ""
    if isinstance(value, str):
        return _texte(value)
    if format == POURCENT:
        value = round(value, 1)
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    return str(value)


def tableau_csv(tableau):
    """The whole dashboard as CSV bytes (UTF-8 with BOM, « ; »)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for section in tableau.sections:
        for table, label, measure, value, format in _mesures(section):
            writer.writerow(
                [_texte(section.title), _texte(table), _texte(label), _texte(measure), _csv_value(value, format)]
            )
    return (BOM + buffer.getvalue()).encode("utf-8")


# --- XLSX ----------------------------------------------------------------------------------------------------------
def _sheet_title(title, taken):
    base = title.translate(SHEET_FORBIDDEN).strip()[:31] or "Feuille"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _cell(sheet, row, column, value, format=None, *, bold=False):
    if isinstance(value, str):
        value = _texte(value)
    elif format == POURCENT and value is not None:
        value = float(value) / 100
    elif isinstance(value, Decimal) and format != EUROS:
        value = float(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if format in XLSX_FORMATS and not isinstance(value, str):
        cell.number_format = XLSX_FORMATS[format]
    if bold:
        cell.font = Font(bold=True)
    return cell


def _write_section(sheet, tableau, section):
    _cell(sheet, 1, 1, section.title, bold=True)
    _cell(sheet, 2, 1, periode(tableau))
    row = 4
    if section.note:
        _cell(sheet, 3, 1, section.note)
    _cell(sheet, row, 1, CHIFFRES_CLES, bold=True)
    row += 1
    for column, header in enumerate(("Indicateur", "Valeur", "Comment c'est compté"), start=1):
        _cell(sheet, row, column, header, bold=True)
    for carte in section.cartes:
        row += 1
        _cell(sheet, row, 1, carte.label + UNITES.get(carte.format, ""))
        _cell(sheet, row, 2, carte.masque or carte.value, carte.format)
        _cell(sheet, row, 3, carte.how)
    for figure in section.figures:
        row += 2
        _cell(sheet, row, 1, figure.title, bold=True)
        row += 1
        for column, header in enumerate(figure.en_tetes, start=1):
            _cell(sheet, row, column, header, bold=True)
        for label, values in figure.donnees():
            row += 1
            _cell(sheet, row, 1, label)
            for column, (value, format) in enumerate(zip(values, figure.formats, strict=True), start=2):
                if column == 2 and value is None:
                    value = MASQUE
                _cell(sheet, row, column, value, format)
        if not figure.lignes:
            row += 1
            _cell(sheet, row, 1, "Aucune donnée sur la période.")
        row += 1
        _cell(sheet, row, 1, f"Comment c'est compté : {figure.how}")
    sheet.column_dimensions["A"].width = 45
    for column in range(2, 7):
        sheet.column_dimensions[get_column_letter(column)].width = 20


def tableau_xlsx(tableau):
    """The whole dashboard as XLSX bytes: one sheet per section."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken = set()
    for section in tableau.sections:
        sheet = workbook.create_sheet(_sheet_title(section.title, taken))
        _write_section(sheet, tableau, section)
    if not tableau.sections:
        workbook.create_sheet("Tableau de bord")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
