"""Settings of the benchmarks: the production settings (DEBUG off, cached templates, connection pool, WhiteNoise),
on the national dataset's own database, served over plain HTTP on loopback.

What differs from production, and why:

- HTTPS is not redirected and cookies are not ``Secure``: gunicorn is measured on http://127.0.0.1 without a TLS
  proxy in front (in production the proxy terminates TLS, outside what is measured here).
- The API throttles are lifted: the scenarios send hundreds of requests per second from one client on purpose;
  throttling is tested in the suite, not measured here. The public registration form keeps its per-IP throttle: the
  scenarios give each simulated person its own address in ``X-Forwarded-For``, as the production proxy does
  (``ALLAUTH_TRUSTED_PROXY_COUNT = 1``; a request without the header is counted on its connection's address).
- Without ``CELERY_BROKER_URL`` in the environment, tasks run inline as in the embedded defaults.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bancs-d-essai-cle-locale-qui-ne-sert-qu-en-boucle-locale-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault(
    "DATABASE_URL", os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sicoval_bench")
)
os.environ.setdefault("CHIFFREMENT_CLES", "ZmFrZS1iZW5jaC1rZXktZm9yLWxvb3BiYWNrLW9ubHk9")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from sicoval_numerique.settings.production import *  # noqa: F403
from sicoval_numerique.settings.production import REST_FRAMEWORK

ROOT_URLCONF = "benchmarks.urls"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_RATE_LIMITS = False
# One proxy in front, as in production: the client address is the last one of X-Forwarded-For.
ALLAUTH_TRUSTED_PROXY_COUNT = 1
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "1000000/min"),
}
