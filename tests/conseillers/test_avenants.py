"""Avenant requests: one pending per structure, no ``ajout`` in phase 1, a ``retrait`` within the structure's
posts, decisions by Sicoval staff."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from conseillers import services
from conseillers.choices import StatutAvenant, TypeAvenant, Typologie
from conseillers.models import Avenant
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def phase2(structure):
    structure.phase = 2
    structure.save()
    return structure


def request(structure, by, **overrides):
    fields = {
        "type": TypeAvenant.AJOUT,
        "typologie": Typologie.CONUM,
        "nombre_postes": 1,
        "date_demande": D(2024, 9, 1),
    }
    fields.update(overrides)
    return services.avenant_request(structure=structure, by=by, **fields)


def test_referent_requests_an_avenant_for_their_structure(phase2, referent):
    avenant = request(phase2, referent, motif="Ouverture d'un second lieu")
    assert avenant.statut == StatutAvenant.EN_COURS
    assert avenant.history.first().history_user == referent


def test_referent_cannot_request_for_another_structure(referent, other_structure):
    with pytest.raises(PermissionDenied):
        request(other_structure, referent)


def test_one_pending_request_per_structure(phase2, staff):
    request(phase2, staff)
    with pytest.raises(ValidationError) as error:
        request(phase2, staff, nombre_postes=2)
    assert error.value.messages == ["Cette structure a déjà une demande d'avenant en cours."]
    assert Avenant.objects.count() == 1


def test_database_backs_the_one_pending_rule(phase2):
    factories.AvenantFactory(structure=phase2)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.AvenantFactory(structure=phase2)


def test_no_ajout_in_phase_1(structure, staff):
    assert structure.phase == 1
    with pytest.raises(ValidationError) as error:
        request(structure, staff)
    assert error.value.message_dict["type"] == ["Une structure de la phase 1 ne peut pas demander d'ajout de postes."]


def test_retrait_allowed_in_phase_1_within_its_posts(structure, staff):
    factories.PosteFactory(structure=structure)
    factories.PosteFactory(structure=structure, etat="rendu", date_rendu=D(2022, 1, 1))
    factories.PosteFactory(structure=structure, typologie=Typologie.COORDO)
    with pytest.raises(ValidationError) as error:
        request(structure, staff, type=TypeAvenant.RETRAIT, nombre_postes=2)
    assert error.value.message_dict["nombre_postes"] == [
        "La structure n'a que 1 poste(s) de conseiller numérique non rendu(s) : elle ne peut pas en retirer 2."
    ]
    assert request(structure, staff, type=TypeAvenant.RETRAIT, nombre_postes=1).pk


def test_an_avenant_covers_at_least_one_post(phase2, staff):
    with pytest.raises(ValidationError) as error:
        request(phase2, staff, nombre_postes=0)
    assert error.value.message_dict["nombre_postes"] == ["Un avenant porte sur au moins un poste."]


def test_staff_decide_and_a_new_request_may_follow(phase2, staff, referent):
    avenant = request(phase2, referent)
    with pytest.raises(PermissionDenied):
        services.avenant_decide(avenant=avenant, statut=StatutAvenant.VALIDEE, date=D(2024, 10, 1), by=referent)
    avenant = services.avenant_decide(avenant=avenant, statut=StatutAvenant.VALIDEE, date=D(2024, 10, 1), by=staff)
    assert (avenant.statut, avenant.date_decision) == (StatutAvenant.VALIDEE, D(2024, 10, 1))
    assert avenant.history.first().history_user == staff
    assert request(phase2, referent, date_demande=D(2025, 1, 10)).pk


def test_decision_rules(phase2, staff):
    avenant = request(phase2, staff)
    with pytest.raises(ValidationError) as error:
        services.avenant_decide(avenant=avenant, statut=StatutAvenant.VALIDEE, date=D(2024, 8, 1), by=staff)
    assert error.value.message_dict["date_decision"] == ["La décision ne peut pas précéder la demande."]
    with pytest.raises(ValidationError) as error:
        services.avenant_decide(avenant=avenant, statut=StatutAvenant.EN_COURS, date=D(2024, 10, 1), by=staff)
    assert error.value.message_dict["statut"] == ["Une demande se valide ou se refuse."]
    services.avenant_decide(avenant=avenant, statut=StatutAvenant.REFUSEE, date=D(2024, 10, 1), by=staff)
    with pytest.raises(ValidationError) as error:
        services.avenant_decide(avenant=avenant, statut=StatutAvenant.VALIDEE, date=D(2024, 10, 2), by=staff)
    assert error.value.messages == ["Cette demande a déjà été tranchée."]
