"""The partner API of activities (``/api/v1/activites/``), through its URLs with real tokens: the activities recorded
while employed by the client's structure (the référents' scope), anonymised (no notes, no beneficiary anywhere),
deletions as tombstones in a synchronisation only, filters, cursor pagination, errors in French and a query budget
that does not grow with the number of rows."""

import datetime
import json
import uuid

import pytest
import schemathesis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, settings

from accompagnements import services
from accompagnements.api.activites import ActiviteRepartitionSerializer, repartitions
from accompagnements.models import Activite
from sicoval_numerique.wsgi import application
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

D = datetime.date
URL = "/api/v1/activites/"
TODAY = timezone.localdate()
NOTES = "Note privée : Mme Dupont-Secret vit seule, voir son fils"


@pytest.fixture
def partner(structure):
    client_api, _secret = api_client_for(structure)
    return client_api


@pytest.fixture
def auth(partner):
    return bearer(partner)


@pytest.fixture
def lea(conseiller):
    """A person ``conseiller`` follows by name (with consent)."""
    return services.beneficiaire_create(
        by=conseiller.user,
        data={
            "prenom": "Léa",
            "nom": "Dupont-Secret",
            "telephone": "06 98 76 54 32",
            "email": "lea.dupont-secret@example.org",
            "annee_naissance": 1950,
            "genre": "feminin",
            "tranche_age": "soixante_dix_plus",
            "statut_social": "retraite",
            "consentement": True,
        },
        confirme_doublon=True,
    )


@pytest.fixture
def activities(record, conseiller, colleague, other_conseiller, lieu, lea, structure, other_structure):
    """In ``structure``: an individual session with Léa (followed, with private notes) and a workshop of the
    colleague at the structure's place; a deleted session; one session of ``conseiller`` recorded while employed by
    ``other_structure``. In ``other_structure``: one session of its conseiller."""
    individuel = record(
        conseiller,
        services.Participants(beneficiaires=[lea]),
        date=TODAY - datetime.timedelta(days=20),
        thematiques=["aide_aux_demarches_administratives", "logement"],
        nom_demarche="Demande d'aide au logement",
        oriente=True,
        structure_redirection="aide_sociale",
        notes=NOTES,
    )
    atelier = record(
        colleague,
        services.Participants(
            anonymes=4,
            repartition={"genre": {"feminin": 3}, "tranche_age": {"soixante_soixante_neuf": 2}, "statut_social": {}},
        ),
        date=TODAY - datetime.timedelta(days=10),
        type="collectif",
        type_lieu="lieu_activite",
        lieu=lieu,
        titre_atelier="Se protéger des arnaques",
        niveau="debutant",
        duree=120,
        thematiques=["securite_numerique"],
        materiel=["ordinateur", "telephone"],
        autonomie="",
    )
    supprimee = record(conseiller, date=TODAY - datetime.timedelta(days=5))
    services.activite_delete(activite=supprimee, by=conseiller.user)
    employe_ailleurs = record(conseiller, date=TODAY - datetime.timedelta(days=3))
    Activite.objects.filter(pk=employe_ailleurs.pk).update(structure=other_structure)
    autre = record(other_conseiller)
    return {
        "individuel": individuel,
        "atelier": atelier,
        "supprimee": Activite.objects.get(pk=supprimee.pk),
        "employe_ailleurs": employe_ailleurs,
        "autre": autre,
    }


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def by_uuid(response):
    return {item["uuid"]: item for item in results(response)}


def uuids(response):
    return set(by_uuid(response))


def ids(activities, *names):
    return {str(activities[name].uuid) for name in names}


def counts(vocabulary, **values):
    return {code: values.get(code, 0) for code in vocabulary}


GENRES = ("masculin", "feminin", "non_communique")
AGES = (
    "moins_de_douze",
    "douze_dix_huit",
    "dix_huit_vingt_quatre",
    "vingt_cinq_trente_neuf",
    "quarante_cinquante_neuf",
    "soixante_soixante_neuf",
    "soixante_dix_plus",
    "non_communique",
)
STATUTS = ("scolarise", "sans_emploi", "en_emploi", "retraite", "non_communique")


# --- reads -------------------------------------------------------------------------------------------------------
def test_list_shows_the_activities_recorded_while_employed_by_the_structure(client, auth, activities):
    assert uuids(client.get(URL, **auth)) == ids(activities, "individuel", "atelier")


def test_an_individual_session_has_the_national_fields_only(client, auth, activities, conseiller, structure):
    item = by_uuid(client.get(URL, **auth))[str(activities["individuel"].uuid)]
    activite = activities["individuel"]
    assert item == {
        "uuid": str(activite.uuid),
        "supprimee": False,
        "supprimee_le": None,
        "conseiller": str(conseiller.uuid),
        "type": "individuel",
        "date": activite.date.isoformat(),
        "duree": 30,
        "type_lieu": "domicile",
        "lieu": None,
        "code_insee": structure.commune.code_insee,
        "commune": structure.commune.nom,
        "thematiques": ["aide_aux_demarches_administratives", "logement"],
        "materiel": ["ordinateur"],
        "autonomie": "partiellement_autonome",
        "oriente": True,
        "structure_redirection": "aide_sociale",
        "niveau": None,
        "participants": 1,
        "repartition": {
            "genre": counts(GENRES, feminin=1),
            "tranche_age": counts(AGES, soixante_dix_plus=1),
            "statut_social": counts(STATUTS, retraite=1),
        },
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }
    assert item["created_at"] and item["updated_at"]


def test_a_workshop_counts_its_participants_by_attribute(client, auth, activities, colleague, lieu):
    response = client.get(f"{URL}{activities['atelier'].uuid}/", **auth)
    assert response.status_code == 200
    item = response.json()
    assert (item["type"], item["conseiller"], item["lieu"], item["code_insee"]) == (
        "collectif",
        str(colleague.uuid),
        str(lieu.uuid),
        lieu.commune.code_insee,
    )
    assert (item["niveau"], item["duree"], item["participants"]) == ("debutant", 120, 4)
    assert (item["autonomie"], item["oriente"], item["structure_redirection"]) == (None, None, None)
    assert item["materiel"] == ["ordinateur", "telephone"]
    assert item["repartition"] == {
        "genre": counts(GENRES, feminin=3, non_communique=1),
        "tranche_age": counts(AGES, soixante_soixante_neuf=2, non_communique=2),
        "statut_social": counts(STATUTS, non_communique=4),
    }
    for breakdown in item["repartition"].values():
        assert sum(breakdown.values()) == item["participants"]


def test_the_breakdown_is_exactly_what_its_documented_serializer_gives(activities):
    # The API returns the counts as `repartitions` builds them, without a serializer per row (too slow for a list):
    # they must be, key for key and in the same order, what the schema's serializer gives.
    counts = repartitions(Activite.objects.filter(pk__in=[activite.pk for activite in activities.values()]))
    assert len(counts) == 4  # the live ones
    for breakdown in counts.values():
        assert json.dumps(breakdown) == json.dumps(ActiviteRepartitionSerializer(breakdown).data)


# --- anonymisation -----------------------------------------------------------------------------------------------
def _keys(value):
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def test_no_notes_and_no_beneficiary_data_anywhere(client, auth, activities, lea, conseiller):
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    for response in (
        client.get(URL, **auth),
        client.get(URL, {"modified_since": since}, **auth),
        client.get(f"{URL}{activities['individuel'].uuid}/", **auth),
    ):
        assert response.status_code == 200
        body = response.content.decode()
        text = json.dumps(response.json(), ensure_ascii=False)
        for secret in (NOTES, "Dupont-Secret", "Léa", "98 76 54 32", lea.email, str(lea.uuid)):
            assert secret not in body and secret not in text, secret
        for name in (conseiller.nom, conseiller.prenom, conseiller.email):
            assert name not in text, name
        keys = _keys(response.json())
        assert not keys & {
            "notes",
            "beneficiaire",
            "beneficiaires",
            "annee_naissance",
            "commune_residence",
            "participants_anonymes",
        }
        # Free text typed by the conseiller may name a person: never shown.
        assert "Demande d'aide au logement" not in text and "Se protéger des arnaques" not in text


# --- scoping -----------------------------------------------------------------------------------------------------
def test_another_structures_activity_is_absent_and_answers_404(client, auth, activities):
    listed = uuids(client.get(URL, **auth))
    for name in ("autre", "employe_ailleurs"):
        assert str(activities[name].uuid) not in listed
        assert client.get(f"{URL}{activities[name].uuid}/", **auth).status_code == 404
    assert client.get(f"{URL}{uuid.uuid4()}/", **auth).status_code == 404


def test_the_employer_on_the_activitys_day_reads_it(client, activities, other_structure):
    """The conseiller's session recorded while employed elsewhere belongs to that employer, as on the web pages."""
    other, _secret = api_client_for(other_structure)
    assert uuids(client.get(URL, **bearer(other))) == ids(activities, "autre", "employe_ailleurs")


def test_a_funders_or_the_sicovals_client_reads_no_activity_of_others(client, activities):
    for structure in (factories.MembershipFactory(role="financeur").structure, factories.StructureFactory()):
        partner, _secret = api_client_for(structure)
        assert results(client.get(URL, **bearer(partner))) == []


# --- deletions ---------------------------------------------------------------------------------------------------
def test_a_deleted_activity_is_absent_from_a_full_read_and_answers_404(client, auth, activities):
    assert str(activities["supprimee"].uuid) not in uuids(client.get(URL, **auth))
    assert client.get(f"{URL}{activities['supprimee'].uuid}/", **auth).status_code == 404


def test_a_synchronisation_brings_deletions_back_as_tombstones(client, auth, activities, conseiller):
    since = timezone.now()
    assert uuids(client.get(URL, {"modified_since": since.isoformat()}, **auth)) == set()
    services.activite_delete(activite=activities["individuel"], by=conseiller.user)

    items = results(client.get(URL, {"modified_since": since.isoformat()}, **auth))
    assert len(items) == 1
    tombstone = items[0]
    assert tombstone["uuid"] == str(activities["individuel"].uuid)
    assert tombstone["supprimee"] is True
    assert tombstone["supprimee_le"] and tombstone["updated_at"] and tombstone["created_at"]
    content = {
        k: v for k, v in tombstone.items() if k not in ("uuid", "supprimee", "supprimee_le", "created_at", "updated_at")
    }
    assert set(content.values()) == {None}
    assert len(content) == 16
    # A full read no longer lists it; a later synchronisation does not bring it back.
    assert str(activities["individuel"].uuid) not in uuids(client.get(URL, **auth))
    assert uuids(client.get(URL, {"modified_since": timezone.now().isoformat()}, **auth)) == set()


def test_filters_apply_to_tombstones_too(client, auth, activities):
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    synced = by_uuid(client.get(URL, {"modified_since": since}, **auth))
    assert set(synced) == ids(activities, "individuel", "atelier", "supprimee")
    assert synced[str(activities["supprimee"].uuid)]["supprimee"] is True
    collective = uuids(client.get(URL, {"modified_since": since, "type": "collectif"}, **auth))
    assert collective == ids(activities, "atelier")


# --- authentication and scopes -----------------------------------------------------------------------------------
def test_without_a_token_answers_401(client, activities):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}{activities['individuel'].uuid}/").status_code == 401


def test_a_token_without_the_activites_scope_answers_403(client, partner, activities):
    response = client.get(URL, **bearer(partner, ["postes:read", "statistiques:read"]))
    assert response.status_code == 403
    assert "activites:read" in response.json()["detail"]
    assert client.get(f"{URL}{activities['individuel'].uuid}/", **bearer(partner, ["lieux:read"])).status_code == 403


def test_activities_are_read_only(client, auth, activities):
    assert client.post(URL, {}, **auth).status_code == 405
    assert client.delete(f"{URL}{activities['individuel'].uuid}/", **auth).status_code == 405
    assert Activite.objects.get(pk=activities["individuel"].pk).supprimee_le is None


# --- filters -----------------------------------------------------------------------------------------------------
def test_filter_by_period(client, auth, activities):
    individuel, atelier = activities["individuel"].date, activities["atelier"].date
    assert uuids(client.get(URL, {"du": atelier.isoformat()}, **auth)) == ids(activities, "atelier")
    assert uuids(client.get(URL, {"au": individuel.isoformat()}, **auth)) == ids(activities, "individuel")
    period = {"du": individuel.isoformat(), "au": atelier.isoformat()}
    assert uuids(client.get(URL, period, **auth)) == ids(activities, "individuel", "atelier")
    same_day = {"du": atelier.isoformat(), "au": atelier.isoformat()}
    assert uuids(client.get(URL, same_day, **auth)) == ids(activities, "atelier")


def test_filter_by_type_place_and_theme(client, auth, activities):
    assert uuids(client.get(URL, {"type": "individuel"}, **auth)) == ids(activities, "individuel")
    assert uuids(client.get(URL, {"type_lieu": "lieu_activite"}, **auth)) == ids(activities, "atelier")
    assert uuids(client.get(URL, {"thematique": "logement"}, **auth)) == ids(activities, "individuel")
    assert uuids(client.get(URL, {"thematique": "securite_numerique"}, **auth)) == ids(activities, "atelier")
    assert uuids(client.get(URL, {"thematique": "sante"}, **auth)) == set()


def test_filter_by_commune_and_conseiller(client, auth, activities, conseiller, other_conseiller):
    labege = factories.CommuneFactory(code_insee="31254", nom="Labège")
    Activite.objects.filter(pk=activities["atelier"].pk).update(commune=labege)
    assert uuids(client.get(URL, {"commune": "31254"}, **auth)) == ids(activities, "atelier")
    assert uuids(client.get(URL, {"commune": "2A004"}, **auth)) == set()
    assert uuids(client.get(URL, {"conseiller": str(conseiller.uuid)}, **auth)) == ids(activities, "individuel")
    assert uuids(client.get(URL, {"conseiller": str(other_conseiller.uuid)}, **auth)) == set()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"du": "hier"}, "du", "Saisissez une date valide"),
        ({"au": "2026-02-30"}, "au", "Saisissez une date valide"),
        ({"du": "2026-03-01", "au": "2026-02-01"}, "au", "La fin de la période"),
        ({"type": "atelier"}, "type", "Sélectionnez un choix valide"),
        ({"type": ""}, "type", "ne peut pas être vide"),
        ({"type_lieu": "mairie"}, "type_lieu", "Sélectionnez un choix valide"),
        ({"thematique": "cuisine"}, "thematique", "Sélectionnez un choix valide"),
        ({"commune": "Labège"}, "commune", "Code INSEE invalide"),
        ({"commune": "312540"}, "commune", "Code INSEE invalide"),
        ({"commune": ""}, "commune", "ne peut pas être vide"),
        ({"du": ""}, "du", "ne peut pas être vide"),
        ({"conseiller": ""}, "conseiller", "ne peut pas être vide"),
        ({"modified_since": ""}, "modified_since", "ne peut pas être vide"),
        ({"conseiller": "pas-un-uuid"}, "conseiller", "UUID"),
        ({"modified_since": "2026-11-01T25:00:00"}, "modified_since", "Saisissez"),
        ({"ordering": "notes"}, "ordering", "Tri inconnu"),
        ({"taille": "abc"}, "taille", "La taille de page"),
    ],
)
def test_a_bad_parameter_answers_400_in_french(client, auth, activities, params, field, message):
    response = client.get(URL, params, **auth)
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field])


def test_ordering_by_date(client, auth, activities):
    items = results(client.get(URL, {"ordering": "-date"}, **auth))
    assert [item["uuid"] for item in items] == [str(activities[n].uuid) for n in ("atelier", "individuel")]


def test_any_iso_8601_offset_is_accepted_and_an_impossible_date_refused(client, auth):
    """PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows: the date is compared in UTC."""
    assert client.get(URL, {"modified_since": "2026-01-01T00:00:00+22:38"}, **auth).status_code == 200
    response = client.get(URL, {"modified_since": "0001-01-01T00:00:00+05:00"}, **auth)
    assert response.status_code == 400
    assert response.json()["modified_since"] == ["Date hors des limites du calendrier."]


# --- synchronisation ---------------------------------------------------------------------------------------------
def test_cursor_pagination_with_modified_since(client, auth, record, conseiller):
    base = timezone.now() - datetime.timedelta(days=10)
    created = [record(conseiller, date=TODAY - datetime.timedelta(days=i + 1)) for i in range(5)]
    for index, activite in enumerate(created):
        Activite.objects.filter(pk=activite.pk).update(updated_at=base + datetime.timedelta(days=index))
    seen, url, params = [], URL, {"modified_since": (base + datetime.timedelta(days=1)).isoformat(), "taille": 2}
    while url:
        page = client.get(url, params, **auth).json()
        assert len(page["results"]) <= 2
        seen += [item["uuid"] for item in page["results"]]
        url, params = page["next"], None
    assert seen == [str(activite.uuid) for activite in created[1:]]


# --- query budget ------------------------------------------------------------------------------------------------
def _queries(client, auth, params=None):
    client.get(URL, **auth)  # the client's "last used" date is written at most every 5 minutes: not measured
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL, {"taille": 50, **(params or {})}, **auth)
    assert response.status_code == 200
    return len(response.json()["results"]), len(context.captured_queries)


def test_the_list_runs_the_same_queries_at_2_and_50_rows(client, auth, record, conseiller, colleague, lieu):
    def add(count):
        for i in range(count):
            if i % 2:
                record(
                    colleague,
                    services.Participants(anonymes=3, repartition={"genre": {"masculin": 1}}),
                    type="collectif",
                    type_lieu="lieu_activite",
                    lieu=lieu,
                    titre_atelier=f"Atelier {i}",
                    autonomie="",
                )
            else:
                record(conseiller, thematiques=["aide_aux_demarches_administratives", "sante"])

    add(2)
    rows_2, queries_2 = _queries(client, auth)
    sync_2 = _queries(client, auth, {"modified_since": "2020-01-01T00:00:00+01:00", "thematique": "sante"})[1]
    add(48)
    rows_50, queries_50 = _queries(client, auth)
    sync_50 = _queries(client, auth, {"modified_since": "2020-01-01T00:00:00+01:00", "thematique": "sante"})[1]
    assert (rows_2, rows_50) == (2, 50)
    assert queries_2 == queries_50 <= 6
    assert sync_2 == sync_50 <= 6


# --- contract fuzzing with a real token --------------------------------------------------------------------------
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(tag="activites")


def filter_query(ctx, query):
    """A reversed period (``du`` after ``au``) is refused with a 400 the schema cannot express: not generated."""
    query = query or {}
    return not (query.get("du") and query.get("au") and str(query["du"]) > str(query["au"]))


@schema.hooks.apply(filter_query)
@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_a_token_the_api_honours_its_schema(case, auth, activities, keep_test_connection):
    """Generated parameters (dates, codes, identifiers, cursors) answer 200, 400 or 404 as documented: never 5xx."""
    case.call_and_validate(headers={"Authorization": auth["HTTP_AUTHORIZATION"]})


@pytest.mark.parametrize("commune", ["\x0c", " ", "3125", "31254 "])
def test_a_malformed_commune_code_is_refused_not_ignored(client, auth, activities, commune):
    """A code that does not match the documented pattern answers 400 in French, whitespace included (stripped, it
    would have become no filter at all and listed every activity)."""
    response = client.get(URL, {"commune": commune}, **auth)
    assert response.status_code == 400
    assert "Code INSEE invalide" in response.content.decode()
