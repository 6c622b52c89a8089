"""Contracts: CDI without end, others with one, pay rules, no overlap for one person on one post, ruptures."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from conseillers import services
from conseillers.choices import MotifRupture, TypeContrat
from conseillers.models import Contrat
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def poste(structure):
    return factories.PosteFactory(structure=structure, date_attribution=D(2021, 6, 1))


@pytest.fixture
def person():
    return factories.ConseillerFactory(prenom="Léa", nom="Martin")


def new_contrat(poste, person, by, **overrides):
    fields = {
        "type": TypeContrat.CDD,
        "date_debut": D(2022, 1, 1),
        "date_fin": D(2023, 12, 31),
        "salaire_brut_mensuel": Decimal("2000.00"),
        "cout_employeur_mensuel": Decimal("3000.00"),
    }
    fields.update(overrides)
    return services.contrat_create(conseiller=person, poste=poste, by=by, **fields)


def test_contrat_create_records_the_author(poste, person, staff):
    contrat = new_contrat(poste, person, staff)
    assert contrat.history.first().history_user == staff


def test_cdi_contract_has_no_end_date(poste, person, staff):
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, type=TypeContrat.CDI)
    assert error.value.message_dict["date_fin"] == ["Un CDI n'a pas de date de fin."]
    contrat = new_contrat(poste, person, staff, type=TypeContrat.CDI, date_fin=None)
    assert contrat.date_fin_effective is None


@pytest.mark.parametrize(
    ("type_", "label"),
    [
        (TypeContrat.CDD, "CDD"),
        (TypeContrat.PEC, "Parcours emploi compétences (PEC)"),
        (TypeContrat.CONTRAT_DE_PROJET_PUBLIC, "Contrat de projet (fonction publique)"),
    ],
)
def test_other_contracts_need_an_end_date(poste, person, staff, type_, label):
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, type=type_, date_fin=None)
    assert error.value.message_dict["date_fin"] == [f"Un contrat « {label} » doit avoir une date de fin."]
    assert not Contrat.objects.exists()


def test_contract_end_must_follow_its_start(poste, person, staff):
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, date_fin=D(2022, 1, 1))
    assert error.value.message_dict["date_fin"] == ["La fin du contrat doit suivre son début."]


def test_employer_cost_covers_the_salary(poste, person, staff):
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, cout_employeur_mensuel=Decimal("1999.99"))
    assert error.value.message_dict["cout_employeur_mensuel"] == [
        "Le coût employeur comprend le salaire brut : il ne peut pas lui être inférieur."
    ]


def test_salary_cannot_be_negative(poste, person, staff):
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, salaire_brut_mensuel=Decimal("-1.00"))
    assert error.value.message_dict["salaire_brut_mensuel"] == ["Le salaire brut ne peut pas être négatif."]


def test_contract_cannot_start_before_attribution(poste, person, staff):
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, date_debut=D(2021, 1, 1))
    assert error.value.message_dict["date_debut"] == ["Le poste n'est attribué que depuis le 01/06/2021."]


def test_model_constraint_backs_the_cdi_rule(poste, person):
    contrat = Contrat(
        conseiller=person,
        poste=poste,
        type=TypeContrat.CDI,
        date_debut=D(2022, 1, 1),
        date_fin=D(2023, 1, 1),
        salaire_brut_mensuel=Decimal("2000"),
        cout_employeur_mensuel=Decimal("3000"),
    )
    with pytest.raises(ValidationError) as error:
        contrat.full_clean()
    assert "Un CDI n'a pas de date de fin ; tout autre contrat en a une." in error.value.messages


# --- overlap -----------------------------------------------------------------------------------------------------
def test_overlapping_contracts_on_one_post_are_refused(poste, person, staff):
    new_contrat(poste, person, staff)
    with pytest.raises(ValidationError) as error:
        new_contrat(poste, person, staff, date_debut=D(2023, 12, 31), date_fin=D(2024, 12, 31))
    assert error.value.messages == [
        "Léa Martin a déjà un contrat sur ce poste du 01/01/2022 au 31/12/2023 : "
        "deux contrats d'une même personne sur un poste ne peuvent pas se chevaucher."
    ]
    assert Contrat.objects.count() == 1


def test_adjacent_contracts_are_accepted(poste, person, staff):
    new_contrat(poste, person, staff)
    new_contrat(poste, person, staff, type=TypeContrat.CDI, date_debut=D(2024, 1, 1), date_fin=None)
    assert Contrat.objects.count() == 2


def test_an_open_ended_cdi_overlaps_everything_after_it(poste, person, staff):
    new_contrat(poste, person, staff, type=TypeContrat.CDI, date_debut=D(2022, 1, 1), date_fin=None)
    with pytest.raises(ValidationError, match="sans date de fin"):
        new_contrat(poste, person, staff, date_debut=D(2030, 1, 1), date_fin=D(2030, 12, 31))


def test_a_new_contract_may_start_after_a_rupture(poste, person, staff):
    cdd = new_contrat(poste, person, staff)
    services.contrat_rupture(contrat=cdd, date=D(2022, 6, 30), motif=MotifRupture.CDISATION, by=staff)
    cdi = new_contrat(poste, person, staff, type=TypeContrat.CDI, date_debut=D(2022, 7, 1), date_fin=None)
    assert cdi.pk


def test_another_person_or_another_post_does_not_overlap(poste, person, staff, structure):
    new_contrat(poste, person, staff)
    new_contrat(poste, factories.ConseillerFactory(), staff)
    new_contrat(factories.PosteFactory(structure=structure), person, staff)
    assert Contrat.objects.count() == 3


def test_contrat_update_checks_the_rules_again(poste, person, staff):
    first = new_contrat(poste, person, staff)
    second = new_contrat(poste, person, staff, date_debut=D(2024, 1, 1), date_fin=D(2024, 12, 31))
    with pytest.raises(ValidationError, match="chevaucher"):
        services.contrat_update(contrat=first, date_fin=D(2024, 6, 30), by=staff)
    with pytest.raises(ValidationError) as error:
        services.contrat_update(contrat=second, type=TypeContrat.CDI, by=staff)
    assert error.value.message_dict["date_fin"] == ["Un CDI n'a pas de date de fin."]
    services.contrat_update(contrat=second, type=TypeContrat.CDI, date_fin=None, by=staff)
    second.refresh_from_db()
    assert (second.type, second.date_fin) == (TypeContrat.CDI, None)
    assert second.history.first().history_user == staff


# --- rupture -----------------------------------------------------------------------------------------------------
def test_rupture_records_date_and_reason(poste, person, referent):
    contrat = new_contrat(poste, person, referent)
    contrat = services.contrat_rupture(contrat=contrat, date=D(2022, 12, 31), motif=MotifRupture.DEMISSION, by=referent)
    assert contrat.date_fin_effective == D(2022, 12, 31)
    assert contrat.history.first().history_user == referent


def test_rupture_must_fall_within_the_contract(poste, person, staff):
    contrat = new_contrat(poste, person, staff)
    for date in (D(2021, 12, 31), D(2024, 1, 1)):
        with pytest.raises(ValidationError) as error:
            services.contrat_rupture(contrat=contrat, date=date, motif=MotifRupture.DEMISSION, by=staff)
        assert error.value.message_dict["date_rupture"] == [
            "La rupture doit tomber pendant le contrat (du 01/01/2022 au 31/12/2023)."
        ]
    contrat.refresh_from_db()
    assert contrat.date_rupture is None


def test_rupture_needs_a_national_reason(poste, person, staff):
    contrat = new_contrat(poste, person, staff)
    with pytest.raises(ValidationError) as error:
        services.contrat_rupture(contrat=contrat, date=D(2022, 6, 1), motif="fâcherie", by=staff)
    assert error.value.message_dict["motif_rupture"] == ["Choisissez un motif de rupture de la liste nationale."]


def test_rupture_twice_is_refused(poste, person, staff):
    contrat = new_contrat(poste, person, staff)
    services.contrat_rupture(contrat=contrat, date=D(2022, 6, 1), motif=MotifRupture.LICENCIEMENT, by=staff)
    with pytest.raises(ValidationError) as error:
        services.contrat_rupture(contrat=contrat, date=D(2022, 7, 1), motif=MotifRupture.LICENCIEMENT, by=staff)
    assert error.value.messages == ["Ce contrat est déjà rompu (le 01/06/2022)."]


def test_update_cannot_move_the_end_before_the_rupture(poste, person, staff):
    contrat = new_contrat(poste, person, staff)
    services.contrat_rupture(contrat=contrat, date=D(2023, 6, 1), motif=MotifRupture.LICENCIEMENT, by=staff)
    with pytest.raises(ValidationError, match="rompu le 01/06/2023"):
        services.contrat_update(contrat=contrat, date_fin=D(2023, 1, 1), by=staff)


# --- who records contracts ---------------------------------------------------------------------------------------
def test_referent_records_contracts_on_their_posts_only(poste, person, referent, other_structure):
    assert new_contrat(poste, person, referent).pk
    elsewhere = factories.PosteFactory(structure=other_structure)
    with pytest.raises(PermissionDenied):
        new_contrat(elsewhere, person, referent)


def test_conseiller_user_cannot_record_contracts(poste, person, conseiller_user):
    with pytest.raises(PermissionDenied):
        new_contrat(poste, person, conseiller_user)


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_contracts_leave_exactly_one():
    if connection.vendor != "postgresql":
        pytest.skip("concurrence réelle : nécessite PostgreSQL (DATABASE_URL)")
    staff = factories.StaffUserFactory(with_totp=False)
    poste = factories.PosteFactory()
    person = factories.ConseillerFactory()
    attempts = 6
    barrier = threading.Barrier(attempts)
    outcomes = []

    def attempt(offset):
        try:
            barrier.wait(timeout=10)
            new_contrat(poste, person, staff, date_debut=D(2022, 1, 1 + offset))
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created"] + ["refused"] * (attempts - 1)
    assert Contrat.objects.filter(poste=poste, conseiller=person).count() == 1
