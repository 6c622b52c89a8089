"""Reads: figures at any date from the dated rows, scoping of référents, contracts ending soon, a post's story."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from conseillers import selectors, services
from conseillers.choices import MotifRupture, TypeContrat, Typologie
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


def create_poste(structure, by, date):
    return services.poste_create(structure=structure, typologie=Typologie.CONUM, phase=1, date_attribution=date, by=by)


@pytest.fixture
def territory(structure, other_structure, staff):
    """Three posts with a story:
    A (structure) attributed 2021-06-01, occupied 2021-09-01 → 2023-09-01, returned 2024-01-15;
    B (structure → other_structure on 2023-01-01) attributed 2021-06-01, occupied from 2022-03-01;
    C (other_structure) attributed 2023-06-01, never occupied."""
    a = create_poste(structure, staff, D(2021, 6, 1))
    b = create_poste(structure, staff, D(2021, 6, 1))
    c = create_poste(other_structure, staff, D(2023, 6, 1))
    services.poste_assign(poste=a, conseiller=factories.ConseillerFactory(), date=D(2021, 9, 1), by=staff)
    services.poste_release(poste=a, date=D(2023, 9, 1), by=staff)
    services.poste_return(poste=a, date=D(2024, 1, 15), by=staff)
    services.poste_assign(poste=b, conseiller=factories.ConseillerFactory(), date=D(2022, 3, 1), by=staff)
    services.poste_move(poste=b, structure=other_structure, date=D(2023, 1, 1), by=staff)
    return a, b, c


def figures(counts):
    return {k: counts[k] for k in ("granted", "occupied", "vacant", "returned", "occupancy_rate")}


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (D(2021, 5, 31), (0, 0, 0, 0, None)),
        (D(2021, 6, 1), (2, 0, 2, 0, Decimal("0"))),
        (D(2021, 12, 1), (2, 1, 1, 0, Decimal("0.5"))),
        (D(2022, 6, 1), (2, 2, 0, 0, Decimal("1"))),
        (D(2023, 9, 1), (3, 1, 2, 0, Decimal("0.3333"))),
        (D(2024, 1, 15), (2, 1, 1, 1, Decimal("0.5"))),
    ],
)
def test_postes_counts_at_any_date(territory, date, expected):
    granted, occupied, vacant, returned, rate = expected
    assert figures(selectors.postes_counts_at(date)) == {
        "granted": granted,
        "occupied": occupied,
        "vacant": vacant,
        "returned": returned,
        "occupancy_rate": rate,
    }


def test_postes_counts_follow_the_attachment_at_that_date(territory, structure, other_structure):
    mine = [structure]
    assert figures(selectors.postes_counts_at(D(2022, 6, 1), structures=mine))["granted"] == 2
    after_move = figures(selectors.postes_counts_at(D(2023, 2, 1), structures=mine))
    assert (after_move["granted"], after_move["occupied"]) == (1, 1)  # only A, still occupied
    assert figures(selectors.postes_counts_at(D(2024, 2, 1), structures=mine))["returned"] == 1
    theirs = figures(selectors.postes_counts_at(D(2024, 2, 1), structures=[other_structure]))
    assert (theirs["granted"], theirs["occupied"], theirs["returned"]) == (2, 1, 0)


def test_postes_counts_is_one_query(territory, django_assert_num_queries, structure):
    with django_assert_num_queries(1):
        selectors.postes_counts_at(D(2023, 1, 1), structures=[structure])


@pytest.mark.parametrize("date", [D(2021, 12, 1), D(2023, 2, 1), D(2023, 9, 1), D(2024, 1, 15), D(2024, 6, 1)])
def test_postes_counts_by_structure_agree_with_the_per_structure_counts(territory, structure, other_structure, date):
    by_structure = selectors.postes_counts_by_structure_at(date)
    for s in (structure, other_structure):
        expected = selectors.postes_counts_at(date, structures=[s])
        if expected["granted"] or expected["returned"]:
            assert by_structure[s.pk] == expected
        else:
            assert s.pk not in by_structure


def test_postes_counts_by_structure_is_one_query(territory, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.postes_counts_by_structure_at(D(2023, 9, 1))


# --- scoping -----------------------------------------------------------------------------------------------------
def test_postes_visible_to(territory, structure, referent, conseiller_user, staff, financeur_user):
    a, b, c = territory
    assert set(selectors.postes_visible_to(staff)) == {a, b, c}
    assert set(selectors.postes_visible_to(financeur_user)) == {a, b, c}
    assert set(selectors.postes_visible_to(referent)) == {a}  # b moved away
    assert set(selectors.postes_visible_to(conseiller_user)) == {a}
    assert not selectors.postes_visible_to(factories.UserFactory()).exists()


def test_conseillers_visible_to(structure, other_structure, referent, staff):
    candidate = factories.MiseEnRelationFactory(structure=structure).conseiller
    in_post = factories.ConseillerFactory()
    services.poste_assign(
        poste=factories.PosteFactory(structure=structure), conseiller=in_post, date=D(2022, 1, 1), by=staff
    )
    elsewhere = factories.MiseEnRelationFactory(structure=other_structure).conseiller
    me = factories.ConseillerFactory(user=factories.UserFactory())
    assert set(selectors.conseillers_visible_to(referent)) == {candidate, in_post}
    assert set(selectors.conseillers_visible_to(staff)) == {candidate, in_post, elsewhere, me}
    assert set(selectors.conseillers_visible_to(me.user)) == {me}


# --- contracts ---------------------------------------------------------------------------------------------------
def test_contrats_ending_between_uses_the_effective_end(structure, other_structure, referent, staff):
    poste = factories.PosteFactory(structure=structure)
    ending = factories.ContratFactory(poste=poste, date_fin=D(2024, 3, 31))
    broken = factories.ContratFactory(poste=poste, date_fin=D(2026, 12, 31))
    services.contrat_rupture(contrat=broken, date=D(2024, 2, 15), motif=MotifRupture.DEMISSION, by=staff)
    factories.ContratFactory(poste=poste, date_fin=D(2024, 6, 1))  # later
    factories.ContratFactory(poste=poste, type=TypeContrat.CDI, date_fin=None)  # never
    other_poste = factories.PosteFactory(structure=other_structure)
    elsewhere = factories.ContratFactory(poste=other_poste, date_fin=D(2024, 3, 1))
    window = (D(2024, 2, 1), D(2024, 3, 31))
    assert list(selectors.contrats_ending_between(*window, user=staff)) == [broken, elsewhere, ending]
    assert list(selectors.contrats_ending_between(*window, user=referent)) == [broken, ending]
    assert selectors.contrats_ending_between(*window, user=staff)[0].fin_effective == D(2024, 2, 15)


def test_contrats_ending_between_is_one_query(structure, staff, django_assert_num_queries):
    for _ in range(3):
        factories.ContratFactory(date_fin=D(2024, 3, 1))
    with django_assert_num_queries(1):
        rows = list(selectors.contrats_ending_between(D(2024, 1, 1), D(2024, 12, 31), user=staff))
        assert [str(c.poste.structure) for c in rows]
        assert [str(c.conseiller) for c in rows]


# --- vacancy -----------------------------------------------------------------------------------------------------
def test_vacant_since_counts_from_the_last_departure(structure, staff):
    poste = create_poste(structure, staff, D(2023, 1, 1))
    assert selectors.vacant_since(poste, today=D(2023, 1, 31)) == 30
    services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2023, 2, 1), by=staff)
    poste.refresh_from_db()
    assert selectors.vacant_since(poste, today=D(2023, 3, 1)) is None
    services.poste_release(poste=poste, date=D(2024, 1, 1), by=staff)
    poste.refresh_from_db()
    assert selectors.vacant_since(poste, today=D(2024, 1, 11)) == 10


def test_postes_vacant_too_long_uses_the_setting(structure, staff):
    old = create_poste(structure, staff, D(2023, 1, 1))
    recent = create_poste(structure, staff, D(2023, 1, 1))
    services.poste_assign(poste=recent, conseiller=factories.ConseillerFactory(), date=D(2023, 2, 1), by=staff)
    services.poste_release(poste=recent, date=D(2023, 5, 1), by=staff)
    today = D(2023, 7, 1)
    assert list(selectors.postes_vacant_too_long(today=today, user=staff)) == [old]
    assert selectors.postes_vacant_too_long(today=today, user=staff)[0].vacant_depuis == D(2023, 1, 1)
    with override_settings(POSTE_VACANCE_MAX_MOIS=2):
        assert list(selectors.postes_vacant_too_long(today=today, user=staff)) == [old, recent]


# --- a post's page -----------------------------------------------------------------------------------------------
def test_poste_timeline_in_date_order(territory, staff, django_assert_num_queries):
    a, _b, _c = territory
    a.refresh_from_db()
    occupant = a.affectations.get().conseiller
    contrat = factories.ContratFactory(conseiller=occupant, poste=a, date_debut=D(2021, 9, 1), date_fin=D(2023, 8, 31))
    factories.FormationFactory(conseiller=occupant, date_debut=D(2022, 5, 1))
    with django_assert_num_queries(4):
        timeline = selectors.poste_timeline(a)
        kinds = [(e.date, e.kind) for e in timeline.entries]
        labels = [e.label for e in timeline.entries]
    assert kinds == [
        (D(2021, 6, 1), "attribution"),
        (D(2021, 6, 1), "rattachement"),
        (D(2021, 9, 1), "affectation"),
        (D(2021, 9, 1), "contrat"),
        (D(2022, 5, 1), "formation"),
        (D(2023, 8, 31), "fin_contrat"),
        (D(2023, 9, 1), "fin_affectation"),
        (D(2024, 1, 15), "rendu"),
    ]
    assert all(labels)
    assert timeline.contrats == [contrat]
