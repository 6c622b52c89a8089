"""django-oauth-toolkit's validator and the API's authentication: a token is valid only while its client is active,
and a request made with it carries its client (and so its structure) for scoping, logs and history."""

import hashlib
import logging

from django.utils import timezone
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from rest_framework import exceptions

logger = logging.getLogger("partenaires.api")

LAST_USE_PRECISION = 300  # seconds: the "last used" date is written at most every 5 minutes


def _client_of(application):
    client = getattr(application, "client_partenaire", None) if application is not None else None
    return client if client is not None and client.actif else None


class PartnerValidator(OAuth2Validator):
    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request)
        if application is not None and _client_of(application) is None:
            return None  # a revoked client, or an application that is not a partner client
        return application

    def _load_access_token(self, token):
        # One query loads the token, its client and the client's structure.
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            AccessToken.objects.select_related("application__client_partenaire__structure")
            .filter(token_checksum=checksum)
            .first()
        )


class PartnerAuthentication(OAuth2Authentication):
    """Bearer tokens of active partner clients only. ``request.auth`` is the token, ``request.client_api`` the
    client; there is no user (the client acts for its structure)."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            if request.META.get("HTTP_AUTHORIZATION"):
                raise exceptions.AuthenticationFailed("Jeton d'accès invalide, expiré ou révoqué.")
            return None
        _user, token = result
        client = _client_of(token.application)
        if client is None:
            raise exceptions.AuthenticationFailed("Jeton d'accès invalide, expiré ou révoqué.")
        request.client_api = client
        request._request.client_api = client  # seen by the history and the access log
        now = timezone.now()
        if client.derniere_utilisation_le is None or (now - client.derniere_utilisation_le).total_seconds() > (
            LAST_USE_PRECISION
        ):
            type(client).objects.filter(pk=client.pk).update(derniere_utilisation_le=now)
        return (None, token)
