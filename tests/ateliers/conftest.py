"""Fixtures of the workshops: a public session with 3 seats, and ``register(seance, n)``."""

import pytest

from ateliers import services
from tests import factories


@pytest.fixture
def seance(db):
    return factories.SeanceFactory(capacite=3)


def person(n, **overrides):
    data = {"prenom": f"Prénom{n}", "nom": f"Nom{n}", "email": f"personne{n}@example.org", "consentement": True}
    data.update(overrides)
    return data


@pytest.fixture
def register():
    """``register(seance, n)`` registers person n online through the service."""

    def _register(seance, n, **overrides):
        return services.inscription_create(seance=seance, data=person(n, **overrides))

    return _register
