"""CSV and XLSX exports of the aidants directory (the same filtered list as the page, professional contacts only).

Rows are read in chunks (``iterator`` with the covered communes prefetched per chunk), so memory stays flat; the CSV
is streamed with « ; » and a UTF-8 BOM, as French Excel expects, and a value that a spreadsheet would take as a
formula is kept as text.
"""

import csv
import tempfile

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from accompagnements.choices import THEMATIQUE_LABELS

from .models import TypeAidant

CHUNK_SIZE = 500
BOM = "\ufeff"
COLUMNS = [
    "Identifiant",
    "Nom",
    "Prénom",
    "Structure",
    "Commune de la structure",
    "Profession",
    "Statut",
    "E-mail professionnel",
    "Téléphone professionnel",
    "Communes couvertes",
    "Aide pour",
    "Habilité Aidants Connect",
    "Habilité depuis le",
    "Actif",
]
DATE_COLUMNS = {"Habilité depuis le"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(aidants):
    for aidant in aidants.iterator(chunk_size=CHUNK_SIZE):
        yield [
            str(aidant.uuid),
            aidant.nom,
            aidant.prenom,
            aidant.structure.nom,
            aidant.structure.commune.nom,
            aidant.profession,
            TypeAidant(aidant.type).label if aidant.type in TypeAidant.values else aidant.type,
            aidant.email,
            aidant.telephone,
            ", ".join(sorted(commune.nom for commune in aidant.communes.all())),
            ", ".join(THEMATIQUE_LABELS.get(code, code) for code in aidant.thematiques or []),
            "oui" if aidant.habilite_aidants_connect else "non",
            aidant.date_habilitation,
            "oui" if aidant.actif else "non",
        ]


def _text(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # a name typed as "=…" stays text in a spreadsheet (formula injection)
    return value


def _csv_value(column, value):
    if value is None:
        return ""
    if column in DATE_COLUMNS:
        return f"{value:%d/%m/%Y}"
    return _text(value)


class _Echo:
    def write(self, value):
        return value


def csv_response(aidants, *, filename):
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield BOM + writer.writerow(COLUMNS)
        for row in rows(aidants):
            yield writer.writerow([_csv_value(column, value) for column, value in zip(COLUMNS, row, strict=True)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(aidants, *, filename):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Aidants")
    sheet.append(COLUMNS)
    for row in rows(aidants):
        cells = []
        for column, value in zip(COLUMNS, row, strict=True):
            cell = WriteOnlyCell(sheet, value=_text(value))
            if column in DATE_COLUMNS and value is not None:
                cell.number_format = "DD/MM/YYYY"
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
