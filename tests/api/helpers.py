"""Partner API test helpers: a client of a structure, and tokens for it (real rows, real authentication)."""

import base64
import secrets
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import AccessToken

from partenaires import scopes, services
from tests import factories

ALL_SCOPES = list(scopes.SCOPES)
TOKEN_URL = "/api/oauth/token/"


def api_client_for(structure, scopes_list=None, *, statistiques_detaillees=False, nom="SI partenaire"):
    """A partner client of ``structure`` (every scope unless told), created by staff through the service.
    Returns ``(client, secret)``."""
    staff = factories.StaffUserFactory()
    return services.client_create(
        structure=structure,
        nom=nom,
        scopes_list=ALL_SCOPES if scopes_list is None else scopes_list,
        by=staff,
        statistiques_detaillees=statistiques_detaillees,
    )


def bearer(client_api, scopes_list=None, *, expires_in=3600):
    """Headers for the Django test client carrying a fresh token of ``client_api`` (with ``scopes_list``, or the
    client's own scopes)."""
    raw = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        application=client_api.application,
        token=raw,
        expires=timezone.now() + timedelta(seconds=expires_in),
        scope=" ".join(client_api.scopes_list if scopes_list is None else scopes_list),
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def obtain_token(django_client, client_api, secret, scope=None):
    """The real client-credentials exchange on the token endpoint; returns the response."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    basic = base64.b64encode(f"{client_api.application.client_id}:{secret}".encode()).decode()
    return django_client.post(TOKEN_URL, data, HTTP_AUTHORIZATION=f"Basic {basic}")
