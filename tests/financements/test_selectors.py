"""Money figures to the cent, per post, structure, funder and territory, consistent with each other; scoping;
employer's remaining cost; query counts independent of the number of lines."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conseillers.models import Rattachement
from financements import selectors, services
from financements.selectors import Figures
from tests import factories

from .conftest import euros

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def territory(staff, etat, departement, mairie, make_convention):
    """The mairie's post co-funded by the State (V1, 50 000 € in two instalments) and the Département (10 000 €,
    1 500 € paid back); a QPV structure's post on a V2 agreement (50 000 € over three years)."""
    quartier = factories.StructureFactory(nom="Centre social du Mirail", secteur="public", qpv=True)
    p1 = factories._PosteForFinancementFactory(structure=mairie)
    p2 = factories._PosteForFinancementFactory(structure=quartier)

    v1 = make_convention(financeur=etat, structure=mairie)
    l1 = services.ligne_create(convention=v1, poste=p1, by=staff)
    e1 = services.versement_plan(ligne=l1, numero=1, date_prevue=D(2022, 1, 15), montant_prevu=25000, by=staff)
    services.versement_plan(ligne=l1, numero=2, date_prevue=D(2023, 1, 15), montant_prevu=25000, by=staff)
    services.versement_record(versement=e1, date_versement=D(2022, 1, 20), montant_verse=25000, by=staff)

    cofi = make_convention(financeur=departement, structure=mairie, enveloppe="cofinancement")
    l2 = services.ligne_create(convention=cofi, poste=p1, montant_base=10000, by=staff)
    d1 = services.versement_plan(ligne=l2, numero=1, date_prevue=D(2022, 6, 1), montant_prevu=10000, by=staff)
    services.versement_record(versement=d1, date_versement=D(2022, 6, 10), montant_verse=10000, by=staff)
    services.avoir_record(ligne=l2, date=D(2023, 2, 1), montant="1500.00", motif="vacance", by=staff)

    v2 = make_convention(financeur=etat, structure=quartier, enveloppe="V2", start=D(2023, 7, 1), end=D(2026, 6, 30))
    l3 = services.ligne_create(convention=v2, poste=p2, by=staff)
    plan = services.versements_plan_v2(ligne=l3, by=staff)
    services.versement_record(versement=plan[0], date_versement=D(2023, 7, 10), montant_verse=20000, by=staff)
    return {"mairie": mairie, "quartier": quartier, "p1": p1, "p2": p2, "v1": v1, "cofi": cofi, "v2": v2}


def F(agreed, paid, overdue=0, overdue_count=0, repaid=0):
    return Figures(
        agreed=euros(agreed),
        paid=euros(paid),
        overdue=euros(overdue),
        overdue_count=overdue_count,
        repaid=euros(repaid),
    )


def all_lines():
    from financements.models import LigneFinancement

    return LigneFinancement.objects.all()


ON = D(2024, 12, 31)


def test_figures_per_post_to_the_cent_with_co_funding(territory):
    by_poste = selectors.figures_by_poste(lignes_queryset=all_lines(), on_date=ON)
    p1 = by_poste[territory["p1"].pk]
    assert p1 == F(agreed=60000, paid=35000, overdue=25000, overdue_count=1, repaid=1500)
    assert (p1.remaining, p1.net) == (euros(25000), euros(33500))
    p2 = by_poste[territory["p2"].pk]
    assert p2 == F(agreed=50000, paid=20000, overdue=17500, overdue_count=1)
    assert (p2.remaining, p2.net) == (euros(30000), euros(20000))


def test_figures_per_funder(territory, etat, departement):
    by_financeur = selectors.figures_by_financeur(lignes_queryset=all_lines(), on_date=ON)
    assert by_financeur == {
        etat.pk: F(agreed=100000, paid=45000, overdue=42500, overdue_count=2),
        departement.pk: F(agreed=10000, paid=10000, repaid=1500),
    }


def test_figures_per_structure_add_up_to_the_territory(territory, etat, departement):
    by_structure = selectors.figures_by_structure(lignes_queryset=all_lines(), on_date=ON)
    territoire = selectors.figures_territoire(on_date=ON)
    assert territoire == F(agreed=110000, paid=55000, overdue=42500, overdue_count=2, repaid=1500)
    assert (territoire.remaining, territoire.net) == (euros(55000), euros(53500))
    assert sum(by_structure.values(), Figures()) == territoire
    assert sum(selectors.figures_by_poste(lignes_queryset=all_lines(), on_date=ON).values(), Figures()) == territoire
    assert (
        sum(selectors.figures_by_financeur(lignes_queryset=all_lines(), on_date=ON).values(), Figures()) == territoire
    )
    assert by_structure[territory["mairie"].pk] == F(
        agreed=60000, paid=35000, overdue=25000, overdue_count=1, repaid=1500
    )


@pytest.mark.parametrize(
    ("on_date", "paid", "overdue", "overdue_count", "repaid"),
    [
        (D(2022, 1, 14), 0, 0, 0, 0),  # nothing due yet
        (D(2022, 1, 17), 0, 25000, 1, 0),  # planned on the 15th, paid on the 20th
        (D(2022, 1, 20), 25000, 0, 0, 0),  # the payment day counts as paid
        (D(2023, 1, 15), 35000, 0, 0, 0),  # the second instalment is due that day, not late yet
        (D(2023, 1, 16), 35000, 25000, 1, 0),
        (D(2023, 2, 1), 35000, 25000, 1, 1500),  # the repayment day counts
    ],
)
def test_figures_of_the_mairie_at_a_date(territory, on_date, paid, overdue, overdue_count, repaid):
    lignes = all_lines().filter(poste=territory["p1"])
    assert selectors.figures(lignes_queryset=lignes, on_date=on_date) == F(60000, paid, overdue, overdue_count, repaid)


def test_terminated_or_unsigned_agreements_have_no_overdue_instalment(staff, territory):
    services.convention_change_statut(convention=territory["v1"], statut="resiliee", by=staff)
    lignes = all_lines().filter(poste=territory["p1"])
    assert selectors.figures(lignes_queryset=lignes, on_date=ON).overdue_count == 0


def test_figures_of_no_line_are_zero(db):
    assert selectors.figures_territoire(on_date=ON) == F(0, 0)
    assert selectors.figures_by_structure(lignes_queryset=all_lines(), on_date=ON) == {}


def test_a_queryset_with_joins_does_not_count_a_line_twice(territory):
    joined = all_lines().filter(versements__numero__gte=1)  # one row per instalment
    assert selectors.figures(lignes_queryset=joined, on_date=ON).agreed == euros(110000)


# --- scoping -------------------------------------------------------------------------------------------------------
def test_conventions_visible_to_each_role(staff, territory, departement):
    mairie = territory["mairie"]
    referent = factories.MembershipFactory(structure=mairie, role="referent").user
    conseiller = factories.MembershipFactory(structure=mairie, role="conseiller").user
    cd31 = factories.StructureFactory(nom="Département de la Haute-Garonne", type_juridique="departement")
    departement.structure = cd31
    departement.save()
    funder_member = factories.MembershipFactory(structure=cd31, role="financeur").user

    assert set(selectors.conventions_visible_to(staff)) == {territory["v1"], territory["cofi"], territory["v2"]}
    assert set(selectors.conventions_visible_to(referent)) == {territory["v1"], territory["cofi"]}
    assert set(selectors.conventions_visible_to(funder_member)) == {territory["cofi"]}
    assert not selectors.conventions_visible_to(conseiller).exists()
    assert not selectors.conventions_visible_to(AnonymousUser()).exists()
    lignes = selectors.lignes_visible_to(referent)
    assert selectors.figures(lignes_queryset=lignes, on_date=ON).agreed == euros(60000)


def test_overdue_instalments_scoped_to_the_user(staff, territory):
    overdue = selectors.versements_overdue(on_date=ON, user=staff)
    assert [(v.ligne.poste, v.numero, v.montant_prevu) for v in overdue] == [
        (territory["p1"], 2, euros(25000)),
        (territory["p2"], 2, euros(17500)),
    ]
    referent = factories.MembershipFactory(structure=territory["quartier"], role="referent").user
    assert [v.date_prevue for v in selectors.versements_overdue(on_date=ON, user=referent)] == [D(2024, 7, 1)]


# --- employer's remaining cost -------------------------------------------------------------------------------------
@pytest.fixture
def employer(staff, etat, departement, mairie, make_convention):
    """Over 2022: a contract starting on 1 March on one post, a contract broken on 15 June on another."""
    p_new = factories._PosteForFinancementFactory(structure=mairie)
    p_rupture = factories._PosteForFinancementFactory(structure=mairie)
    factories._ContratForFinancementFactory(
        poste=p_new, type="CDD", date_debut=D(2022, 3, 1), date_fin=D(2023, 2, 28), cout_employeur_mensuel=3000
    )
    factories._ContratForFinancementFactory(
        poste=p_rupture,
        type="CDD",
        date_debut=D(2021, 1, 1),
        date_fin=D(2023, 12, 31),
        date_rupture=D(2022, 6, 15),
        motif_rupture="demission",
        cout_employeur_mensuel=2800,
    )
    factories._ContratForFinancementFactory(date_debut=D(2022, 1, 1), cout_employeur_mensuel=9999)  # elsewhere

    v1 = make_convention(financeur=etat, structure=mairie)
    ligne = services.ligne_create(convention=v1, poste=p_new, by=staff)
    versement = services.versement_plan(ligne=ligne, numero=1, date_prevue=D(2022, 3, 1), montant_prevu=25000, by=staff)
    services.versement_record(versement=versement, date_versement=D(2022, 3, 1), montant_verse=25000, by=staff)
    services.avoir_record(ligne=ligne, date=D(2022, 12, 1), montant=1000, motif="non_justifie", by=staff)
    cofi = make_convention(
        financeur=departement, structure=mairie, enveloppe="cofinancement", start=D(2022, 7, 1), end=D(2023, 6, 30)
    )
    services.ligne_create(convention=cofi, poste=p_rupture, montant_base=10000, by=staff)
    return {"p_new": p_new, "p_rupture": p_rupture}


def test_employer_remaining_cost_of_a_structure(employer, mairie):
    with CaptureQueriesContext(connection) as queries:
        result = selectors.employer_remaining_cost(structure=mairie, start=D(2022, 1, 1), end=D(2022, 12, 31))
    # Costs: 3 000 × 12 / 365 × 306 days (1 March – 31 December) = 30 180.82;
    #        2 800 × 12 / 365 × 166 days (1 January – 15 June, rupture) = 15 281.10.
    assert result.cost == euros("45461.92")
    # Subsidies: (50 000 − 1 000 repaid) × 365 / 730 days = 24 500.00; 10 000 × 184 / 365 days = 5 041.10.
    assert result.subsidies == euros("29541.10")
    assert result.remaining == euros("15920.82")
    assert len(queries) <= 3


def test_employer_remaining_cost_of_a_post(employer):
    result = selectors.employer_remaining_cost(poste=employer["p_new"], start=D(2022, 1, 1), end=D(2022, 12, 31))
    assert (result.cost, result.subsidies, result.remaining) == (
        euros("30180.82"),
        euros("24500.00"),
        euros("5680.82"),
    )


def test_employer_cost_counts_only_the_days_the_post_was_attached(mairie):
    moved = factories._PosteForFinancementFactory(structure=factories.StructureFactory())
    Rattachement.objects.create(poste=moved, structure=mairie, date_debut=D(2021, 1, 1), date_fin=D(2022, 7, 1))
    Rattachement.objects.create(poste=moved, structure=moved.structure, date_debut=D(2022, 7, 1))
    factories._ContratForFinancementFactory(
        poste=moved, type="CDI", date_debut=D(2021, 1, 1), date_fin=None, cout_employeur_mensuel=3650
    )
    result = selectors.employer_remaining_cost(structure=mairie, start=D(2022, 1, 1), end=D(2022, 12, 31))
    assert result.cost == euros(120 * 181)  # 120 € a day, 1 January – 30 June
    other = selectors.employer_remaining_cost(structure=moved.structure, start=D(2022, 1, 1), end=D(2022, 12, 31))
    assert other.cost == euros(120 * 184)


# --- query counts --------------------------------------------------------------------------------------------------
def _build_lines(count, staff, etat, make_convention):
    for _ in range(count):
        structure = factories.StructureFactory()
        convention = make_convention(financeur=etat, structure=structure)
        poste = factories._PosteForFinancementFactory(structure=structure)
        ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
        versement = services.versement_plan(
            ligne=ligne, numero=1, date_prevue=D(2022, 2, 1), montant_prevu=100, by=staff
        )
        services.versement_record(versement=versement, date_versement=D(2022, 2, 1), montant_verse=100, by=staff)
        services.avoir_record(ligne=ligne, date=D(2022, 3, 1), montant=10, motif="autre", by=staff)
        factories._ContratForFinancementFactory(poste=poste)


def _count_queries(staff):
    counts = []
    for call in (
        lambda: selectors.figures(lignes_queryset=all_lines(), on_date=ON),
        lambda: selectors.figures_by_poste(lignes_queryset=all_lines(), on_date=ON),
        lambda: selectors.figures_by_structure(lignes_queryset=all_lines(), on_date=ON),
        lambda: selectors.figures_by_financeur(lignes_queryset=all_lines(), on_date=ON),
        lambda: selectors.figures_territoire(on_date=ON),
        lambda: list(selectors.versements_overdue(on_date=ON, user=staff)),
        lambda: selectors.employer_remaining_cost(start=D(2022, 1, 1), end=D(2022, 12, 31)),
    ):
        with CaptureQueriesContext(connection) as queries:
            call()
        counts.append(len(queries))
    return counts


def test_query_counts_do_not_grow_with_the_number_of_lines(staff, etat, make_convention):
    _build_lines(2, staff, etat, make_convention)
    with_two = _count_queries(staff)
    _build_lines(18, staff, etat, make_convention)
    assert len(selectors.figures_by_poste(lignes_queryset=all_lines(), on_date=ON)) == 20
    assert _count_queries(staff) == with_two
    assert max(with_two) <= 3
