"""Posts: attribution, moves, occupants and returns keep the post's structure and state consistent with the dated
attachments and assignments; every refusal is a French message and writes nothing."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from conseillers import services
from conseillers.choices import EtatPoste, Typologie
from conseillers.models import Affectation, Poste, Rattachement
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


ATTRIBUTION = D(2021, 6, 1)


def create_poste(structure, by, date=ATTRIBUTION):
    return services.poste_create(structure=structure, typologie=Typologie.CONUM, phase=1, date_attribution=date, by=by)


def snapshot():
    return (
        list(Poste.objects.values_list("pk", "structure_id", "etat", "date_rendu")),
        list(Rattachement.objects.values_list("pk", "structure_id", "date_debut", "date_fin")),
        list(Affectation.objects.values_list("pk", "conseiller_id", "date_debut", "date_fin")),
    )


def assert_consistent(poste):
    """The cached structure and state agree with the dated rows."""
    poste.refresh_from_db()
    open_rattachements = list(poste.rattachements.filter(date_fin__isnull=True))
    open_affectations = poste.affectations.filter(date_fin__isnull=True).count()
    if poste.etat == EtatPoste.RENDU:
        assert open_rattachements == []
        assert poste.rattachements.order_by("-date_debut").first().date_fin == poste.date_rendu
        assert open_affectations == 0
    else:
        assert [r.structure_id for r in open_rattachements] == [poste.structure_id]
        assert open_affectations == (1 if poste.etat == EtatPoste.OCCUPE else 0)


# --- poste_create ------------------------------------------------------------------------------------------------
def test_poste_create_opens_its_first_attachment_vacant(structure, staff):
    poste = create_poste(structure, staff)
    assert poste.etat == EtatPoste.VACANT
    rattachement = poste.rattachements.get()
    assert (rattachement.structure, rattachement.date_debut, rattachement.date_fin) == (structure, D(2021, 6, 1), None)
    assert_consistent(poste)


def test_poste_create_records_the_author_in_the_history(structure, staff):
    poste = create_poste(structure, staff)
    assert poste.history.first().history_user == staff
    assert poste.rattachements.get().history.first().history_user == staff


def test_poste_create_refuses_a_coselec_after_attribution(structure, staff):
    with pytest.raises(ValidationError) as error:
        services.poste_create(
            structure=structure,
            typologie=Typologie.CONUM,
            phase=1,
            date_attribution=D(2021, 6, 1),
            coselec_date=D(2021, 7, 1),
            by=staff,
        )
    assert error.value.message_dict["coselec_date"] == [
        "La décision du comité de sélection ne peut pas suivre l'attribution du poste."
    ]
    assert not Poste.objects.exists()


def test_only_staff_create_posts(structure, referent):
    with pytest.raises(PermissionDenied):
        create_poste(structure, referent)
    assert not Poste.objects.exists()


# --- poste_move --------------------------------------------------------------------------------------------------
def test_poste_move_closes_the_attachment_and_opens_another(structure, other_structure, staff):
    poste = create_poste(structure, staff)
    services.poste_move(poste=poste, structure=other_structure, date=D(2023, 1, 1), by=staff)
    rows = list(poste.rattachements.order_by("date_debut").values_list("structure_id", "date_debut", "date_fin"))
    assert rows == [(structure.pk, D(2021, 6, 1), D(2023, 1, 1)), (other_structure.pk, D(2023, 1, 1), None)]
    poste.refresh_from_db()
    assert poste.structure == other_structure
    assert_consistent(poste)
    assert poste.history.first().history_user == staff


def test_poste_move_refuses_a_date_not_after_the_current_attachment(structure, other_structure, staff):
    poste = create_poste(structure, staff)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.poste_move(poste=poste, structure=other_structure, date=D(2021, 6, 1), by=staff)
    assert error.value.messages == [
        "Le changement de structure doit suivre le début du rattachement actuel (01/06/2021)."
    ]
    assert snapshot() == before


def test_poste_move_refuses_a_returned_post(structure, other_structure, staff):
    poste = create_poste(structure, staff)
    services.poste_return(poste=poste, date=D(2022, 1, 1), by=staff)
    with pytest.raises(ValidationError) as error:
        services.poste_move(poste=poste, structure=other_structure, date=D(2023, 1, 1), by=staff)
    assert error.value.messages == ["Ce poste est rendu : il ne peut plus changer de structure."]


def test_poste_move_refuses_the_same_structure(structure, staff):
    poste = create_poste(structure, staff)
    with pytest.raises(ValidationError, match="déjà rattaché"):
        services.poste_move(poste=poste, structure=structure, date=D(2023, 1, 1), by=staff)


@time_machine.travel(datetime.datetime(2024, 1, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_post_changes_refuse_a_future_date(structure, other_structure, staff):
    poste = create_poste(structure, staff)
    with pytest.raises(ValidationError, match="dans le futur"):
        services.poste_move(poste=poste, structure=other_structure, date=D(2024, 2, 1), by=staff)


def test_poste_move_refused_when_the_hired_would_exceed_the_posts_left(structure, other_structure, staff):
    poste = create_poste(structure, staff)
    factories.MiseEnRelationFactory(structure=structure, statut="finalisee")
    with pytest.raises(ValidationError, match="1 personne\\(s\\) recrutée\\(s\\)"):
        services.poste_move(poste=poste, structure=other_structure, date=D(2023, 1, 1), by=staff)
    assert_consistent(poste)


# --- poste_assign / poste_release --------------------------------------------------------------------------------
def test_poste_assign_and_release_keep_the_state(structure, staff):
    poste = create_poste(structure, staff)
    conseiller = factories.ConseillerFactory()
    affectation = services.poste_assign(poste=poste, conseiller=conseiller, date=D(2021, 9, 1), by=staff)
    assert (affectation.conseiller, affectation.date_debut, affectation.date_fin) == (conseiller, D(2021, 9, 1), None)
    assert_consistent(poste)
    assert poste.etat == EtatPoste.OCCUPE
    assert affectation.history.first().history_user == staff

    services.poste_release(poste=poste, date=D(2023, 8, 31), by=staff)
    assert_consistent(poste)
    assert poste.etat == EtatPoste.VACANT
    assert poste.affectations.get().date_fin == D(2023, 8, 31)


def test_next_occupant_may_start_the_day_the_previous_left(structure, staff):
    poste = create_poste(structure, staff)
    first, second = factories.ConseillerFactory(), factories.ConseillerFactory()
    services.poste_assign(poste=poste, conseiller=first, date=D(2021, 9, 1), by=staff)
    services.poste_release(poste=poste, date=D(2022, 9, 1), by=staff)
    services.poste_assign(poste=poste, conseiller=second, date=D(2022, 9, 1), by=staff)
    assert_consistent(poste)
    assert poste.affectations.count() == 2


def test_poste_assign_refuses_an_occupied_post(structure, staff):
    poste = create_poste(structure, staff)
    holder = factories.ConseillerFactory(prenom="Léa", nom="Martin")
    services.poste_assign(poste=poste, conseiller=holder, date=D(2021, 9, 1), by=staff)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2022, 1, 1), by=staff)
    assert error.value.messages == ["Ce poste est déjà occupé par Léa Martin."]
    assert snapshot() == before


def test_poste_assign_refuses_a_person_holding_another_post(structure, staff):
    first, second = create_poste(structure, staff), create_poste(structure, staff)
    person = factories.ConseillerFactory(prenom="Paul", nom="Durand")
    services.poste_assign(poste=first, conseiller=person, date=D(2021, 9, 1), by=staff)
    with pytest.raises(ValidationError) as error:
        services.poste_assign(poste=second, conseiller=person, date=D(2022, 1, 1), by=staff)
    assert error.value.messages == ["Paul Durand occupe déjà un autre poste."]
    assert_consistent(second)
    assert second.etat == EtatPoste.VACANT


def test_poste_assign_refuses_a_date_before_attribution(structure, staff):
    poste = create_poste(structure, staff)
    with pytest.raises(ValidationError) as error:
        services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2021, 5, 31), by=staff)
    assert error.value.messages == ["Le poste n'est attribué que depuis le 01/06/2021."]
    assert not Affectation.objects.exists()


def test_poste_assign_refuses_a_returned_post(structure, staff):
    poste = create_poste(structure, staff)
    services.poste_return(poste=poste, date=D(2022, 1, 1), by=staff)
    with pytest.raises(ValidationError, match="rendu"):
        services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2022, 6, 1), by=staff)


def test_poste_assign_refuses_a_date_inside_a_past_occupation(structure, staff):
    poste = create_poste(structure, staff)
    services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2021, 9, 1), by=staff)
    services.poste_release(poste=poste, date=D(2022, 9, 1), by=staff)
    with pytest.raises(ValidationError, match="encore occupé"):
        services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2022, 1, 1), by=staff)


def test_poste_release_refuses_a_vacant_post_and_a_date_before_the_start(structure, staff):
    poste = create_poste(structure, staff)
    with pytest.raises(ValidationError) as error:
        services.poste_release(poste=poste, date=D(2022, 1, 1), by=staff)
    assert error.value.messages == ["Ce poste n'est pas occupé."]
    services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2021, 9, 1), by=staff)
    with pytest.raises(ValidationError) as error:
        services.poste_release(poste=poste, date=D(2021, 9, 1), by=staff)
    assert error.value.messages == ["Le départ doit suivre la prise de poste (01/09/2021)."]
    assert_consistent(poste)
    assert poste.etat == EtatPoste.OCCUPE


def test_only_staff_assign_posts(structure, referent, staff):
    poste = create_poste(structure, staff)
    with pytest.raises(PermissionDenied):
        services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2021, 9, 1), by=referent)


# --- poste_return ------------------------------------------------------------------------------------------------
def test_poste_return_sets_rendu_and_closes_the_attachment(structure, staff):
    poste = create_poste(structure, staff)
    services.poste_return(poste=poste, date=D(2024, 3, 1), by=staff)
    poste.refresh_from_db()
    assert (poste.etat, poste.date_rendu) == (EtatPoste.RENDU, D(2024, 3, 1))
    assert poste.rattachements.get().date_fin == D(2024, 3, 1)
    assert_consistent(poste)
    assert poste.history.first().history_user == staff


def test_poste_return_refused_while_occupied(structure, staff):
    poste = create_poste(structure, staff)
    services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2021, 9, 1), by=staff)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.poste_return(poste=poste, date=D(2024, 3, 1), by=staff)
    assert error.value.messages == ["Ce poste est occupé : libérez-le avant de le rendre."]
    assert snapshot() == before


def test_poste_return_refuses_a_date_before_the_last_occupant_left(structure, staff):
    poste = create_poste(structure, staff)
    services.poste_assign(poste=poste, conseiller=factories.ConseillerFactory(), date=D(2021, 9, 1), by=staff)
    services.poste_release(poste=poste, date=D(2023, 9, 1), by=staff)
    with pytest.raises(ValidationError) as error:
        services.poste_return(poste=poste, date=D(2023, 1, 1), by=staff)
    assert error.value.messages == ["Le poste était occupé jusqu'au 01/09/2023 : il ne peut pas être rendu avant."]


def test_poste_return_twice_is_refused(structure, staff):
    poste = create_poste(structure, staff)
    services.poste_return(poste=poste, date=D(2024, 3, 1), by=staff)
    with pytest.raises(ValidationError) as error:
        services.poste_return(poste=poste, date=D(2024, 4, 1), by=staff)
    assert error.value.messages == ["Ce poste est déjà rendu (le 01/03/2024)."]


def test_poste_return_refused_when_the_hired_would_exceed_the_posts_left(structure, staff):
    poste = create_poste(structure, staff)
    factories.MiseEnRelationFactory(structure=structure, statut="recrutee")
    with pytest.raises(ValidationError, match="ne peut pas descendre à 0 poste"):
        services.poste_return(poste=poste, date=D(2024, 3, 1), by=staff)
    assert_consistent(poste)
    assert poste.etat == EtatPoste.VACANT


def test_full_story_stays_consistent(structure, other_structure, staff):
    poste = create_poste(structure, staff)
    person = factories.ConseillerFactory()
    services.poste_assign(poste=poste, conseiller=person, date=D(2021, 9, 1), by=staff)
    services.poste_move(poste=poste, structure=other_structure, date=D(2022, 1, 1), by=staff)
    assert_consistent(poste)
    services.poste_release(poste=poste, date=D(2022, 6, 1), by=staff)
    services.poste_return(poste=poste, date=D(2022, 12, 1), by=staff)
    assert_consistent(poste)
    assert poste.structure == other_structure
    assert [h.etat for h in poste.history.order_by("history_date", "history_id")] == [
        "vacant",
        "occupe",
        "occupe",
        "vacant",
        "rendu",
    ]
    assert {h.history_user for h in poste.history.all()} == {staff}
