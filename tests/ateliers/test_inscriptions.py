"""Registration rules of the service (``ateliers.services.inscriptions``): who may register, the same person never
twice, the waiting list in order of arrival, a cancellation promoting the first person waiting exactly once, the
e-mails each change writes, and all of it under real concurrency on PostgreSQL (8 × capacity people at once)."""

import datetime
import threading
from collections import Counter

import pytest
import time_machine
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from ateliers import services as ateliers
from ateliers.models import Inscription, SourceInscription, StatutInscription, StatutSeance
from ateliers.services.inscriptions import CANCEL_SALT
from notifications.models import Email
from notifications.services import relay
from tests import factories
from tests.ateliers.conftest import person

pytestmark = pytest.mark.django_db


def _statuts(seance):
    return list(Inscription.objects.filter(seance=seance).order_by("rang").values_list("prenom", "statut"))


def _refused(seance, data, code=None):
    before = Inscription.objects.count()
    with pytest.raises(ValidationError) as info:
        ateliers.inscription_create(seance=seance, data=data)
    assert Inscription.objects.count() == before, "rien n'est écrit quand l'inscription est refusée"
    if code:
        assert info.value.code == code
    return info.value


# --- who may register ----------------------------------------------------------------------------------------------
def test_confirmed_while_seats_remain_then_waiting_list_in_order(seance, register):
    created = [register(seance, n) for n in range(1, 6)]
    assert [i.statut for i in created] == ["confirmee"] * 3 + ["attente"] * 2
    assert [i.rang for i in created] == [1, 2, 3, 4, 5]
    assert ateliers.places_restantes(seance) == 0


def test_same_email_refused_whatever_the_case(seance, register):
    register(seance, 1)
    error = _refused(seance, person(1, email="  PERSONNE1@Example.ORG "), code="deja_inscrit")
    assert "déjà inscrit" in error.messages[0]


@pytest.mark.parametrize("again", ["+33 6 12 34 56 78", "06.12.34.56.78", "0612345678", "0033 612 345 678"])
def test_same_phone_refused_however_it_is_written(seance, register, again):
    register(seance, 1, email="", telephone="06 12 34 56 78")
    _refused(seance, person(2, email="", telephone=again), code="deja_inscrit")


def test_a_person_who_cancelled_may_register_again(seance, register):
    first = register(seance, 1)
    ateliers.inscription_cancel(inscription=first)
    again = register(seance, 1)
    assert again.statut == StatutInscription.CONFIRMEE and again.pk != first.pk


def test_cancelled_session_refuses(seance):
    seance.statut, seance.motif_annulation = StatutSeance.ANNULEE, "Animatrice malade"
    seance.save()
    error = _refused(seance, person(1), code="seance_annulee")
    assert "annulée" in error.messages[0]


def test_started_session_refuses(seance):
    seance.debut = timezone.now() - datetime.timedelta(minutes=5)
    seance.fin = seance.debut + datetime.timedelta(hours=2)
    seance.save()
    error = _refused(seance, person(1), code="passee")
    assert "commencé" in error.messages[0]


def test_session_reserved_to_a_structure_refuses_online_but_staff_may_register_by_phone():
    structure = factories.StructureFactory()
    seance = factories.SeanceFactory(publique=False, reservee_a=structure, capacite=3)
    _refused(seance, person(1), code="reservee")
    staff = factories.StaffUserFactory(with_totp=False)
    created = ateliers.inscription_create(seance=seance, data=person(1), by=staff, source=SourceInscription.TELEPHONE)
    assert created.statut == StatutInscription.CONFIRMEE and created.cree_par == staff


def test_anonymous_cannot_register_by_phone(seance):
    with pytest.raises(PermissionDenied):
        ateliers.inscription_create(seance=seance, data=person(1), source=SourceInscription.TELEPHONE)
    assert not Inscription.objects.exists()


def test_consent_is_required(seance):
    error = _refused(seance, person(1, consentement=False))
    assert "consentement" in error.error_dict


def test_an_email_or_a_phone_is_required(seance):
    error = _refused(seance, person(1, email="", telephone="   "))
    assert "email" in error.error_dict
    assert "téléphone" in error.error_dict["email"][0].messages[0]


def test_phone_only_is_enough(seance):
    created = ateliers.inscription_create(seance=seance, data=person(1, email="", telephone="05 61 00 00 00"))
    assert created.telephone == "+33561000000" and created.cle_personne == "tel:+33561000000"


# --- cancellation and the waiting list ------------------------------------------------------------------------------
def test_cancelling_a_confirmed_seat_promotes_the_first_waiting_once(seance, register):
    people = [register(seance, n) for n in range(1, 7)]  # 3 confirmed, 4-5-6 waiting
    cancelled, promoted = ateliers.inscription_cancel(inscription=people[0])
    assert cancelled.statut == StatutInscription.ANNULEE and cancelled.annulee_le
    assert promoted.pk == people[3].pk and promoted.promue_le

    # Cancelling the same registration again changes nothing and promotes no one else.
    again, promoted_again = ateliers.inscription_cancel(inscription=people[0])
    assert again.statut == StatutInscription.ANNULEE and promoted_again is None
    assert _statuts(seance) == [
        ("Prénom1", "annulee"),
        ("Prénom2", "confirmee"),
        ("Prénom3", "confirmee"),
        ("Prénom4", "confirmee"),
        ("Prénom5", "attente"),
        ("Prénom6", "attente"),
    ]


def test_leaving_the_waiting_list_promotes_no_one(seance, register):
    people = [register(seance, n) for n in range(1, 6)]
    _, promoted = ateliers.inscription_cancel(inscription=people[3])
    assert promoted is None
    assert Counter(s for _p, s in _statuts(seance)) == {"confirmee": 3, "attente": 1, "annulee": 1}


def test_promotion_follows_the_order_of_arrival(seance, register):
    people = [register(seance, n) for n in range(1, 9)]  # 4..8 waiting
    ateliers.inscription_cancel(inscription=people[4])  # the second waiting leaves
    promoted = [ateliers.inscription_cancel(inscription=people[n])[1] for n in range(3)]
    assert [p.prenom for p in promoted] == ["Prénom4", "Prénom6", "Prénom7"]


def test_online_cancellation_refused_once_the_session_started(seance, register):
    inscription = register(seance, 1)
    seance.debut = timezone.now() - datetime.timedelta(minutes=1)
    seance.save()
    with pytest.raises(ValidationError, match="commencé"):
        ateliers.inscription_cancel(inscription=inscription)
    inscription.refresh_from_db()
    assert inscription.statut == StatutInscription.CONFIRMEE


def test_cancel_token_round_trip_and_tampering(seance, register):
    inscription = register(seance, 1)
    token = ateliers.cancel_token(inscription)
    assert ateliers.inscription_from_token(token) == inscription
    for tampered in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", "x" + token, "", "abc:def"):
        assert ateliers.inscription_from_token(tampered) is None


# --- e-mails (written in the outbox with the change, sent after commit) --------------------------------------------
def test_each_change_sends_its_email_with_the_calendar_entry_when_a_seat_is_held(
    seance, register, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        people = [register(seance, n) for n in range(1, 5)]
    assert [m.subject.split(" :")[0] for m in mail.outbox] == ["Inscription confirmée"] * 3 + ["Liste d'attente"]
    confirmed, waiting = mail.outbox[0], mail.outbox[3]
    assert confirmed.to == ["personne1@example.org"]
    assert [(name, mimetype) for name, _content, mimetype in confirmed.attachments] == [("seance.ics", "text/calendar")]
    assert "BEGIN:VEVENT" in confirmed.attachments[0][1]
    assert waiting.attachments == []
    token = ateliers.cancel_token(people[0])
    assert f"/ateliers/annulation/{token}/" in confirmed.body
    html = confirmed.alternatives[0][0]
    assert f'href="http://127.0.0.1:8000/ateliers/annulation/{token}/"' in html
    assert f"/ateliers/seances/{seance.uuid}/" in html

    mail.outbox.clear()
    ateliers.inscription_cancel(inscription=people[0])
    # The test's transaction never commits: the relay's kick registered above is still pending, so the outbox
    # does not register a second one; relay by hand, as beat would.
    relay()
    subjects = sorted(m.subject.split(" :")[0] for m in mail.outbox)
    assert subjects == ["Inscription annulée", "Une place s'est libérée"]
    freed = next(m for m in mail.outbox if m.subject.startswith("Une place"))
    assert freed.to == ["personne4@example.org"] and freed.attachments[0][0] == "seance.ics"


def test_phone_only_registrations_get_no_email(seance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ateliers.inscription_create(seance=seance, data=person(1, email="", telephone="0612345678"))
    assert mail.outbox == [] and not Email.objects.exists()


# --- concurrency on PostgreSQL (SQLite serialises every write anyway) ----------------------------------------------
def _run_at_once(count, target):
    """Runs ``target(i)`` in ``count`` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(count)
    outcomes, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait(timeout=20)
            outcomes[i] = target(i)
        except Exception as error:  # collected: a thread's failure must fail the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "des fils ne se sont pas terminés"
    return outcomes, errors


CAPACITY = 5
PEOPLE = 8 * CAPACITY


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_never_overbook_and_cancellations_promote_exactly_once(services):
    seance = factories.SeanceFactory(capacite=CAPACITY)

    outcomes, errors = _run_at_once(PEOPLE, lambda i: ateliers.inscription_create(seance=seance, data=person(i)).statut)
    assert errors == []
    assert Counter(outcomes) == {"confirmee": CAPACITY, "attente": PEOPLE - CAPACITY}
    rows = list(Inscription.objects.filter(seance=seance).order_by("rang"))
    assert [r.rang for r in rows] == list(range(1, PEOPLE + 1)), "rangs distincts et continus"
    confirmed = [r for r in rows if r.statut == StatutInscription.CONFIRMEE]
    waiting = [r for r in rows if r.statut == StatutInscription.ATTENTE]
    assert len(confirmed) == CAPACITY
    # The first to get the lock got the seats: every confirmed arrived before every waiting person.
    assert max(r.rang for r in confirmed) < min(r.rang for r in waiting)

    # Every confirmed seat cancelled at once, each one twice (a double click, two tabs): 5 promotions, no more.
    targets = confirmed + confirmed
    outcomes, errors = _run_at_once(len(targets), lambda i: ateliers.inscription_cancel(inscription=targets[i])[1])
    assert errors == []
    promoted = [p.pk for p in outcomes if p is not None]
    assert len(promoted) == CAPACITY and len(set(promoted)) == CAPACITY
    assert sorted(promoted) == sorted(r.pk for r in waiting[:CAPACITY]), "les premiers de la liste d'attente"
    statuts = Counter(Inscription.objects.filter(seance=seance).values_list("statut", flat=True))
    assert statuts == {"annulee": CAPACITY, "confirmee": CAPACITY, "attente": PEOPLE - 2 * CAPACITY}
    assert Email.objects.filter(type="place_liberee").count() == CAPACITY


@pytest.mark.django_db(transaction=True)
def test_the_same_person_registering_from_several_tabs_at_once_gets_one_registration(services):
    seance = factories.SeanceFactory(capacite=CAPACITY)
    attempts = 8

    def attempt(i):
        try:
            written = {"email": "Personne1@Example.ORG"} if i % 2 else {}
            ateliers.inscription_create(seance=seance, data=person(1, **written))
        except ValidationError as error:
            return error.code
        return "created"

    outcomes, errors = _run_at_once(attempts, attempt)
    assert errors == []
    assert sorted(outcomes) == ["created"] + ["deja_inscrit"] * (attempts - 1)
    assert Inscription.objects.filter(seance=seance).count() == 1


def test_only_the_sessions_managers_cancel_someone_elses_registration(seance, register):
    from django.core.exceptions import PermissionDenied

    inscription = register(seance, 1)
    stranger = factories.MembershipFactory().user  # a référent of another structure
    with pytest.raises(PermissionDenied):
        ateliers.inscription_cancel(inscription=inscription, by=stranger)
    inscription.refresh_from_db()
    assert inscription.statut == "confirmee"
    ateliers.inscription_cancel(inscription=inscription, by=factories.StaffUserFactory())
    inscription.refresh_from_db()
    assert inscription.statut == "annulee"


def test_the_cancellation_link_is_the_same_every_time_and_old_timestamped_links_still_work(seance, register):
    inscription = register(seance, 1)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        later = ateliers.cancel_token(inscription)
    assert ateliers.cancel_token(inscription) == later
    old = signing.dumps(str(inscription.uuid), salt=CANCEL_SALT, compress=True)
    assert ateliers.inscription_from_token(old) == inscription
