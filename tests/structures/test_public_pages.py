"""The public pages without an account: a fixed number of queries whatever the number of places, and no 500 on
any input a visitor can type in the address bar."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db

PAGES = ["/", "/lieux/", "/lieux/export.csv", "/lieux/export.json"]


def _places(count):
    commune = factories.CommuneFactory()
    for _ in range(count):
        factories.LieuFactory(structure__commune=commune)
        factories.ArretItinerantFactory(commune=commune)


def _queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, path
    return len(queries)


@pytest.mark.parametrize("path", PAGES)
def test_public_page_query_count_does_not_grow_with_places(client, path):
    _places(1)
    few = _queries(client, path)
    _places(12)
    many = _queries(client, path)
    assert many == few, f"{path} : {few} requêtes pour 2 lieux, {many} pour 26"


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-1",
        "page=999999999999999999999",
        "commune=pas-un-code",
        "commune=%00",
        "service=Inconnu",
        "service=" + "x" * 5000,
    ],
)
def test_place_search_never_fails_on_bad_input(client, query):
    _places(1)
    response = client.get(f"/lieux/?{query}")
    assert response.status_code == 200
    assert "lieu" in response.content.decode()


def test_unknown_place_is_404_in_french(client):
    response = client.get(f"/lieux/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_retired_place_is_not_public(client):
    lieu = factories.LieuFactory(is_active=False)
    assert client.get(f"/lieux/{lieu.uuid}/").status_code == 404
