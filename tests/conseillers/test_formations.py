"""Training: the initial certification once, module rules, and the yearly continuing-training status."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from conseillers import selectors, services
from conseillers.choices import Certification, Titre, TypeContrat, TypeFormation
from conseillers.models import Formation
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


def add_module(conseiller, by, date, **overrides):
    fields = {"type": TypeFormation.CONTINUE, "intitule": "Module IA et médiation", "date_debut": date, "heures": 7}
    fields.update(overrides)
    return services.formation_add(conseiller=conseiller, by=by, **fields)


def add_initiale(conseiller, by, **overrides):
    fields = {
        "type": TypeFormation.INITIALE,
        "intitule": "Certification CCP1",
        "date_debut": D(2021, 9, 1),
        "parcours_heures": 105,
        "certification": Certification.CCP1,
        "titre": Titre.REMN,
        "date_certification": D(2021, 12, 15),
        "pix": True,
    }
    fields.update(overrides)
    return services.formation_add(conseiller=conseiller, by=by, **fields)


# --- formation_add -----------------------------------------------------------------------------------------------
def test_initial_certification_is_recorded_once(staff):
    conseiller = factories.ConseillerFactory(prenom="Léa", nom="Martin")
    formation = add_initiale(conseiller, staff)
    assert formation.history.first().history_user == staff
    with pytest.raises(ValidationError) as error:
        add_initiale(conseiller, staff)
    assert error.value.message_dict["type"] == ["Léa Martin a déjà une certification initiale enregistrée."]
    assert Formation.objects.count() == 1


def test_parcours_hours_come_from_the_national_list(staff):
    with pytest.raises(ValidationError) as error:
        add_initiale(factories.ConseillerFactory(), staff, parcours_heures=100)
    assert error.value.message_dict["parcours_heures"] == [
        "Le parcours dure 70, 105, 175, 280, 315, 350 ou 420 heures."
    ]


def test_a_module_lasts_at_least_one_hour(staff):
    conseiller = factories.ConseillerFactory()
    with pytest.raises(ValidationError) as error:
        add_module(conseiller, staff, D(2024, 3, 1), heures=0)
    assert error.value.message_dict["heures"] == ["Une formation dure au moins une heure."]
    with pytest.raises(ValidationError) as error:
        add_module(conseiller, staff, D(2024, 3, 1), heures=None)
    assert error.value.message_dict["heures"] == ["Indiquez la durée du module en heures."]


def test_a_module_carries_no_certification(staff):
    with pytest.raises(ValidationError) as error:
        add_module(factories.ConseillerFactory(), staff, D(2024, 3, 1), certification=Certification.CCP1)
    assert error.value.message_dict["type"] == [
        "Parcours, certification, titre et PIX concernent la seule formation initiale."
    ]


def test_titre_mediateur_numerique_exists_since_july_2025(staff):
    conseiller = factories.ConseillerFactory()
    with pytest.raises(ValidationError) as error:
        add_initiale(conseiller, staff, titre=Titre.MN, date_certification=D(2025, 7, 12))
    assert error.value.message_dict["titre"] == ["Le titre « Médiateur numérique » n'existe que depuis le 13/07/2025."]
    assert add_initiale(conseiller, staff, titre=Titre.MN, date_certification=D(2025, 7, 13)).pk


def test_module_end_cannot_precede_its_start(staff):
    with pytest.raises(ValidationError) as error:
        add_module(factories.ConseillerFactory(), staff, D(2024, 3, 1), date_fin=D(2024, 2, 1))
    assert error.value.message_dict["date_fin"] == ["La fin de la formation ne peut précéder son début."]


def test_referent_records_trainings_of_their_conseillers_only(structure, referent, other_structure):
    own = factories.MiseEnRelationFactory(structure=structure).conseiller
    assert add_module(own, referent, D(2024, 3, 1)).history.first().history_user == referent
    other = factories.MiseEnRelationFactory(structure=other_structure).conseiller
    with pytest.raises(PermissionDenied):
        add_module(other, referent, D(2024, 3, 1))


# --- training status ---------------------------------------------------------------------------------------------
def hired(start, *, end=None, type_=TypeContrat.CDI):
    conseiller = factories.ConseillerFactory()
    factories.ContratFactory(conseiller=conseiller, type=type_, date_debut=start, date_fin=end)
    return conseiller


def module(conseiller, date):
    factories.FormationFactory(conseiller=conseiller, date_debut=date)


def status(conseiller, year, today):
    return selectors.training_status(conseiller, year, today=today)


def test_entrant_before_2025_owes_one_module_in_the_entry_year():
    conseiller = hired(D(2024, 3, 1))
    assert status(conseiller, 2024, D(2024, 6, 1)) == "due"
    module(conseiller, D(2024, 9, 1))
    assert status(conseiller, 2024, D(2024, 10, 1)) == "done"


def test_entrant_after_2024_owes_two_modules_in_the_entry_year():
    conseiller = hired(D(2025, 2, 1))
    module(conseiller, D(2025, 3, 1))
    assert status(conseiller, 2025, D(2025, 6, 1)) == "due"
    assert status(conseiller, 2025, D(2026, 1, 1)) == "late"
    module(conseiller, D(2025, 11, 1))
    assert status(conseiller, 2025, D(2026, 1, 1)) == "done"


def test_entrant_after_2024_owes_one_module_in_later_years():
    conseiller = hired(D(2025, 2, 1))
    module(conseiller, D(2026, 4, 1))
    assert status(conseiller, 2026, D(2026, 5, 1)) == "done"


def test_entry_is_the_start_of_the_first_contract():
    conseiller = hired(D(2023, 1, 1), end=D(2024, 12, 31), type_=TypeContrat.CDD)
    factories.ContratFactory(conseiller=conseiller, type=TypeContrat.CDI, date_debut=D(2025, 1, 1), date_fin=None)
    module(conseiller, D(2025, 3, 1))
    assert status(conseiller, 2025, D(2025, 4, 1)) == "done"  # not a 2025 entrant: one module is enough


def test_late_once_the_year_is_over_without_the_module():
    conseiller = hired(D(2022, 1, 1))
    assert status(conseiller, 2024, D(2024, 12, 31)) == "due"
    assert status(conseiller, 2024, D(2025, 1, 1)) == "late"


def test_a_module_counts_for_the_year_it_starts():
    conseiller = hired(D(2022, 1, 1))
    module(conseiller, D(2023, 12, 31))
    assert status(conseiller, 2024, D(2025, 1, 1)) == "late"
    assert status(conseiller, 2023, D(2025, 1, 1)) == "done"


def test_no_requirement_without_a_contract_that_year():
    never = factories.ConseillerFactory()
    left = hired(D(2022, 1, 1), end=D(2023, 6, 30), type_=TypeContrat.CDD)
    future = hired(D(2025, 3, 1))
    assert status(never, 2024, D(2024, 6, 1)) is None
    assert status(left, 2024, D(2024, 6, 1)) is None
    assert status(future, 2024, D(2024, 6, 1)) is None


def test_a_rupture_before_the_year_ends_the_requirement(staff):
    conseiller = hired(D(2022, 1, 1), end=D(2025, 12, 31), type_=TypeContrat.CDD)
    contrat = conseiller.contrats.get()
    contrat.date_rupture, contrat.motif_rupture = D(2023, 6, 30), "demission"
    contrat.save()
    assert status(conseiller, 2024, D(2024, 6, 1)) is None


def test_training_status_is_one_query(django_assert_num_queries):
    conseiller = hired(D(2022, 1, 1))
    with django_assert_num_queries(1):
        status(conseiller, 2024, D(2024, 6, 1))


@time_machine.travel(datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_conseillers_owing_training_lists_due_and_late_in_scope(structure, referent, staff, other_structure):
    poste = factories.PosteFactory(structure=structure)
    owing = factories.ConseillerFactory(nom="Aubert")
    cdi = {"type": TypeContrat.CDI, "date_debut": D(2022, 1, 1), "date_fin": None}
    factories.ContratFactory(conseiller=owing, poste=poste, **cdi)
    done = factories.ConseillerFactory(nom="Bernard")
    factories.ContratFactory(conseiller=done, poste=poste, **cdi)
    module(done, D(2024, 5, 1))
    elsewhere = factories.ConseillerFactory(nom="Colin")
    factories.ContratFactory(conseiller=elsewhere, poste=factories.PosteFactory(structure=other_structure), **cdi)
    today = datetime.date.today()
    owing_2024 = selectors.conseillers_owing_training(2024, today=today, user=staff)
    assert [(c.nom, c.training_status) for c in owing_2024] == [
        ("Aubert", "late"),
        ("Colin", "late"),
    ]
    assert [c.nom for c in selectors.conseillers_owing_training(2024, today=today, user=referent)] == ["Aubert"]
    assert [
        (c.nom, c.modules_faits, c.modules_requis, c.training_status)
        for c in selectors.conseillers_owing_training(2025, today=today, user=referent)
    ] == [("Aubert", 0, 1, "due"), ("Bernard", 0, 1, "due")]
