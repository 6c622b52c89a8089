"""The job pipeline end to end with real parts: a task published from this process goes through Redis to a real
Celery worker process, which works in the test database; the e-mails it puts in the outbox are relayed by a task the
worker publishes itself, and land in files. A report asked for on the page is built and its files stored; the monthly
report is built and e-mailed to staff and funders; a workshop reminder leaves at its moment."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from accompagnements import services as activites
from accounts.models import Role
from ateliers.models import Inscription
from notifications.models import Email, StatutEmail
from notifications.tasks import rappels_famille
from reporting import rapports, resume
from reporting.models import Rapport, ResumeActivite, ResumeAMettreAJour, StatutRapport, TypeRapport
from reporting.tasks_rapports import rapport_mensuel
from tests import factories
from tests.notifications.helpers import broker, default_queue
from tests.reporting.test_rapports import conseiller_de, key_numbers, pdf_strings, record
from tests.workers import REDIS_TEST_DB, celery_worker, redis_url, wait_for

# A report takes one to three seconds to build here; the worker also starts Django and WeasyPrint.
BUILD_TIMEOUT = 90


@pytest.fixture
def pipeline(services, transactional_db, tmp_path):
    """A real worker (pool solo) on a queue of its own, against Redis and the test database, whose e-mails land in
    ``tmp_path / "mails"``; this process publishes to the same Redis, to that queue. Yields (queue, mail directory,
    worker log)."""
    mails = tmp_path / "mails"
    mails.mkdir()
    settings_module, env = "tests.reporting.worker_settings", {"TEST_EMAIL_FILE_PATH": str(mails)}
    worker = celery_worker(tmp_path, prefix="test-pipeline", settings_module=settings_module, env=env)
    with worker as (queue, log), broker(redis_url(REDIS_TEST_DB)), default_queue(queue):
        yield queue, mails, log


def sent_to(mails):
    """The recipients of the e-mails written by the worker's file backend (one ``To:`` header per message)."""
    recipients = []
    for path in mails.iterdir():
        recipients += [line[4:].strip() for line in path.read_text().splitlines() if line.startswith("To: ")]
    return sorted(recipients)


def mail_text(mails):
    return "\n".join(path.read_text() for path in mails.iterdir())


def activities_of_last_month():
    """Last month's activities (the monthly task reports on the month before today): 2 individual sessions and a
    workshop of 4 people."""
    du, au = rapports.mois_precedent(timezone.localdate())
    conseiller = conseiller_de(factories.StructureFactory())
    record(conseiller, date=du + datetime.timedelta(days=2))
    record(conseiller, date=du + datetime.timedelta(days=3), duree=60)
    record(
        conseiller,
        activites.Participants(anonymes=4),
        type="collectif",
        date=du + datetime.timedelta(days=4),
    )
    return du, au


def test_a_real_worker_builds_a_report_asked_for_and_stores_its_files(pipeline):
    _queue, _mails, log_path = pipeline
    du, au = activities_of_last_month()
    staff = factories.StaffUserFactory()

    rapport = rapports.rapport_demander(du=du, au=au, by=staff)  # published after commit, from a thread

    built = wait_for(
        lambda: Rapport.objects.filter(pk=rapport.pk, statut__in=[StatutRapport.PRET, StatutRapport.ECHEC]).exists(),
        BUILD_TIMEOUT,
    )
    assert built, "le worker n'a pas préparé le rapport"
    rapport.refresh_from_db()
    assert rapport.statut == StatutRapport.PRET, rapport.erreur
    assert bytes(rapport.pdf).startswith(b"%PDF-")
    assert any(rapport.periode_libelle in text for text in pdf_strings(bytes(rapport.pdf)))
    numbers = key_numbers(bytes(rapport.xlsx), "Accompagnements")
    assert (numbers["Accompagnements"], numbers["Activités"], numbers["Ateliers collectifs"]) == (6, 3, 1)
    assert f"Rapport {rapport.uuid} prêt en" in log_path.read_text()


def test_a_real_worker_sends_the_monthly_report_to_staff_and_funders(pipeline):
    queue, mails, _log = pipeline
    du, au = activities_of_last_month()
    staff = factories.StaffUserFactory()
    funder = factories.MembershipFactory(role=Role.FINANCEUR).user
    factories.MembershipFactory(role=Role.REFERENT)  # not a recipient

    rapport_mensuel.apply_async(queue=queue)  # what beat sends on the 1st at 06:00

    expected = sorted([staff.email, funder.email])
    assert wait_for(lambda: sent_to(mails) == expected, BUILD_TIMEOUT), f"e-mails reçus : {sent_to(mails)}"
    rapport = Rapport.objects.get(type=TypeRapport.MENSUEL)
    assert (rapport.du, rapport.au, rapport.statut) == (du, au, StatutRapport.PRET)
    assert rapport.envoye_le is not None and bytes(rapport.pdf).startswith(b"%PDF-")
    assert set(Email.objects.filter(type="rapport_mensuel").values_list("statut", flat=True)) == {StatutEmail.ENVOYE}
    assert f"/gestion/pilotage/rapports/{rapport.uuid}/" in mail_text(mails)

    # Beat's run again (redelivered, or a second beat): nothing more leaves.
    rapport_mensuel.apply_async(queue=queue)
    assert wait_for(lambda: Email.objects.filter(type="rapport_mensuel").count() == 2, 5)
    assert Rapport.objects.filter(type=TypeRapport.MENSUEL).count() == 1


def test_a_real_worker_sends_a_workshop_reminder_at_its_moment(pipeline):
    """The workshop family reminds registrants the day before at 9:00 (Paris): a session tomorrow at 23:00 (today
    if it is not 9:00 yet) has its reminder's moment just passed and its window open."""
    queue, mails, _log = pipeline
    now = timezone.localtime()
    jour = now.date() + datetime.timedelta(days=1 if now.hour >= 9 else 0)
    debut = timezone.make_aware(datetime.datetime.combine(jour, datetime.time(23, 0)))
    seance = factories.SeanceFactory(debut=debut, fin=debut + datetime.timedelta(hours=1))
    moment = timezone.make_aware(datetime.datetime.combine(jour - datetime.timedelta(days=1), datetime.time(9, 0)))
    with time_machine.travel(moment - datetime.timedelta(hours=2), tick=False):  # booked before the reminder's moment
        inscription = factories.InscriptionFactory(seance=seance, prenom="Josiane", email="josiane@example.org")
    assert Inscription.objects.filter(pk=inscription.pk).exists()

    rappels_famille.apply_async(args=["atelier"], queue=queue)  # what beat sends

    assert wait_for(lambda: sent_to(mails) == ["josiane@example.org"], BUILD_TIMEOUT), mail_text(mails)[:500]
    email = Email.objects.get(type="rappel_atelier")
    assert email.statut == StatutEmail.ENVOYE
    assert "Bonjour Josiane" in mail_text(mails)


def test_a_real_worker_updates_the_summaries_right_after_an_activity_is_recorded(pipeline):
    _queue, _mails, log_path = pipeline
    du, au = activities_of_last_month()  # each recorded in its own transaction: a kick after each commit

    updated = wait_for(
        lambda: not ResumeAMettreAJour.objects.exists() and ResumeActivite.objects.exists(), BUILD_TIMEOUT
    )
    assert updated, "le worker n'a pas mis les résumés à jour"
    stats = resume.statistiques(du, au)
    assert (stats.chiffres["activites"], stats.chiffres["accompagnements"]) == (3, 6)
    assert "reporting.tasks.resumes_mettre_a_jour" in log_path.read_text()
