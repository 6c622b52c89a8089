"""The job pipeline end to end with real parts: a task published from this process goes through Redis to a real
Celery worker process, which works in the test database; the e-mails it puts in the outbox are relayed by a task the
worker publishes itself, and land in files. A report asked for on the page is built and its files stored; the monthly
report is built and e-mailed to staff and funders; a workshop reminder leaves at its moment."""

import datetime
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
import redis
import time_machine
from django.conf import settings
from django.utils import timezone

from accompagnements import services as activites
from accounts.models import Role
from ateliers.models import Inscription
from notifications.models import Email, StatutEmail
from notifications.tasks import rappels_famille
from reporting import rapports, resume
from reporting.models import Rapport, ResumeActivite, ResumeAMettreAJour, StatutRapport, TypeRapport
from reporting.tasks_rapports import rapport_mensuel
from sicoval_numerique.celery import app as celery_app
from tests import factories
from tests.notifications.helpers import broker
from tests.reporting.test_rapports import conseiller_de, key_numbers, pdf_strings, record
from tests.test_celery_worker import REDIS_TEST_DB, WORKER_START_TIMEOUT, database_url_of_this_test, redis_url, wait_for

# A report takes one to three seconds to build here; the worker also starts Django and WeasyPrint.
BUILD_TIMEOUT = 90


@contextmanager
def default_queue(name):
    """Tasks published here without a queue (a report's build, after commit) go to the worker's queue."""
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    try:
        yield
    finally:
        celery_app.conf.task_default_queue = saved


@pytest.fixture
def pipeline(services, transactional_db, tmp_path):
    """A real worker (pool solo) on a queue of its own, against Redis and the test database, whose e-mails land in
    ``tmp_path / "mails"``; this process publishes to the same Redis, to that queue. Yields (queue, mail directory,
    worker log)."""
    queue = f"test-pipeline-{uuid.uuid4().hex[:12]}"
    mails = tmp_path / "mails"
    mails.mkdir()
    log_path = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reporting.worker_settings",
        "TEST_EMAIL_FILE_PATH": str(mails),
        "TEST_CELERY_QUEUE": queue,
        "CELERY_USE_BROKER_IN_TESTS": "1",
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": redis_url(REDIS_TEST_DB),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "sicoval_numerique", "worker", "--pool=solo", "-c", "1",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-Q", queue,
               "-n", f"{queue}@%h"]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        ready = wait_for(lambda: " ready." in log_path.read_text() or process.poll() is not None, WORKER_START_TIMEOUT)
        assert ready and process.poll() is None, "le worker n'a pas démarré :\n" + log_path.read_text()
        with broker(redis_url(REDIS_TEST_DB)), default_queue(queue):
            yield queue, mails, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        print(log_path.read_text())  # shown by pytest when the test fails
        client = redis.Redis.from_url(redis_url(REDIS_TEST_DB), socket_connect_timeout=2, socket_timeout=2)
        leftovers = list(client.scan_iter(match=f"*{queue}*"))
        if leftovers:
            client.delete(*leftovers)


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
