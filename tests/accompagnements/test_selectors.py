"""Unit tests of the activity-log selectors: who reads which activities and beneficiaries, the usual place of a
conseiller, shared links by token and the default statistics period."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accompagnements import selectors, services
from accompagnements.models import Activite
from tests import factories

TODAY = timezone.localdate()


def follow(conseiller, **data):
    values = {"prenom": "Léa", "nom": "Martin", "consentement": True, **data}
    return services.beneficiaire_create(by=conseiller.user, data=values, confirme_doublon=True)


def visible(user):
    return set(selectors.activites_visible_to(user))


# --- activites_visible_to ------------------------------------------------------------------------------------------
@pytest.fixture
def activities(record, conseiller, colleague, other_conseiller):
    """One live activity for each conseiller (two structures), plus a deleted one of ``conseiller``."""
    deleted = record(conseiller)
    services.activite_delete(activite=deleted, by=conseiller.user)
    return {
        "own": record(conseiller),
        "colleague": record(colleague),
        "other": record(other_conseiller),
        "deleted": Activite.objects.get(pk=deleted.pk),
    }


def test_a_conseiller_sees_only_their_own_activities(conseiller, activities):
    assert visible(conseiller.user) == {activities["own"]}


def test_a_referent_sees_the_activities_of_their_structure_only(referent, structure, activities):
    assert activities["own"].structure == activities["colleague"].structure == structure

    assert visible(referent) == {activities["own"], activities["colleague"]}


def test_a_referent_sees_by_the_employer_of_the_activity_not_the_current_membership(referent, conseiller, record):
    activite = record(conseiller)
    Activite.objects.filter(pk=activite.pk).update(structure=factories.StructureFactory())

    assert visible(referent) == set()


def test_a_referent_of_the_other_structure_does_not_see_ours(other_structure, activities):
    other_referent = factories.MembershipFactory(structure=other_structure).user

    assert visible(other_referent) == {activities["other"]}


def test_staff_sees_every_live_activity(staff_user, activities):
    assert visible(staff_user) == {activities["own"], activities["colleague"], activities["other"]}


def test_a_user_without_any_role_sees_none(activities):
    assert visible(factories.UserFactory()) == set()


def test_an_anonymous_user_sees_none(activities):
    assert visible(AnonymousUser()) == set()


@pytest.mark.parametrize("who", ["conseiller", "referent", "staff_user"])
def test_a_deleted_activity_is_never_visible(activities, request, who):
    user = request.getfixturevalue(who)
    user = user.user if who == "conseiller" else user

    assert activities["deleted"] not in visible(user)


def test_sees_team_only_for_staff_and_referents(conseiller, referent, staff_user):
    assert selectors.sees_team(staff_user)
    assert selectors.sees_team(referent)
    assert not selectors.sees_team(conseiller.user)
    assert not selectors.sees_team(AnonymousUser())


def test_conseillers_of_activities_visible_to_a_referent(referent, conseiller, colleague, other_conseiller, activities):
    assert set(selectors.conseillers_of_activites_visible_to(referent)) == {conseiller, colleague}


# --- beneficiaires_of ----------------------------------------------------------------------------------------------
def test_beneficiaires_of_gives_only_the_conseillers_own(conseiller, other_conseiller, colleague, referent):
    mine = follow(conseiller)
    follow(colleague)
    follow(other_conseiller)

    assert list(selectors.beneficiaires_of(conseiller.user)) == [mine]
    assert not selectors.beneficiaires_of(referent).exists()
    assert not selectors.beneficiaires_of(AnonymousUser()).exists()


# --- usual_place ---------------------------------------------------------------------------------------------------
def test_usual_place_is_the_most_frequent_of_the_last_30(conseiller, record, lieu):
    old, frequent, second = (factories.CommuneFactory() for _ in range(3))
    long_ago = TODAY - datetime.timedelta(days=100)
    for _ in range(20):
        record(conseiller, date=long_ago, commune=old)
    for _ in range(14):
        record(conseiller, commune=second)
    for _ in range(15):
        record(conseiller, commune=frequent)
    record(conseiller, type_lieu="lieu_activite", lieu=lieu)

    assert selectors.usual_place(conseiller) == {"type_lieu": "domicile", "lieu": None, "commune": frequent.pk}


def test_usual_place_on_a_tie_is_the_most_recent(conseiller, record, lieu):
    elsewhere = factories.CommuneFactory()
    record(conseiller, commune=elsewhere, date=TODAY - datetime.timedelta(days=3))
    record(conseiller, type_lieu="lieu_activite", lieu=lieu, date=TODAY - datetime.timedelta(days=2))

    assert selectors.usual_place(conseiller) == {
        "type_lieu": "lieu_activite",
        "lieu": lieu.pk,
        "commune": lieu.commune_id,
    }


def test_usual_place_ignores_deleted_activities(conseiller, record, lieu):
    at_home = record(conseiller)
    services.activite_delete(activite=at_home, by=conseiller.user)
    record(conseiller, type_lieu="a_distance", commune=None)

    assert selectors.usual_place(conseiller) == {"type_lieu": "a_distance", "lieu": None, "commune": None}


def test_usual_place_without_activity_is_the_first_place_of_the_structure(conseiller, structure):
    factories.LieuFactory(structure=structure, nom="Médiathèque")
    first = factories.LieuFactory(structure=structure, nom="France services")
    factories.LieuFactory(structure=structure, nom="Annexe fermée", is_active=False)
    factories.LieuFactory(nom="Ailleurs")

    assert selectors.usual_place(conseiller) == {
        "type_lieu": "lieu_activite",
        "lieu": first.pk,
        "commune": first.commune_id,
    }


def test_usual_place_without_activity_nor_place_is_empty(conseiller):
    assert selectors.usual_place(conseiller) == {}


# --- partage_by_token ----------------------------------------------------------------------------------------------
@pytest.fixture
def partage(conseiller):
    return services.partage_create(
        by=conseiller.user, date_debut=datetime.date(2024, 1, 1), date_fin=datetime.date(2024, 12, 31)
    )


def test_partage_by_token_finds_a_live_share(partage):
    assert selectors.partage_by_token(partage.token) == partage


def test_partage_by_token_of_a_revoked_share_is_none(partage, conseiller):
    services.partage_revoke(partage=partage, by=conseiller.user)

    assert selectors.partage_by_token(partage.token) is None


@pytest.mark.parametrize("token", ["inconnu", "", None])
def test_partage_by_unknown_token_is_none(partage, token):
    assert selectors.partage_by_token(token) is None


def test_partage_by_over_long_token_is_none(partage):
    assert selectors.partage_by_token(partage.token + "x" * (65 - len(partage.token))) is None
    assert selectors.partage_by_token("a" * 10_000) is None


def test_partages_of_only_own(partage, conseiller, other_conseiller):
    assert list(selectors.partages_of(conseiller.user)) == [partage]
    assert not selectors.partages_of(other_conseiller.user).exists()
    assert not selectors.partages_of(AnonymousUser()).exists()


# --- default_period ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "start"),
    [
        (datetime.date(2024, 3, 15), datetime.date(2023, 4, 1)),
        (datetime.date(2024, 12, 31), datetime.date(2024, 1, 1)),
        (datetime.date(2024, 1, 1), datetime.date(2023, 2, 1)),
    ],
)
def test_default_period_covers_12_months_starting_on_the_1st(today, start):
    assert selectors.default_period(today) == (start, today)
    assert len(list(selectors.month_starts(start, today))) == 12


def test_default_period_ends_today():
    # Today when the test runs (the module's TODAY may be yesterday when the suite crosses midnight in Paris).
    avant = timezone.localdate()
    start, end = selectors.default_period()

    assert end in {avant, timezone.localdate()}
    assert start.day == 1
    assert len(list(selectors.month_starts(start, end))) == 12
