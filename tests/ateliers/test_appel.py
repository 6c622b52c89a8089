"""Attendance: the sheet (present / absent), walk-ins (present, beyond capacity), and closing it, which records the
collective activity in the facilitator's activity log once, whatever the number of closings."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accompagnements.models import Accompagnement, Activite, ActiviteThematique
from accounts.models import Role
from ateliers import services
from ateliers.models import Inscription, Seance, SourceInscription, StatutInscription
from tests import factories
from tests.ateliers.conftest import person


# --- helpers ---------------------------------------------------------------------------------------------------------
def conseiller_user(structure):
    """A conseiller (account + profile) employed by ``structure`` through their membership."""
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)
    return user


def move_to_today(seance, minutes=90):
    """Put a session (registrations made while it was upcoming) on today's date, started."""
    now = timezone.now()
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(0, 0)))
    debut = max(midnight, now - datetime.timedelta(hours=1))
    Seance.objects.filter(pk=seance.pk).update(debut=debut, fin=debut + datetime.timedelta(minutes=minutes))
    seance.refresh_from_db()
    return seance


def mark(seance, by, **marks):
    """``mark(seance, by, personne1="present")``: marks by e-mail local part."""
    presences = {}
    for local, value in marks.items():
        presences[str(Inscription.objects.get(seance=seance, email=f"{local}@example.org").uuid)] = value
    return services.appel_enregistrer(seance=seance, presences=presences, by=by)


@pytest.fixture
def animateur(seance):
    user = conseiller_user(seance.atelier.structure)
    Seance.objects.filter(pk=seance.pk).update(animateur=user)
    seance.refresh_from_db()
    return user


@pytest.fixture
def today(seance, animateur, register):
    """The 3-seat session with a conseiller facilitating: 3 confirmed with profiles, 1 waiting; now under way."""
    register(seance, 1, genre="feminin", tranche_age="soixante_soixante_neuf", statut_social="retraite")
    register(seance, 2, genre="feminin", tranche_age="soixante_dix_plus", statut_social="retraite")
    register(seance, 3, genre="masculin")
    register(seance, 4, genre="masculin", statut_social="sans_emploi")
    return move_to_today(seance)


# --- the sheet -------------------------------------------------------------------------------------------------------
def test_marks_are_recorded_with_their_author(today, animateur):
    assert mark(today, animateur, personne1="present", personne2="absent") == 2
    row = Inscription.objects.get(email="personne1@example.org")
    assert row.presence == "present"
    assert row.history.first().history_user == animateur
    assert mark(today, animateur, personne1="present") == 0  # unchanged


def test_sheet_refuses_garbage(today, animateur):
    with pytest.raises(ValidationError, match="présent"):
        mark(today, animateur, personne1="peut-etre")
    with pytest.raises(ValidationError, match="rechargez"):
        services.appel_enregistrer(seance=today, presences={"pas-un-uuid": "present"}, by=animateur)
    other = factories.InscriptionFactory()
    with pytest.raises(ValidationError, match="rechargez"):
        services.appel_enregistrer(seance=today, presences={str(other.uuid): "present"}, by=animateur)
    cancelled = Inscription.objects.get(email="personne3@example.org")
    services.inscription_cancel(inscription=cancelled, by=animateur)
    with pytest.raises(ValidationError, match="rechargez"):
        services.appel_enregistrer(seance=today, presences={str(cancelled.uuid): "present"}, by=animateur)
    assert not Inscription.objects.exclude(presence="").exists()


def test_sheet_opens_on_the_session_day(seance, register, staff_user):
    inscription = register(seance, 1)
    assert not services.appel_ouvert(seance)
    with pytest.raises(ValidationError, match="jour de la séance"):
        services.appel_enregistrer(seance=seance, presences={str(inscription.uuid): "present"}, by=staff_user)
    with pytest.raises(ValidationError, match="jour de la séance"):
        services.appel_cloturer(seance=seance, by=staff_user)
    seance.refresh_from_db()
    assert seance.appel_cloture_le is None


def test_only_managers_take_attendance(today):
    outsider = factories.MembershipFactory(role=Role.REFERENT).user
    with pytest.raises(PermissionDenied):
        mark(today, outsider, personne1="present")
    with pytest.raises(PermissionDenied):
        services.appel_cloturer(seance=today, by=outsider)
    with pytest.raises(PermissionDenied):
        services.participant_sur_place_add(seance=today, data=person(9, consentement=True), by=outsider)


def test_referent_of_the_structure_takes_attendance(today):
    referent = factories.MembershipFactory(structure=today.atelier.structure, role=Role.REFERENT).user
    assert mark(today, referent, personne1="present") == 1


# --- walk-ins --------------------------------------------------------------------------------------------------------
def test_walk_in_is_present_and_beyond_capacity(today, animateur):
    waiting_before = list(Inscription.objects.filter(seance=today, statut="attente").values_list("pk", flat=True))
    walk_in = services.participant_sur_place_add(
        seance=today,
        data={"prenom": "Jeanne", "nom": "Passante", "telephone": "06 12 34 56 78", "consentement": True},
        by=animateur,
    )
    assert (walk_in.statut, walk_in.source, walk_in.presence) == ("confirmee", "sur_place", "present")
    assert walk_in.telephone == "+33612345678" and walk_in.cree_par == animateur
    assert walk_in.history.first().history_user == animateur
    # The waiting list is untouched and the seats held are still the 3 registrants'.
    assert list(Inscription.objects.filter(seance=today, statut="attente").values_list("pk", flat=True)) == (
        waiting_before
    )
    assert services.seats_taken(today) == 3


def test_walk_in_with_profile(today, animateur):
    commune = factories.CommuneFactory()
    walk_in = services.participant_sur_place_add(
        seance=today,
        data={
            "prenom": "Paul",
            "nom": "Venu",
            "email": "Paul@Example.org",
            "consentement": True,
            "genre": "masculin",
            "tranche_age": "quarante_cinquante_neuf",
            "statut_social": "en_emploi",
            "commune": commune,
        },
        by=animateur,
    )
    assert walk_in.email == "paul@example.org"
    assert (walk_in.genre, walk_in.tranche_age, walk_in.statut_social, walk_in.commune) == (
        "masculin",
        "quarante_cinquante_neuf",
        "en_emploi",
        commune,
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"prenom": "", "nom": "X", "telephone": "0612345678", "consentement": True}, "prenom"),
        ({"prenom": "X", "nom": " ", "telephone": "0612345678", "consentement": True}, "nom"),
        ({"prenom": "X", "nom": "Y", "telephone": "0612345678"}, "consentement"),
        ({"prenom": "X", "nom": "Y", "telephone": "0612345678", "consentement": True, "genre": "autre"}, "genre"),
    ],
)
def test_walk_in_rules(today, animateur, data, field):
    with pytest.raises(ValidationError) as excinfo:
        services.participant_sur_place_add(seance=today, data=data, by=animateur)
    assert field in excinfo.value.message_dict
    assert not Inscription.objects.filter(source=SourceInscription.SUR_PLACE).exists()


def test_a_walk_in_needs_no_contact_details_and_takes_no_seat(today, animateur):
    first = services.participant_sur_place_add(seance=today, data={"prenom": "Rose", "nom": "Daran"}, by=animateur)
    second = services.participant_sur_place_add(seance=today, data={"prenom": "Rose", "nom": "Daran"}, by=animateur)
    assert first.presence == second.presence == "present"
    assert first.cle_personne != second.cle_personne  # two people may share a name
    assert (first.email, first.telephone) == ("", "")
    assert (
        services.places_restantes(today)
        == today.capacite - today.inscriptions.filter(statut="confirmee", source__in=["en_ligne", "telephone"]).count()
    )


def test_a_registrant_is_not_added_twice(today, animateur):
    with pytest.raises(ValidationError, match="déjà inscrite"):
        services.participant_sur_place_add(seance=today, data=person(1), by=animateur)
    with pytest.raises(ValidationError, match="liste d'attente"):
        services.participant_sur_place_add(seance=today, data=person(4), by=animateur)


def test_no_walk_in_before_the_day_nor_after_closing(seance, animateur, today):
    later = factories.SeanceFactory(atelier=seance.atelier, animateur=animateur)
    with pytest.raises(ValidationError, match="jour de la séance"):
        services.participant_sur_place_add(seance=later, data=person(9), by=animateur)
    mark(today, animateur, personne1="present")
    services.appel_cloturer(seance=today, by=animateur)
    with pytest.raises(ValidationError, match="clos"):
        services.participant_sur_place_add(seance=today, data=person(9), by=animateur)
    with pytest.raises(ValidationError, match="clos"):
        mark(today, animateur, personne2="present")


# --- closing ---------------------------------------------------------------------------------------------------------
def test_closing_records_the_workshop_in_the_facilitators_log(today, animateur):
    mark(today, animateur, personne1="present", personne2="present", personne3="absent")
    activite = services.appel_cloturer(seance=today, by=animateur)
    today.refresh_from_db()
    atelier = today.atelier
    assert today.activite == activite and today.appel_cloture_le is not None
    assert activite.conseiller.user == animateur
    assert activite.structure == atelier.structure  # the conseiller's employer (through the membership)
    assert activite.type == "collectif"
    assert activite.date == timezone.localdate()
    assert activite.duree == 90
    assert (activite.type_lieu, activite.lieu, activite.commune) == ("lieu_activite", today.lieu, today.lieu.commune)
    assert activite.thematiques == atelier.thematiques
    assert list(ActiviteThematique.objects.filter(activite=activite).values_list("thematique", flat=True)) == (
        atelier.thematiques
    )
    assert (activite.titre_atelier, activite.niveau, activite.materiel) == (atelier.titre, atelier.niveau, [])
    assert activite.participants == 2
    assert Accompagnement.objects.filter(activite=activite).count() == 2
    assert activite.history.first().history_user == animateur


def test_closing_twice_counts_once(today, animateur, staff_user):
    mark(today, animateur, personne1="present", personne2="present", personne3="present")
    first = services.appel_cloturer(seance=today, by=animateur)
    second = services.appel_cloturer(seance=today, by=staff_user)
    assert second == first
    assert Activite.objects.count() == 1
    assert Activite.objects.get().participants == 3
    assert Accompagnement.objects.count() == 3


def test_profiles_of_the_present_are_aggregated(today, animateur):
    services.participant_sur_place_add(
        seance=today,
        data={"prenom": "Léa", "nom": "Sur-Place", "telephone": "0700000000", "consentement": True, "genre": "feminin"},
        by=animateur,
    )
    # personne3 (masculin) is absent: not counted; personne4 (waiting list) came anyway.
    mark(today, animateur, personne1="present", personne2="present", personne3="absent", personne4="present")
    activite = services.appel_cloturer(seance=today, by=animateur)
    assert activite.participants == 4
    assert activite.participants_anonymes == {
        "total": 4,
        "genre": {"feminin": 3, "masculin": 1},
        "tranche_age": {"soixante_soixante_neuf": 1, "soixante_dix_plus": 1},
        "statut_social": {"retraite": 2, "sans_emploi": 1},
    }
    rows = Accompagnement.objects.filter(activite=activite)
    assert sorted(rows.values_list("genre", flat=True)) == ["feminin", "feminin", "feminin", "masculin"]
    assert sorted(rows.values_list("tranche_age", flat=True)) == [
        "non_communique",
        "non_communique",
        "soixante_dix_plus",
        "soixante_soixante_neuf",
    ]
    assert sorted(rows.values_list("statut_social", flat=True)) == [
        "non_communique",
        "retraite",
        "retraite",
        "sans_emploi",
    ]


def test_unmarked_registrants_are_counted_absent(today, animateur):
    mark(today, animateur, personne1="present")
    activite = services.appel_cloturer(seance=today, by=animateur)
    assert activite.participants == 1
    presences = dict(Inscription.objects.filter(seance=today).values_list("email", "presence"))
    assert presences == {
        "personne1@example.org": "present",
        "personne2@example.org": "absent",
        "personne3@example.org": "absent",
        "personne4@example.org": "",  # the waiting list was not expected
    }


def test_itinerant_stop_goes_to_the_stops_commune(animateur, register, seance):
    arret = factories.ArretItinerantFactory(date=timezone.localdate())
    Seance.objects.filter(pk=seance.pk).update(lieu=None, arret=arret)
    register(seance, 1)
    seance = move_to_today(seance, minutes=600)
    mark(seance, animateur, personne1="present")
    activite = services.appel_cloturer(seance=seance, by=animateur)
    assert (activite.type_lieu, activite.lieu, activite.commune) == ("autre", None, arret.commune)
    assert activite.duree == 480  # the activity log's maximum


def test_aidant_facilitator_closes_without_activity(seance, register):
    aidant = factories.MembershipFactory(structure=seance.atelier.structure, role=Role.AIDANT).user
    Seance.objects.filter(pk=seance.pk).update(animateur=aidant)
    register(seance, 1)
    seance = move_to_today(seance)
    mark(seance, aidant, personne1="present")
    assert services.animateur_conseiller(seance) is None
    assert services.appel_cloturer(seance=seance, by=aidant) is None
    seance.refresh_from_db()
    assert seance.appel_cloture_le is not None and seance.activite is None
    assert not Activite.objects.exists()
    assert services.appel_cloturer(seance=seance, by=aidant) is None  # idempotent too


def test_session_without_facilitator_closes_without_activity(seance, register, staff_user):
    register(seance, 1)
    seance = move_to_today(seance)
    mark(seance, staff_user, personne1="present")
    assert services.appel_cloturer(seance=seance, by=staff_user) is None
    assert not Activite.objects.exists()


def test_nobody_present_records_nothing(today, animateur):
    mark(today, animateur, personne1="absent")
    assert services.appel_cloturer(seance=today, by=animateur) is None
    today.refresh_from_db()
    assert today.appel_cloture_le is not None
    assert not Activite.objects.exists()


def test_staff_closes_into_the_facilitators_log(today, animateur, staff_user):
    mark(today, staff_user, personne1="present")
    activite = services.appel_cloturer(seance=today, by=staff_user)
    assert activite.conseiller.user == animateur
    assert activite.history.first().history_user == staff_user


def test_facilitator_without_employer_is_explained_and_nothing_closes(seance, register):
    user = factories.UserFactory()
    factories.ConseillerFactory(user=user, prenom="Sans", nom="Employeur")
    Seance.objects.filter(pk=seance.pk).update(animateur=user)
    register(seance, 1)
    seance = move_to_today(seance)
    mark(seance, user, personne1="present")
    with pytest.raises(ValidationError, match="Sans Employeur n'est rattaché"):
        services.appel_cloturer(seance=seance, by=user)
    seance.refresh_from_db()
    assert seance.appel_cloture_le is None
    assert Inscription.objects.get(email="personne1@example.org").presence == "present"


def test_cancelled_session_has_no_attendance(seance, register, staff_user):
    register(seance, 1)
    services.seance_cancel(seance=seance, motif="Annulée", by=staff_user)
    seance = move_to_today(seance)
    with pytest.raises(ValidationError, match="annulée"):
        services.appel_cloturer(seance=seance, by=staff_user)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("services")
def test_concurrent_closings_record_one_activity():
    """Two devices close the same sheet at the same moment (PostgreSQL row lock): one activity."""
    structure = factories.StructureFactory()
    user = conseiller_user(structure)
    seance = factories.SeanceFactory(atelier__structure=structure, animateur=user, capacite=5)
    for n in range(1, 4):
        services.inscription_create(seance=seance, data=person(n))
    seance = move_to_today(seance)
    mark(seance, user, personne1="present", personne2="present")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def close():
        try:
            barrier.wait()
            results.append(services.appel_cloturer(seance=seance, by=user))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Activite.objects.count() == 1
    assert {activite.pk for activite in results} == {Activite.objects.get().pk}
    assert Activite.objects.get().participants == 2
    assert Inscription.objects.filter(statut=StatutInscription.CONFIRMEE, presence="absent").count() == 1
