"""The partner API's credentials and base behaviour, through real URLs: the client-credentials exchange, token
lifetime, hashed secrets and tokens, expiry and revocation (401), scopes (403), no session authentication,
throttling per client, idempotent POSTs, and attribution of every call and change to the client's structure."""

import hashlib
import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from partenaires import services
from partenaires.models import CleIdempotence
from structures.models import Lieu
from tests import factories
from tests.api.helpers import api_client_for, bearer, obtain_token

pytestmark = pytest.mark.django_db

WRITE_URL = "/api/v1/lieux/"


@pytest.fixture
def partner():
    structure = factories.StructureFactory(nom="Département de la Haute-Garonne")
    client, secret = api_client_for(structure, ["lieux:read", "lieux:write"], nom="SI du Département")
    return client, secret


def lieu_payload(commune=None):
    commune = commune or factories.CommuneFactory(codes_postaux=["31670"])
    return {
        "nom": "Espace numérique",
        "adresse": "1 place de la Mairie",
        "code_postal": commune.codes_postaux[0],
        "code_insee": commune.code_insee,
        "services": "Aide aux démarches administratives",
    }


# --- the token exchange -----------------------------------------------------------------------------------------
def test_client_credentials_give_a_bearer_token_of_one_hour_with_the_granted_scopes(client, partner):
    api_client, secret = partner
    response = obtain_token(client, api_client, secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 3600
    assert set(body["scope"].split()) == {"lieux:read", "lieux:write"}
    assert "refresh_token" not in body
    headers = {"HTTP_AUTHORIZATION": f"Bearer {body['access_token']}"}
    assert client.post(WRITE_URL, {}, content_type="application/json", **headers).status_code == 400


def test_a_token_may_ask_for_fewer_scopes_but_never_more_than_granted(client, partner):
    api_client, secret = partner
    narrow = obtain_token(client, api_client, secret, scope="lieux:read")
    assert narrow.status_code == 200 and narrow.json()["scope"] == "lieux:read"
    token = narrow.json()["access_token"]
    response = client.post(WRITE_URL, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert "lieux:write" in response.json()["detail"]
    wider = obtain_token(client, api_client, secret, scope="lieux:read activites:read")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_a_wrong_secret_gets_no_token(client, partner):
    api_client, _secret = partner
    response = obtain_token(client, api_client, "pas-le-bon-secret")
    assert response.status_code == 401
    assert "access_token" not in response.json()


def test_secrets_and_tokens_are_stored_hashed_only(client, partner):
    api_client, secret = partner
    application = Application.objects.get(pk=api_client.application_id)
    assert secret not in application.client_secret
    token = obtain_token(client, api_client, secret).json()["access_token"]
    stored = AccessToken.objects.get(application=application)
    assert stored.token != token and token not in stored.token
    assert stored.token_checksum == hashlib.sha256(token.encode()).hexdigest()


def test_a_token_in_the_query_string_is_refused(client, partner):
    api_client, secret = partner
    token = obtain_token(client, api_client, secret).json()["access_token"]
    response = client.post(f"{WRITE_URL}?access_token={token}", {}, content_type="application/json")
    assert response.status_code == 401


# --- expiry, revocation, no session -----------------------------------------------------------------------------
def test_an_expired_token_answers_401_with_a_bearer_challenge(client, partner):
    api_client, _secret = partner
    headers = bearer(api_client)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        response = client.post(WRITE_URL, {}, content_type="application/json", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "expiré" in response.json()["detail"]


def test_a_revoked_client_answers_401_and_gets_no_new_token(client, partner):
    api_client, secret = partner
    headers = bearer(api_client)
    services.client_revoke(client=api_client, by=factories.StaffUserFactory())
    assert client.post(WRITE_URL, {}, content_type="application/json", **headers).status_code == 401
    assert obtain_token(client, api_client, secret).status_code == 401


def test_a_token_of_a_revoked_client_issued_just_before_is_refused_too(client, partner):
    """Even a token row that survived the revocation (a race) is refused: the client's state is checked on use."""
    api_client, _secret = partner
    headers = bearer(api_client)
    type(api_client).objects.filter(pk=api_client.pk).update(revoque_le=timezone.now())
    assert client.post(WRITE_URL, {}, content_type="application/json", **headers).status_code == 401


def test_partner_endpoints_accept_no_session_authentication(client, partner):
    api_client, _secret = partner
    referent = factories.MembershipFactory(structure=api_client.structure).user
    client.force_login(referent)
    response = client.post(WRITE_URL, lieu_payload(), content_type="application/json")
    assert response.status_code == 401
    assert not Lieu.objects.exists()


def test_without_a_token_a_write_answers_401(client):
    response = client.post(WRITE_URL, {}, content_type="application/json")
    assert response.status_code == 401
    assert "jeton" in response.json()["detail"]


# --- throttling ---------------------------------------------------------------------------------------------------
def test_each_client_is_throttled_on_its_own_with_retry_after(client, partner, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "client": "3/min"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        api_client, _secret = partner
        other, _ = api_client_for(factories.StructureFactory(), ["lieux:read"])
        headers, other_headers = bearer(api_client), bearer(other)
        statuses = [client.get("/api/v1/lieux/", **headers).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/v1/lieux/", **headers)
        assert int(limited["Retry-After"]) > 0
        assert client.get("/api/v1/lieux/", **other_headers).status_code == 200
    finally:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


# --- idempotency --------------------------------------------------------------------------------------------------
def test_a_post_retried_with_the_same_idempotency_key_is_done_once(client, partner):
    api_client, _secret = partner
    headers = {**bearer(api_client), "HTTP_IDEMPOTENCY_KEY": "cle-1"}
    payload = lieu_payload()
    first = client.post(WRITE_URL, payload, content_type="application/json", **headers)
    again = client.post(WRITE_URL, payload, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Lieu.objects.count() == 1
    other_key = client.post(
        WRITE_URL, payload, content_type="application/json", **{**headers, "HTTP_IDEMPOTENCY_KEY": "cle-2"}
    )
    assert other_key.status_code == 201
    assert Lieu.objects.count() == 2


def test_an_idempotency_key_reused_for_another_request_answers_422(client, partner):
    api_client, _secret = partner
    headers = {**bearer(api_client), "HTTP_IDEMPOTENCY_KEY": "cle-1"}
    assert client.post(WRITE_URL, lieu_payload(), content_type="application/json", **headers).status_code == 201
    changed = {**lieu_payload(), "nom": "Un autre lieu"}
    response = client.post(WRITE_URL, changed, content_type="application/json", **headers)
    assert response.status_code == 422
    assert "clé d'idempotence" in response.json()["detail"]
    assert Lieu.objects.count() == 1


def test_a_failed_post_is_not_remembered_so_that_a_corrected_retry_works(client, partner):
    api_client, _secret = partner
    headers = {**bearer(api_client), "HTTP_IDEMPOTENCY_KEY": "cle-1"}
    assert client.post(WRITE_URL, {}, content_type="application/json", **headers).status_code == 400
    assert not CleIdempotence.objects.exists()


def test_idempotency_keys_are_per_client_and_expire_after_24_hours(client, partner):
    api_client, _secret = partner
    other, _ = api_client_for(factories.StructureFactory(), ["lieux:write"])
    payload = lieu_payload()
    key = {"HTTP_IDEMPOTENCY_KEY": "meme-cle"}
    assert (
        client.post(WRITE_URL, payload, content_type="application/json", **bearer(api_client), **key).status_code == 201
    )
    assert client.post(WRITE_URL, payload, content_type="application/json", **bearer(other), **key).status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response = client.post(WRITE_URL, payload, content_type="application/json", **bearer(api_client), **key)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
    assert Lieu.objects.count() == 3


@pytest.mark.parametrize("key", ["", "x" * 256, "clé-accentuée"])
def test_a_malformed_idempotency_key_answers_400(client, partner, key):
    api_client, _secret = partner
    response = client.post(
        WRITE_URL, lieu_payload(), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **bearer(api_client)
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Lieu.objects.exists()


# --- attribution ----------------------------------------------------------------------------------------------------
def test_every_change_made_with_a_token_is_attributed_to_the_client_in_the_history(client, partner):
    api_client, _secret = partner
    response = client.post(WRITE_URL, lieu_payload(), content_type="application/json", **bearer(api_client))
    assert response.status_code == 201
    record = Lieu.history.get()
    assert record.history_user is None
    assert record.history_change_reason == "API : SI du Département (Département de la Haute-Garonne)"


def test_every_call_is_logged_with_its_client_and_structure_and_no_query_string(client, partner, caplog):
    api_client, _secret = partner
    with caplog.at_level(logging.INFO, logger="partenaires.api"):
        client.get("/api/v1/lieux/?commune=31254", **bearer(api_client))
    (record,) = [r for r in caplog.records if r.name == "partenaires.api"]
    message = record.getMessage()
    assert str(api_client.uuid) in message and str(api_client.structure.uuid) in message
    assert "GET /api/v1/lieux/ 200" in message
    assert "31254" not in message


def test_the_last_use_of_a_client_is_recorded(client, partner):
    api_client, _secret = partner
    assert api_client.derniere_utilisation_le is None
    client.get("/api/v1/lieux/", **bearer(api_client))
    api_client.refresh_from_db()
    assert api_client.derniere_utilisation_le is not None


# --- the synchronisation filter -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2026-01-01T00:00:00+22:38", 200),  # an offset PostgreSQL refuses: compared in UTC
        ("0001-01-01T00:00:00+01:00", 400),  # cannot be brought to UTC
        ("9999-12-31T23:59:59-14:00", 400),
        ("hier", 400),
        ("", 400),
    ],
)
def test_modified_since_is_compared_in_utc_and_refuses_what_it_cannot_read(client, value, status):
    factories.LieuFactory()
    response = client.get("/api/v1/lieux/", {"modified_since": value})
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["modified_since"]


def test_an_idempotent_multipart_post_works_like_a_json_one(client, partner):
    """The OAuth2 authentication parses a form body; the idempotency fingerprint still reads the raw body."""
    api_client, _secret = partner
    headers = {**bearer(api_client), "HTTP_IDEMPOTENCY_KEY": "cle-form"}
    payload = lieu_payload()
    first = client.post(WRITE_URL, payload, **headers)  # multipart/form-data
    again = client.post(WRITE_URL, payload, **headers)
    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Lieu.objects.count() == 1


def test_the_anonymous_limit_counts_the_connections_address_not_a_forwarded_header_the_client_writes(rf):
    """Without a declared proxy (``ALLAUTH_TRUSTED_PROXY_COUNT`` = 0, DRF's ``NUM_PROXIES``), a client that writes a
    new ``X-Forwarded-For`` on each request is still one address for the anonymous limit of the API."""
    from sicoval_numerique.api.partner import AnonThrottle

    throttle = AnonThrottle()
    first = rf.get("/api/v1/lieux/", HTTP_X_FORWARDED_FOR="198.51.100.1", REMOTE_ADDR="203.0.113.7")
    second = rf.get("/api/v1/lieux/", HTTP_X_FORWARDED_FOR="198.51.100.2", REMOTE_ADDR="203.0.113.7")
    assert throttle.get_ident(first) == throttle.get_ident(second) == "203.0.113.7"
