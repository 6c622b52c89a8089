"""Logging in: e-mail and password through allauth, closed sign-up, TOTP mandatory for Sicoval staff, rate limit on
failed logins, the admin behind allauth, expired sessions cleared, and the navigation each role gets."""

import datetime
import time
import types

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import Role, User, UserSession
from accounts.navigation import navigation_for
from accounts.sessions import SessionStore
from accounts.tasks import sessions_clear_expired
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN_URL = "/comptes/login/"
MFA_STAGE_URL = "/comptes/2fa/authenticate/"
TOTP_ACTIVATE_URL = "/comptes/2fa/totp/activate/"
TOTP_DEACTIVATE_URL = "/comptes/2fa/totp/deactivate/"


def totp_code(secret):
    """The code an authenticator app shows now. Near the end of a period, wait for the next one, so that the code
    is still current when the server checks it."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def post_login(client, email, password=factories.PASSWORD):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def is_logged_in(client):
    return SESSION_KEY in client.session


def login_errors(response):
    assert response.status_code == 200
    return response.context["form"].non_field_errors()


# --- e-mail login, closed sign-up ---------------------------------------------------------------------------------
def test_login_with_email_and_password(client):
    user = factories.UserFactory(email="conseillere@example.org")
    response = post_login(client, "conseillere@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert int(client.session[SESSION_KEY]) == user.pk
    assert client.get("/espace/").status_code == 200


def test_login_email_is_case_insensitive(client):
    user = factories.UserFactory(email="referente@example.org")
    response = post_login(client, "Referente@Example.ORG")
    assert response["Location"] == "/espace/"
    assert int(client.session[SESSION_KEY]) == user.pk


def test_login_with_a_wrong_password_is_refused(client):
    factories.UserFactory(email="personne@example.org")
    response = post_login(client, "personne@example.org", "pas-le-bon-mot-de-passe")
    assert login_errors(response)
    assert not is_logged_in(client)


def test_login_page_answers_in_french(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_inactive_account_cannot_log_in(client):
    factories.UserFactory(email="parti@example.org", is_active=False)
    post_login(client, "parti@example.org")
    assert not is_logged_in(client)


def test_public_signup_is_closed(client):
    response = client.get("/comptes/signup/")
    assert "Inscriptions fermées" in response.content.decode()
    response = client.post(
        "/comptes/signup/",
        {
            "email": "intrus@example.org",
            "password1": "un-mot-de-passe-solide-42",
            "password2": "un-mot-de-passe-solide-42",
        },
    )
    assert not User.objects.filter(email="intrus@example.org").exists()
    assert not is_logged_in(client)


def test_login_gives_a_new_session_id(client):
    user = factories.UserFactory()
    client.get(LOGIN_URL)
    session = client.session
    session["avant"] = "connexion"
    session.save()
    before = session.session_key
    post_login(client, user.email)
    assert is_logged_in(client)
    assert client.session.session_key != before


def test_deactivating_an_account_ends_its_sessions(client):
    user = factories.UserFactory()
    post_login(client, user.email)
    assert client.get("/espace/").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/espace/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


# --- TOTP mandatory for staff ------------------------------------------------------------------------------------
@pytest.fixture
def staff_without_totp():
    return factories.StaffUserFactory(with_totp=False)


@pytest.mark.parametrize("path", ["/espace/", "/gestion/structures/", "/gestion/lieux/", "/", "/admin/"])
def test_staff_without_totp_is_sent_to_totp_activation_from_any_page(client, staff_without_totp, path):
    client.force_login(staff_without_totp)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == TOTP_ACTIVATE_URL


def test_staff_without_totp_is_told_why(client, staff_without_totp):
    client.force_login(staff_without_totp)
    response = client.get("/espace/", follow=True)
    assert response.redirect_chain[0] == (TOTP_ACTIVATE_URL, 302)
    assert "double authentification" in response.content.decode()


def test_staff_without_totp_can_still_log_out(client, staff_without_totp):
    client.force_login(staff_without_totp)
    response = client.post("/comptes/logout/")
    assert response.status_code == 302
    assert response["Location"] != TOTP_ACTIVATE_URL
    assert not is_logged_in(client)


def reauthenticate(client):
    """allauth asks for the password again before changing a second factor."""
    response = client.post("/comptes/reauthenticate/", {"password": factories.PASSWORD})
    assert response.status_code == 302, response.content


def test_staff_without_totp_can_set_it_up_and_then_go_on(client, staff_without_totp):
    post_login(client, staff_without_totp.email)
    assert is_logged_in(client)
    assert client.get("/espace/")["Location"] == TOTP_ACTIVATE_URL
    # Confirming the password again is part of the setup, and the middleware lets it through.
    assert client.get(TOTP_ACTIVATE_URL)["Location"].startswith("/comptes/reauthenticate/")
    reauthenticate(client)
    page = client.get(TOTP_ACTIVATE_URL)
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(TOTP_ACTIVATE_URL, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=staff_without_totp, type=Authenticator.Type.TOTP).exists()
    assert client.get("/espace/").status_code == 200


def test_staff_with_totp_is_asked_for_the_code_after_the_password(client):
    staff = factories.StaffUserFactory()
    response = post_login(client, staff.email)
    assert response.status_code == 302
    assert response["Location"] == MFA_STAGE_URL
    assert not is_logged_in(client)  # the password alone does not open the session
    assert client.get("/espace/")["Location"].startswith(LOGIN_URL)


def test_staff_with_totp_reaches_their_space_after_a_valid_code(client):
    staff = factories.StaffUserFactory()
    post_login(client, staff.email)
    response = client.post(MFA_STAGE_URL, {"code": totp_code(staff.totp_secret)})
    assert response.status_code == 302
    assert response["Location"] == "/espace/"
    assert int(client.session[SESSION_KEY]) == staff.pk
    assert client.get("/espace/").status_code == 200


def test_staff_with_a_wrong_code_stays_out(client):
    staff = factories.StaffUserFactory()
    post_login(client, staff.email)
    good = totp_code(staff.totp_secret)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(MFA_STAGE_URL, {"code": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not is_logged_in(client)


def logged_in_with_totp(client, user):
    post_login(client, user.email)
    response = client.post(MFA_STAGE_URL, {"code": totp_code(user.totp_secret)})
    assert response["Location"] == "/espace/"


def test_staff_cannot_deactivate_their_totp(client):
    staff = factories.StaffUserFactory()
    logged_in_with_totp(client, staff)
    reauthenticate(client)
    response = client.post(TOTP_DEACTIVATE_URL)
    assert response.status_code == 200  # the form is shown again with the refusal
    assert response.context["form"].non_field_errors() == [
        "Vous ne pouvez pas désactiver l'authentification à deux facteurs."
    ]
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()


def test_mfa_adapter_forbids_deleting_staff_totp_only():
    staff = factories.StaffUserFactory()
    other = factories.StaffUserFactory(is_staff=False)
    adapter = get_mfa_adapter()
    assert not adapter.can_delete_authenticator(Authenticator.objects.get(user=staff))
    assert adapter.can_delete_authenticator(Authenticator.objects.get(user=other))


def test_non_staff_may_deactivate_an_optional_totp(client):
    # The same flow as for staff succeeds for a non-staff user: the refusal above is the staff policy.
    user = factories.StaffUserFactory(is_staff=False)
    logged_in_with_totp(client, user)
    reauthenticate(client)
    response = client.post(TOTP_DEACTIVATE_URL)
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


@pytest.mark.parametrize("role", [None, Role.REFERENT, Role.CONSEILLER, Role.FINANCEUR])
def test_non_staff_users_are_not_forced_into_mfa(client, role):
    user = factories.UserFactory()
    if role:
        factories.MembershipFactory(user=user, role=role)
    response = post_login(client, user.email)
    assert response["Location"] == "/espace/"
    assert is_logged_in(client)
    assert client.get("/espace/").status_code == 200


# --- rate limit on failed logins ---------------------------------------------------------------------------------
def fail(client, email, times):
    for _ in range(times):
        assert login_errors(post_login(client, email, "mauvais-mot-de-passe"))


def test_sixth_failed_login_in_five_minutes_is_refused_even_with_the_right_password(client):
    user = factories.UserFactory(email="cible@example.org")
    fail(client, user.email, 5)
    response = post_login(client, user.email)
    errors = login_errors(response)
    assert "Trop de tentatives" in " ".join(errors)
    assert not is_logged_in(client)


def test_five_failed_logins_do_not_lock_the_account_yet(client):
    user = factories.UserFactory(email="distraite@example.org")
    fail(client, user.email, 4)
    response = post_login(client, user.email)
    assert response["Location"] == "/espace/"


def test_login_rate_limit_is_per_account_not_per_spelling_nor_per_browser(client):
    user = factories.UserFactory(email="cible@example.org")
    fail(client, user.email, 5)
    other_browser = Client(REMOTE_ADDR="10.0.0.9")
    post_login(other_browser, "CIBLE@example.org")
    assert not is_logged_in(other_browser)
    # Another account is not affected.
    someone = factories.UserFactory(email="voisine@example.org")
    assert post_login(client, someone.email)["Location"] == "/espace/"


def test_login_rate_limit_ends_after_five_minutes(client, monkeypatch):
    user = factories.UserFactory(email="patiente@example.org")
    fail(client, user.email, 5)
    assert not is_logged_in(client) and login_errors(post_login(client, user.email))
    later = time.time() + 5 * 60 + 1
    clock = types.SimpleNamespace(time=lambda: later, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(allauth_ratelimit, "time", clock)
    assert post_login(client, user.email)["Location"] == "/espace/"


# --- the admin is reached only through allauth -------------------------------------------------------------------
def test_admin_sends_anonymous_users_to_the_allauth_login(client):
    response = client.get("/admin/", follow=True)
    final_url, final_status = response.redirect_chain[-1]
    assert final_status == 302
    assert final_url.startswith(LOGIN_URL)
    assert "next=" in final_url
    assert response.status_code == 200
    assert response.templates[0].name == "account/login.html"


def test_admin_login_form_cannot_be_used_to_bypass_mfa(client):
    staff = factories.StaffUserFactory()
    response = client.post("/admin/login/", {"username": staff.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert not is_logged_in(client)


def test_non_staff_user_cannot_reach_the_admin(client):
    client.force_login(factories.MembershipFactory(role=Role.REFERENT).user)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert client.get("/admin/accounts/user/", follow=True).status_code == 403


def test_staff_with_totp_reaches_the_admin(client):
    staff = factories.StaffUserFactory()
    logged_in_with_totp(client, staff)
    assert client.get("/admin/").status_code == 200


# --- sessions -----------------------------------------------------------------------------------------------------
def make_session(expire_date):
    store = SessionStore()
    store["marque"] = "test"
    store.create()
    UserSession.objects.filter(session_key=store.session_key).update(expire_date=expire_date)
    return store.session_key


def test_sessions_clear_expired_deletes_expired_sessions_only():
    now = timezone.now()
    expired = [make_session(now - datetime.timedelta(days=1)), make_session(now - datetime.timedelta(seconds=5))]
    alive = [make_session(now + datetime.timedelta(minutes=30)), make_session(now + datetime.timedelta(days=14))]
    assert sessions_clear_expired.delay().get() == 2
    assert sorted(UserSession.objects.values_list("session_key", flat=True)) == sorted(alive)
    assert not UserSession.objects.filter(session_key__in=expired).exists()
    assert sessions_clear_expired() == 0  # idempotent


def test_sessions_clear_expired_is_in_the_beat_schedule():
    schedule = settings.CELERY_BEAT_SCHEDULE["accounts-clear-expired-sessions"]
    assert schedule["task"] == sessions_clear_expired.name


# --- navigation by role ---------------------------------------------------------------------------------------------
def labels_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return [label for _url, label in navigation_for(request)]


def test_anonymous_navigation():
    assert labels_for(AnonymousUser()) == ["Accueil", "Trouver un lieu", "Agenda des ateliers"]


def test_conseiller_navigation():
    conseiller = factories.MembershipFactory(role=Role.CONSEILLER).user
    assert labels_for(conseiller) == [
        "Accueil",
        "Trouver un lieu",
        "Agenda des ateliers",
        "Mon espace",
        "Mes activités",
        "Ateliers",
        "Aidants",
    ]


def test_aidant_navigation_shows_workshops_only_to_a_facilitator():
    aidant = factories.MembershipFactory(role=Role.AIDANT).user
    assert labels_for(aidant) == ["Accueil", "Trouver un lieu", "Agenda des ateliers", "Mon espace", "Aidants"]
    factories.SeanceFactory(animateur=aidant)
    aidant = type(aidant).objects.get(pk=aidant.pk)  # a new request: roles are not cached any more
    assert labels_for(aidant) == [
        "Accueil",
        "Trouver un lieu",
        "Agenda des ateliers",
        "Mon espace",
        "Ateliers",
        "Aidants",
    ]


def test_referent_navigation():
    referent = factories.MembershipFactory(role=Role.REFERENT).user
    assert labels_for(referent) == [
        "Accueil",
        "Trouver un lieu",
        "Agenda des ateliers",
        "Mon espace",
        "Activités",
        "Ateliers",
        "Aidants",
        "Structures",
        "Lieux",
        "Postes",
        "Conseillers",
        "Recrutements",
        "Financements",
        "Pilotage",
    ]


def test_funder_navigation():
    funder = factories.MembershipFactory(role=Role.FINANCEUR).user
    assert labels_for(funder) == [
        "Accueil",
        "Trouver un lieu",
        "Agenda des ateliers",
        "Mon espace",
        "Structures",
        "Postes",
        "Financements",
        "Pilotage",
    ]


def test_staff_navigation():
    staff = factories.StaffUserFactory()
    assert labels_for(staff) == [
        "Accueil",
        "Trouver un lieu",
        "Agenda des ateliers",
        "Mon espace",
        "Activités",
        "Ateliers",
        "Aidants",
        "Structures",
        "Lieux",
        "Postes",
        "Conseillers",
        "Recrutements",
        "Financements",
        "Pilotage",
        "Imports",
        "Administration",
    ]


def test_navigation_links_point_to_the_pages():
    request = RequestFactory().get("/")
    request.user = factories.StaffUserFactory()
    assert {label: url for url, label in navigation_for(request)} == {
        "Accueil": "/",
        "Trouver un lieu": "/lieux/",
        "Agenda des ateliers": "/ateliers/",
        "Mon espace": "/espace/",
        "Activités": "/activites/",
        "Ateliers": "/gestion/ateliers/",
        "Aidants": "/gestion/aidants/",
        "Structures": "/gestion/structures/",
        "Lieux": "/gestion/lieux/",
        "Postes": "/gestion/postes/",
        "Conseillers": "/gestion/conseillers/",
        "Recrutements": "/gestion/recrutements/",
        "Financements": "/gestion/financements/",
        "Pilotage": "/gestion/pilotage/",
        "Imports": "/imports/",
        "Administration": "/admin/",
    }


def test_rendered_navigation_follows_the_role(client):
    conseiller = factories.MembershipFactory(role=Role.CONSEILLER).user
    client.force_login(conseiller)
    page = client.get("/espace/").content.decode()
    assert 'href="/espace/"' in page
    assert 'href="/gestion/structures/"' not in page.split("</nav>")[0]
    client.force_login(factories.MembershipFactory(role=Role.REFERENT).user)
    page = client.get("/espace/").content.decode()
    assert 'href="/gestion/structures/"' in page.split("</nav>")[0]
