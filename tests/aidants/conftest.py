import datetime

import factory
import pytest

from accounts.models import Role
from aidants.models import Aidant, FormationAidant, TypeAidant, TypeFormationAidant
from tests import factories


class AidantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Aidant

    structure = factory.SubFactory(factories.StructureFactory)
    prenom = factory.Sequence(lambda n: f"Prénom{n}")
    nom = factory.Sequence(lambda n: f"Nom{n:03d}")
    email = factory.Sequence(lambda n: f"aidant{n}@mairie.example.org")
    profession = "Secrétaire de mairie"
    type = TypeAidant.PROFESSIONNEL
    thematiques = ["aide_aux_demarches_administratives"]


class FormationAidantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormationAidant

    aidant = factory.SubFactory(AidantFactory)
    type = TypeFormationAidant.AIDANTS_CONNECT_14H
    date = datetime.date(2024, 3, 1)
    heures = 14


@pytest.fixture
def habilitee(db):
    return factories.StructureFactory(habilitee_aidants_connect=True, nom="CCAS habilité")


@pytest.fixture
def staff(db):
    return factories.StaffUserFactory()


def member(role, structure=None):
    kwargs = {"role": role}
    if structure is not None:
        kwargs["structure"] = structure
    return factories.MembershipFactory(**kwargs).user


@pytest.fixture
def referent_of(habilitee):
    return member(Role.REFERENT, habilitee)
