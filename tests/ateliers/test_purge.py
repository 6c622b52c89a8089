"""Registrants' contact details are erased 12 months after their session, in the registrations and their history;
what remains keeps the figures right."""

import datetime

import time_machine

from ateliers import services
from ateliers.models import Inscription
from ateliers.tasks import inscriptions_purger
from tests import factories


def _registered(seance, n):
    return services.inscription_create(
        seance=seance,
        data={"prenom": f"Rose{n}", "nom": "Daran", "email": f"rose{n}@example.org", "consentement": True,
              "tranche_age": "soixante_dix_plus"},
    )  # fmt: skip


def test_contact_details_are_erased_12_months_after_the_session_and_not_before(db):
    seance = factories.SeanceFactory(capacite=1)
    first, waiting = _registered(seance, 1), _registered(seance, 2)
    end = seance.fin
    with time_machine.travel(end + datetime.timedelta(days=364), tick=False):
        assert services.inscriptions_purger() == 0
    with time_machine.travel(end + datetime.timedelta(days=367), tick=False):
        assert services.inscriptions_purger() == 2
        assert services.inscriptions_purger() == 0  # idempotent
    for row in (first, waiting):
        row.refresh_from_db()
        assert (row.prenom, row.nom, row.email, row.telephone) == ("Personne", "anonymisée", "", "")
        assert row.cle_personne.startswith("purge:")
    # The anonymous part stays: status and profile keep the workshop's figures.
    assert (first.statut, waiting.statut) == ("confirmee", "attente")
    assert first.tranche_age == "soixante_dix_plus"
    # Nothing of the person is left in the history either.
    history = Inscription.history.filter(id__in=[first.pk, waiting.pk])
    assert history.exists()
    assert not history.exclude(email="").exists()
    assert not history.filter(prenom__startswith="Rose").exists()


def test_recent_registrations_are_kept(db):
    seance = factories.SeanceFactory()
    kept = _registered(seance, 3)
    assert inscriptions_purger.apply().get() == {"anonymisees": 0}
    kept.refresh_from_db()
    assert kept.email == "rose3@example.org"


def test_the_purge_is_scheduled_every_night():
    from django.conf import settings

    from sicoval_numerique.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["ateliers-inscriptions-purger"]
    assert entry["task"] in app.tasks  # a task the worker knows
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {40}
