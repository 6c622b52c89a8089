"""Contract fuzzing of the whole OpenAPI schema with schemathesis: no 5xx, documented statuses, responses that
match their schema, at least 50 generated examples per operation — once anonymously (public directory, and the
401 of partner endpoints) and once with a partner token holding every scope, on a structure with data of every
kind."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from sicoval_numerique.wsgi import application
from tests import factories
from tests.api.helpers import api_client_for, bearer

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def api_data(db):
    """A few places so that lists, filters and details have something to return."""
    factories.LieuFactory.create_batch(3)
    return factories.ArretItinerantFactory()


@pytest.fixture
def partner_headers(api_data):
    """A partner structure with objects of every kind, and a token of its client holding every scope."""
    structure = factories.StructureFactory()
    lieu = factories.LieuFactory(structure=structure)
    atelier = factories.AtelierFactory(structure=structure)
    seance = factories.SeanceFactory(atelier=atelier, lieu=lieu)
    factories.InscriptionFactory(seance=seance)
    factories.PosteFactory(structure=structure)
    api_client, _secret = api_client_for(structure)
    return {"Authorization": bearer(api_client)["HTTP_AUTHORIZATION"]}


# Every check but "positive data acceptance": a request the schema allows may still break a business rule (a
# commune that is not on the platform, a session already full, a date in the past) and gets a documented 400.
EXCLUDED_CHECKS = [positive_data_acceptance]


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_honours_its_schema_anonymously(case, api_data, keep_test_connection):
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_honours_its_schema_with_a_partner_token(case, partner_headers, keep_test_connection):
    case.call_and_validate(headers=partner_headers, excluded_checks=EXCLUDED_CHECKS)
