import pytest

from accounts.models import Role
from tests import factories


@pytest.fixture
def staff(db):
    return factories.StaffUserFactory(with_totp=False)


@pytest.fixture
def other_structure(db):
    return factories.StructureFactory(nom="Autre structure")


@pytest.fixture
def conseiller_user(structure):
    return factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user


@pytest.fixture
def financeur_user(db):
    return factories.MembershipFactory(role=Role.FINANCEUR).user
