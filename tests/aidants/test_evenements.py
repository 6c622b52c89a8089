"""Network events: creation rules, invitations through the outbox (once), answers within the capacity with a waiting
list (under the event's row lock), attendance and its closing (once), trainings added to the aidants' record (once),
and the pages with their scoping and query budgets."""

import datetime
import threading
from decimal import Decimal

import factory
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from aidants import selectors_evenements as selectors
from aidants import services_evenements as services
from aidants.models import (
    Evenement,
    FormationAidant,
    ParticipationEvenement,
    PublicEvenement,
    StatutParticipation,
    TypeEvenement,
    TypeFormationAidant,
)
from notifications.models import Email
from tests import factories

from .conftest import AidantFactory, member

pytestmark = pytest.mark.django_db


def soon(days=7, hour=14):
    moment = timezone.localtime() + datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


class EvenementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evenement

    type = TypeEvenement.REUNION
    titre = factory.Sequence(lambda n: f"Réunion du réseau {n}")
    debut = factory.LazyFunction(soon)
    fin = factory.LazyAttribute(lambda o: o.debut + datetime.timedelta(hours=2))
    adresse = "Maison du Sicoval, Labège"
    public = PublicEvenement.RESEAU


def fields(**overrides):
    data = {
        "type": TypeEvenement.REUNION,
        "titre": "Réunion du réseau",
        "debut": soon(),
        "fin": soon() + datetime.timedelta(hours=2),
        "adresse": "Maison du Sicoval, Labège",
        "public": PublicEvenement.RESEAU,
    }
    data.update(overrides)
    return data


def today_event(**kwargs):
    """An event that started an hour ago (attendance is open)."""
    debut = timezone.now() - datetime.timedelta(minutes=30)
    if timezone.localdate(debut) != timezone.localdate():
        debut = timezone.now()
    return EvenementFactory(debut=debut, fin=debut + datetime.timedelta(hours=3), **kwargs)


def aidant_user(**kwargs):
    """An aidant linked to an account with the aidant role."""
    aidant = AidantFactory(**kwargs)
    user = member(Role.AIDANT, aidant.structure)
    aidant.user = user
    aidant.save()
    return aidant, user


def conseiller_user():
    return member(Role.CONSEILLER)


def invite(evenement, by, *people):
    """Rows ``invite`` written directly for the given aidants or users."""
    rows = []
    for person in people:
        key = "aidant" if person.__class__.__name__ == "Aidant" else "user"
        rows.append(
            ParticipationEvenement.objects.create(
                evenement=evenement, statut=StatutParticipation.INVITE, **{key: person}
            )
        )
    return rows


def messages_of(excinfo):
    return " ".join(excinfo.value.messages)


# --- Create, update, cancel ----------------------------------------------------------------------------------------
def test_staff_creates_an_event(staff):
    evenement = services.evenement_create(by=staff, **fields())
    assert evenement.organisateur == staff
    assert evenement.history.first().history_user == staff


@pytest.mark.parametrize("role", [Role.AIDANT, Role.CONSEILLER, Role.REFERENT])
def test_only_staff_creates(role):
    with pytest.raises(PermissionDenied):
        services.evenement_create(by=member(role), **fields())


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"adresse": ""}, "lieu", "lieu du réseau, une adresse ou un lien"),
        ({"fin": soon() - datetime.timedelta(hours=1)}, "fin", "suivre le début"),
        ({"fin": soon() + datetime.timedelta(days=20)}, "fin", "14 jours"),
        ({"debut": timezone.now() - datetime.timedelta(days=1)}, "debut", "passé"),
        ({"capacite": 0}, "capacite", "places"),
        ({"type": "fete"}, "type", "type d'événement"),
        ({"public": "tous"}, "public", "public"),
        ({"formation": TypeFormationAidant.RESEAU}, "heures", "durée de la formation"),
        ({"formation": TypeFormationAidant.RESEAU, "heures": Decimal(900)}, "heures", "500 heures"),
        ({"formation": "inconnue"}, "formation", "type de formation"),
        ({"lien": "pas une url", "adresse": ""}, "lien", ""),
    ],
)
def test_creation_rules(staff, overrides, field, text):
    with pytest.raises(ValidationError) as excinfo:
        services.evenement_create(by=staff, **fields(**overrides))
    assert field in excinfo.value.error_dict
    assert text in messages_of(excinfo)
    assert not Evenement.objects.exists()


def test_a_link_or_a_place_is_enough(staff):
    assert services.evenement_create(by=staff, **fields(adresse="", lien="https://visio.example.org/reseau")).pk
    lieu = factories.LieuFactory()
    assert services.evenement_create(by=staff, **fields(adresse="", lieu=lieu)).pk


def test_aidants_connect_training_defaults_to_its_hours(staff):
    evenement = services.evenement_create(
        by=staff, **fields(type=TypeEvenement.FORMATION, formation=TypeFormationAidant.AIDANTS_CONNECT_7H)
    )
    assert evenement.heures == Decimal(7)


def test_hours_are_dropped_when_not_a_training(staff):
    assert services.evenement_create(by=staff, **fields(heures=Decimal(3))).heures is None


def test_update_keeps_rules_and_past_start_unchanged(staff):
    evenement = EvenementFactory(capacite=2)
    evenement = services.evenement_update(evenement=evenement, by=staff, titre="Nouveau titre", capacite=3)
    assert evenement.titre == "Nouveau titre"
    with pytest.raises(ValidationError, match="passé"):
        services.evenement_update(evenement=evenement, by=staff, debut=timezone.now() - datetime.timedelta(hours=1))
    started = today_event()
    assert services.evenement_update(evenement=started, by=staff, description="Compte rendu").description


def test_capacity_cannot_go_below_registered(staff):
    evenement = EvenementFactory(capacite=3)
    users = [conseiller_user() for _ in range(3)]
    invite(evenement, staff, *users)
    for user in users:
        services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT)
    with pytest.raises(ValidationError, match="3 personnes sont déjà inscrites"):
        services.evenement_update(evenement=evenement, by=staff, capacite=2)


def test_more_places_let_the_waiting_list_in(staff):
    evenement = EvenementFactory(capacite=1)
    first, second = conseiller_user(), conseiller_user()
    invite(evenement, staff, first, second)
    services.participation_answer(evenement=evenement, by=first, reponse=StatutParticipation.INSCRIT)
    waiting = services.participation_answer(evenement=evenement, by=second, reponse=StatutParticipation.INSCRIT)
    assert waiting.statut == StatutParticipation.ATTENTE
    services.evenement_update(evenement=evenement, by=staff, capacite=2)
    waiting.refresh_from_db()
    assert waiting.statut == StatutParticipation.INSCRIT


def test_cancel_is_idempotent_and_tells_registered_people(staff):
    evenement = EvenementFactory()
    registered, invited = conseiller_user(), conseiller_user()
    invite(evenement, staff, registered, invited)
    services.participation_answer(evenement=evenement, by=registered, reponse=StatutParticipation.INSCRIT)
    services.evenement_cancel(evenement=evenement, by=staff)
    services.evenement_cancel(evenement=evenement, by=staff)
    evenement.refresh_from_db()
    assert evenement.annule
    assert list(Email.objects.filter(type=services.ANNULATION).values_list("destinataire", flat=True)) == [
        registered.email
    ]
    with pytest.raises(ValidationError, match="annulé"):
        services.evenement_update(evenement=evenement, by=staff, titre="Autre")
    with pytest.raises(ValidationError, match="annulé"):
        services.participation_answer(evenement=evenement, by=invited, reponse=StatutParticipation.INSCRIT)


def test_only_staff_cancels():
    with pytest.raises(PermissionDenied):
        services.evenement_cancel(evenement=EvenementFactory(), by=conseiller_user())


# --- Invitations ---------------------------------------------------------------------------------------------------
def test_invite_reaches_the_audience_once(staff):
    evenement = EvenementFactory(public=PublicEvenement.RESEAU)
    with_email = AidantFactory()
    linked, linked_user = aidant_user(email="")
    AidantFactory(email="")  # no address, no account: not invited
    AidantFactory(actif=False)  # left the network
    conseiller = conseiller_user()
    profile_only = factories.ConseillerFactory(user=factories.UserFactory()).user
    referent = member(Role.REFERENT)
    assert services.evenement_invite(evenement=evenement, by=staff) == 4
    assert services.evenement_invite(evenement=evenement, by=staff) == 0
    rows = ParticipationEvenement.objects.filter(evenement=evenement)
    assert set(rows.values_list("statut", flat=True)) == {StatutParticipation.INVITE}
    assert {r.aidant_id for r in rows if r.aidant_id} == {with_email.pk, linked.pk}
    assert {r.user_id for r in rows if r.user_id} == {conseiller.pk, profile_only.pk}
    recipients = set(Email.objects.filter(type=services.INVITATION).values_list("destinataire", flat=True))
    assert recipients == {with_email.email, linked_user.email, conseiller.email, profile_only.email}
    assert referent.email not in recipients
    email = Email.objects.get(destinataire=conseiller.email)
    assert email.objet == f"evenement:{evenement.uuid}"
    assert evenement.titre in email.sujet
    assert email.pieces_jointes[0]["type"] == "text/calendar"
    assert "BEGIN:VEVENT" in email.pieces_jointes[0]["contenu"]
    assert reverse("aidants:evenement_invitations") in email.texte


def test_invite_again_reaches_newcomers_only(staff):
    evenement = EvenementFactory(public=PublicEvenement.AIDANTS)
    AidantFactory()
    conseiller_user()  # not the audience
    assert services.evenement_invite(evenement=evenement, by=staff) == 1
    newcomer = AidantFactory()
    assert services.evenement_invite(evenement=evenement, by=staff) == 1
    assert ParticipationEvenement.objects.filter(evenement=evenement, aidant=newcomer).exists()
    assert Email.objects.filter(type=services.INVITATION).count() == 2


def test_invite_conseillers_only(staff):
    evenement = EvenementFactory(public=PublicEvenement.CONSEILLERS)
    AidantFactory()
    conseiller = conseiller_user()
    assert services.evenement_invite(evenement=evenement, by=staff) == 1
    assert ParticipationEvenement.objects.get(evenement=evenement).user == conseiller


def test_an_aidant_who_is_also_a_conseiller_is_invited_once(staff):
    evenement = EvenementFactory()
    aidant, user = aidant_user()
    factories.MembershipFactory(user=user, role=Role.CONSEILLER)
    assert services.evenement_invite(evenement=evenement, by=staff) == 1
    assert Email.objects.filter(type=services.INVITATION).count() == 1


def test_invite_refused_when_cancelled_or_started(staff):
    AidantFactory()
    with pytest.raises(ValidationError, match="annulé"):
        services.evenement_invite(evenement=EvenementFactory(annule=True), by=staff)
    with pytest.raises(ValidationError, match="commencé"):
        services.evenement_invite(evenement=today_event(), by=staff)
    assert not ParticipationEvenement.objects.exists()
    assert not Email.objects.exists()


def test_only_staff_invites():
    with pytest.raises(PermissionDenied):
        services.evenement_invite(evenement=EvenementFactory(), by=member(Role.REFERENT))


def test_invitation_is_rolled_back_with_its_emails(staff, monkeypatch):
    evenement = EvenementFactory()
    AidantFactory()
    AidantFactory()
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("panne")
        return original(*args, **kwargs)

    original = services.email_enqueue
    monkeypatch.setattr(services, "email_enqueue", failing)
    with pytest.raises(RuntimeError):
        services.evenement_invite(evenement=evenement, by=staff)
    assert not ParticipationEvenement.objects.exists()
    assert not Email.objects.exists()


# --- Answers -------------------------------------------------------------------------------------------------------
def test_invited_aidant_registers_and_declines(staff):
    evenement = EvenementFactory()
    aidant, user = aidant_user()
    invite(evenement, staff, aidant)
    participation = services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT)
    assert participation.statut == StatutParticipation.INSCRIT
    assert participation.history.first().history_user == user
    again = services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT)
    assert again.statut == StatutParticipation.INSCRIT
    declined = services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.DECLINE)
    assert declined.statut == StatutParticipation.DECLINE


def test_not_invited_cannot_answer(staff):
    evenement = EvenementFactory()
    with pytest.raises(PermissionDenied):
        services.participation_answer(evenement=evenement, by=conseiller_user(), reponse=StatutParticipation.INSCRIT)


@pytest.mark.parametrize("reponse", ["present", "", None, StatutParticipation.INVITE, StatutParticipation.ATTENTE])
def test_answer_must_be_come_or_not(staff, reponse):
    evenement = EvenementFactory()
    user = conseiller_user()
    invite(evenement, staff, user)
    with pytest.raises(ValidationError):
        services.participation_answer(evenement=evenement, by=user, reponse=reponse)


def test_no_answer_once_started(staff):
    evenement = today_event()
    user = conseiller_user()
    invite(evenement, staff, user)
    with pytest.raises(ValidationError, match="commencé"):
        services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT)


def test_capacity_and_waiting_list_in_order(staff):
    evenement = EvenementFactory(capacite=2)
    users = [conseiller_user() for _ in range(4)]
    invite(evenement, staff, *users)
    statuses = [
        services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT).statut
        for user in users
    ]
    assert statuses == ["inscrit", "inscrit", "attente", "attente"]
    first_waiting = ParticipationEvenement.objects.get(user=users[2])
    assert selectors.waiting_position(first_waiting) == 1
    assert selectors.waiting_position(ParticipationEvenement.objects.get(user=users[3])) == 2
    # A registered person declines: the first one waiting takes the place.
    services.participation_answer(evenement=evenement, by=users[0], reponse=StatutParticipation.DECLINE)
    first_waiting.refresh_from_db()
    assert first_waiting.statut == StatutParticipation.INSCRIT
    assert ParticipationEvenement.objects.get(user=users[3]).statut == StatutParticipation.ATTENTE
    # Someone waiting who declines frees nothing.
    services.participation_answer(evenement=evenement, by=users[3], reponse=StatutParticipation.DECLINE)
    assert ParticipationEvenement.objects.filter(evenement=evenement, statut="inscrit").count() == 2


def test_unlimited_event_has_no_waiting_list(staff):
    evenement = EvenementFactory(capacite=None)
    users = [conseiller_user() for _ in range(3)]
    invite(evenement, staff, *users)
    for user in users:
        services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT)
    assert ParticipationEvenement.objects.filter(statut="inscrit").count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("services")
def test_concurrent_answers_never_overbook():
    """16 people answer at once for 2 places (PostgreSQL row lock on the event): 2 registered, 14 waiting."""
    evenement = EvenementFactory(capacite=2)
    users = [factories.UserFactory() for _ in range(16)]
    for user in users:
        ParticipationEvenement.objects.create(evenement=evenement, user=user, statut=StatutParticipation.INVITE)
    barrier = threading.Barrier(len(users))
    errors = []

    def answer(user):
        try:
            barrier.wait()
            services.participation_answer(evenement=evenement, by=user, reponse=StatutParticipation.INSCRIT)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ParticipationEvenement.objects.filter(statut=StatutParticipation.INSCRIT).count() == 2
    assert ParticipationEvenement.objects.filter(statut=StatutParticipation.ATTENTE).count() == 14


# --- Attendance and the training record ----------------------------------------------------------------------------
def test_attendance_and_close_add_the_training_once(staff):
    evenement = today_event(
        type=TypeEvenement.FORMATION, formation=TypeFormationAidant.RESEAU, heures=Decimal("3.5"), titre="Démarches"
    )
    present, absent = AidantFactory(), AidantFactory()
    conseiller = conseiller_user()
    p_present, p_absent, p_conseiller = invite(evenement, staff, present, absent, conseiller)
    changed = services.attendance_record(
        evenement=evenement,
        by=staff,
        presences={str(p_present.uuid): True, str(p_absent.uuid): False, str(p_conseiller.uuid): True},
    )
    assert changed == 3
    assert services.attendance_record(evenement=evenement, by=staff, presences={str(p_present.uuid): True}) == 0
    added = services.attendance_close(evenement=evenement, by=staff)
    assert [f.aidant for f in added] == [present]
    formation = FormationAidant.objects.get()
    assert formation.aidant == present
    assert formation.type == TypeFormationAidant.RESEAU
    assert formation.heures == Decimal("3.5")
    assert formation.date == timezone.localdate(evenement.debut)
    assert formation.intitule == "Démarches"
    assert formation.history.first().history_user == staff
    # Closing again changes nothing; the sheet is closed.
    assert services.attendance_close(evenement=evenement, by=staff) == []
    assert FormationAidant.objects.count() == 1
    with pytest.raises(ValidationError, match="closes"):
        services.attendance_record(evenement=evenement, by=staff, presences={str(p_absent.uuid): True})


def test_training_already_on_record_is_not_added_twice(staff):
    evenement = today_event(formation=TypeFormationAidant.AIDANTS_CONNECT_7H, heures=Decimal(7), titre="AC")
    aidant = AidantFactory()
    FormationAidant.objects.create(
        aidant=aidant, type=evenement.formation, date=timezone.localdate(evenement.debut), heures=7, intitule="AC"
    )
    (participation,) = invite(evenement, staff, aidant)
    services.attendance_record(evenement=evenement, by=staff, presences={str(participation.uuid): True})
    assert services.attendance_close(evenement=evenement, by=staff) == []
    assert FormationAidant.objects.count() == 1


def test_close_without_training_adds_nothing(staff):
    evenement = today_event()
    (participation,) = invite(evenement, staff, AidantFactory())
    services.attendance_record(evenement=evenement, by=staff, presences={str(participation.uuid): True})
    assert services.attendance_close(evenement=evenement, by=staff) == []
    assert not FormationAidant.objects.exists()
    evenement.refresh_from_db()
    assert evenement.appel_clos_le


def test_attendance_not_before_the_day_nor_when_cancelled(staff):
    future = EvenementFactory()
    (participation,) = invite(future, staff, AidantFactory())
    with pytest.raises(ValidationError, match="jour de l'événement"):
        services.attendance_record(evenement=future, by=staff, presences={str(participation.uuid): True})
    with pytest.raises(ValidationError, match="jour de l'événement"):
        services.attendance_close(evenement=future, by=staff)
    cancelled = today_event(annule=True)
    with pytest.raises(ValidationError, match="annulé"):
        services.attendance_close(evenement=cancelled, by=staff)


@pytest.mark.parametrize("presences", [{"pas-un-uuid": True}, {"5b0f1b7e-0000-4000-8000-000000000000": True}])
def test_attendance_refuses_unknown_people(staff, presences):
    evenement = today_event()
    with pytest.raises(ValidationError):
        services.attendance_record(evenement=evenement, by=staff, presences=presences)


def test_attendance_of_another_event_is_refused(staff):
    evenement, other = today_event(), today_event()
    (participation,) = invite(other, staff, AidantFactory())
    with pytest.raises(ValidationError):
        services.attendance_record(evenement=evenement, by=staff, presences={str(participation.uuid): True})
    participation.refresh_from_db()
    assert participation.present is None


def test_only_staff_takes_attendance():
    evenement = today_event()
    with pytest.raises(PermissionDenied):
        services.attendance_record(evenement=evenement, by=conseiller_user(), presences={})
    with pytest.raises(PermissionDenied):
        services.attendance_close(evenement=evenement, by=conseiller_user())


# --- Scoping -------------------------------------------------------------------------------------------------------
def test_audience_scoping(staff):
    pour_aidants = EvenementFactory(public=PublicEvenement.AIDANTS)
    pour_conseillers = EvenementFactory(public=PublicEvenement.CONSEILLERS)
    reseau = EvenementFactory(public=PublicEvenement.RESEAU)
    _aidant, user_aidant = aidant_user()
    conseiller = conseiller_user()
    assert set(selectors.evenements_visible_to(user_aidant)) == {pour_aidants, reseau}
    assert set(selectors.evenements_visible_to(conseiller)) == {pour_conseillers, reseau}
    assert set(selectors.evenements_visible_to(staff)) == {pour_aidants, pour_conseillers, reseau}
    assert not selectors.evenements_visible_to(member(Role.FINANCEUR)).exists()
    # An invitation shows the event even outside one's audience.
    referent = member(Role.REFERENT)
    invite(pour_aidants, staff, referent)
    assert set(selectors.evenements_visible_to(referent)) == {pour_aidants}


# --- Pages ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def form_data(**overrides):
    day = soon()
    data = {
        "type": "reunion",
        "titre": "Réunion de rentrée",
        "date": day.date().isoformat(),
        "heure_debut": "14:00",
        "heure_fin": "16:30",
        "adresse": "Maison du Sicoval",
        "public": "reseau",
        "capacite": "20",
    }
    data.update(overrides)
    return data


def test_staff_creates_an_event_through_the_form(staff_client):
    response = staff_client.get(reverse("aidants:evenement_create"))
    assert response.status_code == 200
    response = staff_client.post(reverse("aidants:evenement_create"), form_data())
    evenement = Evenement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("aidants:evenement", args=[evenement.uuid])
    assert timezone.localtime(evenement.debut).hour == 14
    assert timezone.localtime(evenement.fin).minute == 30


@pytest.mark.parametrize(
    "overrides",
    [
        {"adresse": ""},
        {"heure_fin": "13:00"},
        {"date": "2020-01-01"},
        {"date": "n'importe quoi", "capacite": "-4", "public": "x", "lieu": "pas-un-uuid", "heures": "abc"},
        {"formation": "reseau"},
        {"lien": "javascript:alert(1)", "adresse": ""},
        {"titre": "x" * 500},
    ],
)
def test_event_form_errors_are_400_in_french(staff_client, overrides):
    response = staff_client.post(reverse("aidants:evenement_create"), form_data(**overrides))
    assert response.status_code == 400
    assert "Le formulaire n'a pas pu être enregistré" in response.content.decode()
    assert not Evenement.objects.exists()


def test_staff_edits_invites_and_cancels_through_pages(staff_client):
    evenement = EvenementFactory()
    AidantFactory()
    url = reverse("aidants:evenement_edit", args=[evenement.uuid])
    assert staff_client.get(url).status_code == 200
    data = form_data(titre="Réunion modifiée", date=timezone.localtime(evenement.debut).date().isoformat())
    assert staff_client.post(url, data).status_code == 302
    evenement.refresh_from_db()
    assert evenement.titre == "Réunion modifiée"
    invite_url = reverse("aidants:evenement_invite", args=[evenement.uuid])
    assert staff_client.post(invite_url).status_code == 302
    assert staff_client.post(invite_url).status_code == 302
    assert Email.objects.count() == 1
    page = staff_client.get(reverse("aidants:evenement", args=[evenement.uuid]))
    assert page.status_code == 200
    assert "Invité" in page.content.decode()
    cancel_url = reverse("aidants:evenement_cancel", args=[evenement.uuid])
    assert staff_client.get(cancel_url).status_code == 200
    assert staff_client.post(cancel_url).status_code == 302
    evenement.refresh_from_db()
    assert evenement.annule


def test_invited_person_answers_through_my_invitations(client, staff):
    evenement = EvenementFactory(capacite=1, public=PublicEvenement.AIDANTS)
    aidant, user = aidant_user()
    invite(evenement, staff, aidant)
    client.force_login(user)
    page = client.get(reverse("aidants:evenement_invitations"))
    assert page.status_code == 200
    assert evenement.titre in page.content.decode()
    answer_url = reverse("aidants:evenement_answer", args=[evenement.uuid])
    response = client.post(answer_url, {"reponse": "inscrit", "depuis": "invitations"})
    assert response.status_code == 302
    assert response["Location"] == reverse("aidants:evenement_invitations")
    assert ParticipationEvenement.objects.get().statut == StatutParticipation.INSCRIT
    assert client.post(answer_url, {"reponse": "n'importe"}).status_code == 400
    detail = client.get(reverse("aidants:evenement", args=[evenement.uuid]))
    assert detail.status_code == 200
    assert "Vous êtes inscrit" in detail.content.decode()


def test_not_invited_answer_is_403(client):
    evenement = EvenementFactory()
    client.force_login(conseiller_user())
    response = client.post(reverse("aidants:evenement_answer", args=[evenement.uuid]), {"reponse": "inscrit"})
    assert response.status_code == 403


def test_attendance_sheet_and_close_through_pages(staff_client, staff):
    evenement = today_event(formation=TypeFormationAidant.RESEAU, heures=Decimal(2))
    aidant = AidantFactory()
    (participation,) = invite(evenement, staff, aidant)
    participation.statut = StatutParticipation.INSCRIT
    participation.save()
    url = reverse("aidants:evenement_attendance", args=[evenement.uuid])
    sheet = staff_client.get(url)
    assert sheet.status_code == 200
    assert str(aidant) in sheet.content.decode()
    response = staff_client.post(url, {f"presence_{participation.uuid}": "present", "action": "cloturer"})
    assert response.status_code == 302
    assert response["Location"] == reverse("aidants:evenement_close", args=[evenement.uuid])
    close_url = reverse("aidants:evenement_close", args=[evenement.uuid])
    assert staff_client.get(close_url).status_code == 200
    assert staff_client.post(close_url).status_code == 302
    assert staff_client.post(close_url).status_code == 302
    assert FormationAidant.objects.filter(aidant=aidant).count() == 1
    assert staff_client.post(url, {f"presence_{participation.uuid}": "absent"}).status_code == 400
    assert staff_client.post(url, {f"presence_{participation.uuid}": "peut-être"}).status_code == 400


def test_close_too_early_is_400(staff_client):
    evenement = EvenementFactory()
    assert staff_client.post(reverse("aidants:evenement_close", args=[evenement.uuid])).status_code == 400


@pytest.mark.parametrize(
    "name", ["evenement_edit", "evenement_cancel", "evenement_attendance", "evenement_close", "evenement_invite"]
)
def test_management_pages_are_staff_only(client, name):
    evenement = EvenementFactory(public=PublicEvenement.RESEAU)
    client.force_login(conseiller_user())
    url = reverse(f"aidants:{name}", args=[evenement.uuid])
    assert client.post(url).status_code == 403
    if name != "evenement_invite":
        assert client.get(url).status_code == 403


def test_pages_scoping(client):
    pour_conseillers = EvenementFactory(public=PublicEvenement.CONSEILLERS)
    _aidant, user = aidant_user()
    client.force_login(user)
    assert client.get(reverse("aidants:evenement", args=[pour_conseillers.uuid])).status_code == 404
    assert client.get(reverse("aidants:evenement_list")).status_code == 200
    assert client.get(reverse("aidants:evenement_create")).status_code == 403
    client.force_login(member(Role.FINANCEUR))
    for name in ("evenement_list", "evenement_past", "evenement_invitations"):
        assert client.get(reverse(f"aidants:{name}")).status_code == 403
    client.logout()
    assert client.get(reverse("aidants:evenement_list")).status_code == 302


def test_unknown_event_is_404(staff_client):
    url = reverse("aidants:evenement", args=["5b0f1b7e-0000-4000-8000-000000000000"])
    assert staff_client.get(url).status_code == 404
    assert staff_client.get("/gestion/aidants/evenements/pas-un-uuid/").status_code == 404


def test_past_events_show_who_came(staff_client, staff):
    debut = timezone.now() - datetime.timedelta(days=3)
    evenement = EvenementFactory(debut=debut, fin=debut + datetime.timedelta(hours=2), titre="Rencontre passée")
    came, absent = AidantFactory(nom="Venue"), AidantFactory(nom="Absente")
    p_came, p_absent = invite(evenement, staff, came, absent)
    ParticipationEvenement.objects.filter(pk=p_came.pk).update(present=True)
    ParticipationEvenement.objects.filter(pk=p_absent.pk).update(present=False)
    content = staff_client.get(reverse("aidants:evenement_past")).content.decode()
    assert "Rencontre passée" in content
    assert "Venue" in content
    assert "Absente" not in content
    upcoming = staff_client.get(reverse("aidants:evenement_list")).content.decode()
    assert "Rencontre passée" not in upcoming


def _past_with_presents(staff, count):
    for _ in range(count):
        debut = timezone.now() - datetime.timedelta(days=2)
        evenement = EvenementFactory(debut=debut, fin=debut + datetime.timedelta(hours=1))
        for aidant in (AidantFactory(), AidantFactory()):
            ParticipationEvenement.objects.create(
                evenement=evenement, aidant=aidant, statut=StatutParticipation.INSCRIT, present=True
            )
        ParticipationEvenement.objects.create(
            evenement=evenement, user=factories.UserFactory(), statut=StatutParticipation.INSCRIT, present=True
        )


@pytest.mark.parametrize("name", ["evenement_list", "evenement_past", "evenement_invitations"])
def test_list_query_budget_is_stable(client, staff, name):
    _aidant, user = aidant_user()
    viewer = staff if name != "evenement_invitations" else user

    def fill(count):
        _past_with_presents(staff, count)
        for n in range(count):
            evenement = EvenementFactory(capacite=5)
            statut = "attente" if n % 2 else "invite"
            ParticipationEvenement.objects.create(evenement=evenement, aidant=_aidant, statut=statut)
            ParticipationEvenement.objects.create(evenement=evenement, user=factories.UserFactory(), statut="inscrit")

    client.force_login(viewer)
    url = reverse(f"aidants:{name}")
    fill(2)
    client.get(url)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    fill(28)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(small) <= 12
