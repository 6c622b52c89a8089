"""`check --deploy` warns when the login rate limits would be counted per process (a local-memory or dummy cache with
DEBUG off): with several gunicorn workers, each would let 5 bad passwords through."""

import pytest
from django.core import checks
from django.test import override_settings

from accounts.checks import cache_partage

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://redis:6379/0"}}


@pytest.mark.parametrize("caches", [LOCMEM, DUMMY], ids=["locmem", "dummy"])
def test_per_process_cache_without_debug_is_warned(caches):
    with override_settings(DEBUG=False, CACHES=caches):
        (warning,) = cache_partage(None)
    assert warning.id == "accounts.W001"
    assert warning.level == checks.WARNING
    assert "REDIS_URL" in warning.hint


def test_shared_cache_is_not_warned():
    with override_settings(DEBUG=False, CACHES=REDIS):
        assert cache_partage(None) == []


def test_debug_mode_is_not_warned():
    with override_settings(DEBUG=True, CACHES=LOCMEM):
        assert cache_partage(None) == []


def test_the_check_runs_only_with_deploy():
    registered = checks.registry.registry
    assert cache_partage in registered.get_checks(include_deployment_checks=True)
    assert cache_partage not in registered.get_checks(include_deployment_checks=False)
