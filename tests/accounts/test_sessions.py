"""Sessions: staff and coordinators are logged out after 30 minutes without a request (the others keep the default
session age); the sessions of a deactivated account are deleted, so that its old cookies stay logged out even once
the account is reactivated; every session row records its user."""

import datetime
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.test import Client

from accounts.middleware import LAST_ACTIVITY_SESSION_KEY
from accounts.models import UserSession
from accounts.services import user_deactivate
from tests import factories
from tests.accounts.test_auth import LOGIN_URL, is_logged_in, post_login

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    """A frozen clock that the test moves forward."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def coordinator():
    user = factories.StaffUserFactory(is_staff=False)  # with TOTP, which coordinators must have
    factories.ConseillerFactory(user=user, est_coordinateur=True)
    return user


def conseiller():
    user = factories.UserFactory()
    factories.ConseillerFactory(user=user)
    return user


TEAM = {"staff": factories.StaffUserFactory, "coordinateur": coordinator}


def later(clock, minutes):
    clock.shift(datetime.timedelta(minutes=minutes))


# --- idle timeout --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make_user", TEAM.values(), ids=TEAM.keys())
def test_team_session_survives_29_minutes_without_a_request(client, clock, make_user):
    client.force_login(make_user())
    assert client.get("/espace/").status_code == 200
    later(clock, 29)
    assert client.get("/espace/").status_code == 200
    assert is_logged_in(client)


@pytest.mark.parametrize("make_user", TEAM.values(), ids=TEAM.keys())
def test_team_session_ends_after_31_minutes_without_a_request(client, clock, make_user):
    client.force_login(make_user())
    assert client.get("/espace/").status_code == 200
    later(clock, 31)
    response = client.get("/gestion/structures/?page=2")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next={quote('/gestion/structures/?page=2', safe='/')}"
    assert not is_logged_in(client)
    page = client.get(response["Location"]).content.decode()
    assert "30 minutes d&#x27;inactivité" in page or "30 minutes d'inactivité" in page
    # Logged out for good: the next page asks for a login, without the message again.
    assert client.get("/espace/")["Location"].startswith(LOGIN_URL)


def test_each_request_postpones_the_idle_timeout(client, clock):
    client.force_login(factories.StaffUserFactory())
    for _ in range(4):  # 4 × 20 minutes: 80 minutes logged in, never 30 idle
        assert client.get("/espace/").status_code == 200
        later(clock, 20)
    assert client.get("/espace/").status_code == 200


def test_activity_is_written_to_the_session_at_most_once_a_minute(client, clock):
    client.force_login(factories.StaffUserFactory())
    client.get("/espace/")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    stored = UserSession.objects.get(pk=key).session_data
    assert client.session[LAST_ACTIVITY_SESSION_KEY] == int(START.timestamp())
    clock.shift(datetime.timedelta(seconds=50))
    client.get("/espace/")
    assert UserSession.objects.get(pk=key).session_data == stored  # no write
    clock.shift(datetime.timedelta(seconds=15))
    client.get("/espace/")
    assert client.session[LAST_ACTIVITY_SESSION_KEY] == int(START.timestamp()) + 65


def test_login_stamps_the_activity_so_that_the_first_page_writes_no_session(client, clock):
    client.force_login(factories.StaffUserFactory())
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    stored = UserSession.objects.get(pk=key).session_data
    assert client.session[LAST_ACTIVITY_SESSION_KEY] == int(START.timestamp())
    assert client.get("/espace/").status_code == 200
    assert UserSession.objects.get(pk=key).session_data == stored


def test_an_htmx_request_of_an_idle_session_reloads_the_whole_page_on_the_login(client, clock):
    client.force_login(factories.StaffUserFactory())
    client.get("/espace/")
    later(clock, 31)
    response = client.get("/espace/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == f"{LOGIN_URL}?next=/espace/"
    assert not is_logged_in(client)


def test_a_conseiller_keeps_the_default_session_age(client, clock):
    client.force_login(conseiller())
    assert client.get("/espace/").status_code == 200
    later(clock, 31)
    assert client.get("/espace/").status_code == 200
    later(clock, 8 * 60)
    assert client.get("/espace/").status_code == 200
    assert LAST_ACTIVITY_SESSION_KEY not in client.session  # nothing written for them


# --- deactivation ends the sessions -------------------------------------------------------------------------------
def test_every_session_row_records_its_user():
    user = factories.UserFactory()
    browser = Client()
    browser.get(LOGIN_URL)
    post_login(browser, user.email)
    session = UserSession.objects.get(pk=browser.cookies[settings.SESSION_COOKIE_NAME].value)
    assert session.user_id == user.pk
    assert session.get_decoded()[SESSION_KEY] == str(user.pk)


def test_deactivating_an_account_deletes_its_sessions_and_old_cookies_stay_out_after_reactivation(client):
    staff = factories.StaffUserFactory()
    user = factories.UserFactory()
    other_browser = Client()
    someone_else = Client()
    post_login(client, user.email)
    post_login(other_browser, user.email)
    post_login(someone_else, factories.UserFactory().email)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert UserSession.objects.filter(user=user).count() == 2

    user_deactivate(user=user, by=staff)

    user.refresh_from_db()
    assert not user.is_active
    assert not UserSession.objects.filter(user=user).exists()
    assert not UserSession.objects.filter(pk=old_cookie).exists()
    assert someone_else.get("/espace/").status_code == 200  # other accounts are not touched
    assert client.get("/espace/")["Location"].startswith(LOGIN_URL)

    user.is_active = True  # reactivated later
    user.save()
    for browser in (client, other_browser):
        browser.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
        response = browser.get("/espace/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)
    assert user.history.first().is_active is True
    assert user.history.all()[1].history_user == staff  # the deactivation, by whom


def test_deactivating_an_inactive_account_still_ends_its_sessions():
    staff = factories.StaffUserFactory()
    user = factories.UserFactory()
    browser = Client()
    post_login(browser, user.email)
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # saved inactive by another door
    user_deactivate(user=user, by=staff)
    assert not UserSession.objects.filter(user=user).exists()


def test_only_staff_may_deactivate_an_account():
    user = factories.UserFactory()
    with pytest.raises(PermissionDenied):
        user_deactivate(user=user, by=factories.UserFactory())
    user.refresh_from_db()
    assert user.is_active


def change_form_data(user, **changes):
    """What the admin's change form of ``user`` posts, with ``changes``."""
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if user.is_active:
        data["is_active"] = "on"
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.fixture
def admin_client():
    staff = factories.StaffUserFactory(is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    return browser


def test_unticking_active_in_the_admin_ends_the_sessions(admin_client):
    user = factories.UserFactory()
    browser = Client()
    post_login(browser, user.email)
    response = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", change_form_data(user, is_active=False))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active
    assert not UserSession.objects.filter(user=user).exists()


def test_the_admin_action_deactivates_and_ends_the_sessions(admin_client):
    users = [factories.UserFactory(), factories.UserFactory()]
    browsers = [Client(), Client()]
    for user, browser in zip(users, browsers, strict=True):
        post_login(browser, user.email)
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_accounts", "_selected_action": [user.pk for user in users]},
    )
    assert response.status_code == 302
    for user, browser in zip(users, browsers, strict=True):
        user.refresh_from_db()
        assert not user.is_active
        assert browser.get("/espace/")["Location"].startswith(LOGIN_URL)
    assert not UserSession.objects.filter(user__in=users).exists()


# --- Nothing a logged-in account sees is kept by a cache ------------------------------------------------------------
@pytest.fixture
def conseiller_en_poste(db):
    """A conseiller's account, member of a structure, who may read the activity log."""
    from accounts.models import Role

    user = factories.MembershipFactory(role=Role.CONSEILLER).user
    factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)
    return user


@pytest.mark.parametrize("path", ["/espace/", "/activites/", "/activites/export.csv"])
def test_every_answer_to_a_logged_in_account_is_no_store(client, conseiller_en_poste, path):
    """Pages and exports show people's data: neither a shared cache nor the back button after logout keeps them."""
    client.force_login(conseiller_en_poste)
    response = client.get(path)
    assert response.status_code == 200
    assert {"no-store", "private"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_answers_to_visitors_keep_the_cache_policy_of_their_view(client, db):
    """A visitor's request is not made to load a session: the public pages keep what their views set."""
    response = client.get("/lieux/")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
