"""The national export of activities (format of La Coop de la médiation numérique), as CSV and XLSX: one row per
accompaniment, so that a workshop of 3 gives 3 rows (Participants 1/3, 2/3, 3/3) sharing one ID CRA.

Three variants of columns (see ``export_notes`` in the vocabulary fixture):
- a conseiller's own export adds « Bénéficiaire » (the followed person's name) and « Notes supplémentaires »;
- a team export (staff, référents) adds the four mediator columns after « Dernière modification le », never notes.

Rows are read in chunks (``iterator``) with every related row joined, so that the number of queries is fixed and the
memory flat whatever the number of rows: the CSV is streamed line by line, the XLSX is written by a write-only
workbook into a temporary file that is then streamed. The CSV uses « ; » and a UTF-8 BOM, as French Excel expects,
and a text starting like a formula stays text (CSV injection), as in ``conseillers.exports``.
"""

import csv
import datetime
import tempfile
from zoneinfo import ZoneInfo

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment

from conseillers.exports import FORMULA_STARTS

from . import choices as c
from .models import Accompagnement

CHUNK_SIZE = 1000
BOM = "\ufeff"
PARIS = ZoneInfo("Europe/Paris")
# ``updated_at`` is set a few microseconds after ``created_at`` on creation: within a second, never modified.
NEVER_MODIFIED = datetime.timedelta(seconds=1)
SHEET_NAME = "Activités"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

BENEFICIAIRE = "Bénéficiaire"
NOTES = "Notes supplémentaires"
DATE_COLUMN = "Date"
MULTILINE_COLUMNS = {"Matériel numérique utilisé", "Thématique(s) d’accompagnement", "Tags"}

TYPE_LABELS = dict(c.TYPE_ACTIVITE)
TYPE_LIEU_LABELS = dict(c.TYPE_LIEU)
MATERIEL_LABELS = dict(c.MATERIEL)
REDIRECTION_LABELS = dict(c.STRUCTURE_REDIRECTION)
GENRE_LABELS = dict(c.GENRE)
TRANCHE_AGE_LABELS = dict(c.TRANCHE_AGE)
STATUT_LABELS = dict(c.STATUT_SOCIAL)
ROLE_CONSEILLER, ROLE_COORDINATEUR = "Conseiller numérique", "Coordinateur"


def columns(*, team):
    """The header row: the national columns, with the team's or the author's extra columns."""
    cols = list(c.EXPORT_COLONNES)
    if team:
        at = cols.index("Dernière modification le") + 1
        return cols[:at] + list(c.EXPORT_COLONNES_EQUIPE) + cols[at:]
    cols.insert(cols.index("Participants") + 1, BENEFICIAIRE)
    cols.insert(cols.index("ID CRA"), NOTES)
    return cols


def accompagnements_of(activites):
    """The accompaniment rows of live activities, with everything a row needs joined (one query)."""
    return (
        Accompagnement.objects.filter(activite__in=activites.order_by().values("pk"), activite__supprimee_le=None)
        .select_related(
            "activite",
            "activite__lieu",
            "activite__commune",
            "activite__conseiller",
            "commune_residence",
            "beneficiaire",
        )
        .order_by("-activite__date", "-activite__created_at", "activite_id", "rang")
    )


def _stamp(value):
    return f"{value.astimezone(PARIS):%d/%m/%Y à %H:%M}" if value else ""


def _labels(codes, labels):
    return "\n".join(labels.get(code, code) for code in codes or [])


def _etoiles(activite):
    code = activite.niveau if activite.est_collectif else activite.autonomie
    stars = c.ETOILES.get(code)
    return f"{stars}/3" if stars else ""


def _oui_non(value):
    return "" if value is None else ("Oui" if value else "Non")


def _place(activite):
    """Name, address, commune, postal code and INSEE code of where the activity took place."""
    lieu = activite.lieu
    if lieu is not None:
        adresse = ", ".join(part for part in (lieu.adresse, lieu.complement_adresse) if part)
        commune = activite.commune
        return (
            lieu.nom,
            adresse,
            commune.nom if commune else "",
            lieu.code_postal,
            commune.code_insee if commune else "",
        )
    return ("", "", *_commune(activite.commune))


def _commune(commune):
    if commune is None:
        return ("", "", "")
    return (commune.nom, (commune.codes_postaux or [""])[0], commune.code_insee)


def row(accompagnement, *, team):
    """One accompaniment as a dict keyed by column (typed values: the date is a date, the duration an int)."""
    activite = accompagnement.activite
    modified = activite.updated_at and activite.updated_at - activite.created_at >= NEVER_MODIFIED
    nom_lieu, adresse, commune, code_postal, insee = _place(activite)
    commune_b, code_postal_b, insee_b = _commune(accompagnement.commune_residence)
    values = {
        "Date": activite.date,
        "Enregistré le": _stamp(activite.created_at),
        "Dernière modification le": _stamp(activite.updated_at) if modified else "",
        "Type": TYPE_LABELS.get(activite.type, activite.type),
        "Participants": f"{accompagnement.rang}/{activite.participants}" if activite.est_collectif else "1",
        "Canaux d’accompagnement": TYPE_LIEU_LABELS.get(activite.type_lieu, activite.type_lieu),
        "Nom du lieu": nom_lieu,
        "Adresse": adresse,
        "Commune": commune,
        "Code postal": code_postal,
        "Code Insee": insee,
        "Durée (min)": activite.duree,
        "Nom de l’atelier": activite.titre_atelier,
        "Matériel numérique utilisé": _labels(activite.materiel, MATERIEL_LABELS),
        "Thématique(s) d’accompagnement": _labels(activite.thematiques, c.THEMATIQUE_LABELS),
        "Tags": "",
        "Nom de la démarche administrative": activite.nom_demarche,
        "Niveau d’autonomie (ou de l’atelier)": _etoiles(activite),
        "Bénéficiaire réorienté": _oui_non(activite.oriente),
        "Structure de redirection": REDIRECTION_LABELS.get(activite.structure_redirection, ""),
        "Commune du bénéficiaire": commune_b,
        "Code postal du bénéficiaire": code_postal_b,
        "Code Insee du bénéficiaire": insee_b,
        "Genre du bénéficiaire": GENRE_LABELS.get(accompagnement.genre, ""),
        "Tranche d’âge du bénéficiaire": TRANCHE_AGE_LABELS.get(accompagnement.tranche_age, ""),
        "Statut du bénéficiaire": STATUT_LABELS.get(accompagnement.statut_social, ""),
        # An activity imported from the national tool keeps its id there: exported, it comes back to itself.
        "ID CRA": activite.id_externe or str(activite.uuid),
    }
    if team:
        conseiller = activite.conseiller
        values.update(
            {
                "Prénom du médiateur": conseiller.prenom,
                "Nom du médiateur": conseiller.nom,
                "Rôle": ROLE_COORDINATEUR if conseiller.est_coordinateur else ROLE_CONSEILLER,
                "ID - Conum": str(conseiller.uuid),
            }
        )
    else:
        # Only in the author's own export: the followed person's name and the activity's private notes.
        beneficiaire = accompagnement.beneficiaire
        values[BENEFICIAIRE] = f"{beneficiaire.prenom} {beneficiaire.nom}" if beneficiaire else ""
        values[NOTES] = activite.notes
    return values


def rows(accompagnements, *, team):
    """Lists of typed values in ``columns(team=team)`` order, read in chunks."""
    cols = columns(team=team)
    for accompagnement in accompagnements.iterator(chunk_size=CHUNK_SIZE):
        values = row(accompagnement, team=team)
        yield [values[col] for col in cols]


def _is_formula_like(value):
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if _is_formula_like(value):
        return "'" + value  # a text typed as "=…" stays text in a spreadsheet (CSV injection)
    return value


class _Echo:
    def write(self, value):
        return value


def csv_response(accompagnements, *, team, filename):
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield BOM + writer.writerow(columns(team=team))
        for values in rows(accompagnements, team=team):
            yield writer.writerow([_csv_value(value) for value in values])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(accompagnements, *, team, filename):
    cols = columns(team=team)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.append(cols)
    wrap = Alignment(wrap_text=True, vertical="top")
    for values in rows(accompagnements, team=team):
        cells = []
        for col, value in zip(cols, values, strict=True):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters are refused by the XLSX format
            cell = WriteOnlyCell(sheet, value=value)
            if col == DATE_COLUMN:
                cell.number_format = "DD/MM/YYYY"
            elif col in MULTILINE_COLUMNS or col == NOTES:
                cell.alignment = wrap
            if _is_formula_like(value):
                cell.data_type = "s"  # stored as text, never evaluated as a formula
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
