"""Test settings: the suite runs on PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI requires
them with REQUIRE_SERVICES=1), and falls back to SQLite otherwise."""

from .base import *  # noqa: F403
from .base import CONTENT_SECURITY_POLICY, env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-real-use-0123456789abcdef"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_EMAIL_VERIFICATION = "optional"
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests exercise the real rate limits through their own cache, never a shared one left by another test.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = not env.bool("CELERY_USE_BROKER_IN_TESTS", default=False)
CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY
# The tests' fake Coop serves on 127.0.0.1 over http: local addresses are allowed for the Coop's API here only.
COOP_API_ADRESSES_LOCALES = True
