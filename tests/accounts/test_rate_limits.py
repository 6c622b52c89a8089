"""Rate limits beyond the password: the second factor (allauth.mfa counts every code tried against the account's
``login_failed`` limit, 5 in 5 minutes, cleared by a right code) and the password reset requests (5 a minute for
one address). The password's own limit is in test_auth.py."""

import pytest
from django.core import mail
from django.test import Client

from tests import factories
from tests.accounts.test_auth import MFA_STAGE_URL, is_logged_in, post_login, totp_code

pytestmark = pytest.mark.django_db

RESET_URL = "/comptes/password/reset/"


def wrong_code(secret):
    good = totp_code(secret)
    return f"{(int(good) + 1) % 1_000_000:06d}"


def code_errors(response):
    assert response.status_code == 200
    return " ".join(response.context["form"].errors.get("code", []))


def try_codes(client, code, times):
    for _ in range(times):
        assert code_errors(client.post(MFA_STAGE_URL, {"code": code}))


# --- the second factor ---------------------------------------------------------------------------------------------
def test_sixth_totp_code_in_five_minutes_is_refused_even_when_right(client):
    staff = factories.StaffUserFactory()
    post_login(client, staff.email)
    try_codes(client, wrong_code(staff.totp_secret), 5)
    response = client.post(MFA_STAGE_URL, {"code": totp_code(staff.totp_secret)})
    assert "Trop de tentatives" in code_errors(response)
    assert not is_logged_in(client)


def test_four_wrong_totp_codes_do_not_lock_the_account_yet(client):
    staff = factories.StaffUserFactory()
    post_login(client, staff.email)
    try_codes(client, wrong_code(staff.totp_secret), 4)
    response = client.post(MFA_STAGE_URL, {"code": totp_code(staff.totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert is_logged_in(client)


def test_totp_rate_limit_is_per_account_not_per_browser(client):
    staff = factories.StaffUserFactory()
    post_login(client, staff.email)
    try_codes(client, wrong_code(staff.totp_secret), 5)
    # The password again, from another address: the second factor stays locked for this account.
    other_browser = Client(REMOTE_ADDR="10.0.0.9")
    assert post_login(other_browser, staff.email)["Location"] == MFA_STAGE_URL
    response = other_browser.post(MFA_STAGE_URL, {"code": totp_code(staff.totp_secret)})
    assert "Trop de tentatives" in code_errors(response)
    assert not is_logged_in(other_browser)
    # Another account is not affected.
    colleague, colleague_browser = factories.StaffUserFactory(), Client(REMOTE_ADDR="10.0.0.10")
    post_login(colleague_browser, colleague.email)
    response = colleague_browser.post(MFA_STAGE_URL, {"code": totp_code(colleague.totp_secret)})
    assert response["Location"] == "/espace/"


# --- password reset requests -------------------------------------------------------------------------------------
def test_sixth_password_reset_request_for_one_address_within_a_minute_is_refused(client):
    user = factories.UserFactory(email="oublieuse@example.org")
    for _ in range(5):
        response = client.post(RESET_URL, {"email": user.email})
        assert response.status_code == 302
    response = client.post(RESET_URL, {"email": "Oublieuse@Example.org"})  # the same address, spelled otherwise
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()  # the platform's page, in French
    assert len([message for message in mail.outbox if user.email in message.to]) == 5


def test_password_reset_limit_is_per_address(client):
    first, second = factories.UserFactory(), factories.UserFactory()
    for _ in range(5):
        client.post(RESET_URL, {"email": first.email})
    assert client.post(RESET_URL, {"email": first.email}).status_code == 429
    assert client.post(RESET_URL, {"email": second.email}).status_code == 302
