"""The national export of activities (CSV and XLSX): columns of each variant, one row per accompaniment, labels,
notes only for their author, visibility, filters, query budget, CSV injection."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accompagnements import choices as c
from accompagnements import exports, services
from accompagnements.filters import filter_activites
from accompagnements.models import Activite, Beneficiaire
from tests import factories

CSV_URL = reverse("accompagnements:export_csv")
XLSX_URL = reverse("accompagnements:export_xlsx")

NATIONAL = c.EXPORT_COLONNES
OWN_HEADER = [
    *NATIONAL[: NATIONAL.index("Participants") + 1],
    "Bénéficiaire",
    *NATIONAL[NATIONAL.index("Participants") + 1 : NATIONAL.index("ID CRA")],
    "Notes supplémentaires",
    "ID CRA",
]
TEAM_HEADER = [
    *NATIONAL[: NATIONAL.index("Dernière modification le") + 1],
    "Prénom du médiateur",
    "Nom du médiateur",
    "Rôle",
    "ID - Conum",
    *NATIONAL[NATIONAL.index("Dernière modification le") + 1 :],
]


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


def csv_rows(client, params=None):
    response = client.get(CSV_URL, params or {})
    assert response.status_code == 200, response.content
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def csv_dicts(client, params=None):
    header, *rows = csv_rows(client, params)
    return [dict(zip(header, row, strict=True)) for row in rows]


def xlsx_rows(client, params=None):
    response = client.get(XLSX_URL, params or {})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Activités"]
    return workbook["Activités"]


# --- Columns ----------------------------------------------------------------------------------------------------
def test_header_of_each_variant(login, conseiller, referent, staff_user):
    # A conseiller's own export: the followed person's name after « Participants », their notes before « ID CRA ».
    assert csv_rows(login(conseiller.user))[0] == OWN_HEADER
    assert (OWN_HEADER[5], OWN_HEADER[-2]) == ("Bénéficiaire", "Notes supplémentaires")
    # Team exports: the four mediator columns after « Dernière modification le », never notes.
    assert TEAM_HEADER[3:7] == ["Prénom du médiateur", "Nom du médiateur", "Rôle", "ID - Conum"]
    assert "Notes supplémentaires" not in TEAM_HEADER and "Bénéficiaire" not in TEAM_HEADER
    for user in (referent, staff_user):
        client = login(user)
        assert csv_rows(client)[0] == TEAM_HEADER
        assert [cell.value for cell in next(xlsx_rows(client).iter_rows(max_row=1))] == TEAM_HEADER


def test_export_needs_login_and_names_the_file_by_day(client, conseiller):
    assert client.get(CSV_URL).status_code == 302
    assert client.get(XLSX_URL).status_code == 302

    client.force_login(conseiller.user)
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert f'filename="activites-{today}.csv"' in client.get(CSV_URL)["Content-Disposition"]
    assert f"activites-{today}.xlsx" in client.get(XLSX_URL)["Content-Disposition"]


# --- Rows -------------------------------------------------------------------------------------------------------
def test_workshop_gives_one_row_per_participant_with_the_same_id(login, conseiller, record):
    atelier = record(
        conseiller,
        services.Participants(anonymes=3, repartition={"genre": {"feminin": 2}}),
        type="collectif",
        titre_atelier="Découvrir sa messagerie",
        niveau="debutant",
    )

    rows = csv_dicts(login(conseiller.user))

    assert [row["Participants"] for row in rows] == ["1/3", "2/3", "3/3"]
    assert {row["ID CRA"] for row in rows} == {str(atelier.uuid)}
    assert [row["Genre du bénéficiaire"] for row in rows] == ["Féminin", "Féminin", "Non communiqué"]
    assert {row["Nom de l’atelier"] for row in rows} == {"Découvrir sa messagerie"}
    assert {row["Niveau d’autonomie (ou de l’atelier)"] for row in rows} == {"1/3"}
    assert {row["Type"] for row in rows} == {"Atelier collectif"}


def test_cells_are_labels_not_codes(login, conseiller, record):
    record(
        conseiller,
        thematiques=["aide_aux_demarches_administratives", "logement", "email"],
        nom_demarche="Demande d'APL",
        materiel=["ordinateur", "telephone"],
        oriente=True,
        structure_redirection="aide_sociale",
        duree=45,
    )

    (row,) = csv_dicts(login(conseiller.user))

    assert row["Type"] == "Accompagnement individuel"
    assert row["Participants"] == "1"
    assert row["Canaux d’accompagnement"] == "À domicile"
    assert row["Durée (min)"] == "45"
    assert row["Matériel numérique utilisé"] == "Ordinateur\nTéléphone"
    assert row["Thématique(s) d’accompagnement"].split("\n") == [
        c.THEMATIQUE_LABELS["aide_aux_demarches_administratives"],
        c.THEMATIQUE_LABELS["logement"],
        c.THEMATIQUE_LABELS["email"],
    ]
    assert row["Tags"] == ""
    assert row["Nom de la démarche administrative"] == "Demande d'APL"
    assert row["Niveau d’autonomie (ou de l’atelier)"] == "2/3"
    assert row["Bénéficiaire réorienté"] == "Oui"
    assert row["Structure de redirection"] == dict(c.STRUCTURE_REDIRECTION)["aide_sociale"]
    assert row["Genre du bénéficiaire"] == "Non communiqué"
    assert row["Tranche d’âge du bénéficiaire"] == "Non communiqué"
    assert row["Statut du bénéficiaire"] == "Non communiqué ou hétérogène"
    assert row["Bénéficiaire"] == ""
    assert row["Date"] == f"{timezone.localdate() - datetime.timedelta(days=1):%d/%m/%Y}"


def test_place_of_activity_and_commune_cells(login, conseiller, record, lieu):
    commune = factories.CommuneFactory(code_insee="31588", nom="Saint-Orens", codes_postaux=["31650", "31651"])
    record(conseiller, type_lieu="lieu_activite", lieu=lieu, oriente=False)
    record(conseiller, type_lieu="domicile", commune=commune, date=timezone.localdate() - datetime.timedelta(days=3))

    at_lieu, at_home = csv_dicts(login(conseiller.user))

    assert at_lieu["Nom du lieu"] == lieu.nom
    assert at_lieu["Adresse"] == lieu.adresse
    assert at_lieu["Commune"] == lieu.commune.nom
    assert at_lieu["Code postal"] == lieu.code_postal
    assert at_lieu["Code Insee"] == lieu.commune.code_insee
    assert at_lieu["Bénéficiaire réorienté"] == "Non"
    assert (at_home["Nom du lieu"], at_home["Adresse"]) == ("", "")
    assert (at_home["Commune"], at_home["Code postal"], at_home["Code Insee"]) == ("Saint-Orens", "31650", "31588")


def test_followed_beneficiary_name_and_commune_in_own_export(login, conseiller, record):
    commune = factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"])
    beneficiaire = services.beneficiaire_create(
        by=conseiller.user,
        data={"prenom": "Léa", "nom": "Martin", "consentement": True, "commune_residence": commune, "genre": "feminin"},
    )
    record(conseiller, services.Participants(beneficiaires=[beneficiaire]))

    (row,) = csv_dicts(login(conseiller.user))

    assert row["Bénéficiaire"] == "Léa Martin"
    assert row["Commune du bénéficiaire"] == "Castanet-Tolosan"
    assert row["Code postal du bénéficiaire"] == "31320"
    assert row["Code Insee du bénéficiaire"] == "31113"
    assert row["Genre du bénéficiaire"] == "Féminin"


def test_recorded_and_modified_stamps_in_paris_time(login, conseiller, record):
    activite = record(conseiller)
    created = datetime.datetime(2025, 1, 15, 9, 5, 30, tzinfo=datetime.UTC)
    Activite.objects.filter(pk=activite.pk).update(created_at=created, updated_at=created)
    client = login(conseiller.user)

    (row,) = csv_dicts(client)
    assert row["Enregistré le"] == "15/01/2025 à 10:05"
    assert row["Dernière modification le"] == ""

    Activite.objects.filter(pk=activite.pk).update(updated_at=datetime.datetime(2025, 7, 1, 16, 0, tzinfo=datetime.UTC))
    (row,) = csv_dicts(client)
    assert row["Dernière modification le"] == "01/07/2025 à 18:00"


def test_team_columns_name_the_mediator_and_role(login, referent, conseiller, record):
    conseiller.est_coordinateur = True
    conseiller.save()
    record(conseiller)

    (row,) = csv_dicts(login(referent))

    assert row["Prénom du médiateur"] == conseiller.prenom
    assert row["Nom du médiateur"] == conseiller.nom
    assert row["Rôle"] == "Coordinateur"
    assert row["ID - Conum"] == str(conseiller.uuid)


def test_notes_only_in_the_authors_export(login, conseiller, referent, staff_user, record):
    record(conseiller, notes="Revoir la semaine prochaine")

    assert csv_dicts(login(conseiller.user))[0]["Notes supplémentaires"] == "Revoir la semaine prochaine"
    for user in (referent, staff_user):
        client = login(user)
        response = client.get(CSV_URL)
        assert "Revoir la semaine prochaine" not in b"".join(response.streaming_content).decode()
        sheet = xlsx_rows(client)
        assert all("Revoir" not in str(value) for row in sheet.iter_rows(values_only=True) for value in row)


# --- Visibility -------------------------------------------------------------------------------------------------
def test_referent_exports_only_their_structures_activities(
    login, referent, conseiller, colleague, other_conseiller, record
):
    mine = record(conseiller)
    colleagues = record(colleague)
    outsider = record(other_conseiller)

    ids = {row["ID CRA"] for row in csv_dicts(login(referent))}

    assert ids == {str(mine.uuid), str(colleagues.uuid)}
    assert str(outsider.uuid) not in ids


def test_conseiller_exports_only_their_own_activities(login, conseiller, colleague, record):
    mine = record(conseiller)
    record(colleague)

    assert {row["ID CRA"] for row in csv_dicts(login(conseiller.user))} == {str(mine.uuid)}


def test_staff_exports_every_activity(staff_client, conseiller, other_conseiller, record):
    activites = {str(record(conseiller).uuid), str(record(other_conseiller).uuid)}

    assert {row["ID CRA"] for row in csv_dicts(staff_client)} == activites


def test_deleted_activities_are_not_exported(login, conseiller, record):
    kept = record(conseiller)
    deleted = record(conseiller)
    services.activite_delete(activite=deleted, by=conseiller.user)
    client = login(conseiller.user)

    assert {row["ID CRA"] for row in csv_dicts(client)} == {str(kept.uuid)}
    assert [row[-1] for row in xlsx_rows(client).iter_rows(min_row=2, values_only=True)] == [str(kept.uuid)]


def test_a_user_without_a_role_in_the_activity_log_gets_403(db, login):
    client = login(factories.UserFactory())
    assert client.get(CSV_URL).status_code == 403
    assert client.get(XLSX_URL).status_code == 403


def test_a_conseiller_without_activities_exports_only_the_header(login, conseiller):
    assert csv_rows(login(conseiller.user)) == [OWN_HEADER]


# --- Filters ----------------------------------------------------------------------------------------------------
def test_filters_of_the_history_apply(login, staff_user, conseiller, other_conseiller, record):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    old = record(conseiller, date=yesterday - datetime.timedelta(days=30), thematiques=["bureautique"])
    atelier = record(
        conseiller,
        services.Participants(anonymes=2),
        type="collectif",
        titre_atelier="Atelier",
        type_lieu="a_distance",
        commune=None,
    )
    recent = record(conseiller)
    outsider = record(other_conseiller)
    client = login(conseiller.user)

    def ids(params, on=client):
        return {row["ID CRA"] for row in csv_dicts(on, params)}

    assert ids({"du": f"{yesterday - datetime.timedelta(days=2):%Y-%m-%d}"}) == {str(atelier.uuid), str(recent.uuid)}
    assert ids({"au": f"{yesterday - datetime.timedelta(days=2):%Y-%m-%d}"}) == {str(old.uuid)}
    assert ids({"type": "collectif"}) == {str(atelier.uuid)}
    assert ids({"thematique": "bureautique"}) == {str(old.uuid)}
    assert ids({"type_lieu": "a_distance"}) == {str(atelier.uuid)}
    assert ids({"commune": recent.commune.code_insee}) == {str(old.uuid), str(recent.uuid)}
    assert ids({"conseiller": str(other_conseiller.uuid)}, on=login(staff_user)) == {str(outsider.uuid)}


def test_conseiller_filter_is_ignored_outside_team_views(login, conseiller, other_conseiller, record):
    mine = record(conseiller)
    record(other_conseiller)

    rows = csv_dicts(login(conseiller.user), {"conseiller": str(other_conseiller.uuid)})

    assert {row["ID CRA"] for row in rows} == {str(mine.uuid)}


def test_filter_form_offers_the_conseiller_only_to_teams_and_visible_communes(
    conseiller, other_conseiller, referent, record
):
    mine = record(conseiller)
    record(other_conseiller, commune=factories.CommuneFactory(nom="Ailleurs"))

    own = filter_activites(Activite.objects.all(), QueryDict(), conseiller.user)[1]
    team = filter_activites(Activite.objects.all(), QueryDict(), referent)[1]

    assert "conseiller" not in own.fields and not own.is_bound
    assert list(team.fields["conseiller"].queryset) == [conseiller]
    assert list(own.fields["commune"].queryset) == [mine.commune]


@pytest.mark.parametrize(
    "params",
    [
        {"du": "abc"},
        {"au": "2024-02-30"},
        {"du": "99999-01-01"},
        {"du": "2025-03-01", "au": "2025-01-01"},
        {"type": "zzz"},
        {"thematique": "<script>"},
        {"type_lieu": "lune"},
        {"commune": "99999"},
        {"conseiller": "pas-un-uuid"},
        {"conseiller": "6f1c1a4e-0000-4000-8000-000000000000"},
        {"du": "\x00"},
    ],
)
def test_bad_filters_answer_400_in_french(staff_client, params):
    for url in (CSV_URL, XLSX_URL):
        response = staff_client.get(url, params)
        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert "Filtres invalides" in response.content.decode()


# --- Formats ----------------------------------------------------------------------------------------------------
def test_xlsx_has_the_same_rows_as_the_csv(login, conseiller, record, lieu):
    record(conseiller, type_lieu="lieu_activite", lieu=lieu, notes="Note")
    record(conseiller, services.Participants(anonymes=2), type="collectif", titre_atelier="Atelier", niveau="avance")
    client = login(conseiller.user)

    from_csv = csv_rows(client)
    sheet = xlsx_rows(client)
    from_xlsx = []
    for row in sheet.iter_rows(values_only=True):
        cells = []
        for value in row:
            if isinstance(value, datetime.datetime):
                value = f"{value:%d/%m/%Y}"
            cells.append("" if value is None else str(value))
        from_xlsx.append(cells)

    assert from_xlsx == from_csv
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert first[0].is_date
    assert first[0].number_format == "DD/MM/YYYY"
    assert isinstance(first[OWN_HEADER.index("Durée (min)")].value, int)


def test_formula_like_text_stays_text(login, conseiller, record):
    record(
        conseiller,
        services.Participants(anonymes=1),
        type="collectif",
        titre_atelier='=HYPERLINK("http://exemple.invalid")',
        notes="@SUM(1+1)",
    )
    client = login(conseiller.user)

    (row,) = csv_dicts(client)
    assert row["Nom de l’atelier"] == '\'=HYPERLINK("http://exemple.invalid")'
    assert row["Notes supplémentaires"] == "'@SUM(1+1)"

    sheet = xlsx_rows(client)
    cells = next(sheet.iter_rows(min_row=2, max_row=2))
    titre = cells[OWN_HEADER.index("Nom de l’atelier")]
    assert (titre.value, titre.data_type) == ('=HYPERLINK("http://exemple.invalid")', "s")
    assert cells[OWN_HEADER.index("Notes supplémentaires")].data_type == "s"


def test_control_characters_do_not_break_the_xlsx(login, conseiller, record):
    record(conseiller, notes="Ligne\x0cpage")
    sheet = xlsx_rows(login(conseiller.user))
    assert list(sheet.iter_rows(min_row=2, values_only=True))[0][OWN_HEADER.index("Notes supplémentaires")] == (
        "Lignepage"
    )


# --- Query budget -----------------------------------------------------------------------------------------------
def _export_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
        assert response.status_code == 200
        b"".join(response.streaming_content)
    return len(context.captured_queries)


def _record_many(record, conseiller, count):
    beneficiaire = Beneficiaire.objects.filter(conseiller=conseiller).first() or services.beneficiaire_create(
        by=conseiller.user, data={"prenom": "Jean", "nom": "Dupont", "consentement": True}
    )
    for i in range(count):
        if i % 3 == 0:
            record(conseiller, services.Participants(anonymes=2), type="collectif", titre_atelier=f"Atelier {i}")
        elif i % 3 == 1:
            record(conseiller, services.Participants(beneficiaires=[beneficiaire]))
        else:
            record(conseiller)


@pytest.mark.parametrize("url", [CSV_URL, XLSX_URL])
def test_query_count_does_not_grow_with_rows(login, referent, conseiller, colleague, record, url):
    _record_many(record, conseiller, 2)
    own_small = _export_queries(login(conseiller.user), url, {"type": "individuel"})
    team_small = _export_queries(login(referent), url, {"thematique": "email"})

    _record_many(record, conseiller, 38)
    _record_many(record, colleague, 2)

    assert _export_queries(login(referent), url, {"thematique": "email"}) == team_small
    assert _export_queries(login(conseiller.user), url, {"type": "individuel"}) == own_small
    assert own_small <= 6 and team_small <= 6


def test_formula_like_names_of_mediators_and_places_stay_text(login, referent, conseiller, record, lieu):
    """Every cell of free text is escaped (``exports.TEXTE_LIBRE``), not only the activity's own fields."""
    conseiller.prenom = "=Camille"
    conseiller.save()
    lieu.nom = "+33 Maison France services"
    lieu.save()
    record(conseiller, type_lieu="lieu_activite", lieu=lieu)
    (row,) = csv_dicts(login(referent))
    assert row["Prénom du médiateur"] == "'=Camille"
    assert row["Nom du lieu"] == "'+33 Maison France services"


@pytest.mark.usefixtures("services")
def test_postgresql_reads_the_rows_by_copy_as_the_cursor_reads_them(conseiller, record, lieu):
    """On PostgreSQL the export reads its rows with ``COPY … TO STDOUT``: the same tuples, of the same types, as
    the queryset's own iterator."""
    record(conseiller, type_lieu="lieu_activite", lieu=lieu, notes="Une note")
    record(conseiller, services.Participants(anonymes=3), type="collectif", titre_atelier="Atelier")
    for team in (False, True):
        values = exports.row_values(Activite.objects.order_by("date", "pk", "accompagnements__rang"), team=team)
        assert list(exports._copie(values)) == list(values.iterator()), team


@pytest.mark.usefixtures("services")
def test_postgresql_writes_the_csv_python_writes(conseiller, referent, record, lieu):
    """On PostgreSQL the CSV's rows are written by the database (``exports.csv_sql``): byte for byte the rows the
    Python writer makes of the same activities, whatever the cells hold (formula starts in every free text,
    separators, quotes and line breaks, empty and missing values, unknown codes, stamps, both variants)."""
    lieu.nom = '-Lieu ; "guillemets"'
    lieu.complement_adresse = "Bâtiment B"
    lieu.save()
    beneficiaire = services.beneficiaire_create(
        by=conseiller.user,
        data={
            "prenom": "=Léa",
            "nom": "Martin",
            "consentement": True,
            "genre": "feminin",
            "tranche_age": "vingt_cinq_trente_neuf",
        },
    )
    conseiller.prenom, conseiller.nom = "@Camille", "Dupont\nDurand"
    conseiller.save()
    suivie = record(
        conseiller,
        services.Participants(beneficiaires=[beneficiaire]),
        type_lieu="lieu_activite",
        lieu=lieu,
        notes='+note ; "citée"\r\nsur deux lignes',
        nom_demarche="\tdémarche",
        oriente=True,
        structure_redirection="aide_sociale",
        thematiques=["aide_aux_demarches_administratives", "logement", "email"],
        materiel=["ordinateur", "telephone"],
    )
    record(
        conseiller,
        services.Participants(anonymes=3, repartition={"genre": {"feminin": 2}}),
        type="collectif",
        titre_atelier='=HYPERLINK("http://exemple.invalid")',
        niveau="debutant",
        oriente=False,
        date=timezone.localdate() - datetime.timedelta(days=2),
    )
    domicile = record(conseiller, materiel=[], thematiques=["email"], autonomie="autonome")
    # What no form lets through but the rows may hold: codes unknown to the vocabulary, an imported id, a modification.
    Activite.objects.filter(pk=domicile.pk).update(
        thematiques=["inconnue", "email", "-autre"], materiel=["ordinateur", "inconnu"], id_externe="-ext-42"
    )
    Activite.objects.filter(pk=suivie.pk).update(updated_at=timezone.now() + datetime.timedelta(hours=2))

    accompagnements = exports.accompagnements_of(Activite.objects.all())
    for team in (False, True):
        from_python = "".join(exports._csv_python(accompagnements, team=team))
        from_postgresql = b"".join(exports._csv_postgresql(accompagnements, team=team)).decode()
        assert from_postgresql == from_python, team
        header = exports.columns(team=team)
        rows = [dict(zip(header, row, strict=True)) for row in csv.reader(io.StringIO(from_python), delimiter=";")]
        assert len(rows) == 5, team
        at_home, followed = rows[:2]  # yesterday's, the last recorded first; then the workshop's three rows
        assert followed["Nom du lieu"] == '\'-Lieu ; "guillemets"'
        assert followed["Adresse"] == f"{lieu.adresse}, Bâtiment B"
        assert followed["Dernière modification le"] != ""
        assert at_home["Thématique(s) d’accompagnement"] == "inconnue\nE-mail\n-autre"
        assert at_home["Matériel numérique utilisé"] == "Ordinateur\ninconnu"
        assert (at_home["ID CRA"], at_home["Dernière modification le"]) == ("'-ext-42", "")
        assert rows[2]["Nom de l’atelier"] == '\'=HYPERLINK("http://exemple.invalid")'
        if team:
            assert (followed["Prénom du médiateur"], followed["Nom du médiateur"]) == ("'@Camille", "Dupont\nDurand")
        else:
            assert followed["Bénéficiaire"] == "'=Léa Martin"
            assert followed["Notes supplémentaires"] == '\'+note ; "citée"\r\nsur deux lignes'
