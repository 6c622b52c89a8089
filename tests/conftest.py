import pytest
from django.conf import settings
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, connection

from tests import factories


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


def _redis_available():
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def services(db):
    """For tests that need a real PostgreSQL and Redis: skipped with a visible reason without them, and failing
    instead when REQUIRE_SERVICES=1 (CI), so that nothing is silently left out there."""
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not _redis_available():
        missing.append("Redis (REDIS_URL)")
    if missing:
        reason = "service(s) manquant(s) : " + ", ".join(missing)
        if settings.REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 mais {reason}")
        pytest.skip(reason)


@pytest.fixture
def staff_user(db):
    return factories.StaffUserFactory()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def structure(db):
    return factories.StructureFactory()


@pytest.fixture
def referent(structure):
    return factories.MembershipFactory(structure=structure).user


@pytest.fixture
def keep_test_connection():
    """For in-process WSGI calls (schemathesis): the call fires close_old_connections, which would close the test
    transaction's connection, so that every later request answers 500."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def coop_fake():
    """The fake Coop (``tests/imports/coop_fake.py``), a real HTTP server on 127.0.0.1 for the test; its dataset
    and fault switches are the test's to set."""
    from tests.imports.coop_fake import CoopFake

    fake = CoopFake().demarrer()
    try:
        yield fake
    finally:
        fake.arreter()
