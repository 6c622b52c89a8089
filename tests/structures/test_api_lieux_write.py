"""Partners create, update and retire their own places through the API, in the national standard's fields; another
structure's places answer 404; bad input answers 400 in French and writes nothing."""

import pytest
from django.template.loader import render_to_string

from sicoval_numerique.history import HistorySource, history_entries
from structures import lieux_standard
from structures.models import Lieu
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/lieux/"


@pytest.fixture
def commune():
    return factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"])


@pytest.fixture
def partner():
    api_client, _secret = api_client_for(factories.StructureFactory(), ["lieux:read", "lieux:write"])
    return api_client


@pytest.fixture
def headers(partner):
    return bearer(partner)


def payload(**overrides):
    data = {
        "nom": "Espace numérique de la médiathèque",
        "adresse": "1 place de la Mairie",
        "code_postal": "31670",
        "code_insee": "31254",
        "latitude": 43.5312,
        "longitude": 1.5338,
        "typologie": "BIB",
        "courriels": "mediatheque@example.org|numerique@example.org",
        "services": "Aide aux démarches administratives|Utilisation sécurisée du numérique",
        "frais_a_charge": "Gratuit",
        "modalites_accompagnement": "Accompagnement individuel|Dans un atelier collectif",
    }
    data.update(overrides)
    return data


def post(client, headers, data):
    return client.post(URL, data, content_type="application/json", **headers)


def test_a_partner_creates_a_place_read_back_in_the_standard(client, commune, partner, headers):
    response = post(client, headers, payload())
    assert response.status_code == 201, response.content
    body = response.json()
    lieu = Lieu.objects.get(uuid=body["uuid"])
    assert lieu.structure == partner.structure
    assert lieu.commune == commune
    assert lieu.services == ["Aide aux démarches administratives", "Utilisation sécurisée du numérique"]
    assert lieu.courriels == ["mediatheque@example.org", "numerique@example.org"]
    assert body["services"] == payload()["services"]
    assert (body["latitude"], body["longitude"]) == (43.5312, 1.5338)
    assert body["publie"] is True
    # What the API answers is the standard's row, valid against its Table Schema.
    row = {name: "" if body[name] is None else str(body[name]) for name in lieux_standard.columns()}
    row["latitude"], row["longitude"] = "43.5312", "1.5338"
    assert lieux_standard.validate_rows([row]) == []


def test_a_partner_updates_only_the_fields_it_sends(client, commune, headers):
    uuid = post(client, headers, payload()).json()["uuid"]
    response = client.patch(
        f"{URL}{uuid}/", {"horaires": "Mo-Fr 09:00-12:00"}, content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    lieu = Lieu.objects.get(uuid=uuid)
    assert lieu.horaires == "Mo-Fr 09:00-12:00"
    assert lieu.nom == payload()["nom"]


def test_retiring_a_place_unpublishes_it_and_the_owner_still_reads_it(client, commune, headers):
    uuid = post(client, headers, payload()).json()["uuid"]
    assert client.delete(f"{URL}{uuid}/", **headers).status_code == 204
    assert Lieu.objects.get(uuid=uuid).is_active is False
    assert client.get(f"{URL}{uuid}/").status_code == 404  # the public no longer sees it
    owner_view = client.get(f"{URL}{uuid}/", **headers)
    assert owner_view.status_code == 200 and owner_view.json()["publie"] is False
    republished = client.patch(f"{URL}{uuid}/", {"publie": True}, content_type="application/json", **headers)
    assert republished.status_code == 200 and republished.json()["publie"] is True


def test_another_structures_places_answer_404_to_writes_and_their_retired_ones_to_reads(client, commune, headers):
    published = factories.LieuFactory(commune=commune, code_postal="31670")
    retired = factories.LieuFactory(commune=commune, code_postal="31670", is_active=False)
    assert client.get(f"{URL}{published.uuid}/", **headers).status_code == 200  # published: everyone reads it
    assert client.get(f"{URL}{retired.uuid}/", **headers).status_code == 404
    assert str(retired.uuid) not in client.get(URL, **headers).content.decode()
    assert (
        client.patch(f"{URL}{published.uuid}/", {"nom": "Pris"}, content_type="application/json", **headers).status_code
        == 404
    )
    assert client.delete(f"{URL}{published.uuid}/", **headers).status_code == 404
    published.refresh_from_db()
    assert published.nom != "Pris" and published.is_active


def test_a_token_without_the_write_scope_cannot_write(client, commune, partner):
    response = post(client, bearer(partner, ["lieux:read"]), payload())
    assert response.status_code == 403
    assert not Lieu.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"code_insee": "99999"}, "code_insee", "Aucune commune"),
        ({"code_postal": "31000"}, "code_postal", "ne correspond pas"),
        ({"services": "Réparer des vélos"}, "services", "inconnue"),
        ({"services": ""}, "services", ""),
        ({"latitude": None}, "__all__", "latitude et la longitude"),
        ({"nom": "Nom\x00nul"}, "nom", "nul"),
        ({"latitude": "nord"}, "latitude", "nombre"),
        ({"presentation_resume": "x" * 281}, "presentation_resume", "280"),
    ],
)
def test_bad_input_answers_400_in_french_and_writes_nothing(client, commune, headers, overrides, field, words):
    response = post(client, headers, payload(**overrides))
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert words in " ".join(map(str, body[field]))
    assert not Lieu.objects.exists()


def test_a_place_cannot_be_moved_to_another_structure(client, commune, partner, headers):
    other = factories.StructureFactory()
    response = post(client, headers, {**payload(), "structure": str(other.uuid)})
    assert response.status_code == 201
    assert Lieu.objects.get().structure == partner.structure


def test_the_history_shown_on_pages_names_the_api_client_that_made_a_change(client, commune, partner, headers):
    assert post(client, headers, payload()).status_code == 201
    entries = history_entries([HistorySource(Lieu.history.all(), subject="Lieu")])
    html = render_to_string("includes/history.html", {"history": entries, "history_length": 30})
    assert f"API : SI partenaire ({partner.structure.nom})" in html
