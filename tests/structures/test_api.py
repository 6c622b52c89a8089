"""The public reference API: communes and published places (national standard), its OpenAPI schema and docs,
and a query budget that does not grow with the number of rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from structures import choices, lieux_standard
from tests import factories

pytestmark = pytest.mark.django_db

STANDARD_FIELDS = [field["name"] for field in lieux_standard.schema()["fields"]]


@pytest.fixture
def territoire():
    sicoval = factories.EpciFactory(siren="243100633", nom="CA du Sicoval", type="CA")
    metropole = factories.EpciFactory(siren="243100518", nom="Toulouse Métropole", type="METRO")
    return {
        "labege": factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"], epci=sicoval),
        "castanet": factories.CommuneFactory(
            code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"], epci=sicoval
        ),
        "toulouse": factories.CommuneFactory(
            code_insee="31555", nom="Toulouse", codes_postaux=["31000", "31100"], epci=metropole
        ),
        "carcassonne": factories.CommuneFactory(
            code_insee="11069", nom="Carcassonne", codes_postaux=["11000"], departement="11", epci=None
        ),
    }


def codes(response):
    assert response.status_code == 200, response.content
    return [item["code_insee"] for item in response.json()["results"]]


# --- communes --------------------------------------------------------------------------------------------------
def test_communes_list_is_paginated_and_ordered_by_code(client, territoire):
    response = client.get("/api/v1/communes/")
    assert response.json()["count"] == 4
    assert codes(response) == ["11069", "31113", "31254", "31555"]
    toulouse = response.json()["results"][-1]
    assert toulouse == {
        "code_insee": "31555",
        "nom": "Toulouse",
        "siren": "",
        "codes_postaux": ["31000", "31100"],
        "population": 1500,
        "departement": "31",
        "epci_siren": "243100518",
        "epci_nom": "Toulouse Métropole",
    }


def test_communes_filter_by_departement(client, territoire):
    assert codes(client.get("/api/v1/communes/", {"departement": "11"})) == ["11069"]
    assert codes(client.get("/api/v1/communes/", {"departement": "31"})) == ["31113", "31254", "31555"]


def test_communes_filter_by_epci(client, territoire):
    assert codes(client.get("/api/v1/communes/", {"epci": "243100633"})) == ["31113", "31254"]
    assert codes(client.get("/api/v1/communes/", {"epci": "999999999"})) == []


def test_communes_filter_by_part_of_the_name(client, territoire):
    assert codes(client.get("/api/v1/communes/", {"nom": "tolo"})) == ["31113"]
    assert codes(client.get("/api/v1/communes/", {"nom": "Labège"})) == ["31254"]


def test_commune_without_epci_has_null_epci(client, territoire):
    data = client.get("/api/v1/communes/11069/").json()
    assert (data["epci_siren"], data["epci_nom"]) == (None, None)


def test_commune_retrieve_by_code_insee(client, territoire):
    response = client.get("/api/v1/communes/31254/")
    assert response.status_code == 200
    assert response.json()["nom"] == "Labège"
    assert response.json()["epci_siren"] == "243100633"


@pytest.mark.parametrize("code", ["31999", "2A004", "99999"])
def test_unknown_commune_answers_404(client, territoire, code):
    assert client.get(f"/api/v1/communes/{code}/").status_code == 404


def test_communes_are_read_only(client, territoire):
    assert client.post("/api/v1/communes/", {"code_insee": "31001", "nom": "Agassac"}).status_code == 405
    assert client.delete("/api/v1/communes/31254/").status_code == 405
    assert client.get("/api/v1/communes/31254/").status_code == 200


# --- places ------------------------------------------------------------------------------------------------------
@pytest.fixture
def lieux(territoire):
    return {
        "labege": factories.LieuFactory(
            nom="Espace numérique de Labège",
            commune=territoire["labege"],
            code_postal="31670",
            services=["Aide aux démarches administratives", "Utilisation sécurisée du numérique"],
            latitude="43.531200",
            longitude="1.533800",
        ),
        "castanet": factories.LieuFactory(
            nom="Médiathèque de Castanet",
            commune=territoire["castanet"],
            services=["Loisirs et créations numériques"],
        ),
        "retire": factories.LieuFactory(nom="Point retiré", commune=territoire["labege"], is_active=False),
    }


def names(response):
    assert response.status_code == 200, response.content
    return sorted(item["nom"] for item in response.json()["results"])


def test_lieux_lists_published_places_with_the_standard_fields(client, lieux):
    response = client.get("/api/v1/lieux/")
    assert names(response) == ["Espace numérique de Labège", "Médiathèque de Castanet"]
    item = next(i for i in response.json()["results"] if i["nom"] == "Espace numérique de Labège")
    assert list(item) == ["uuid", *STANDARD_FIELDS, "publie"]
    assert item["id"] == item["uuid"] == str(lieux["labege"].uuid)
    assert item["services"] == "Aide aux démarches administratives|Utilisation sécurisée du numérique"
    assert (item["latitude"], item["longitude"]) == (43.5312, 1.5338)
    assert (item["commune"], item["code_insee"], item["code_postal"]) == ("Labège", "31254", "31670")
    assert item["telephone"] is None  # empty fields are null
    for name in ("id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj"):
        assert item[name], name


def test_lieu_retrieve_by_uuid_and_unpublished_answers_404(client, lieux):
    response = client.get(f"/api/v1/lieux/{lieux['labege'].uuid}/")
    assert response.status_code == 200
    assert response.json()["nom"] == "Espace numérique de Labège"
    assert client.get(f"/api/v1/lieux/{lieux['retire'].uuid}/").status_code == 404
    assert client.get("/api/v1/lieux/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_lieux_filter_by_commune(client, lieux):
    assert names(client.get("/api/v1/lieux/", {"commune": "31254"})) == ["Espace numérique de Labège"]
    assert names(client.get("/api/v1/lieux/", {"commune": "31555"})) == []


def test_lieux_filter_by_service(client, lieux):
    response = client.get("/api/v1/lieux/", {"service": "Utilisation sécurisée du numérique"})
    assert names(response) == ["Espace numérique de Labège"]
    response = client.get("/api/v1/lieux/", {"service": "Loisirs et créations numériques"})
    assert names(response) == ["Médiathèque de Castanet"]
    response = client.get("/api/v1/lieux/", {"service": "Loisirs et créations numériques", "commune": "31254"})
    assert names(response) == []


@pytest.mark.parametrize("value", ["Réparation de vélos", "Gratuit", "aide aux démarches administratives", "%"])
def test_lieux_invalid_service_answers_400_in_french(client, lieux, value):
    response = client.get("/api/v1/lieux/", {"service": value})
    assert response.status_code == 400
    assert "service" in response.json()
    assert "Sélectionnez un choix valide" in response.json()["service"][0]


def test_lieux_are_paginated_by_cursor_and_a_bad_cursor_answers_404_in_french(client, lieux):
    first = client.get("/api/v1/lieux/", {"taille": "1"}).json()
    assert len(first["results"]) == 1 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert first["results"][0]["uuid"] != second["results"][0]["uuid"]
    response = client.get("/api/v1/lieux/", {"cursor": "abc"})
    assert response.status_code == 404
    assert "Curseur invalide" in response.json()["detail"]
    response = client.get("/api/v1/lieux/", {"taille": "0"})
    assert response.status_code == 400
    assert "entier" in response.json()["taille"][0]


def test_unknown_ordering_is_refused_with_the_allowed_values(client, lieux):
    response = client.get("/api/v1/lieux/", {"ordering": "structure__siret"})
    assert response.status_code == 400
    assert "nom, -nom" in response.json()["ordering"][0]
    assert client.get("/api/v1/lieux/", {"ordering": "-nom"}).status_code == 200


# --- schema and docs ---------------------------------------------------------------------------------------------
def test_openapi_schema_answers_200(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    body = response.content.decode()
    assert body.startswith("openapi: 3.")
    for path in ("/api/v1/communes/", "/api/v1/communes/{code_insee}/", "/api/v1/lieux/", "/api/v1/lieux/{uuid}/"):
        assert f"  {path}:" in body


def test_openapi_schema_as_json(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "API Sicoval numérique"
    lieu = schema["components"]["schemas"]["Lieu"]["properties"]
    assert set(STANDARD_FIELDS) <= set(lieu)
    parameters = {p["name"] for p in schema["paths"]["/api/v1/lieux/"]["get"]["parameters"]}
    assert {"commune", "service", "cursor", "taille", "modified_since"} <= parameters


def test_api_docs_answer_200(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "API Sicoval numérique" in response.content.decode()


# --- query budget ------------------------------------------------------------------------------------------------
def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    return len(context.captured_queries), body["count"] if "count" in body else len(body["results"])


def make_communes(n, start):
    epci = factories.EpciFactory()
    return [
        factories.CommuneFactory(code_insee=f"32{start + i:03d}", nom=f"Commune {start + i}", epci=epci)
        for i in range(n)
    ]


def make_lieux(n, start):
    lieux = []
    for i in range(n):
        commune = factories.CommuneFactory(code_insee=f"09{start + i:03d}", nom=f"Ville {start + i}")
        lieu = factories.LieuFactory(commune=commune, itinerance=choices.Itinerance.ITINERANT)
        factories.ArretItinerantFactory(lieu=lieu, commune=commune, date=datetime.date.today())
        lieux.append(lieu)
    return lieux


def test_communes_query_budget_does_not_grow_with_rows(client):
    make_communes(2, 0)
    small, count = count_queries(client, "/api/v1/communes/")
    assert count == 2
    make_communes(28, 100)
    large, count = count_queries(client, "/api/v1/communes/")
    assert count == 30
    assert small == large
    assert large <= 6


def test_lieux_query_budget_does_not_grow_with_rows(client):
    make_lieux(2, 0)
    small, count = count_queries(client, "/api/v1/lieux/")
    assert count == 2
    make_lieux(28, 100)
    large, count = count_queries(client, "/api/v1/lieux/")
    assert count == 30
    assert small == large
    assert large <= 6
    filtered, count = count_queries(client, "/api/v1/lieux/?service=Aide%20aux%20d%C3%A9marches%20administratives")
    assert count == 30
    assert filtered == large


def test_lieux_empty_service_is_refused(client, lieux):
    response = client.get("/api/v1/lieux/", {"service": ""})
    assert response.status_code == 400
    assert "vide" in response.json()["service"][0]


def test_lieux_commune_filter_includes_itinerant_units_stopping_there(client):
    stop = factories.ArretItinerantFactory()
    past_stop = factories.ArretItinerantFactory(date=datetime.date(2020, 1, 7))

    codes = {
        item["id"] for item in client.get("/api/v1/lieux/", {"commune": stop.commune.code_insee}).json()["results"]
    }
    past = client.get("/api/v1/lieux/", {"commune": past_stop.commune.code_insee}).json()["results"]

    assert str(stop.lieu.uuid) in codes
    assert str(past_stop.lieu.uuid) not in {item["id"] for item in past}
