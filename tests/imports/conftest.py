"""Fixtures of the imports' tests: the connection to the local fake of the Coop's API (``coop_fake`` itself is in
the root conftest: the browser tests use it too), and conseillers employed on every day of the programme (what
``planifier`` needs to write their activities)."""

import pytest
from django.conf import settings

from accounts.models import Role
from conseillers.choices import TypeContrat
from imports import coop_api
from tests import factories


@pytest.fixture
def delais_courts(monkeypatch):
    """The client's timeouts cut down, so that the fake's ``lent`` answers time out quickly."""
    monkeypatch.setattr(coop_api, "DELAIS", (1, 0.5))
    return coop_api.DELAIS


@pytest.fixture
def coop_connexion(db, coop_fake, staff_user):
    """The territory's connection to the fake Coop, saved as staff save it (secret encrypted)."""
    from imports import synchro

    return synchro.connexion_enregistrer(
        by=staff_user, url=coop_fake.url, client_id=coop_fake.client_id, secret=coop_fake.secret
    )


def conseiller_employe(structure, *, prenom=None, nom=None, email=None):
    """A conseiller with an account (member of ``structure``) and a permanent contract on a post of it since the
    programme's start: their employer on any day."""
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    conseiller = factories.ConseillerFactory(
        user=user, prenom=prenom or user.first_name, nom=nom or user.last_name, **({"email": email} if email else {})
    )
    factories.ContratFactory(
        conseiller=conseiller,
        poste=factories.PosteFactory(structure=structure),
        type=TypeContrat.CDI,
        date_debut=settings.PROGRAMME_DATE_DEBUT,
        date_fin=None,
    )
    return conseiller
