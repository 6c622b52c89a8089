"""Fixtures of the activity log: conseillers of two structures, a référent, places, and a helper that records
activities through the service (so that the derived rows are those the product writes)."""

import datetime

import pytest
from django.utils import timezone

from accompagnements import services
from accounts.models import Role
from reporting import resume
from tests import factories


@pytest.fixture
def lieu(structure):
    return factories.LieuFactory(structure=structure)


@pytest.fixture
def conseiller(structure):
    """A conseiller (profile + account) employed by ``structure`` (through their membership)."""
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


@pytest.fixture
def other_structure(db):
    return factories.StructureFactory(nom="Autre structure")


@pytest.fixture
def other_conseiller(other_structure):
    user = factories.MembershipFactory(structure=other_structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


@pytest.fixture
def colleague(structure):
    """A second conseiller of the same structure."""
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


def activite_data(**overrides):
    """Valid data for an individual session at home in the structure's commune (override anything)."""
    data = {
        "type": "individuel",
        "date": timezone.localdate() - datetime.timedelta(days=1),
        "duree": 30,
        "type_lieu": "domicile",
        "lieu": None,
        "commune": None,
        "thematiques": ["email"],
        "materiel": ["ordinateur"],
        "autonomie": "partiellement_autonome",
    }
    data.update(overrides)
    return data


@pytest.fixture
def record():
    """``record(conseiller, participants=None, **data)`` records an activity through the service."""

    def _record(conseiller, participants=None, **overrides):
        overrides.setdefault("commune", conseiller.user.memberships.first().structure.commune)
        activite = services.activite_create(
            by=conseiller.user, data=activite_data(**overrides), participants=participants
        )
        resume.mettre_a_jour()  # what the update task does after the commit
        return activite

    return _record
