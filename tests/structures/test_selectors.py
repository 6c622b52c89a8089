"""Reads that encode visibility, and the list filter on multi-valued national fields (SQLite and PostgreSQL)."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import Role
from structures import choices, selectors
from structures.fields import list_contains
from structures.models import Lieu
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_structures():
    return factories.StructureFactory(nom="Mairie d'Auzeville"), factories.StructureFactory(nom="CCAS de Castanet")


def member(structure, role):
    return factories.MembershipFactory(structure=structure, role=role).user


# --- scoping ---------------------------------------------------------------------------------------------------
def test_staff_see_and_edit_every_structure(two_structures, staff_user):
    assert set(selectors.structures_visible_to(staff_user)) == set(two_structures)
    assert set(selectors.structures_editable_by(staff_user)) == set(two_structures)


def test_referent_sees_and_edits_only_their_own_structure(two_structures):
    own, other = two_structures
    referent = member(own, Role.REFERENT)
    assert list(selectors.structures_visible_to(referent)) == [own]
    assert list(selectors.structures_editable_by(referent)) == [own]
    assert selectors.can_edit_structure(referent, own)
    assert not selectors.can_edit_structure(referent, other)


def test_referent_of_two_structures_sees_each_once(two_structures):
    own, other = two_structures
    referent = member(own, Role.REFERENT)
    factories.MembershipFactory(user=referent, structure=other, role=Role.REFERENT)
    factories.MembershipFactory(user=referent, structure=own, role=Role.CONSEILLER)
    assert sorted(s.pk for s in selectors.structures_visible_to(referent)) == sorted(s.pk for s in two_structures)


def test_funder_sees_every_structure_but_edits_none(two_structures):
    funder = member(two_structures[0], Role.FINANCEUR)
    assert set(selectors.structures_visible_to(funder)) == set(two_structures)
    assert not selectors.structures_editable_by(funder).exists()
    assert not selectors.can_edit_structure(funder, two_structures[0])


def test_conseiller_sees_only_their_structure_and_edits_none(two_structures):
    own, _other = two_structures
    conseiller = member(own, Role.CONSEILLER)
    assert list(selectors.structures_visible_to(conseiller)) == [own]
    assert not selectors.structures_editable_by(conseiller).exists()


def test_user_without_membership_sees_nothing(two_structures):
    assert not selectors.structures_visible_to(factories.UserFactory()).exists()


def test_anonymous_sees_and_edits_nothing(two_structures):
    anonymous = AnonymousUser()
    assert not selectors.structures_visible_to(anonymous).exists()
    assert not selectors.structures_editable_by(anonymous).exists()
    assert not selectors.lieux_visible_to(anonymous).exists()


def test_backoffice_places_follow_the_editable_structures(two_structures, staff_user):
    own, other = two_structures
    own_lieu = factories.LieuFactory(structure=own)
    other_lieu = factories.LieuFactory(structure=other)
    hidden = factories.LieuFactory(structure=own, is_active=False)
    referent = member(own, Role.REFERENT)
    assert set(selectors.lieux_visible_to(referent)) == {own_lieu, hidden}
    assert set(selectors.lieux_visible_to(staff_user)) == {own_lieu, other_lieu, hidden}
    assert not selectors.lieux_visible_to(member(own, Role.CONSEILLER)).exists()


def test_structure_list_searches_within_the_visible_ones(two_structures):
    own, other = two_structures
    referent = member(own, Role.REFERENT)
    assert list(selectors.structure_list(referent, q="castanet")) == []
    assert list(selectors.structure_list(referent, q="auzeville")) == [own]
    staff = factories.StaffUserFactory()
    assert list(selectors.structure_list(staff, q="castanet")) == [other]
    assert list(selectors.structure_list(staff, q=other.siret[:9])) == [other]


def test_structure_list_counts_published_places_and_members(two_structures, staff_user):
    own, _other = two_structures
    factories.LieuFactory.create_batch(2, structure=own)
    factories.LieuFactory(structure=own, is_active=False)
    factories.MembershipFactory.create_batch(3, structure=own)
    row = selectors.structure_list(staff_user).get(pk=own.pk)
    assert (row.nb_lieux, row.nb_membres) == (2, 3)


# --- list_contains on multi-valued fields ----------------------------------------------------------------------
def test_list_contains_matches_whole_values_only():
    gratuit = factories.LieuFactory(frais_a_charge=["Gratuit"])
    sous_condition = factories.LieuFactory(frais_a_charge=["Gratuit sous condition"])
    both = factories.LieuFactory(frais_a_charge=["Payant", "Gratuit"])
    found = set(Lieu.objects.filter(list_contains("frais_a_charge", "Gratuit")))
    assert found == {gratuit, both}
    assert set(Lieu.objects.filter(list_contains("frais_a_charge", "Gratuit sous condition"))) == {sous_condition}
    assert set(Lieu.objects.filter(list_contains("frais_a_charge", "Payant"))) == {both}


def test_list_contains_matches_accented_values():
    demarches = factories.LieuFactory(services=["Aide aux démarches administratives"])
    securite = factories.LieuFactory(
        services=["Utilisation sécurisée du numérique", "Accès internet et matériel informatique"],
        publics_specifiquement_adresses=["Étudiants"],
    )
    assert list(Lieu.objects.filter(list_contains("services", "Aide aux démarches administratives"))) == [demarches]
    assert list(Lieu.objects.filter(list_contains("services", "Accès internet et matériel informatique"))) == [securite]
    assert list(Lieu.objects.filter(list_contains("publics_specifiquement_adresses", "Étudiants"))) == [securite]
    # The unaccented spelling is another value.
    assert not Lieu.objects.filter(list_contains("services", "Aide aux demarches administratives")).exists()


def test_list_contains_does_not_match_across_fields_or_in_empty_lists():
    factories.LieuFactory(frais_a_charge=[], services=["Loisirs et créations numériques"])
    assert not Lieu.objects.filter(list_contains("frais_a_charge", "Gratuit")).exists()
    assert not Lieu.objects.filter(list_contains("frais_a_charge", "Loisirs et créations numériques")).exists()


def test_list_contains_can_be_negated():
    gratuit = factories.LieuFactory(frais_a_charge=["Gratuit"])
    payant = factories.LieuFactory(frais_a_charge=["Payant"])
    assert list(Lieu.objects.filter(list_contains("frais_a_charge", "Gratuit"))) == [gratuit]
    assert list(Lieu.objects.exclude(list_contains("frais_a_charge", "Gratuit"))) == [payant]


# --- public places ---------------------------------------------------------------------------------------------
@pytest.fixture
def communes():
    return (
        factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"]),
        factories.CommuneFactory(code_insee="31035", nom="Auzeville-Tolosane", codes_postaux=["31320"]),
        factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"]),
    )


def test_lieux_publics_shows_only_published_places(communes):
    published = factories.LieuFactory(commune=communes[0])
    factories.LieuFactory(commune=communes[0], is_active=False)
    assert list(selectors.lieux_publics()) == [published]


def test_lieux_publics_filters_by_commune_including_future_itinerant_stops(communes):
    castanet, auzeville, labege = communes
    fixed = factories.LieuFactory(commune=castanet, nom="Médiathèque de Castanet")
    factories.LieuFactory(commune=labege, nom="Maison commune de Labège")
    bus = factories.LieuFactory(commune=labege, nom="Bus numérique", itinerance=choices.Itinerance.ITINERANT)
    today = timezone.localdate()
    factories.ArretItinerantFactory(lieu=bus, commune=castanet, date=today + datetime.timedelta(days=3))
    factories.ArretItinerantFactory(
        lieu=bus,
        commune=castanet,
        date=today + datetime.timedelta(days=10),
        heure_debut=datetime.time(14),
        heure_fin=datetime.time(17),
    )
    factories.ArretItinerantFactory(
        lieu=bus, commune=castanet, date=today, heure_debut=datetime.time(14), heure_fin=datetime.time(17)
    )
    factories.ArretItinerantFactory(lieu=bus, commune=auzeville, date=today - datetime.timedelta(days=1))

    in_castanet = list(selectors.lieux_publics(commune=castanet))
    assert sorted(lieu.nom for lieu in in_castanet) == ["Bus numérique", "Médiathèque de Castanet"]
    assert len(in_castanet) == 2  # three stops in Castanet, the bus is listed once
    assert fixed in in_castanet
    # A stop that has passed does not list the bus in that commune any more.
    assert list(selectors.lieux_publics(commune=auzeville)) == []
    assert [lieu.nom for lieu in selectors.lieux_publics(commune=labege)] == [
        "Bus numérique",
        "Maison commune de Labège",
    ]


def test_lieux_publics_prefetches_only_upcoming_stops(communes):
    castanet, auzeville, _labege = communes
    bus = factories.LieuFactory(commune=castanet, itinerance=choices.Itinerance.ITINERANT)
    today = timezone.localdate()
    past = factories.ArretItinerantFactory(lieu=bus, commune=auzeville, date=today - datetime.timedelta(days=2))
    soon = factories.ArretItinerantFactory(lieu=bus, commune=auzeville, date=today + datetime.timedelta(days=2))
    later = factories.ArretItinerantFactory(lieu=bus, commune=castanet, date=today + datetime.timedelta(days=9))
    lieu = selectors.lieux_publics().get(pk=bus.pk)
    assert lieu.prochains_arrets == [soon, later]
    assert past not in lieu.prochains_arrets


def test_lieux_publics_filters_by_service(communes):
    demarches = factories.LieuFactory(commune=communes[0], services=["Aide aux démarches administratives"])
    loisirs = factories.LieuFactory(
        commune=communes[1], services=["Loisirs et créations numériques", "Aide aux démarches administratives"]
    )
    factories.LieuFactory(commune=communes[2], services=["Maîtrise des outils numériques du quotidien"])
    factories.LieuFactory(commune=communes[2], services=["Aide aux démarches administratives"], is_active=False)
    assert set(selectors.lieux_publics(service="Aide aux démarches administratives")) == {demarches, loisirs}
    assert list(selectors.lieux_publics(service="Loisirs et créations numériques")) == [loisirs]
    assert list(selectors.lieux_publics(commune=communes[0], service="Loisirs et créations numériques")) == []


def test_territoire_scopes_to_the_configured_epci(settings, communes):
    sicoval = factories.EpciFactory(siren="243100633", nom="CA du Sicoval")
    for commune in communes[:2]:
        commune.epci = sicoval
        commune.save()
    settings.TERRITOIRE_EPCI_SIREN = "243100633"
    factories.LieuFactory(commune=communes[0])
    factories.LieuFactory(commune=communes[2])
    summary = selectors.territoire_summary()
    assert summary["epci"] == sicoval
    assert summary["nb_communes"] == 2
    assert summary["nb_lieux"] == 1
