"""The national export of activities (format of La Coop de la médiation numérique), as CSV and XLSX: one row per
accompaniment, so that a workshop of 3 gives 3 rows (Participants 1/3, 2/3, 3/3) sharing one ID CRA.

Three variants of columns (see ``export_notes`` in the vocabulary fixture):
- a conseiller's own export adds « Bénéficiaire » (the followed person's name) and « Notes supplémentaires »;
- a team export (staff, référents) adds the four mediator columns after « Dernière modification le », never notes.

Rows are read by one query, every related row joined, so that the number of queries is fixed and the memory flat
whatever the number of rows. The CSV uses « ; », « \n » and a UTF-8 BOM, as French Excel reads them, and a text
starting like a formula stays text (CSV injection), as in ``conseillers.exports``; it is streamed a chunk of lines at
a time. The XLSX is written by a write-only workbook into a temporary file that is then streamed.

An export may hold a million rows (the benchmark ``benchmarks/scenarios/export.py`` measures it against
PostgreSQL's own ``COPY``). On PostgreSQL the CSV is written by PostgreSQL itself (``csv_sql``: every cell computed
in SQL, then ``COPY … TO STDOUT WITH (FORMAT csv)``) and Python forwards its bytes: reading, labelling and writing
each cell in Python cost twice the query. Elsewhere (SQLite) and for the XLSX, rows are plain tuples of the columns
they need (``rows``): no model instances, the JSON lists read as their text (their labels kept per distinct list),
the first postal code picked by the database. Both CSV writers give the same bytes (the tests compare them).
"""

import contextlib
import csv
import datetime
import io
import itertools
import json
import tempfile
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.db import connections, transaction
from django.db.models import Case, CharField, F, Func, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment

from conseillers.exports import FORMULA_STARTS

from . import choices as c

CHUNK_SIZE = 2000
BOM = "\ufeff"
# Rows end with « \n », as PostgreSQL's COPY writes them (a cell of several lines holds « \n » too, quoted).
LINE_END = "\n"
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
ETOILES = {code: f"{stars}/3" for code, stars in c.ETOILES.items() if stars}
OUI_NON = {None: "", True: "Oui", False: "Non"}
# Every formula start is one character: a set answers « does this text start like a formula? » fastest.
FORMULA_FIRST_CHARACTERS = frozenset(FORMULA_STARTS)
if any(len(start) != 1 for start in FORMULA_STARTS):
    raise ValueError("FORMULA_FIRST_CHARACTERS suppose des débuts de formule d'un caractère.")
# Distinct lists of thématiques or equipment whose labels are kept during one export (a few hundred in practice).
LABELS_CACHE_SIZE = 10_000


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
    """The accompaniment rows of live activities, in the export's order: the activities joined to their
    accompaniments (one row per accompaniment), read by ``rows`` with the columns it needs.

    Rooted on the activities, so that their filters (period, conseiller…) apply to the activity table the rows are
    read from: PostgreSQL then reads the period's activities only, where filtering the accompaniments by a sub-query
    of activities made it read every activity of the table a second time to join them."""
    return activites.filter(supprimee_le=None, accompagnements__isnull=False).order_by(
        "-date", "-created_at", "pk", "accompagnements__rang"
    )


# --- What a row is read from --------------------------------------------------------------------------------------
def _paris_stamp(field):
    """PostgreSQL only: a time stamp as « 15/01/2025 à 10:05 » in Paris time, as ``_stamp`` writes it."""
    return Func(
        F(field),
        template=f"to_char(%(expressions)s AT TIME ZONE '{PARIS.key}', 'DD/MM/YYYY \"à\" HH24:MI')",
        output_field=CharField(),
    )


def _stamp_fields(vendor):
    """« Enregistré le » and « Dernière modification le »: formatted by PostgreSQL, or the two datetimes that
    ``_stamps`` formats (other databases: SQLite in the quick start and the default test run)."""
    if vendor == "postgresql":
        modified = When(
            updated_at__gte=F("created_at") + NEVER_MODIFIED,
            then=_paris_stamp("updated_at"),
        )
        return (
            _paris_stamp("created_at"),
            Case(modified, default=Value(""), output_field=CharField()),
        )
    return ("created_at", "updated_at")


def _fields(*, team, vendor):
    """The ``values_list`` columns of a row, in the order ``_row_maker`` unpacks them."""
    common = (
        "date",
        *_stamp_fields(vendor),
        "type",
        "accompagnements__rang",
        "participants",
        "type_lieu",
        "lieu_id",
        "lieu__nom",
        "lieu__adresse",
        "lieu__complement_adresse",
        "lieu__code_postal",
        "commune__nom",
        KeyTextTransform("0", "commune__codes_postaux"),
        "commune__code_insee",
        "duree",
        "titre_atelier",
        Cast("materiel", TextField()),
        Cast("thematiques", TextField()),
        "nom_demarche",
        "niveau",
        "autonomie",
        "oriente",
        "structure_redirection",
        "accompagnements__commune_residence__nom",
        KeyTextTransform("0", "accompagnements__commune_residence__codes_postaux"),
        "accompagnements__commune_residence__code_insee",
        "accompagnements__genre",
        "accompagnements__tranche_age",
        "accompagnements__statut_social",
        "id_externe",
        # Text from PostgreSQL: the export writes it as text (no UUID object built and formatted again per row).
        Cast("uuid", output_field=TextField()) if vendor == "postgresql" else "uuid",
    )
    if team:
        extra = (
            "conseiller__prenom",
            "conseiller__nom",
            "conseiller__est_coordinateur",
            "conseiller__uuid",
        )
    else:
        extra = (
            "accompagnements__beneficiaire",
            "accompagnements__beneficiaire__prenom",
            "accompagnements__beneficiaire__nom",
            "notes",
        )
    return common + extra


def _stamp(value):
    return f"{value.astimezone(PARIS):%d/%m/%Y à %H:%M}" if value else ""


def _stamps(created, updated):
    """The two stamp cells, from what ``_stamp_fields`` selected."""
    if isinstance(updated, str):  # formatted by PostgreSQL (the second is "" unless modified)
        return created or "", updated
    modified = updated and updated - created >= NEVER_MODIFIED
    return _stamp(created), _stamp(updated) if modified else ""


def _labels_reader(labels):
    """Reads a JSON list of codes (as text) into its labels, one per line, keeping those of the lists already met."""
    known = {}

    def read(text):
        try:
            return known[text]
        except KeyError:
            pass
        if len(known) >= LABELS_CACHE_SIZE:
            known.clear()
        codes = json.loads(text) if text else None
        known[text] = value = "\n".join(labels.get(code, code) for code in codes or [])
        return value

    return read


# The cells ``_row_maker`` builds, in the order it builds them (``columns`` gives the order they are written in).
ROW_CELLS = (
    "Date",
    "Enregistré le",
    "Dernière modification le",
    "Type",
    "Participants",
    "Canaux d’accompagnement",
    "Nom du lieu",
    "Adresse",
    "Commune",
    "Code postal",
    "Code Insee",
    "Durée (min)",
    "Nom de l’atelier",
    "Matériel numérique utilisé",
    "Thématique(s) d’accompagnement",
    "Tags",
    "Nom de la démarche administrative",
    "Niveau d’autonomie (ou de l’atelier)",
    "Bénéficiaire réorienté",
    "Structure de redirection",
    "Commune du bénéficiaire",
    "Code postal du bénéficiaire",
    "Code Insee du bénéficiaire",
    "Genre du bénéficiaire",
    "Tranche d’âge du bénéficiaire",
    "Statut du bénéficiaire",
    "ID CRA",
)
TEAM_CELLS = ("Prénom du médiateur", "Nom du médiateur", "Rôle", "ID - Conum")
OWN_CELLS = (BENEFICIAIRE, NOTES)
# The cells whose text comes from people (forms, imports) or from reference data: the only ones a formula could start
# (CSV injection). The others are dates, numbers, codes of the national vocabulary and the fixed labels below.
TEXTE_LIBRE = frozenset(
    (
        "Nom du lieu",
        "Adresse",
        "Commune",
        "Nom de l’atelier",
        "Matériel numérique utilisé",
        "Thématique(s) d’accompagnement",
        "Nom de la démarche administrative",
        "Commune du bénéficiaire",
        "ID CRA",
        "Prénom du médiateur",
        "Nom du médiateur",
        BENEFICIAIRE,
        NOTES,
    )
)
_LIBELLES_FIXES = (
    *TYPE_LABELS.values(),
    *TYPE_LIEU_LABELS.values(),
    *REDIRECTION_LABELS.values(),
    *GENRE_LABELS.values(),
    *TRANCHE_AGE_LABELS.values(),
    *STATUT_LABELS.values(),
    *ETOILES.values(),
    *OUI_NON.values(),
    ROLE_CONSEILLER,
    ROLE_COORDINATEUR,
)
if any(str(libelle).startswith(FORMULA_STARTS) for libelle in _LIBELLES_FIXES):
    raise ValueError("Un libellé fixe de l'export commence comme une formule : il faut l'échapper aussi.")


def _row_maker(*, team):
    """A function turning one ``values_list`` tuple into the row's typed values in ``columns(team=team)`` order (the
    date is a date, the duration an int)."""
    built = ROW_CELLS + (TEAM_CELLS if team else OWN_CELLS)
    cols = columns(team=team)
    if sorted(built) != sorted(cols):
        raise ValueError(f"Colonnes de l'export sans cellule ou cellules sans colonne : {set(built) ^ set(cols)}.")
    pick = itemgetter(*(built.index(col) for col in cols))
    materiel_labels = _labels_reader(MATERIEL_LABELS)
    thematique_labels = _labels_reader(c.THEMATIQUE_LABELS)
    type_labels, type_lieu_labels = TYPE_LABELS, TYPE_LIEU_LABELS
    redirection_labels, genre_labels = REDIRECTION_LABELS, GENRE_LABELS
    tranche_age_labels, statut_labels = TRANCHE_AGE_LABELS, STATUT_LABELS
    etoiles, oui_non, collectif_code = ETOILES, OUI_NON, c.COLLECTIF
    mediator_ids = {}  # a conseiller's id as text, computed once per conseiller

    def make(record):
        (
            date,
            created,
            updated,
            type_activite,
            rang,
            participants,
            type_lieu,
            lieu_id,
            lieu_nom,
            lieu_adresse,
            lieu_complement,
            lieu_code_postal,
            commune_nom,
            commune_code_postal,
            commune_insee,
            duree,
            titre_atelier,
            materiel,
            thematiques,
            nom_demarche,
            niveau,
            autonomie,
            oriente,
            structure_redirection,
            residence_nom,
            residence_code_postal,
            residence_insee,
            genre,
            tranche_age,
            statut_social,
            id_externe,
            uuid,
            extra_1,
            extra_2,
            extra_3,
            extra_4,
        ) = record
        collectif = type_activite == collectif_code
        enregistre, modifie = _stamps(created, updated)
        if lieu_id is not None:
            # Name, address and postal code of the place; commune and INSEE code of the activity.
            nom_lieu = lieu_nom
            adresse = ", ".join(part for part in (lieu_adresse, lieu_complement) if part)
            code_postal = lieu_code_postal
        else:
            nom_lieu = adresse = ""
            code_postal = commune_code_postal or ""
        if team:
            mediator_id = mediator_ids.get(extra_4)
            if mediator_id is None:
                mediator_id = mediator_ids[extra_4] = str(extra_4)
            extra = (extra_1, extra_2, ROLE_COORDINATEUR if extra_3 else ROLE_CONSEILLER, mediator_id)
        else:
            # Only in the author's own export: the followed person's name and the activity's private notes.
            extra = (f"{extra_2} {extra_3}" if extra_1 is not None else "", extra_4)
        # In ``ROW_CELLS`` order, then the variant's cells.
        return pick(
            (
                date,
                enregistre,
                modifie,
                type_labels.get(type_activite, type_activite),
                f"{rang}/{participants}" if collectif else "1",
                type_lieu_labels.get(type_lieu, type_lieu),
                nom_lieu,
                adresse,
                commune_nom or "",
                code_postal,
                commune_insee or "",
                duree,
                titre_atelier,
                materiel_labels(materiel),
                thematique_labels(thematiques),
                "",  # Tags
                nom_demarche,
                etoiles.get(niveau if collectif else autonomie, ""),
                oui_non[oriente],
                redirection_labels.get(structure_redirection, ""),
                residence_nom or "",
                residence_code_postal or "",
                residence_insee or "",
                genre_labels.get(genre, ""),
                tranche_age_labels.get(tranche_age, ""),
                statut_labels.get(statut_social, ""),
                # An activity imported from the national tool keeps its id there: exported, it comes back to itself.
                id_externe or str(uuid),
                *extra,
            )
        )

    return make


def row_values(accompagnements, *, team):
    """The ``values_list`` query ``rows`` reads: one tuple per accompaniment, every related row joined."""
    return accompagnements.values_list(*_fields(team=team, vendor=connections[accompagnements.db].vendor))


def rows(accompagnements, *, team):
    """Tuples of typed values in ``columns(team=team)`` order, read in chunks by one query.

    The read happens in a transaction, so that the server-side cursor hands rows over as PostgreSQL produces them:
    outside one (autocommit) the cursor is declared ``WITH HOLD``, and PostgreSQL runs the whole query and writes
    its result aside before the first row. Nothing is written: inside a caller's transaction no savepoint is
    needed."""
    values = row_values(accompagnements, team=team)
    make = _row_maker(team=team)
    if connections[values.db].vendor == "postgresql":
        yield from map(make, _copie(values))
        return
    with transaction.atomic(using=values.db, savepoint=False):
        for record in values.iterator(chunk_size=CHUNK_SIZE):
            yield make(record)


def _copie(values):
    """The tuples of ``values`` (a ``values_list`` queryset) read with ``COPY (query) TO STDOUT``: PostgreSQL sends
    rows ahead while Python writes the previous ones (a cursor's ``FETCH`` waits for each batch, with a plan made
    for its first rows), and psycopg parses them with the types of the query's columns (taken from a ``LIMIT 0``
    run of it). The same tuples as the queryset's iterator: the tests of the export run both ways."""
    sql, params = values.query.sql_with_params()
    connexion = connections[values.db]
    with transaction.atomic(using=values.db, savepoint=False), connexion.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) AS export LIMIT 0", params)  # noqa: S608 - Django's own SQL  # nosec B608
        types = [colonne.type_code for colonne in cursor.description]
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copie:
            copie.set_types(types)
            yield from copie.rows()


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


def _csv_header(cols):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator=LINE_END).writerow(cols)
    return BOM + buffer.getvalue()


def _csv_python(accompagnements, *, team):
    """The CSV's rows written by Python (SQLite): chunks of lines, as text."""
    cols = columns(team=team)
    date_at = cols.index(DATE_COLUMN)
    formula_first = FORMULA_FIRST_CHARACTERS
    libres = [index for index, name in enumerate(cols) if name in TEXTE_LIBRE]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator=LINE_END)
    dates = {}  # the date cells already written (a few hundred dates)
    pending = 0
    for values in rows(accompagnements, team=team):
        # What ``_csv_value`` does, inlined: the only date is the « Date » column; csv writes None as ""; only
        # free text can start like a formula (``TEXTE_LIBRE``).
        cells = list(values)
        for index in libres:
            value = cells[index]
            if value.__class__ is str and value[:1] in formula_first:
                cells[index] = "'" + value
        date = cells[date_at]
        if date is not None:
            cells[date_at] = dates.get(date) or dates.setdefault(date, _csv_value(date))
        writer.writerow(cells)
        pending += 1
        if pending == CHUNK_SIZE:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def csv_response(accompagnements, *, team, filename):
    """The CSV export, streamed: its header, then its rows, written by PostgreSQL (``_csv_postgresql``) or by
    Python (``_csv_python``), the same bytes either way (the tests compare them)."""
    if connections[accompagnements.db].vendor == "postgresql":
        body = _csv_postgresql(accompagnements, team=team)
    else:
        body = _csv_python(accompagnements, team=team)
    lines = itertools.chain([_csv_header(columns(team=team))], body)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- The CSV written by PostgreSQL ----------------------------------------------------------------------------------
# The names the SQL gives to the columns of ``_fields``, in their order (``_row_maker`` unpacks the same tuple).
CHAMPS = (
    "date",
    "created",
    "updated",
    "type_activite",
    "rang",
    "participants",
    "type_lieu",
    "lieu_id",
    "lieu_nom",
    "lieu_adresse",
    "lieu_complement",
    "lieu_code_postal",
    "commune_nom",
    "commune_code_postal",
    "commune_insee",
    "duree",
    "titre_atelier",
    "materiel",
    "thematiques",
    "nom_demarche",
    "niveau",
    "autonomie",
    "oriente",
    "structure_redirection",
    "residence_nom",
    "residence_code_postal",
    "residence_insee",
    "genre",
    "tranche_age",
    "statut_social",
    "id_externe",
    "uuid",
    "extra_1",
    "extra_2",
    "extra_3",
    "extra_4",
)
# The cells that are not text (written as PostgreSQL writes a number).
NOMBRES = frozenset(("Durée (min)",))


def _texte(valeur):
    """A SQL string literal (standard strings: quotes doubled), its « % » doubled for psycopg's placeholders."""
    return "'" + str(valeur).replace("'", "''").replace("%", "%%") + "'"


def _libelle_sql(expression, libelles, *, autre=None):
    """``CASE expression WHEN code THEN label … END``: the label of a code, ``autre`` (or NULL) for other codes."""
    cas = " ".join(f"WHEN {_texte(code)} THEN {_texte(libelle)}" for code, libelle in libelles.items())
    return f"CASE {expression} {cas} ELSE {autre or 'NULL'} END"


def _libelles_sql(expression, libelles):
    """The labels of a JSON list of codes read as text (``["a", "b"]``, jsonb's own writing), one per line, as
    ``_labels_reader`` writes them: the brackets dropped, each « ", " » made a line break, each quoted code replaced
    by its label, then the quotes of the unknown codes dropped (no code nor label holds a quote: checked below)."""
    texte = (
        f"replace(substr({expression}, 2, length({expression}) - 2), '\", \"', {_texte(chr(34) + chr(10) + chr(34))})"
    )
    for code, libelle in libelles.items():
        texte = f"replace({texte}, {_texte(chr(34) + code + chr(34))}, {_texte(libelle)})"
    return f"replace({texte}, '\"', '')"


for _liste in (MATERIEL_LABELS, c.THEMATIQUE_LABELS):
    if any('"' in code + libelle for code, libelle in _liste.items()):
        raise ValueError("Un code ou un libellé de liste contient un guillemet : _libelles_sql ne sait pas l'écrire.")


def _cellules_sql(*, team):
    """The SQL of each cell from the columns of ``_fields`` (``e.<CHAMPS>``), what ``_row_maker`` computes."""
    collectif = f"e.type_activite = {_texte(c.COLLECTIF)}"
    lieu = "e.lieu_id IS NOT NULL"
    cellules = {
        "Date": "to_char(e.date, 'DD/MM/YYYY')",
        "Enregistré le": "e.created",
        "Dernière modification le": "e.updated",
        "Type": _libelle_sql("e.type_activite", TYPE_LABELS, autre="e.type_activite"),
        "Participants": f"CASE WHEN {collectif} THEN e.rang || '/' || e.participants ELSE '1' END",
        "Canaux d’accompagnement": _libelle_sql("e.type_lieu", TYPE_LIEU_LABELS, autre="e.type_lieu"),
        "Nom du lieu": f"CASE WHEN {lieu} THEN e.lieu_nom END",
        "Adresse": (
            f"CASE WHEN {lieu} THEN concat_ws(', ', NULLIF(e.lieu_adresse, ''), NULLIF(e.lieu_complement, '')) END"
        ),
        "Commune": "e.commune_nom",
        "Code postal": f"CASE WHEN {lieu} THEN e.lieu_code_postal ELSE e.commune_code_postal END",
        "Code Insee": "e.commune_insee",
        "Durée (min)": "e.duree",
        "Nom de l’atelier": "e.titre_atelier",
        "Matériel numérique utilisé": _libelles_sql("e.materiel", MATERIEL_LABELS),
        "Thématique(s) d’accompagnement": _libelles_sql("e.thematiques", c.THEMATIQUE_LABELS),
        "Tags": "NULL::text",
        "Nom de la démarche administrative": "e.nom_demarche",
        "Niveau d’autonomie (ou de l’atelier)": _libelle_sql(
            f"CASE WHEN {collectif} THEN e.niveau ELSE e.autonomie END", ETOILES
        ),
        "Bénéficiaire réorienté": (
            f"CASE e.oriente WHEN true THEN {_texte(OUI_NON[True])} WHEN false THEN {_texte(OUI_NON[False])} END"
        ),
        "Structure de redirection": _libelle_sql("e.structure_redirection", REDIRECTION_LABELS),
        "Commune du bénéficiaire": "e.residence_nom",
        "Code postal du bénéficiaire": "e.residence_code_postal",
        "Code Insee du bénéficiaire": "e.residence_insee",
        "Genre du bénéficiaire": _libelle_sql("e.genre", GENRE_LABELS),
        "Tranche d’âge du bénéficiaire": _libelle_sql("e.tranche_age", TRANCHE_AGE_LABELS),
        "Statut du bénéficiaire": _libelle_sql("e.statut_social", STATUT_LABELS),
        # An activity imported from the national tool keeps its id there: exported, it comes back to itself.
        "ID CRA": "COALESCE(NULLIF(e.id_externe, ''), e.uuid)",
    }
    if team:
        cellules |= {
            "Prénom du médiateur": "e.extra_1",
            "Nom du médiateur": "e.extra_2",
            "Rôle": f"CASE WHEN e.extra_3 THEN {_texte(ROLE_COORDINATEUR)} ELSE {_texte(ROLE_CONSEILLER)} END",
            "ID - Conum": "e.extra_4::text",
        }
    else:
        # Only in the author's own export: the followed person's name and the activity's private notes.
        cellules |= {
            BENEFICIAIRE: "CASE WHEN e.extra_1 IS NOT NULL THEN e.extra_2 || ' ' || e.extra_3 END",
            NOTES: "e.extra_4",
        }
    return cellules


def _ecrite(cellule, expression):
    """A cell as the CSV holds it: free text that starts like a formula gets a « ' » (CSV injection, as
    ``_csv_python``), and an empty text is NULL, which COPY writes as nothing (it quotes an empty string)."""
    if cellule in NOMBRES:
        return expression
    if cellule in TEXTE_LIBRE:
        debuts = ", ".join(_texte(debut) for debut in FORMULA_STARTS)
        expression = f"CASE WHEN left({expression}, 1) IN ({debuts}) THEN '''' || {expression} ELSE {expression} END"
    return f"NULLIF({expression}, '')"


def csv_sql(accompagnements, *, team):
    """``(sql, params)``: the query whose rows are the CSV's, cell by cell as ``_csv_python`` writes them.

    Three levels: the export's own query (``row_values``, its order); the cells computed from its columns, once per
    row (``OFFSET 0`` keeps PostgreSQL from merging this level into the next, which would compute a list's labels
    once per use); then escaping and empty texts."""
    values = row_values(accompagnements, team=team)
    sql, params = values.query.sql_with_params()
    if len(CHAMPS) != len(_fields(team=team, vendor="postgresql")):
        raise ValueError("CHAMPS ne nomme pas chaque colonne de _fields.")
    cellules = _cellules_sql(team=team)
    noms = {cellule: f"k{rang}" for rang, cellule in enumerate(cellules)}
    calculees = ", ".join(f"{expression} AS {noms[cellule]}" for cellule, expression in cellules.items())
    ecrites = ", ".join(_ecrite(cellule, f"r.{noms[cellule]}") for cellule in columns(team=team))
    champs = ", ".join(f'"{champ}"' for champ in CHAMPS)
    requete = f"SELECT {ecrites} FROM (SELECT {calculees} FROM ({sql}) AS e({champs}) OFFSET 0) AS r"  # noqa: S608
    return requete, params


def _csv_postgresql(accompagnements, *, team):
    """The CSV's rows written by PostgreSQL: ``COPY (csv_sql) TO STDOUT WITH (FORMAT csv)``, its bytes forwarded
    a chunk of rows at a time (psycopg hands over one row per read). Python reads no value: on a million rows, its
    reading, labelling and writing of each cell cost more than PostgreSQL's query (benchmarks/avant_apres.md)."""
    sql, params = csv_sql(accompagnements, team=team)
    copy = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, DELIMITER ';')"
    with (
        transaction.atomic(using=accompagnements.db, savepoint=False),
        connections[accompagnements.db].cursor() as cursor,
        # Logged as Django logs its queries when it does (tests' query counts, DEBUG): psycopg's COPY bypasses it.
        cursor.debug_sql(copy, params) if hasattr(cursor, "debug_sql") else contextlib.nullcontext(),
        cursor.cursor.copy(copy, params) as copie,
    ):
        morceau = []
        for ligne in copie:
            morceau.append(ligne)
            if len(morceau) == CHUNK_SIZE:
                yield b"".join(morceau)
                morceau.clear()
        if morceau:
            yield b"".join(morceau)


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
