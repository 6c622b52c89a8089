"""Deployment checks of the accounts: the login rate limits (allauth's, and the second factor's) count attempts in
the default cache, which must be shared by every gunicorn worker and every server. A local-memory cache gives each
process its own count: with 3 workers, 3 × 5 bad passwords would pass instead of 5."""

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.security, deploy=True)
def cache_partage(app_configs, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        checks.Warning(
            f"Le cache par défaut ({backend.rsplit('.', 1)[-1]}) n'est pas partagé entre les processus : les limites "
            "de tentatives de connexion et de double authentification seraient comptées par processus.",
            hint="Donnez REDIS_URL (redis://…) pour un cache Redis commun à tous les processus gunicorn.",
            id="accounts.W001",
        )
    ]
