"""TOTP is mandatory for Sicoval staff and for the coordinators of conseillers (they see a whole team's data), not
for a plain conseiller; the policy costs one query at most per request."""

import pytest
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from django.test import RequestFactory

from accounts.navigation import navigation_for
from accounts.policies import idle_timeout, mfa_missing, mfa_required
from tests import factories
from tests.accounts.test_auth import TOTP_ACTIVATE_URL, TOTP_DEACTIVATE_URL, logged_in_with_totp, reauthenticate

pytestmark = pytest.mark.django_db


def conseiller_user(est_coordinateur, with_totp=False):
    """A user account with a conseiller profile, coordinator or not; with TOTP set up if asked."""
    user = factories.StaffUserFactory(is_staff=False, with_totp=with_totp)
    factories.ConseillerFactory(user=user, est_coordinateur=est_coordinateur)
    fresh = type(user).objects.get(pk=user.pk)  # as a request would load it: no cached profile
    fresh.totp_secret = getattr(user, "totp_secret", None)
    return fresh


@pytest.mark.parametrize(
    ("est_coordinateur", "sent_to_totp"), [(True, True), (False, False)], ids=["coordinateur", "conseiller"]
)
@pytest.mark.parametrize("path", ["/espace/", "/"])
def test_coordinator_without_totp_is_sent_to_totp_activation_a_conseiller_is_not(
    client, est_coordinateur, sent_to_totp, path
):
    client.force_login(conseiller_user(est_coordinateur))
    response = client.get(path)
    if sent_to_totp:
        assert response.status_code == 302
        assert response["Location"] == TOTP_ACTIVATE_URL
    else:
        assert response.status_code == 200


def test_coordinator_without_totp_is_told_why_in_words_that_fit_a_coordinator(client):
    client.force_login(conseiller_user(est_coordinateur=True))
    response = client.get("/espace/", follow=True)
    assert response.redirect_chain[0] == (TOTP_ACTIVATE_URL, 302)
    page = response.content.decode()
    assert "double authentification" in page
    assert "coordination" in page


def test_coordinator_with_totp_reaches_their_pages(client):
    client.force_login(conseiller_user(est_coordinateur=True, with_totp=True))
    assert client.get("/espace/").status_code == 200


def test_coordinator_cannot_deactivate_their_totp(client):
    coordinator = conseiller_user(est_coordinateur=True, with_totp=True)
    logged_in_with_totp(client, coordinator)
    reauthenticate(client)
    response = client.post(TOTP_DEACTIVATE_URL)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Vous ne pouvez pas désactiver l'authentification à deux facteurs."
    ]
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()


@pytest.mark.parametrize(
    ("est_coordinateur", "may_delete"), [(True, False), (False, True)], ids=["coordinateur", "conseiller"]
)
def test_mfa_adapter_forbids_deleting_a_coordinators_totp_only(est_coordinateur, may_delete):
    user = conseiller_user(est_coordinateur, with_totp=True)
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    assert get_mfa_adapter().can_delete_authenticator(authenticator) is may_delete


def test_a_conseiller_becoming_coordinator_must_set_up_totp_at_the_next_request(client):
    user = conseiller_user(est_coordinateur=False)
    client.force_login(user)
    assert client.get("/espace/").status_code == 200
    user.conseiller.est_coordinateur = True
    user.conseiller.save()
    assert client.get("/espace/")["Location"] == TOTP_ACTIVATE_URL


def test_coordinator_navigation_is_reduced_until_totp_is_set_up():
    request = RequestFactory().get("/")
    request.user = conseiller_user(est_coordinateur=True)
    assert [label for _url, label in navigation_for(request)] == [
        "Accueil",
        "Trouver un lieu",
        "Agenda des ateliers",
        "Mon espace",
    ]


# --- cost --------------------------------------------------------------------------------------------------------
def test_the_policy_costs_one_query_per_request_and_shares_it_with_the_profile(django_assert_num_queries):
    user = conseiller_user(est_coordinateur=True)
    with django_assert_num_queries(1):
        assert mfa_required(user)
        assert mfa_required(user)
        assert idle_timeout(user) == 30 * 60
        # The pages that read the conseiller profile get it from the same query.
        assert user.conseiller.est_coordinateur
    with django_assert_num_queries(1):  # the authenticators: only for an account that must use MFA
        assert mfa_missing(user)


def test_the_policy_costs_no_query_for_staff_and_one_for_an_account_without_profile(django_assert_num_queries):
    staff = type(factories.StaffUserFactory()).objects.get(is_staff=True)
    with django_assert_num_queries(0):
        assert mfa_required(staff)
    user = type(staff).objects.get(pk=factories.UserFactory().pk)
    with django_assert_num_queries(1):
        assert not mfa_required(user)
        assert not mfa_required(user)
        assert idle_timeout(user) is None
        assert not mfa_missing(user)
