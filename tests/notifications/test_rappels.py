"""The reminders (issue 8), their mechanics and the workshop family: a reminder leaves at its moment, not before, to
the right people, once per (recipient, object, kind) however often the task runs; one whose window has passed is
recorded as missed and never sent, including when the relay was down until after its send-by moment. Helpers here are
used by the other ``test_rappels_*`` modules."""

import datetime
import importlib
import json
import logging
import zoneinfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from ateliers.services import cancel_token
from notifications import services as outbox
from notifications.models import (
    Declenchement,
    Email,
    ExecutionRappel,
    ReglageRappel,
    StatutEmail,
    StatutExecution,
)
from notifications.rappels import FAMILLES
from notifications.rappels import services as rappels
from notifications.rappels.base import add_working_days
from notifications.services import MAX_TENTATIVES, email_enqueue
from notifications.tasks import rappels_famille, relay_outbox
from tests import factories

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


# --- Helpers (also used by test_rappels_familles.py and test_rappels_pages.py) -----------------------------------
def paris(year, month, day, hour=0, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def run(code, moment, **kwargs):
    """Run a family as beat would at ``moment``."""
    with time_machine.travel(moment, tick=False):
        return rappels.famille_run(code, **kwargs)


def relay_at(moment):
    with time_machine.travel(moment, tick=False):
        return outbox.relay()


def regler(code, **fields):
    """Change a family's settings row directly (the rows a migration seeds may have been flushed by a transactional
    test: ``reglage_of`` brings them back)."""
    reglage = rappels.reglage_of(code)
    for name, value in fields.items():
        setattr(reglage, name, value)
    reglage.save()
    return reglage


def emails_of(code):
    return list(Email.objects.filter(type=f"rappel_{code}").order_by("destinataire", "objet"))


def recipients(code):
    return sorted(email.destinataire for email in emails_of(code))


def created_at(moment, factory, **fields):
    """An object created at ``moment`` (its ``created_at`` says so)."""
    with time_machine.travel(moment, tick=False):
        return factory(**fields)


# --- Workshops: fixtures ------------------------------------------------------------------------------------------
# Session: Thursday 12 March 2026, 14:00 (Paris). Its reminder: Wednesday 11 at 9:00; the early one: Tuesday 10.
SESSION = paris(2026, 3, 12, 14)
VEILLE = paris(2026, 3, 11, 9)
ANTICIPE = paris(2026, 3, 10, 9)


@pytest.fixture
def seance(db):
    return factories.SeanceFactory(debut=SESSION, fin=SESSION + datetime.timedelta(hours=2))


def inscrire(seance, moment, **fields):
    return created_at(moment, factories.InscriptionFactory, seance=seance, **fields)


@pytest.fixture
def inscription(seance):
    """Booked on Monday 9 March: three days ahead, not long ahead."""
    return inscrire(seance, paris(2026, 3, 9, 10), prenom="Josiane", email="josiane@example.org")


# --- Workshops -----------------------------------------------------------------------------------------------------
def test_a_registrant_is_reminded_the_day_before_at_nine_with_the_cancel_link(inscription):
    assert run("atelier", VEILLE - datetime.timedelta(minutes=1)).envoyes == 0
    assert emails_of("atelier") == []

    done = run("atelier", VEILLE + datetime.timedelta(minutes=2))
    assert (done.statut, done.envoyes, done.manques) == (StatutExecution.REUSSIE, 1, 0)
    [email] = emails_of("atelier")
    assert email.destinataire == "josiane@example.org"
    assert email.objet == f"inscription:{inscription.uuid}:veille:2026-03-12"
    assert email.statut == StatutEmail.A_ENVOYER
    assert email.envoyer_avant == paris(2026, 3, 12, 9)  # never after the next morning, nor after the session

    assert relay_at(VEILLE + datetime.timedelta(minutes=3)) == (1, 0)
    [message] = mail.outbox
    assert message.to == ["josiane@example.org"]
    assert message.subject.startswith(f"Rappel : {inscription.seance.atelier.titre} demain, jeudi 12 mars à 14")
    cancel_link = reverse("ateliers:annuler", args=[cancel_token(inscription)])
    assert "Bonjour Josiane" in message.body and cancel_link in message.body
    assert cancel_link in message.alternatives[0][0]


def test_a_task_run_twice_sends_once(inscription):
    with time_machine.travel(VEILLE + datetime.timedelta(minutes=2), tick=False):
        rappels_famille.delay("atelier")
        rappels_famille.delay("atelier")
        assert outbox.relay() == (1, 0)
        second = rappels.famille_run("atelier")
        assert outbox.relay() == (0, 0)
    assert (second.envoyes, second.deja_traites) == (0, 1)
    assert len(emails_of("atelier")) == 1
    assert len(mail.outbox) == 1
    assert ExecutionRappel.objects.filter(famille="atelier", declenchement=Declenchement.AUTOMATIQUE).count() == 3


def test_a_booking_long_ahead_is_also_reminded_two_days_before(seance):
    early = inscrire(seance, paris(2026, 2, 20, 10), email="tot@example.org")
    late = inscrire(seance, paris(2026, 3, 9, 10), email="tard@example.org")
    run("atelier", ANTICIPE + datetime.timedelta(minutes=2))
    assert [(e.destinataire, e.objet) for e in emails_of("atelier")] == [
        ("tot@example.org", f"inscription:{early.uuid}:anticipe:2026-03-12")
    ]
    [email] = emails_of("atelier")
    assert email.envoyer_avant == VEILLE  # the early reminder never arrives after the other one
    run("atelier", VEILLE + datetime.timedelta(minutes=2))
    assert sorted((e.destinataire, e.objet.split(":")[2]) for e in emails_of("atelier")) == [
        ("tard@example.org", "veille"),
        ("tot@example.org", "anticipe"),
        ("tot@example.org", "veille"),
    ]
    assert late.email == "tard@example.org"


def test_cancelled_registrations_cancelled_sessions_and_people_without_email_get_nothing(seance):
    booked = paris(2026, 3, 9, 10)
    inscrire(seance, booked, email="annulee@example.org", statut="annulee")
    inscrire(seance, booked, email="attente@example.org", statut="attente")
    inscrire(seance, booked, email="", telephone="0612345678", cle_personne="tel:+33612345678")
    other = factories.SeanceFactory(
        debut=SESSION, fin=SESSION + datetime.timedelta(hours=2), statut="annulee", motif_annulation="Intempéries"
    )
    inscrire(other, booked, email="seance.annulee@example.org")
    done = run("atelier", VEILLE + datetime.timedelta(minutes=2))
    assert (done.envoyes, done.manques, done.deja_traites) == (0, 0, 0)
    assert emails_of("atelier") == []


def test_a_seat_confirmed_after_the_reminders_moment_gets_no_reminder_nor_a_missed_one(seance):
    inscrire(seance, paris(2026, 3, 11, 10), email="derniere.minute@example.org")
    promoted = inscrire(seance, paris(2026, 3, 2, 10), email="promue@example.org")
    promoted.promue_le = paris(2026, 3, 11, 12)
    promoted.save()
    done = run("atelier", paris(2026, 3, 11, 13))
    assert (done.envoyes, done.manques) == (0, 0)
    assert emails_of("atelier") == []


def test_a_missed_window_is_recorded_as_missed_and_never_sent(inscription):
    # Beat and workers were down from Wednesday morning to Thursday 9:30: the reminder's window closed at 9:00.
    done = run("atelier", paris(2026, 3, 12, 9, 30))
    assert (done.envoyes, done.manques) == (0, 1)
    [email] = emails_of("atelier")
    assert email.statut == StatutEmail.MANQUE
    assert email.objet == f"inscription:{inscription.uuid}:veille:2026-03-12"
    assert "heure limite" in email.derniere_erreur
    assert relay_at(paris(2026, 3, 12, 9, 31)) == (0, 0)
    again = run("atelier", paris(2026, 3, 12, 9, 45))
    assert (again.envoyes, again.manques, again.deja_traites) == (0, 0, 1)
    assert Email.objects.get().statut == StatutEmail.MANQUE
    assert mail.outbox == []


def test_a_reminder_queued_while_the_relay_is_down_is_missed_not_sent_late(inscription):
    run("atelier", VEILLE + datetime.timedelta(minutes=2))
    assert Email.objects.get().statut == StatutEmail.A_ENVOYER
    # The relay comes back on Thursday at 9:01, after the send-by moment (9:00).
    assert relay_at(paris(2026, 3, 12, 9, 1)) == (0, 0)
    email = Email.objects.get()
    assert email.statut == StatutEmail.MANQUE and email.envoye_le is None
    assert mail.outbox == []
    # A later run does not put it back in the outbox.
    assert run("atelier", paris(2026, 3, 12, 9, 10)).envoyes == 0
    assert relay_at(paris(2026, 3, 12, 9, 11)) == (0, 0)
    assert mail.outbox == []


def test_a_session_moved_to_another_day_is_reminded_again_for_its_new_day(seance, inscription):
    run("atelier", VEILLE + datetime.timedelta(minutes=2))
    seance.debut, seance.fin = paris(2026, 3, 19, 14), paris(2026, 3, 19, 16)
    seance.save()
    run("atelier", paris(2026, 3, 18, 9, 2))
    assert [e.objet.rsplit(":", 1)[1] for e in emails_of("atelier")] == ["2026-03-12", "2026-03-19"]


def test_staff_timing_is_used_days_before_and_hour(inscription):
    regler("atelier", parametres={"jours_avant": 3, "jours_avant_anticipe": 5, "anticipation_jours": 20, "heure": 17})
    # Booked Monday 9 at 10:00: three days before is Monday 9 at 17:00.
    assert run("atelier", paris(2026, 3, 9, 16, 59)).envoyes == 0
    assert run("atelier", paris(2026, 3, 9, 17, 2)).envoyes == 1
    assert Email.objects.get().envoyer_avant == paris(2026, 3, 10, 17)


def test_a_disabled_family_sends_nothing_and_its_run_says_so(inscription):
    regler("atelier", actif=False)
    done = run("atelier", VEILLE + datetime.timedelta(minutes=2))
    assert done.statut == StatutExecution.INACTIVE
    assert emails_of("atelier") == []


def test_one_failing_reminder_is_counted_and_the_others_still_go(seance, monkeypatch):
    inscrire(seance, paris(2026, 3, 2), email="ok@example.org")
    inscrire(seance, paris(2026, 3, 2), email="casse@example.org")

    def enqueue(**kwargs):
        if kwargs["destinataire"] == "casse@example.org":
            raise RuntimeError("gabarit cassé pour casse@example.org")
        return email_enqueue(**kwargs)

    monkeypatch.setattr(rappels, "email_enqueue", enqueue)
    done = run("atelier", VEILLE + datetime.timedelta(minutes=2))
    assert (done.statut, done.envoyes, done.erreurs) == (StatutExecution.ERREURS, 1, 1)
    assert "casse@example.org" not in done.message and "RuntimeError" in done.message
    assert recipients("atelier") == ["ok@example.org"]
    monkeypatch.undo()
    retried = run("atelier", VEILLE + datetime.timedelta(minutes=20))
    assert (retried.envoyes, retried.deja_traites) == (1, 1)


def test_logs_carry_counts_and_ids_never_addresses_or_names(inscription, caplog):
    with caplog.at_level(logging.INFO):
        run("atelier", VEILLE + datetime.timedelta(minutes=2))
        relay_at(VEILLE + datetime.timedelta(minutes=3))
    text = caplog.text
    assert "Rappels atelier" in text
    assert "josiane" not in text.lower() and inscription.nom not in text


# --- The outbox's send-by moment ---------------------------------------------------------------------------------
def enqueue(envoyer_avant, destinataire="jeanne@example.org"):
    return email_enqueue(
        destinataire=destinataire,
        type="rappel_test",
        objet="objet:1",
        template="notifications/emails/message",
        context={"sujet": "Rappel", "paragraphes": ["À demain."]},
        envoyer_avant=envoyer_avant,
    )


def test_an_email_enqueued_past_its_moment_is_recorded_missed_at_once():
    with time_machine.travel(paris(2026, 3, 11, 10), tick=False):
        assert enqueue(paris(2026, 3, 11, 9)) is True
        assert enqueue(paris(2026, 3, 12, 9)) is False  # once per (recipient, kind, object), missed ones included
        assert outbox.relay() == (0, 0)
    email = Email.objects.get()
    assert email.statut == StatutEmail.MANQUE and email.prochain_essai is None
    assert mail.outbox == []


def test_a_retry_scheduled_after_the_moment_is_missed_not_sent(monkeypatch):
    def smtp_down(self, **kwargs):
        raise OSError("Connexion refusée")

    with time_machine.travel(paris(2026, 3, 11, 8, 59), tick=False):
        enqueue(paris(2026, 3, 11, 9))
        monkeypatch.setattr(outbox.EmailMultiAlternatives, "send", smtp_down)
        assert outbox.relay() == (0, 1)  # next try two minutes later: after the moment
    monkeypatch.undo()
    assert relay_at(paris(2026, 3, 11, 9, 5)) == (0, 0)
    assert Email.objects.get().statut == StatutEmail.MANQUE
    assert mail.outbox == []


def test_a_claim_gone_stale_past_its_moment_is_not_sent_again():
    with time_machine.travel(paris(2026, 3, 11, 8, 50), tick=False):
        enqueue(paris(2026, 3, 11, 9))
        claimed = outbox._claim()  # a relay claims it, then dies before sending
    assert claimed is not None
    assert relay_at(paris(2026, 3, 11, 9, 5)) == (0, 0)
    assert Email.objects.get().statut == StatutEmail.MANQUE
    assert mail.outbox == []


def test_a_failed_email_past_its_moment_cannot_be_resent(staff_user):
    with time_machine.travel(paris(2026, 3, 11, 8), tick=False):
        enqueue(paris(2026, 3, 11, 9))
    Email.objects.update(statut=StatutEmail.ECHEC, tentatives=MAX_TENTATIVES, prochain_essai=None)
    with time_machine.travel(paris(2026, 3, 11, 10), tick=False), pytest.raises(ValidationError) as error:
        outbox.email_resend(email=Email.objects.get(), by=staff_user)
    assert "heure limite" in error.value.messages[0]
    assert Email.objects.get().statut == StatutEmail.ECHEC


def test_an_email_without_send_by_moment_is_sent_whenever_the_relay_comes_back():
    with time_machine.travel(paris(2026, 3, 11, 8), tick=False):
        enqueue(None)
    assert relay_at(paris(2026, 3, 20, 8)) == (1, 0)


# --- Framework --------------------------------------------------------------------------------------------------
def test_every_family_has_its_beat_entry_and_the_migration_seeds_its_defaults():
    scheduled = {
        entry["args"][0]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "notifications.tasks.rappels_famille"
    }
    assert scheduled == set(FAMILLES)
    seed = importlib.import_module("notifications.migrations.0004_reglages_rappels")
    assert {code: famille.defauts() for code, famille in FAMILLES.items()} == seed.DEFAUTS
    for famille in FAMILLES.values():
        assert famille.verifier(famille.defauts()) == {}


def test_a_family_without_its_settings_row_gets_one_with_its_defaults():
    ReglageRappel.objects.filter(famille="fin_contrat").delete()
    reglage = rappels.reglage_of("fin_contrat")
    assert reglage.actif is True and reglage.parametres == FAMILLES["fin_contrat"].defauts()


def test_stored_delays_out_of_bounds_fall_back_to_the_defaults(settings):
    settings.POSTE_VACANCE_MAX_MOIS = 3  # policy shortened the delay below what staff had set
    reglage = regler("poste_vacant", parametres={"mois_vacance": 4, "heure": "9"})
    assert rappels.parametres_of(FAMILLES["poste_vacant"], reglage) == {"mois_vacance": 2, "heure": 9}


@pytest.mark.parametrize(
    "sent",
    [
        paris(2026, 3, 6, 18),  # Friday evening → Wednesday evening (exactly three working days)
        paris(2026, 3, 9, 10),  # Monday → Thursday
        paris(2026, 3, 7, 11),  # Saturday → Wednesday midnight
        paris(2026, 3, 12, 23, 30),  # Thursday night → Tuesday night
        paris(2026, 3, 27, 12),  # across the change to summer time
    ],
)
def test_working_days_reminder_falls_when_staff_see_the_referral_late(sent):
    from aidants.selectors_orientations import working_days_cutoff

    moment = add_working_days(sent, 3)
    # The first minute at which staff's follow-up counts the referral as late.
    assert working_days_cutoff(moment, 3) >= sent
    assert working_days_cutoff(moment - datetime.timedelta(minutes=1), 3) < sent


# --- Runs at the same time (PostgreSQL, real commits) -------------------------------------------------------------
@pytest.mark.services
@pytest.mark.usefixtures("services")
@pytest.mark.django_db(transaction=True)
def test_runs_at_the_same_time_send_each_reminder_once(seance):
    from .test_relay_concurrency import run_in_threads

    for n in range(30):
        inscrire(seance, paris(2026, 3, 2), email=f"personne{n}@example.org")
    with time_machine.travel(VEILLE + datetime.timedelta(minutes=2), tick=False):
        runs = run_in_threads(lambda n: rappels.famille_run("atelier"), 4)
        outbox.relay()
    assert sum(r.envoyes for r in runs) == 30
    assert sum(r.envoyes + r.deja_traites for r in runs) == 4 * 30
    assert Email.objects.filter(type="rappel_atelier").count() == 30
    sent = sorted(address for message in mail.outbox for address in message.to)
    assert sent == sorted(f"personne{n}@example.org" for n in range(30))  # each once


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_family_twice_and_the_reminder_leaves_once(mail_worker):
    """Two beat ticks delivered to a real worker on Redis, at the real time: one e-mail."""
    from django.utils import timezone

    from accompagnements.models import Activite
    from conseillers.models import Affectation
    from tests.workers import REDIS_TEST_DB, TASK_TIMEOUT, redis_url, wait_for

    from .helpers import broker

    _queue, mails, log_path = mail_worker
    # The reminder's moment: the last 20:00 (Paris) before now, whatever the time of the run.
    now = timezone.localtime()
    day = now.date() if now.hour >= 20 else now.date() - datetime.timedelta(days=1)
    regler("inactivite", parametres={"jours_inactivite": 30, "jours_escalade": 15, "heure": 20})
    conseiller = factories.ConseillerFactory(email="ines.worker@example.org")
    poste = factories.PosteFactory(etat="occupe")
    Affectation.objects.create(poste=poste, conseiller=conseiller, date_debut=day - datetime.timedelta(days=400))
    last = day - datetime.timedelta(days=30)
    activite = Activite.objects.create(
        conseiller=conseiller,
        structure=poste.structure,
        type="individuel",
        date=last,
        duree=30,
        type_lieu="domicile",
        thematiques=["email"],
    )
    Activite.objects.filter(pk=activite.pk).update(created_at=paris(last.year, last.month, last.day, 18))

    with broker(redis_url(REDIS_TEST_DB)):
        rappels_famille.apply_async(args=["inactivite"])
        rappels_famille.apply_async(args=["inactivite"])

    def done():
        return ExecutionRappel.objects.filter(famille="inactivite", fin__isnull=False).count() == 2

    assert wait_for(done, TASK_TIMEOUT), "le worker n'a pas exécuté les deux tâches"
    email = Email.objects.get(type="rappel_inactivite")
    with broker(redis_url(REDIS_TEST_DB)):
        relay_outbox.apply_async()  # beat's next tick of the relay (the worker's own kick goes to its default queue)
    assert wait_for(lambda: Email.objects.get(pk=email.pk).statut == StatutEmail.ENVOYE, TASK_TIMEOUT)
    assert sorted(ExecutionRappel.objects.values_list("envoyes", flat=True)) == [0, 1]
    files = list(mails.iterdir())
    assert len(files) == 1 and "To: ines.worker@example.org" in files[0].read_text()
    assert "ines.worker@example.org" not in log_path.read_text()
    # The worker's own kick of the relay went to its default queue, which no test worker consumes: dropped.
    client = redis.Redis.from_url(redis_url(REDIS_TEST_DB), socket_connect_timeout=2, socket_timeout=2)
    for message in client.lrange("celery", 0, -1):
        if json.loads(message).get("headers", {}).get("task") == "notifications.tasks.relay_outbox":
            client.lrem("celery", 1, message)
