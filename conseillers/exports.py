"""CSV and XLSX exports of the posts board (the same filtered list as the page).

Both read the board's queryset in chunks (``iterator``) so that memory stays flat whatever the number of posts: the
CSV is streamed line by line, the XLSX is written by a write-only workbook into a temporary file that is then
streamed. The CSV uses « ; » and a UTF-8 BOM, as French Excel expects.
"""

import csv
import tempfile

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from .choices import EtatPoste, TypeContrat, Typologie
from .selectors import TrainingStatus

CHUNK_SIZE = 500
BOM = "\ufeff"

COLUMNS = [
    "Identifiant",
    "Structure",
    "Commune",
    "Typologie",
    "Phase",
    "État",
    "Date d'attribution",
    "Date de rendu",
    "Occupant",
    "Type de contrat",
    "Fin de contrat",
    "Formation de l'année",
    "Financement accordé (€)",
    "Financement versé (€)",
]
DATE_COLUMNS = {"Date d'attribution", "Date de rendu", "Fin de contrat"}
MONEY_COLUMNS = {"Financement accordé (€)", "Financement versé (€)"}


def _label(enum, value):
    return enum(value).label if value else ""


def rows(postes, funding):
    """One list of typed values per post (dates as dates, money as Decimal), in ``COLUMNS`` order."""
    for poste in postes.iterator(chunk_size=CHUNK_SIZE):
        figures = funding.get(poste.pk)
        yield [
            str(poste.uuid),
            poste.structure.nom,
            poste.structure.commune.nom,
            _label(Typologie, poste.typologie),
            poste.phase,
            _label(EtatPoste, poste.etat),
            poste.date_attribution,
            poste.date_rendu,
            poste.occupant_nom or "",
            _label(TypeContrat, poste.contrat_type),
            poste.contrat_fin,
            TrainingStatus.LABELS.get(poste.formation_statut, ""),
            figures.agreed if figures else None,
            figures.paid if figures else None,
        ]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(column, value):
    if value is None:
        return ""
    if column in DATE_COLUMNS:
        return f"{value:%d/%m/%Y}"
    if column in MONEY_COLUMNS:
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a name typed as "=…" stays text in a spreadsheet (CSV injection)
    return value


class _Echo:
    def write(self, value):
        return value


def csv_response(postes, funding, *, filename):
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield BOM + writer.writerow(COLUMNS)
        for row in rows(postes, funding):
            yield writer.writerow([_csv_value(column, value) for column, value in zip(COLUMNS, row, strict=True)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(postes, funding, *, filename):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Postes")
    sheet.append(COLUMNS)
    for row in rows(postes, funding):
        cells = []
        for column, value in zip(COLUMNS, row, strict=True):
            cell = WriteOnlyCell(sheet, value=value)
            if column in DATE_COLUMNS and value is not None:
                cell.number_format = "DD/MM/YYYY"
            elif column in MONEY_COLUMNS and value is not None:
                cell.number_format = "#,##0.00"
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
