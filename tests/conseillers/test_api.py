"""The partner API of posts (``/api/v1/postes/``), through its URLs with real tokens: the structure's posts only,
their state and occupant (identifier and name only), filters, cursor pagination for synchronisation, errors in
French and a query budget that does not grow with the number of rows."""

import datetime
import uuid

import pytest
import schemathesis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, settings

from conseillers import services
from conseillers.choices import Typologie
from conseillers.models import Poste
from sicoval_numerique.wsgi import application
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

D = datetime.date
URL = "/api/v1/postes/"
ATTRIBUTION = D(2021, 6, 1)


@pytest.fixture
def partner(structure):
    client_api, _secret = api_client_for(structure)
    return client_api


@pytest.fixture
def auth(partner):
    return bearer(partner)


def create_poste(structure, by, date=ATTRIBUTION, typologie=Typologie.CONUM):
    return services.poste_create(structure=structure, typologie=typologie, phase=1, date_attribution=date, by=by)


@pytest.fixture
def postes(structure, other_structure, staff):
    """In ``structure``: an occupied post, a vacant coordinator post and a returned one; in ``other_structure``: one
    occupied post."""
    occupe = create_poste(structure, staff)
    ines = factories.ConseillerFactory(prenom="Inès", nom="Martin", telephone="0611223344")
    services.poste_assign(poste=occupe, conseiller=ines, date=D(2023, 2, 1), by=staff)
    vacant = create_poste(structure, staff, date=D(2022, 3, 1), typologie=Typologie.COORDO)
    rendu = create_poste(structure, staff)
    services.poste_return(poste=rendu, date=D(2024, 1, 15), by=staff)
    ailleurs = create_poste(other_structure, staff)
    services.poste_assign(poste=ailleurs, conseiller=factories.ConseillerFactory(), date=D(2023, 1, 1), by=staff)
    return {"occupe": occupe, "vacant": vacant, "rendu": rendu, "ailleurs": ailleurs, "ines": ines}


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def uuids(response):
    return {item["uuid"] for item in results(response)}


# --- reads -------------------------------------------------------------------------------------------------------
def test_list_shows_the_structures_posts_with_their_state_and_occupant(client, auth, postes):
    items = {item["uuid"]: item for item in results(client.get(URL, **auth))}
    assert set(items) == {str(postes[name].uuid) for name in ("occupe", "vacant", "rendu")}
    occupe = items[str(postes["occupe"].uuid)]
    assert occupe | {"created_at": None, "updated_at": None} == {
        "uuid": str(postes["occupe"].uuid),
        "typologie": "conum",
        "etat": "occupe",
        "attribue": True,
        "phase": 1,
        "date_attribution": "2021-06-01",
        "date_rendu": None,
        "coselec_date": None,
        "rattache_depuis": "2021-06-01",
        "occupant": {"uuid": str(postes["ines"].uuid), "prenom": "Inès", "nom": "Martin", "depuis": "2023-02-01"},
        "created_at": None,
        "updated_at": None,
    }
    assert occupe["updated_at"] and occupe["created_at"]
    vacant, rendu = items[str(postes["vacant"].uuid)], items[str(postes["rendu"].uuid)]
    assert (vacant["etat"], vacant["attribue"], vacant["typologie"], vacant["occupant"]) == (
        "vacant",
        True,
        "coordo",
        None,
    )
    assert (rendu["etat"], rendu["attribue"], rendu["date_rendu"]) == ("rendu", False, "2024-01-15")


def test_the_occupant_is_named_but_never_contacted(client, auth, postes):
    body = client.get(URL, **auth).content.decode()
    ines = postes["ines"]
    assert ines.email and ines.email not in body
    assert "0611223344" not in body
    assert "salaire" not in body and "cout_employeur" not in body


def test_retrieve_a_post(client, auth, postes):
    response = client.get(f"{URL}{postes['occupe'].uuid}/", **auth)
    assert response.status_code == 200
    assert response.json()["occupant"]["nom"] == "Martin"


def test_another_structures_post_is_absent_and_answers_404(client, auth, postes):
    assert str(postes["ailleurs"].uuid) not in uuids(client.get(URL, **auth))
    assert client.get(f"{URL}{postes['ailleurs'].uuid}/", **auth).status_code == 404
    assert client.get(f"{URL}{uuid.uuid4()}/", **auth).status_code == 404
    assert client.get(f"{URL}{'-' * 36}/", **auth).status_code == 404


def test_the_other_structure_sees_only_its_own_post(client, other_structure, postes):
    other, _secret = api_client_for(other_structure)
    assert uuids(client.get(URL, **bearer(other))) == {str(postes["ailleurs"].uuid)}


def test_a_post_moved_away_leaves_the_list(client, auth, postes, other_structure, staff):
    services.poste_move(poste=postes["vacant"], structure=other_structure, date=D(2023, 1, 1), by=staff)
    assert str(postes["vacant"].uuid) not in uuids(client.get(URL, **auth))
    assert client.get(f"{URL}{postes['vacant'].uuid}/", **auth).status_code == 404


def test_a_post_moved_in_is_attached_since_its_arrival(client, structure, other_structure, staff):
    poste = create_poste(other_structure, staff)
    services.poste_move(poste=poste, structure=structure, date=D(2023, 1, 1), by=staff)
    partner, _secret = api_client_for(structure)
    item = client.get(f"{URL}{poste.uuid}/", **bearer(partner)).json()
    assert (item["date_attribution"], item["rattache_depuis"]) == ("2021-06-01", "2023-01-01")


def test_a_funders_structure_sees_only_the_posts_attached_to_it(client, postes):
    """Funders' members read every post on the web pages; a funder's API client reads its own structure's only."""
    funder = factories.MembershipFactory(role="financeur").structure
    partner, _secret = api_client_for(funder)
    assert results(client.get(URL, **bearer(partner))) == []


# --- authentication and scopes -----------------------------------------------------------------------------------
def test_without_a_token_answers_401(client, postes):
    response = client.get(URL)
    assert response.status_code == 401
    assert "Authentification requise" in response.json()["detail"]
    assert client.get(f"{URL}{postes['occupe'].uuid}/").status_code == 401


def test_an_unknown_or_expired_token_answers_401(client, partner, postes):
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer inconnu").status_code == 401
    assert client.get(URL, **bearer(partner, expires_in=-10)).status_code == 401


def test_a_token_without_the_postes_scope_answers_403(client, partner, postes):
    response = client.get(URL, **bearer(partner, ["lieux:read", "activites:read"]))
    assert response.status_code == 403
    assert "postes:read" in response.json()["detail"]
    assert client.get(f"{URL}{postes['occupe'].uuid}/", **bearer(partner, ["lieux:read"])).status_code == 403


def test_posts_are_read_only(client, auth, postes):
    assert client.post(URL, {}, **auth).status_code == 405
    assert client.delete(f"{URL}{postes['occupe'].uuid}/", **auth).status_code == 405
    assert Poste.objects.filter(pk=postes["occupe"].pk).exists()


# --- filters and ordering ----------------------------------------------------------------------------------------
def test_filter_by_state_and_typology(client, auth, postes):
    assert uuids(client.get(URL, {"etat": "vacant"}, **auth)) == {str(postes["vacant"].uuid)}
    assert uuids(client.get(URL, {"etat": "rendu"}, **auth)) == {str(postes["rendu"].uuid)}
    assert uuids(client.get(URL, {"typologie": "coordo"}, **auth)) == {str(postes["vacant"].uuid)}
    assert uuids(client.get(URL, {"etat": "occupe", "typologie": "coordo"}, **auth)) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"etat": "libre"}, "etat"),
        ({"etat": ""}, "etat"),
        ({"typologie": "autre"}, "typologie"),
        ({"modified_since": "hier"}, "modified_since"),
        ({"ordering": "structure"}, "ordering"),
        ({"taille": "0"}, "taille"),
        ({"taille": "201"}, "taille"),
        ({"modified_since": ""}, "modified_since"),
    ],
)
def test_a_bad_parameter_answers_400_in_french(client, auth, postes, params, field):
    response = client.get(URL, params, **auth)
    assert response.status_code == 400, response.content
    message = str(response.json()[field])
    assert any(word in message for word in ("Sélectionnez", "Saisissez", "Tri", "taille", "vide")), message


def test_a_forged_cursor_answers_404_in_french(client, auth, postes):
    response = client.get(URL, {"cursor": "pas-un-curseur"}, **auth)
    assert response.status_code == 404  # as the base pagination answers (documented)
    assert response.json()["detail"].startswith("Curseur invalide")


def test_ordering_by_attribution_date(client, auth, postes):
    items = results(client.get(URL, {"ordering": "-date_attribution"}, **auth))
    assert [item["date_attribution"] for item in items][0] == "2022-03-01"


def test_any_iso_8601_offset_is_accepted_and_an_impossible_date_refused(client, auth):
    """PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows: the date is compared in UTC."""
    assert client.get(URL, {"modified_since": "2026-01-01T00:00:00+22:38"}, **auth).status_code == 200
    response = client.get(URL, {"modified_since": "0001-01-01T00:00:00+05:00"}, **auth)
    assert response.status_code == 400
    assert response.json()["modified_since"] == ["Date hors des limites du calendrier."]


# --- synchronisation ---------------------------------------------------------------------------------------------
def test_cursor_pagination_with_modified_since(client, auth, structure, staff):
    base = timezone.now() - datetime.timedelta(days=10)
    created = [create_poste(structure, staff) for _ in range(5)]
    for index, poste in enumerate(created):
        Poste.objects.filter(pk=poste.pk).update(updated_at=base + datetime.timedelta(days=index))
    since = (base + datetime.timedelta(days=1)).isoformat()
    seen, url, params = [], URL, {"modified_since": since, "taille": 2}
    while url:
        response = client.get(url, params, **auth)
        page = response.json()
        assert len(page["results"]) <= 2
        seen += [item["uuid"] for item in page["results"]]
        url, params = page["next"], None
    assert seen == [str(poste.uuid) for poste in created[1:]]  # oldest change first, each once


def test_a_change_of_occupant_is_seen_by_the_next_synchronisation(client, auth, postes, staff):
    since = timezone.now()
    assert uuids(client.get(URL, {"modified_since": since.isoformat()}, **auth)) == set()
    services.poste_release(poste=postes["occupe"], date=D(2024, 6, 1), by=staff)
    items = results(client.get(URL, {"modified_since": since.isoformat()}, **auth))
    assert [(item["uuid"], item["etat"], item["occupant"]) for item in items] == [
        (str(postes["occupe"].uuid), "vacant", None)
    ]


def test_a_renamed_occupant_brings_the_post_back(client, auth, postes, staff):
    since = timezone.now()
    services.conseiller_update(conseiller=postes["ines"], nom="Martin-Garcia", by=staff)
    items = results(client.get(URL, {"modified_since": since.isoformat()}, **auth))
    assert [(item["uuid"], item["occupant"]["nom"]) for item in items] == [
        (str(postes["occupe"].uuid), "Martin-Garcia")
    ]


# --- query budget ------------------------------------------------------------------------------------------------
def _queries(client, auth):
    client.get(URL, **auth)  # the client's "last used" date is written at most every 5 minutes: not measured
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL, {"taille": 50}, **auth)
    assert response.status_code == 200
    return len(response.json()["results"]), len(context.captured_queries)


def test_the_list_runs_the_same_queries_at_2_and_50_rows(client, structure, staff):
    partner, _secret = api_client_for(structure)
    auth = bearer(partner)

    def add(count):
        for _ in range(count):
            poste = create_poste(structure, staff)
            services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2022, 1, 1), by=staff)

    add(2)
    rows_2, queries_2 = _queries(client, auth)
    add(48)
    rows_50, queries_50 = _queries(client, auth)
    assert (rows_2, rows_50) == (2, 50)
    assert queries_2 == queries_50 <= 6


# --- contract fuzzing with a real token --------------------------------------------------------------------------
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(tag="postes")


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_a_token_the_api_honours_its_schema(case, auth, postes, keep_test_connection):
    """Generated parameters answer 200, 400 or 404 as documented: never 5xx."""
    case.call_and_validate(headers={"Authorization": auth["HTTP_AUTHORIZATION"]})
