"""Files at random: whatever is uploaded, the import pages and the engine answer in French and never fail.

- Any bytes or text, uploaded as .xlsx, .csv or .json through the page (staff, and a conseiller for activities):
  the answer is a redirection (the file is accepted and analysed) or a 400 with a French message and no import;
  an accepted file ends « aperçu » or « échec » with a French reason, and its analysis writes nothing.
- Valid files whose cells are replaced by odd values (control characters, huge or negative numbers, far dates,
  formulas, very long text, unicode; in JSON any JSON value): the analysis is a preview in which every invalid line
  says why in French; the import writes exactly the lines planned to be created (each a row the database can hold);
  the same file again plans nothing to create nor to update.
- Bomb-like workbooks (many empty rows, a huge declared size, parts that decompress to far more than they weigh):
  refused at upload or analysed quickly, with bounded memory.

Each Hypothesis example runs in a savepoint rolled back at its end, so that the examples of a test do not see each
other's imports and activities. The tests at the end of the file pin the bugs these properties found (damaged
archives, numbers of thousands of digits, odd « ID - Conum », nested JSON values, a workshop claiming 300,000
participants, declared sheet sizes, NUL characters), each fixed.
"""

import contextlib
import csv
import datetime
import functools
import io
import json
import os
import re
import signal
import string
import time
import tracemalloc
import uuid
import zipfile
import zlib
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accompagnements.models import Accompagnement, Activite
from imports import services
from imports.activites_coop import ID_CONUM, NOM_MEDIATEUR, PRENOM_MEDIATEUR
from imports.lieux import required_columns
from imports.models import Import, StatutImport, TypeImport
from structures import lieux_standard
from structures.models import Lieu
from tests import factories
from tests.imports import fixtures_lieux
from tests.imports.fixtures_activites import LABELS, VARIANTES, atelier, classeur, employe, hier, ligne

pytestmark = pytest.mark.django_db

# To explore further than the suite does (random examples, as many as asked), set FICHIERS_AU_HASARD_EXEMPLES.
EXPLORATION = int(os.environ.get("FICHIERS_AU_HASARD_EXEMPLES", "0"))
REGLAGES = settings(
    max_examples=EXPLORATION or 35,
    deadline=None,
    derandomize=not EXPLORATION,  # the same examples on every run: a shared suite must not fail at random
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
COLONNES_LIEUX = lieux_standard.columns()
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
FEUILLE = "xl/worksheets/sheet1.xml"


# --- French messages -----------------------------------------------------------------------------------------------
FRANCAIS = re.compile(
    r"(?:^|\W)(?:le|la|les|l'|un|une|des|du|de|d'|ce|cette|est|n'est|pas|ne|n'|et|ou|en|au|aux|par|pour|sans|avec|"
    r"sur|dans|que|qui|non|aucune?|fichier|colonne|ligne|valeur|champ|attendu|renseignez|choisissez)(?:$|\W)",
    re.IGNORECASE,
)
# What a message shown to people must never hold (outside the values it quotes between « »).
TECHNIQUE = re.compile(
    r"Traceback|Exception|Error\b|object has no attribute|invalid literal|\bthe\b|\bmust\b|\bNone\b", re.IGNORECASE
)


def assert_francais(message):
    assert isinstance(message, str) and message.strip(), f"message vide : {message!r}"
    hors_citations = re.sub(r"«.*?»", "«»", message, flags=re.DOTALL)
    assert FRANCAIS.search(hors_citations), f"message qui n'est pas en français : {message[:300]!r}"
    assert not TECHNIQUE.search(hors_citations), f"message technique : {message[:300]!r}"


# --- Isolation of the examples -------------------------------------------------------------------------------------
@contextlib.contextmanager
def exemple_isole():
    """One Hypothesis example in a savepoint rolled back at its end (also when it fails)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class TropLong(BaseException):
    """Raised by the alarm of ``au_plus``: the engine and on_commit catch ``Exception``, not this."""


@contextlib.contextmanager
def au_plus(secondes):
    """Fail (instead of hanging) when the block takes more than ``secondes``."""

    def sonne(_signum, _frame):
        raise TropLong

    precedent = signal.signal(signal.SIGALRM, sonne)
    signal.setitimer(signal.ITIMER_REAL, secondes)
    try:
        yield
    except TropLong:
        raise AssertionError(f"plus de {secondes} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, precedent)


def compteurs():
    return {
        "imports": Import.objects.count(),
        "activites": Activite.objects.count(),
        "accompagnements": Accompagnement.objects.count(),
        "lieux": Lieu.objects.count(),
    }


def tient_en_base(objet):
    """What PostgreSQL would refuse and SQLite stores anyway: text longer than its column, a NUL character, a small
    integer out of range."""
    for champ in objet._meta.concrete_fields:
        valeur = getattr(objet, champ.attname)
        if isinstance(valeur, str):
            assert "\x00" not in valeur, f"{champ.name} : caractère NUL"
            if isinstance(champ, models.CharField) and champ.max_length:
                assert len(valeur) <= champ.max_length, f"{champ.name} : {len(valeur)} > {champ.max_length}"
        if isinstance(champ, models.PositiveSmallIntegerField) and valeur is not None:
            assert 0 <= valeur <= 32767, f"{champ.name} : {valeur}"


# --- Fixtures ------------------------------------------------------------------------------------------------------
@pytest.fixture
def conseiller(structure):
    return employe(structure, prenom="Camille", nom="Dupré")


@pytest.fixture
def territoire(db):
    sicoval = factories.EpciFactory(siren=django_settings.TERRITOIRE_EPCI_SIREN, nom="Sicoval")
    autre = factories.EpciFactory(siren="243100518", nom="Toulouse Métropole")
    return {
        "labege": factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"], epci=sicoval),
        "castanet": factories.CommuneFactory(
            code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"], epci=sicoval
        ),
        "toulouse": factories.CommuneFactory(code_insee="31555", nom="Toulouse", codes_postaux=["31000"], epci=autre),
    }


@pytest.fixture
def choisie(territoire):
    return factories.StructureFactory(nom="Sicoval", commune=territoire["labege"], code_postal="31670")


@pytest.fixture
def mairie(territoire):
    return factories.StructureFactory(
        nom="Mairie de Labège", siret="21310555400017", commune=territoire["labege"], code_postal="31670"
    )


@pytest.fixture
def clients(staff_user, conseiller):
    """Logged-in clients: staff, and a conseiller (who may import only their activities)."""
    staff, perso = Client(), Client()
    staff.force_login(staff_user)
    perso.force_login(conseiller.user)
    return {"staff": staff, "conseiller": perso}


# --- Valid files ---------------------------------------------------------------------------------------------------
def lignes_activites(conseiller):
    """Two individual sessions and a workshop of two, with the team columns of the conseiller filled in (read only
    by the team export)."""
    mediateur = {PRENOM_MEDIATEUR: conseiller.prenom, NOM_MEDIATEUR: conseiller.nom, ID_CONUM: str(conseiller.uuid)}
    return [
        ligne(**mediateur),
        ligne(
            **mediateur,
            Date=hier(3),
            **{"Thématique(s) d’accompagnement": "Navigation sur internet\nE-mail", "Durée (min)": 90},
        ),
        *atelier([{"Genre du bénéficiaire": "Féminin"}, {}], **mediateur),
    ]


def ligne_lieu(**values):
    """A valid row of the standard in Labège, with coordinates, opening hours, a phone and an e-mail."""
    extras = {
        "latitude": "43.5531",
        "longitude": "1.5361",
        "horaires": "Mo-Fr 09:00-12:00",
        "telephone": "+33561000000",
        "courriels": "contact@example.org",
    }
    return fixtures_lieux.ligne_lieu(**{**extras, **values})


def lignes_lieux():
    return [
        ligne_lieu(),
        ligne_lieu(id="carto-2", nom="Espace seniors", commune="Castanet-Tolosan", code_insee="31113",
                   code_postal="31320", pivot="21310555400017"),
        ligne_lieu(id="carto-3", nom="Hors territoire", commune="Toulouse", code_insee="31555", code_postal="31000"),
    ]  # fmt: skip


def en_csv(rows, delimiter=",", bom=False):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLONNES_LIEUX, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


@functools.cache
def base_xlsx():
    """A small valid export, the same bytes on every run (fixed dates and timestamps): the base of the damaged
    workbooks, so that their examples do not change from one run to the next."""
    contenu = classeur(
        [ligne(Date=datetime.date(2025, 1, 15), **{"ID CRA": "00000000-0000-4000-8000-000000000001"})],
        variante="conseiller",
    )
    source = zipfile.ZipFile(io.BytesIO(contenu))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as cible:
        for info in source.infolist():
            partie = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                partie = re.sub(rb">\d{4}-\d\d-\d\dT[^<]*<", b">2025-01-15T00:00:00Z<", partie)
            fixe = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 15, 0, 0, 0))
            cible.writestr(fixe, partie, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def remplacer_partie(contenu, nom, texte):
    """The workbook with one of its parts replaced (written deflated)."""
    source = zipfile.ZipFile(io.BytesIO(contenu))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as cible:
        for info in source.infolist():
            cible.writestr(info.filename, texte if info.filename == nom else source.read(info.filename))
    return out.getvalue()


def feuille_xml(contenu):
    return zipfile.ZipFile(io.BytesIO(contenu)).read(FEUILLE).decode("utf-8")


# --- Strategies ----------------------------------------------------------------------------------------------------
json_scalaires = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_valeurs = st.recursive(
    json_scalaires,
    lambda enfants: st.one_of(
        st.lists(enfants, max_size=4), st.dictionaries(st.text(max_size=12), enfants, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def xlsx_abime(draw):
    """A valid workbook cut short, with a few bytes changed anywhere (the archive, its compressed parts), or with
    bytes added at its end."""
    contenu = bytearray(base_xlsx())
    facon = draw(st.sampled_from(["coupe", "octets", "ajout"]))
    if facon == "coupe":
        return bytes(contenu[: draw(st.integers(min_value=4, max_value=len(contenu) - 1))])
    if facon == "ajout":
        return bytes(contenu) + draw(st.binary(max_size=500))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=4, max_value=len(contenu) - 1))
        contenu[position] = draw(st.integers(min_value=0, max_value=255))
    return bytes(contenu)


@st.composite
def csv_au_hasard(draw):
    """A header with the standard's required columns (and others, in any order), then lines of random values, or of
    a place's values some of which are random."""
    colonnes = draw(st.permutations([*required_columns(), *draw(st.lists(st.sampled_from(COLONNES_LIEUX)))]))
    separateur = draw(st.sampled_from([",", ";"]))
    valeurs = st.one_of(st.text(max_size=20), st.sampled_from(['"', '""', "\r", "\n", "\x00", "a\tb", separateur]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separateur)
    writer.writerow(colonnes)
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        if draw(st.booleans()):
            out.write(separateur.join(draw(st.lists(valeurs, max_size=len(colonnes) + 2))) + "\n")
        else:
            lieu = ligne_lieu(id=draw(st.sampled_from(["carto-1", "carto-2", "carto-9"])))
            writer.writerow([draw(valeurs) if draw(st.booleans()) else lieu[colonne] for colonne in colonnes])
    return out.getvalue().encode("utf-8")


json_lieux = st.lists(
    st.one_of(
        st.dictionaries(st.one_of(st.sampled_from(COLONNES_LIEUX), st.text(max_size=8)), json_valeurs, max_size=8),
        json_valeurs,
    ),
    max_size=4,
).map(lambda items: json.dumps(items).encode("utf-8"))
contenus_bruts = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8")),
    st.binary(max_size=1000).map(lambda b: ZIP_MAGIC + b),
    st.binary(max_size=1000).map(lambda b: OLE_MAGIC + b),
    json_valeurs.map(lambda v: json.dumps(v).encode("utf-8")),
    json_valeurs.map(lambda v: json.dumps({"data": v} if isinstance(v, list) else v).encode("utf-8")),
)


@st.composite
def xlsx_entete_au_hasard(draw):
    """A workbook whose sheet, header and rows are shuffled: some columns (or unknown ones), in any order, on a sheet
    named « Activités » in some spelling or not at all, with or without the Coop's rows about the export."""
    connues = sorted(set().union(*VARIANTES.values()))
    inconnues = st.text(max_size=15).map(_sans_illegaux)
    if draw(st.booleans()):  # every column of a variant, in any order, among unknown ones
        colonnes = draw(st.permutations(VARIANTES[draw(st.sampled_from(sorted(VARIANTES)))]))
        colonnes += draw(st.lists(inconnues, max_size=3))
    else:
        colonnes = draw(st.lists(st.one_of(st.sampled_from(connues), inconnues), max_size=30))
    titre = draw(
        st.one_of(
            st.sampled_from(["Activités", " ACTIVITÉS ", "Activite\u0301s", "activités"]),
            st.sampled_from(["activites", "Feuille1"]),
            st.text(alphabet=string.ascii_letters + " éà-_", min_size=1, max_size=31),
        )
    )
    rows = [
        {colonne: draw(valeurs_cellule) if draw(st.booleans()) else valeur for colonne, valeur in ligne().items()}
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    return classeur(rows, colonnes=colonnes or ["Date"], feuille=titre, coop=draw(st.booleans()))


# Contents that look like what each kind of upload expects, to go past the first checks.
PLAUSIBLES = {
    ".xlsx": st.one_of(xlsx_abime(), xlsx_entete_au_hasard(), xlsx_entete_au_hasard()),
    ".csv": csv_au_hasard(),
    ".json": json_lieux,
    "": csv_au_hasard(),
}
# (slug of the page, extension, who uploads)
DEPOTS = [
    ("activites", ".xlsx", "staff"),
    ("activites", ".xlsx", "conseiller"),
    ("activites", ".XLSX", "conseiller"),
    ("activites", ".csv", "conseiller"),
    ("lieux", ".csv", "staff"),
    ("lieux", ".json", "staff"),
    ("lieux", ".JSON", "staff"),
    ("lieux", ".xlsx", "staff"),
    ("lieux", "", "staff"),
]
noms = st.one_of(
    st.sampled_from(["fichier", "export", "../../etc/passwd", "a" * 300, "données été", "lieux.json", ".xlsx"]),
    st.text(alphabet=string.ascii_letters + string.digits + " -_.éàç", min_size=1, max_size=40),
).filter(lambda nom: nom.strip("."))  # « . » and « .. » are no file names (SimpleUploadedFile refuses them)


@st.composite
def depots(draw):
    """(slug, extension, who, file name, contents, structure chosen for new places): two thirds of the contents
    plausible for the extension."""
    slug, extension, qui = draw(st.sampled_from(DEPOTS))
    plausible = PLAUSIBLES[extension.lower()]
    contenu = draw(st.one_of(contenus_bruts, plausible, plausible))
    structure = draw(st.sampled_from(["choisie"] * 6 + ["", "pas-un-uuid", str(uuid.UUID(int=0))]))
    return slug, extension, qui, draw(noms) + extension, contenu, structure


def _sans_illegaux(texte):
    """openpyxl cannot write the control characters XML forbids (a workbook cannot hold them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", texte)


textes_bizarres = st.one_of(
    st.text(max_size=60).map(_sans_illegaux),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30).map(_sans_illegaux),
    st.sampled_from(
        [
            "",
            " ",
            "\t\n\r",
            "\x7f\x85\u2028\u2029\ufeff\u200b\u202e",
            "=1+1",
            "=A1",
            "=1/0",
            '=HYPERLINK("http://example.org")',
            "x" * 10_000,
            "é" * 32_767,
            "1/3\n2/3",
            "0/0",
            "3/1",
            "-1/2",
            "1/-1",
            "٣/٣",
            "１",
            "00000",
            "2A004",
            "  Accompagnement individuel  ",
            "ATELIER COLLECTIF",
            "Oui\nNon",
            "true",
            "NaN",
            "Infinity",
            "1e308",
            "-0",
            "31/02/2026",
            "29/02/2024",
            "0001-01-01",
            "9999-12-31",
            "01/01/1900 00:00:00",
            "2024-02-30T25:61:61",
            "00000000-0000-0000-0000-000000000000",
            "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            "{6f9619ff-8b86-d011-b42d-00c04fc964ff}",
            "Robert'); DROP TABLE activites;--",
            "<script>alert(1)</script>",
            "%s %d {0} {nom}",
            "\U0001f600" * 50,
            "ﷺ" * 100,
        ]
    ),
)
nombres_bizarres = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, -1, 60, 61, 480, 481, 32767, 32768, 2**31, 2**63, -(2**63), 2958465, 2958466, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, -0.0, 1e-300, 1e300, 2958465.5, 2958465.999999, 45.0000001, 1.5e15]),
)
dates_bizarres = st.one_of(
    st.dates(),
    st.datetimes(),
    st.sampled_from([datetime.date(1, 1, 1), datetime.date(1899, 12, 31), datetime.date(1900, 2, 28)]),
    st.sampled_from([datetime.date(1900, 3, 1), datetime.date(9999, 12, 31), datetime.datetime(9999, 12, 31, 23, 59)]),
    st.times(),
    st.timedeltas(min_value=datetime.timedelta(days=-1000), max_value=datetime.timedelta(days=1000)),
)
valeurs_cellule = st.one_of(st.none(), st.booleans(), textes_bizarres, nombres_bizarres, dates_bizarres)
# Values an export may really hold, per column: changed, they make an activity already imported an update.
PLAUSIBLES_ACTIVITES = {
    "Date": st.dates(min_value=datetime.date(2021, 1, 1), max_value=datetime.date(2025, 12, 31)),
    "Durée (min)": st.integers(min_value=1, max_value=480),
    "Thématique(s) d’accompagnement": st.lists(st.sampled_from(sorted(LABELS["thematiques"].values())), min_size=1).map(
        "\n".join
    ),
    "Matériel numérique utilisé": st.lists(st.sampled_from(sorted(LABELS["materiel"].values()))).map("\n".join),
    "Genre du bénéficiaire": st.sampled_from(sorted(LABELS["genre"].values())),
    "Tranche d’âge du bénéficiaire": st.sampled_from(sorted(LABELS["tranche_age"].values())),
    "Statut du bénéficiaire": st.sampled_from(sorted(LABELS["statut_social"].values())),
    "Niveau d’autonomie (ou de l’atelier)": st.sampled_from(["1/3", "2/3", "3/3"]),
    "Nom de l’atelier": st.text(alphabet=string.ascii_letters + " éàç’", min_size=1, max_size=40),
    "Notes supplémentaires": st.text(max_size=200).map(_sans_illegaux),
}


@st.composite
def classeur_modifie(draw, conseiller):
    """A valid export of one of the three variants of columns (with or without the Coop's rows about the export), and
    the same export whose cells are replaced by odd values, by values an export may hold, or by another row's
    « ID CRA »; returns (variant, valid file, changed file)."""
    variante = draw(st.sampled_from(sorted(VARIANTES)))
    colonnes = VARIANTES[variante]
    coop = draw(st.booleans())
    rows = lignes_activites(conseiller)
    base = classeur(rows, variante=variante, coop=coop)
    ids = [row["ID CRA"] for row in rows]
    facon = draw(st.sampled_from(["bizarre", "plausible", "mêlée"]))
    plausibles = [colonne for colonne in colonnes if colonne in PLAUSIBLES_ACTIVITES]
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        index = draw(st.integers(min_value=0, max_value=len(rows) - 1))
        colonne = draw(st.sampled_from(plausibles if facon == "plausible" else colonnes))
        if colonne == "ID CRA":
            valeur = draw(st.one_of(valeurs_cellule, st.sampled_from(ids)))
        elif colonne in PLAUSIBLES_ACTIVITES and (facon == "plausible" or (facon == "mêlée" and draw(st.booleans()))):
            valeur = draw(PLAUSIBLES_ACTIVITES[colonne])
        else:
            valeur = draw(valeurs_cellule)
        rows[index] = {**rows[index], colonne: valeur}
    return variante, base, classeur(rows, variante=variante, coop=coop)


textes_lieux = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(repr),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "x" * 10_000,
            "|",
            "||",
            " | ",
            "Gratuit|Payant|Gratuit",
            "Itinérant|Fixe",
            "Fixe|Fixe",
            "Fixe;Itinérant",
            "43,5",
            "-91",
            "180.0000001",
            "1e308",
            "NaN",
            "-Infinity",
            "0x1F",
            "Mo-Fr 09:00-12:00; PH off",
            "24/7",
            "Mo-Su 25:00-26:00",
            "tous les jours",
            "+33 5 61 00 00 00",
            "0561000000",
            "+3356100000000000000",
            "a@b",
            "a@example.org|pas un courriel",
            "javascript:alert(1)",
            "http://",
            "https://exemple.fr/" + "a" * 3000,
            "W123456789",
            "00000000000000",
            "2131055540001",
            "21310555400017",
            "2A004",
            "31254",
            "31670",
            "Labège",
            "LABEGE",
            "carto-1",
            "carto-2",
            "\ufeffcarto-1",
            "6f9619ff-8b86-d011-b42d-00c04fc964ff",
            "9999-12-31",
            "0000-00-00",
        ]
    ),
)


texte_simple = st.text(alphabet=string.ascii_letters + string.digits + " -'éàç", min_size=1, max_size=60)
# Values a place may really have: changed, they make a place already imported an update.
PLAUSIBLES_LIEUX = {
    "nom": texte_simple,
    "adresse": texte_simple,
    "complement_adresse": texte_simple,
    "presentation_detail": texte_simple,
    "structure_parente": texte_simple,
    "horaires": st.sampled_from(["Mo-Fr 09:00-12:00", "Tu-Sa 10:00-12:00,14:00-18:00", "Mo 08:00-10:00"]),
    "latitude": st.floats(min_value=43.4, max_value=43.7).map(lambda x: f"{x:.6f}"),
    "longitude": st.floats(min_value=1.4, max_value=1.7).map(lambda x: f"{x:.6f}"),
    "frais_a_charge": st.sampled_from(["Gratuit", "Payant", "Gratuit|Payant"]),
}


@st.composite
def fichier_lieux(draw):
    """(name, a valid places file, the same file whose values are replaced by odd ones: text in CSV, any JSON value in
    JSON, as a list, {"data": list} or a GeoJSON FeatureCollection)."""
    rows = lignes_lieux()
    plausible = draw(st.booleans())  # values a place may have (updates), or odd ones
    if draw(st.booleans()):
        base = en_csv(rows)
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            row = rows[draw(st.integers(min_value=0, max_value=len(rows) - 1))]
            nom = draw(st.sampled_from(sorted(PLAUSIBLES_LIEUX) if plausible else COLONNES_LIEUX))
            valeur = draw(PLAUSIBLES_LIEUX[nom] if plausible else textes_lieux)
            row[nom] = valeur
        return "lieux.csv", base, en_csv(rows, delimiter=draw(st.sampled_from([",", ";"])), bom=draw(st.booleans()))
    items = [{name: value for name, value in row.items() if value != ""} for row in rows]
    base = json.dumps(items).encode("utf-8")
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        item = items[draw(st.integers(min_value=0, max_value=len(items) - 1))]
        nom = draw(st.sampled_from(sorted(PLAUSIBLES_LIEUX) if plausible else COLONNES_LIEUX))
        if plausible:
            item[nom] = draw(PLAUSIBLES_LIEUX[nom])
        elif draw(st.integers(min_value=0, max_value=5)) == 0:
            item.pop(nom, None)
        else:
            item[nom] = draw(st.one_of(json_valeurs, textes_lieux))
    forme = draw(st.sampled_from(["liste", "data", "geojson"]))
    if forme == "data":
        document = {"data": items}
    elif forme == "geojson":
        geometries = st.one_of(
            json_valeurs,
            st.fixed_dictionaries({"type": st.sampled_from(["Point", "Polygon"]), "coordinates": json_valeurs}),
            st.fixed_dictionaries({"type": json_valeurs, "coordinates": json_valeurs}),
        )
        document = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": item, "geometry": draw(geometries)} for item in items],
        }
    else:
        document = items
    return "lieux.json", base, json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8")


# --- 1. Any bytes, through the page --------------------------------------------------------------------------------
@REGLAGES
@given(depot=depots())
def test_any_file_uploaded_through_the_page_is_refused_in_french_or_analysed(
    clients, choisie, django_capture_on_commit_callbacks, caplog, depot
):
    slug, _extension, qui, nom, contenu, structure = depot
    client = clients[qui]
    with exemple_isole():
        caplog.clear()
        avant = compteurs()
        data = {"fichier": SimpleUploadedFile(nom, contenu)}
        if slug == "lieux":
            data["structure"] = str(choisie.uuid) if structure == "choisie" else structure
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("imports:nouveau", args=[slug]), data)
        assert response.status_code in (302, 400), response.status_code
        event(f"{slug} : {response.status_code}")
        if response.status_code == 400:
            assert compteurs() == avant  # no import, nothing else
            erreurs = [message for messages in response.context["form"].errors.values() for message in messages]
            assert erreurs  # the file's, or the structure's when it is not one of the list
            for message in erreurs:
                assert_francais(message)
                event(f"refus : {message[:50]}")
        else:
            import_ = Import.objects.get(uuid=response.url.rstrip("/").rsplit("/", 1)[-1])
            assert import_.statut in (StatutImport.APERCU, StatutImport.ECHEC), import_.statut
            event(f"{slug} : {import_.statut}")
            if import_.statut == StatutImport.ECHEC:
                assert import_.erreur != services.ERREUR_INATTENDUE
                assert_francais(import_.erreur)
            else:
                for entree in import_.apercu["lignes"]:
                    if entree["action"] == "invalide":
                        assert_francais(entree["raison"])
            assert {k: v for k, v in compteurs().items() if k != "imports"} == {
                k: v for k, v in avant.items() if k != "imports"
            }  # the analysis wrote nothing
            assert client.get(response.url).status_code == 200
        assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text


# --- 2. Valid files with odd values --------------------------------------------------------------------------------
def deposer(by, type, nom, contenu, capture, **options):
    with capture(execute=True):
        import_ = services.import_deposer(by=by, type=type, fichier=SimpleUploadedFile(nom, contenu), options=options)
    import_.refresh_from_db()
    return import_


def verifier_apercu(import_):
    """A preview, whole, every invalid line saying why in French; returns its counts."""
    assert import_.statut == StatutImport.APERCU, (import_.statut, import_.erreur)
    apercu = import_.apercu
    compte = apercu["compte"]
    assert sum(compte.values()) == apercu["total"] == import_.lignes
    invalides = [entree for entree in apercu["lignes"] if entree["action"] == "invalide"]
    assert len(invalides) == compte["invalide"]
    for entree in invalides:
        assert_francais(entree["raison"])
        if currently_in_test_context():
            event(f"invalide : {entree['raison'][:70]}")
    changements = [entree for entree in apercu["lignes"] if entree["action"] in ("creer", "mettre_a_jour")]
    assert len(changements) == compte["creer"] + compte["mettre_a_jour"]
    if currently_in_test_context():  # what the examples covered, for --hypothesis-show-statistics
        event(f"{import_.type} : " + ", ".join(f"{n} {action}" for action, n in compte.items() if n))
    return compte


def confirmer(import_, by, capture):
    with capture(execute=True):
        services.import_confirmer(import_=import_, by=by)
    import_.refresh_from_db()
    assert import_.erreur != services.ERREUR_INATTENDUE
    assert import_.statut == StatutImport.TERMINE, (import_.statut, import_.erreur)
    return import_


def versions(modele):
    """{pk: number of versions in the history} of the rows of a model."""
    return Counter(modele.history.values_list("id", flat=True))


def importer_exactement(par, type, nom, contenu, capture, *, modele, cle, **options):
    """Upload, preview, confirm: the analysis writes nothing, the import writes exactly the lines the preview planned
    to create (with their keys) and to update, each a row the database can hold; the same file again finds every line
    it wrote unchanged. Returns the preview's counts."""
    avant, historique = compteurs(), versions(modele)
    existantes = set(modele.objects.values_list("pk", flat=True))
    import_ = deposer(par, type, nom, contenu, capture, **options)
    compte = verifier_apercu(import_)
    assert compteurs() == {**avant, "imports": avant["imports"] + 1}  # the analysis wrote nothing
    assert versions(modele) == historique
    a_creer = {entree["cle"] for entree in import_.apercu["lignes"] if entree["action"] == "creer"}

    confirmer(import_, par, capture)
    assert import_.resultat["compte"] == compte  # decided again on the same data: the same decisions
    creees = modele.objects.exclude(pk__in=existantes)
    assert {getattr(objet, cle) for objet in creees} == a_creer
    assert creees.count() == compte["creer"]
    apres = versions(modele)
    modifiees = {pk for pk in existantes if apres[pk] != historique[pk]}
    assert len(modifiees) == compte["mettre_a_jour"]
    for objet in [*creees, *modele.objects.filter(pk__in=modifiees)]:
        tient_en_base(objet)
        for accompagnement in getattr(objet, "accompagnements", Accompagnement.objects.none()).all():
            tient_en_base(accompagnement)

    second = deposer(par, type, nom, contenu, capture, **options)
    compte_second = verifier_apercu(second)
    assert (compte_second["creer"], compte_second["mettre_a_jour"]) == (0, 0), second.apercu["lignes"]
    assert compte_second["inchange"] == compte["creer"] + compte["mettre_a_jour"] + compte["inchange"]
    return compte


@REGLAGES
@given(data=st.data())
def test_an_export_with_odd_cells_is_previewed_then_imported_exactly_as_planned(
    conseiller, staff_user, django_capture_on_commit_callbacks, caplog, data
):
    variante, base, contenu = data.draw(classeur_modifie(conseiller), label="classeurs")
    # A team import (staff) needs the mediator's columns of the team export; a personal one is the conseiller's.
    equipe = variante == "equipe" and data.draw(st.booleans(), label="import d'équipe")
    par = staff_user if equipe else conseiller.user
    deja_importe = data.draw(st.booleans(), label="le fichier d'origine importé d'abord")
    capture = django_capture_on_commit_callbacks
    with exemple_isole():
        caplog.clear()
        if deja_importe:  # the odd cells then update activities
            importer_exactement(
                par, TypeImport.ACTIVITES_COOP, "activites.xlsx", base, capture, modele=Activite, cle="id_externe"
            )
        importer_exactement(
            par, TypeImport.ACTIVITES_COOP, "activites.xlsx", contenu, capture, modele=Activite, cle="id_externe"
        )
        assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text


@REGLAGES
@given(fichier=fichier_lieux(), deja_importe=st.booleans())
def test_a_places_file_with_odd_values_is_previewed_then_imported_exactly_as_planned(
    staff_user, choisie, mairie, django_capture_on_commit_callbacks, caplog, fichier, deja_importe
):
    nom, base, contenu = fichier
    options = {"structure": str(choisie.uuid)}
    capture = django_capture_on_commit_callbacks
    with exemple_isole():
        caplog.clear()
        if deja_importe:  # the odd values then update places
            importer_exactement(
                staff_user, TypeImport.LIEUX, nom, base, capture, modele=Lieu, cle="id_source", **options
            )
        importer_exactement(
            staff_user, TypeImport.LIEUX, nom, contenu, capture, modele=Lieu, cle="id_source", **options
        )
        assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text


# --- 3. Bomb-like workbooks ----------------------------------------------------------------------------------------
def test_two_hundred_thousand_empty_rows_are_analysed_quickly(conseiller, django_capture_on_commit_callbacks):
    contenu = classeur([ligne()])
    xml = feuille_xml(contenu)
    vides = "".join(f'<row r="{n}"/>' for n in range(3, 200_003))
    blancs = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t> </t></is></c></row>' for n in range(200_003, 220_003)
    )
    xml = xml.replace("</sheetData>", vides + blancs + "</sheetData>")
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:AA220002"/>', xml)
    bombe = remplacer_partie(contenu, FEUILLE, xml)
    debut = time.monotonic()
    with au_plus(20):
        import_ = deposer(
            conseiller.user, TypeImport.ACTIVITES_COOP, "activites.xlsx", bombe, django_capture_on_commit_callbacks
        )
    assert time.monotonic() - debut < 15
    assert import_.statut == StatutImport.APERCU, import_.erreur
    assert import_.apercu["total"] == 1
    assert import_.apercu["compte"]["creer"] == 1


def tailles_mensongeres(contenu, nom):
    """The archive with the central directory declaring a part 1000 times smaller than it is."""
    abime = bytearray(contenu)
    entree = entree_centrale(contenu, nom)
    taille = int.from_bytes(contenu[entree + 24 : entree + 28], "little")
    abime[entree + 24 : entree + 28] = (taille // 1000).to_bytes(4, "little")
    return bytes(abime)


@pytest.mark.parametrize("mensonge", [False, True], ids=["tailles vraies", "tailles mensongeres"])
def test_a_zip_bomb_is_refused_or_read_in_bounded_memory(conseiller, django_capture_on_commit_callbacks, mensonge):
    """64 Mo of blanks in the sheet, 70 Ko uploaded: refused, or read without holding them (even when the archive
    lies about the size of its parts)."""
    contenu = classeur([ligne()])
    bourrage = " " * (64 * 1024 * 1024)
    bombe = remplacer_partie(contenu, FEUILLE, feuille_xml(contenu).replace("</sheetData>", bourrage + "</sheetData>"))
    del bourrage
    if mensonge:
        bombe = tailles_mensongeres(bombe, FEUILLE)
    assert len(bombe) < 100_000
    import_ = None
    tracemalloc.start()
    try:
        with au_plus(20):
            try:
                import_ = deposer(
                    conseiller.user,
                    TypeImport.ACTIVITES_COOP,
                    "activites.xlsx",
                    bombe,
                    django_capture_on_commit_callbacks,
                )
            except ValidationError as error:  # refused at upload
                assert_francais(" ".join(error.message_dict["fichier"]))
        _courante, pic = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pic < 32 * 1024 * 1024, f"pic de {pic // (1024 * 1024)} Mo"
    assert Activite.objects.count() == 0
    if import_ is not None:
        assert import_.statut in (StatutImport.APERCU, StatutImport.ECHEC)
        assert import_.erreur != services.ERREUR_INATTENDUE


# --- Damaged, nested, bomb-like files; known bugs (see the module's docstring) -------------------------------------
def debut_des_donnees(contenu, nom):
    """Where the compressed data of a part begin in the archive, and their length."""
    info = zipfile.ZipFile(io.BytesIO(contenu)).getinfo(nom)
    local = contenu[info.header_offset : info.header_offset + 30]
    longueur_nom, longueur_extra = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
    return info.header_offset + 30 + longueur_nom + longueur_extra, info.compress_size


def entree_centrale(contenu, nom):
    """Where the central directory's entry of a part begins."""
    position = contenu.index(b"PK\x01\x02")
    while contenu[position + 46 : position + 46 + len(nom)] != nom.encode():
        position = contenu.index(b"PK\x01\x02", position + 4)
    return position


def archive_abimee(facon):
    """A workbook whose sheet zipfile cannot read, for a reason the importer does not catch yet."""
    contenu = bytearray(base_xlsx())
    if facon == "flux deflate invalide":
        debut, _taille = debut_des_donnees(bytes(contenu), FEUILLE)
        contenu[debut : debut + 4] = b"\xff\xff\xff\xff"
        attendu = zlib.error
    else:
        entree = entree_centrale(bytes(contenu), FEUILLE)
        if facon == "compression inconnue":
            contenu[entree + 10 : entree + 12] = (99).to_bytes(2, "little")
            attendu = NotImplementedError
        else:  # the « encrypted » flag
            contenu[entree + 8 : entree + 10] = (1).to_bytes(2, "little")
            attendu = RuntimeError
    with pytest.raises(attendu):
        zipfile.ZipFile(io.BytesIO(bytes(contenu))).read(FEUILLE)
    return bytes(contenu)


@pytest.mark.parametrize("facon", ["flux deflate invalide", "compression inconnue", "chiffrée"])
def test_a_damaged_archive_is_refused_in_french(clients, facon):
    response = clients["conseiller"].post(
        reverse("imports:nouveau", args=["activites"]),
        {"fichier": SimpleUploadedFile("activites.xlsx", archive_abimee(facon))},
    )
    assert response.status_code == 400
    assert not Import.objects.exists()
    for message in response.context["form"].errors["fichier"]:
        assert_francais(message)


def test_an_archive_damaged_after_the_header_fails_the_analysis_with_its_reason(
    conseiller, django_capture_on_commit_callbacks
):
    rows = [
        ligne(
            Date=datetime.date(2025, 1, 15),
            **{"ID CRA": f"00000000-0000-4000-8000-{i:012d}", "Nom de la démarche administrative": f"n° {i * 7919}"},
        )
        for i in range(400)
    ]
    contenu = classeur(rows)
    debut, taille = debut_des_donnees(contenu, FEUILLE)
    for recul in range(200, taille // 2, 97):  # the first spot, from the end, where the deflate stream breaks
        abime = bytearray(contenu)
        abime[debut + taille - recul : debut + taille - recul + 4] = b"\xff\xff\xff\xff"
        try:
            zipfile.ZipFile(io.BytesIO(bytes(abime))).read(FEUILLE)
        except zlib.error:
            break
        except zipfile.BadZipFile:
            continue
    else:
        pytest.fail("aucun endroit où le flux deflate casse")
    import_ = deposer(
        conseiller.user, TypeImport.ACTIVITES_COOP, "activites.xlsx", bytes(abime), django_capture_on_commit_callbacks
    )  # the header is read: accepted
    assert import_.statut == StatutImport.ECHEC
    assert import_.erreur != services.ERREUR_INATTENDUE
    assert_francais(import_.erreur)


@pytest.mark.parametrize(
    "cellules",
    [{"Durée (min)": "9" * 5000}, {"Participants": "1/" + "9" * 5000}],
    ids=["duree", "participants"],
)
def test_a_number_of_thousands_of_digits_makes_the_line_invalid(
    conseiller, django_capture_on_commit_callbacks, cellules
):
    contenu = classeur([ligne(**cellules), ligne()])
    import_ = deposer(
        conseiller.user, TypeImport.ACTIVITES_COOP, "activites.xlsx", contenu, django_capture_on_commit_callbacks
    )
    compte = verifier_apercu(import_)
    assert (compte["invalide"], compte["creer"]) == (1, 1)


@pytest.mark.parametrize("conum", ["²", "9" * 5000, str(2**64)], ids=["exposant", "5000 chiffres", "2**64"])
def test_an_odd_conum_id_makes_the_line_invalid(conseiller, staff_user, django_capture_on_commit_callbacks, conum):
    rows = lignes_activites(conseiller)
    rows[0][ID_CONUM] = conum
    rows[0][PRENOM_MEDIATEUR] = rows[0][NOM_MEDIATEUR] = "Inconnu"
    contenu = classeur(rows, variante="equipe")
    import_ = deposer(
        staff_user, TypeImport.ACTIVITES_COOP, "activites.xlsx", contenu, django_capture_on_commit_callbacks
    )
    compte = verifier_apercu(import_)
    assert (compte["invalide"], compte["creer"]) == (1, 2)


@pytest.mark.parametrize(
    "contenu",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="document"),
        pytest.param(
            json.dumps([{**ligne_lieu(), "nom": json.loads("[" * 900 + '"x"' + "]" * 900)}]).encode(),
            id="valeur",
        ),
    ],
)
def test_a_deeply_nested_json_is_refused_or_analysed(clients, choisie, django_capture_on_commit_callbacks, contenu):
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["staff"].post(
            reverse("imports:nouveau", args=["lieux"]),
            {"fichier": SimpleUploadedFile("lieux.json", contenu), "structure": str(choisie.uuid)},
        )
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        for message in response.context["form"].errors["fichier"]:
            assert_francais(message)


@pytest.mark.parametrize("geometrie", [[1.5, 43.5], "Point", 3, True], ids=["liste", "texte", "nombre", "booleen"])
def test_a_geojson_feature_with_an_odd_geometry_is_read(
    clients, choisie, django_capture_on_commit_callbacks, geometrie
):
    document = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": ligne_lieu(), "geometry": geometrie}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["staff"].post(
            reverse("imports:nouveau", args=["lieux"]),
            {
                "fichier": SimpleUploadedFile("lieux.json", json.dumps(document).encode()),
                "structure": str(choisie.uuid),
            },
        )
    assert response.status_code == 302
    assert Import.objects.get().statut == StatutImport.APERCU


def test_a_workshop_claiming_300000_participants_costs_nothing(conseiller, django_capture_on_commit_callbacks):
    contenu = classeur(
        [ligne(Type="Atelier collectif", Participants="1/300000", **{"Niveau d’autonomie (ou de l’atelier)": ""})]
    )
    import_ = deposer(
        conseiller.user, TypeImport.ACTIVITES_COOP, "activites.xlsx", contenu, django_capture_on_commit_callbacks
    )
    verifier_apercu(import_)
    (entree,) = import_.apercu["lignes"]
    assert len(entree["raison"]) < 2000


def test_a_sheet_declaring_a_huge_size_is_analysed_quickly(conseiller, django_capture_on_commit_callbacks):
    contenu = classeur([ligne()])
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', feuille_xml(contenu))
    derniere = '<row r="300000"><c r="A300000" t="inlineStr"><is><t>x</t></is></c></row>'
    bombe = remplacer_partie(contenu, FEUILLE, xml.replace("</sheetData>", derniere + "</sheetData>"))
    assert len(bombe) < 10_000
    with au_plus(6):
        import_ = deposer(
            conseiller.user, TypeImport.ACTIVITES_COOP, "activites.xlsx", bombe, django_capture_on_commit_callbacks
        )
    assert import_.statut in (StatutImport.APERCU, StatutImport.ECHEC)


@pytest.mark.parametrize("dimension", ["A1:AA2", "A1"])
def test_rows_beyond_an_understated_size_are_read(conseiller, django_capture_on_commit_callbacks, dimension):
    contenu = classeur([ligne(), ligne(), ligne()])
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', feuille_xml(contenu))
    import_ = deposer(
        conseiller.user,
        TypeImport.ACTIVITES_COOP,
        "activites.xlsx",
        remplacer_partie(contenu, FEUILLE, xml),
        django_capture_on_commit_callbacks,
    )
    assert verifier_apercu(import_)["creer"] == 3


@pytest.mark.parametrize("colonne", ["id", "source"])
@pytest.mark.parametrize("format", ["csv", "json"])
def test_a_nul_character_is_never_written(staff_user, choisie, django_capture_on_commit_callbacks, colonne, format):
    rows = [ligne_lieu(**{colonne: "carto\x00-1"}), ligne_lieu(id="carto-2", nom="Espace seniors")]
    contenu = en_csv(rows) if format == "csv" else json.dumps(rows).encode()
    import_ = deposer(
        staff_user,
        TypeImport.LIEUX,
        f"lieux.{format}",
        contenu,
        django_capture_on_commit_callbacks,
        structure=str(choisie.uuid),
    )
    compte = verifier_apercu(import_)
    confirmer(import_, staff_user, django_capture_on_commit_callbacks)
    assert Lieu.objects.count() == compte["creer"] >= 1
    for lieu in Lieu.objects.all():
        tient_en_base(lieu)
