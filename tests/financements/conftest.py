import datetime
from decimal import Decimal

import pytest

from financements import services
from tests import factories

V1_START, V1_END = datetime.date(2022, 1, 1), datetime.date(2023, 12, 31)


@pytest.fixture
def staff(db):
    return factories.StaffUserFactory()


@pytest.fixture
def etat(db):
    return factories.FinanceurFactory(nom="État (ANCT)", type="etat")


@pytest.fixture
def departement(db):
    return factories.FinanceurFactory(nom="Département de la Haute-Garonne", type="departement")


@pytest.fixture
def mairie(db):
    return factories.StructureFactory(nom="Mairie de Labège", secteur="public")


@pytest.fixture
def poste(mairie):
    return factories._PosteForFinancementFactory(structure=mairie)


@pytest.fixture
def make_convention(staff):
    """An agreement recorded through the service, signed unless ``sign=False``."""

    def make(*, financeur, structure, enveloppe="V1", start=V1_START, end=V1_END, sign=True, **extra):
        convention = services.convention_create(
            financeur=financeur,
            structure=structure,
            enveloppe=enveloppe,
            date_debut=start,
            date_fin=end,
            date_debut_financement=extra.pop("financing_start", start),
            date_fin_financement=extra.pop("financing_end", end),
            by=staff,
            **extra,
        )
        if sign:
            convention = services.convention_sign(convention=convention, date_signature=start, by=staff)
        return convention

    return make


def euros(value):
    return Decimal(value).quantize(Decimal("0.01"))
