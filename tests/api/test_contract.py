"""Contract fuzzing of the whole OpenAPI schema with schemathesis: no 5xx, documented statuses, responses that
match their schema, at least 50 generated examples per operation."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from sicoval_numerique.wsgi import application
from tests.factories import ArretItinerantFactory, LieuFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def api_data(db):
    """A few places so that lists, filters and details have something to return."""
    LieuFactory.create_batch(3)
    return ArretItinerantFactory()


@pytest.fixture
def keep_test_connection():
    """The WSGI call fires close_old_connections, which would close the test transaction's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_honours_its_schema(case, api_data, keep_test_connection):
    case.call_and_validate()
