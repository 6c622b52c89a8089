"""The open-data export of places follows the national standard « Lieux de médiation numérique » v1.0.2: its
columns in order, its required fields, its patterns and vocabularies (checked here straight from the bundled
schema, independently of ``validate_rows``), and ``validate_rows`` itself catches what breaks the standard."""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from structures import choices, lieux_standard
from structures.models import Lieu
from tests import factories

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(lieux_standard.SCHEMA_PATH.read_text(encoding="utf-8"))
FIELDS = SCHEMA["fields"]
FIELD_NAMES = [field["name"] for field in FIELDS]
REQUIRED = [field["name"] for field in FIELDS if field.get("constraints", {}).get("required")]
PATTERNS = {
    field["name"]: field["constraints"]["pattern"] for field in FIELDS if "pattern" in field.get("constraints", {})
}
# Multi-valued fields with a closed vocabulary have a pattern "(?:(?:^|\|)(A|B|…))+$": the alternatives inside are
# the allowed values.
MULTI_PREFIX, MULTI_SUFFIX = r"(?:(?:^|\|)", r")+$"
VOCABULARIES = {
    name: pattern[len(MULTI_PREFIX) : -len(MULTI_SUFFIX)]
    for name, pattern in PATTERNS.items()
    if pattern.startswith(MULTI_PREFIX) and pattern.endswith(MULTI_SUFFIX)
}


def all_values(vocabulary):
    return [code for code, _label in vocabulary]


def test_the_bundled_schema_is_the_standard_v1_0_2():
    assert len(FIELDS) == 32
    assert REQUIRED == ["id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj"]
    assert set(VOCABULARIES) == {
        "itinerance",
        "services",
        "publics_specifiquement_adresses",
        "prise_en_charge_specifique",
        "frais_a_charge",
        "dispositif_programmes_nationaux",
        "formations_labels",
        "modalites_acces",
        "modalites_accompagnement",
    }


@pytest.fixture
def labege():
    return factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"])


@pytest.fixture
def lieux(labege):
    """Varied published places, and one that is not published."""
    castanet = factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"])
    mairie = factories.StructureFactory(nom="Mairie de Labège", commune=labege, code_postal="31670")
    association = factories.StructureFactory(
        nom="Association Cyber-Base", siret=None, rna="W313000123", commune=castanet
    )
    complet = factories.lieu_tous_champs(structure=mairie, commune=labege)
    bus = factories.LieuFactory(
        structure=mairie,
        nom="Bus numérique du Sicoval",
        commune=labege,
        code_postal="31670",
        itinerance=choices.Itinerance.ITINERANT,
        horaires="",
        latitude=Decimal("-21.115141"),
        longitude=Decimal("55.536384"),
    )
    factories.ArretItinerantFactory(lieu=bus, commune=castanet)
    minimal = factories.LieuFactory(
        structure=association,
        nom="Cyber-Base de Castanet",
        commune=castanet,
        code_postal="31320",
        horaires="",
        services=["Maîtrise des outils numériques du quotidien"],
        frais_a_charge=[],
        modalites_accompagnement=[],
    )
    propre_siret = factories.LieuFactory(
        structure=mairie, nom="Médiathèque de Labège", commune=labege, code_postal="31670", pivot="21310555400017"
    )
    retire = factories.LieuFactory(structure=mairie, nom="Ancien point numérique", commune=labege, is_active=False)
    return {"complet": complet, "bus": bus, "minimal": minimal, "propre_siret": propre_siret, "retire": retire}


def export_csv(client):
    response = client.get("/lieux/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(client):
    return list(csv.DictReader(io.StringIO(export_csv(client))))


def rows_by_name(client):
    return {row["nom"]: row for row in csv_rows(client)}


# --- the export respects the standard ----------------------------------------------------------------------------
def test_validate_rows_finds_no_error_in_varied_places(lieux):
    published = [lieu for key, lieu in lieux.items() if key != "retire"]
    assert lieux_standard.validate_rows(lieux_standard.rows(published)) == []


def test_csv_header_is_the_schema_fields_in_order(client, lieux):
    header = next(csv.reader(io.StringIO(export_csv(client))))
    assert header == FIELD_NAMES


def test_csv_has_every_required_field_filled(client, lieux):
    rows = csv_rows(client)
    assert len(rows) == 4
    for row in rows:
        for name in REQUIRED:
            assert row[name].strip(), f"{row['nom']} : « {name} » est vide"


def test_csv_values_respect_every_pattern_of_the_schema(client, lieux):
    checked = set()
    for row in csv_rows(client):
        for name, pattern in PATTERNS.items():
            if row[name]:
                assert re.fullmatch(pattern, row[name]), f"{row['nom']} : « {name} » = {row[name]!r}"
                checked.add(name)
    # Every constrained column was exercised by at least one place.
    assert checked == set(PATTERNS)


def test_csv_multi_values_are_pipe_separated_and_each_in_the_vocabulary(client, lieux):
    row = rows_by_name(client)["Espace numérique de Labège"]
    for name, alternatives in VOCABULARIES.items():
        items = row[name].split("|")
        for item in items:
            assert re.fullmatch(alternatives, item), f"« {name} » : {item!r} hors du vocabulaire du standard"
    assert row["services"].split("|") == all_values(choices.SERVICES)
    assert row["frais_a_charge"] == "Gratuit|Gratuit sous condition|Payant"
    assert row["typologie"] == "MUNI|EPN"
    assert row["courriels"] == "numerique@ville-labege.fr|accueil@ville-labege.fr"
    assert row["site_web"] == "https://www.ville-labege.fr|https://numerique.ville-labege.fr"


def test_csv_dates_and_numbers_are_well_formed(client, lieux):
    for row in csv_rows(client):
        datetime.date.fromisoformat(row["date_maj"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date_maj"])
    rows = rows_by_name(client)
    assert (rows["Espace numérique de Labège"]["latitude"], rows["Espace numérique de Labège"]["longitude"]) == (
        "43.5312",
        "1.5338",
    )
    assert (rows["Bus numérique du Sicoval"]["latitude"], rows["Bus numérique du Sicoval"]["longitude"]) == (
        "-21.115141",
        "55.536384",
    )
    assert rows["Cyber-Base de Castanet"]["latitude"] == ""


def test_csv_values_of_each_place(client, lieux):
    rows = rows_by_name(client)
    complet = rows["Espace numérique de Labège"]
    assert complet["id"] == str(lieux["complet"].uuid)
    assert complet["pivot"] == lieux["complet"].structure.siret
    assert (complet["commune"], complet["code_insee"], complet["code_postal"]) == ("Labège", "31254", "31670")
    assert complet["itinerance"] == "Fixe"
    assert complet["presentation_detail"] == "Un conseiller numérique vous reçoit.\nSur rendez-vous ou en accès libre."
    assert rows["Bus numérique du Sicoval"]["itinerance"] == "Itinérant"
    assert rows["Cyber-Base de Castanet"]["pivot"] == "W313000123"
    assert rows["Cyber-Base de Castanet"]["source"]  # the platform names itself when no source is given
    assert rows["Médiathèque de Labège"]["pivot"] == "21310555400017"


def test_date_maj_is_the_local_date_of_the_last_change(client, lieux):
    # 23:30 UTC on 1 March is already 2 March in Toulouse.
    updated = datetime.datetime(2025, 3, 1, 23, 30, tzinfo=datetime.UTC)
    Lieu.objects.filter(pk=lieux["complet"].pk).update(updated_at=updated)
    assert rows_by_name(client)["Espace numérique de Labège"]["date_maj"] == "2025-03-02"


def test_unpublished_places_are_not_exported(client, lieux):
    names = {row["nom"] for row in csv_rows(client)}
    assert "Ancien point numérique" not in names
    assert len(names) == 4
    json_names = {item["nom"] for item in client.get("/lieux/export.json").json()}
    assert json_names == names


def test_json_export_is_a_list_of_objects_with_schema_fields(client, lieux):
    response = client.get("/lieux/export.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    items = response.json()
    assert isinstance(items, list)
    assert len(items) == 4
    for item in items:
        assert isinstance(item, dict)
        assert set(item) <= set(FIELD_NAMES)
        assert set(REQUIRED) <= set(item)
        assert list(item) == [name for name in FIELD_NAMES if name in item]  # the standard's order
    complet = next(item for item in items if item["nom"] == "Espace numérique de Labège")
    assert complet["latitude"] == 43.5312
    assert complet["longitude"] == 1.5338
    assert complet["services"].split("|") == all_values(choices.SERVICES)
    assert complet["id"] == str(lieux["complet"].uuid)


def test_empty_export_has_the_header_only(client, db):
    assert export_csv(client).splitlines() == [",".join(FIELD_NAMES)]
    assert client.get("/lieux/export.json").json() == []


# --- the export command ------------------------------------------------------------------------------------------
def test_export_lieux_command_writes_both_files(lieux, tmp_path):
    csv_path, json_path = tmp_path / "lieux.csv", tmp_path / "lieux.json"
    out = io.StringIO()
    call_command("export_lieux", "--csv", str(csv_path), "--json", str(json_path), stdout=out)
    assert "4 lieu(x) exporté(s)." in out.getvalue()
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert [list(row) for row in rows] == [FIELD_NAMES] * 4
    assert lieux_standard.validate_rows(rows) == []
    items = json.loads(json_path.read_text(encoding="utf-8"))
    assert sorted(item["id"] for item in items) == sorted(row["id"] for row in rows)
    assert str(lieux["retire"].uuid) not in {row["id"] for row in rows}


def test_export_lieux_command_needs_a_destination(lieux):
    with pytest.raises(CommandError, match="Indiquez --csv et/ou --json"):
        call_command("export_lieux")


def test_export_lieux_command_reports_an_unwritable_path(lieux, tmp_path):
    with pytest.raises(CommandError, match="Écriture impossible"):
        call_command("export_lieux", "--csv", str(tmp_path / "absent" / "lieux.csv"))


# --- validate_rows catches what breaks the standard --------------------------------------------------------------
@pytest.fixture
def good_rows(lieux):
    rows = list(lieux_standard.rows([lieux["complet"], lieux["minimal"]]))
    assert lieux_standard.validate_rows(rows) == []
    return rows


def test_validate_rows_detects_a_missing_required_field(good_rows):
    good_rows[1]["adresse"] = ""
    assert lieux_standard.validate_rows(good_rows) == ["ligne 2 : « adresse » est obligatoire"]


def test_validate_rows_detects_a_bad_pattern(good_rows):
    good_rows[0]["code_postal"] = "3167"
    good_rows[1]["services"] = "Aide aux démarches administratives|Réparation de vélos"
    errors = lieux_standard.validate_rows(good_rows)
    assert len(errors) == 2
    assert errors[0].startswith("ligne 1 : « code_postal » ne respecte pas le motif du standard")
    assert errors[1].startswith("ligne 2 : « services » ne respecte pas le motif du standard")


def test_validate_rows_detects_a_value_only_starting_like_an_allowed_one(good_rows):
    good_rows[0]["frais_a_charge"] = "Gratuit pour tous"
    assert len(lieux_standard.validate_rows(good_rows)) == 1


def test_validate_rows_detects_a_duplicate_id(good_rows):
    good_rows[1]["id"] = good_rows[0]["id"]
    errors = lieux_standard.validate_rows(good_rows)
    assert errors == [f"ligne 2 : « id » {good_rows[0]['id']!r} apparaît deux fois"]


def test_validate_rows_detects_a_too_long_presentation_resume(good_rows):
    good_rows[0]["presentation_resume"] = "x" * 281
    assert lieux_standard.validate_rows(good_rows) == ["ligne 1 : « presentation_resume » dépasse 280 caractères"]
    good_rows[0]["presentation_resume"] = "x" * 280
    assert lieux_standard.validate_rows(good_rows) == []


def test_validate_rows_detects_a_bad_date_and_a_bad_number(good_rows):
    good_rows[0]["date_maj"] = "02/03/2025"
    good_rows[0]["latitude"] = "43,53"
    assert lieux_standard.validate_rows(good_rows) == [
        "ligne 1 : « latitude » n'est pas un nombre",
        "ligne 1 : « date_maj » n'est pas une date AAAA-MM-JJ",
    ]


def test_validate_rows_detects_missing_columns(good_rows):
    del good_rows[0]["prise_rdv"]
    assert lieux_standard.validate_rows(good_rows) == ["ligne 1 : colonnes différentes de celles du standard"]


def test_export_refuses_to_write_a_non_conforming_file(lieux, tmp_path):
    Lieu.objects.filter(pk=lieux["minimal"].pk).update(telephone="05 61 00 00 00")
    destination = tmp_path / "lieux.csv"
    with pytest.raises(CommandError, match="Export non conforme au standard"):
        call_command("export_lieux", "--csv", str(destination))
    assert not destination.exists()
