"""Every list endpoint of the API runs the same number of queries at 2 and at 50 rows, and at most 6 (token lookup
included), for a partner holding every scope. The lists are found in the OpenAPI schema: a new list endpoint is
measured without being named here."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accompagnements import services as activites
from accounts.models import Role
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

BUDGET = 6
# Single objects rather than lists (one aggregate answer).
NOT_LISTS = {"/api/v1/statistiques/"}


def list_paths():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(path for path, item in schema["paths"].items() if "get" in item and "{" not in path)


LISTS = [path for path in list_paths() if path not in NOT_LISTS]


def populate(structure, n):
    """``n`` rows of every kind the lists serve, for ``structure``."""
    commune = structure.commune
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)
    for index in range(n):
        factories.CommuneFactory()
        factories.StructureFactory(accueille_conseillers=True)
        lieu = factories.LieuFactory(structure=structure, commune=commune, code_postal=commune.codes_postaux[0])
        atelier = factories.AtelierFactory(structure=structure)
        seance = factories.SeanceFactory(atelier=atelier, lieu=lieu)
        factories.InscriptionFactory(seance=seance)
        factories.PosteFactory(structure=structure)
        factories.ConventionFactory(structure=structure)
        activites.activite_create(
            by=user,
            data={
                "type": "individuel",
                "date": timezone.localdate() - datetime.timedelta(days=1 + index % 20),
                "duree": 30,
                "type_lieu": "domicile",
                "lieu": None,
                "commune": commune,
                "thematiques": ["email", "securite_numerique"],
                "materiel": ["ordinateur"],
                "autonomie": "partiellement_autonome",
            },
        )


def measure(client, headers, path):
    with CaptureQueriesContext(connection) as context:
        response = client.get(path, {"taille": 50}, **headers)
    assert response.status_code == 200, (path, response.content[:300])
    return len(context.captured_queries), len(response.json()["results"])


def test_the_schema_has_list_endpoints_to_measure():
    assert {"/api/v1/lieux/", "/api/v1/seances/", "/api/v1/inscriptions/", "/api/v1/activites/"} <= set(LISTS)


def test_every_list_keeps_the_same_query_budget_at_2_and_50_rows(client):
    structure = factories.StructureFactory()
    api_client, _secret = api_client_for(structure)
    populate(structure, 2)
    headers = bearer(api_client)
    client.get("/api/v1/communes/", **headers)  # the client's "last used" date is written once, not measured
    small = {path: measure(client, headers, path) for path in LISTS}
    populate(structure, 48)
    large = {path: measure(client, headers, path) for path in LISTS}
    report = []
    for path in LISTS:
        (queries_small, rows_small), (queries_large, rows_large) = small[path], large[path]
        assert rows_small >= 2 and rows_large >= 50, (path, rows_small, rows_large)
        report.append(f"{path}: {queries_small} requêtes à {rows_small} lignes, {queries_large} à {rows_large}")
        assert queries_small == queries_large, report[-1]
        assert queries_large <= BUDGET, report[-1]
    print("\n".join(report))
