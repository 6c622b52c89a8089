"""Avenant requests on a structure's page: the list, a request by the référent or staff (dated today), a decision by
staff, each refusal with its French message (one pending request, no ``ajout`` in phase 1) and the scoping."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from conseillers.choices import StatutAvenant, TypeAvenant, Typologie
from conseillers.models import Avenant
from tests import factories

pytestmark = pytest.mark.django_db


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def detail_url(structure):
    return reverse("structures:detail", args=[structure.uuid])


def request_url(structure):
    return reverse("conseillers:avenant_request", args=[structure.uuid])


def decide_url(avenant):
    return reverse("conseillers:avenant_decide", args=[avenant.uuid])


def avenant_data(**overrides):
    data = {"type": TypeAvenant.AJOUT, "typologie": Typologie.CONUM, "nombre_postes": "1", "motif": "Second lieu"}
    data.update(overrides)
    return {f"avenant-{name}": value for name, value in data.items()}


@pytest.fixture
def phase2(structure):
    structure.phase = 2
    structure.save()
    return structure


@pytest.fixture
def staff_client(client):
    client.force_login(factories.StaffUserFactory())
    return client


@pytest.fixture
def referent_client(client, referent):
    client.force_login(referent)
    return client


@pytest.fixture
def financeur_client(client, financeur_user):
    client.force_login(financeur_user)
    return client


# --- The section ------------------------------------------------------------------------------------------------
def test_structure_page_lists_its_avenants_and_offers_the_form_to_its_referent(referent_client, phase2):
    factories.AvenantFactory(structure=phase2, statut=StatutAvenant.REFUSEE, date_decision=timezone.localdate())

    response = referent_client.get(detail_url(phase2))

    assert response.status_code == 200
    page = text(response)
    assert "Avenants" in page
    assert "Ajout de postes" in page and "Refusée" in page
    assert "avenant_form" in response.context
    assert not response.context["can_decide_avenants"]


def test_funder_sees_the_avenants_without_the_form(financeur_client, phase2):
    factories.AvenantFactory(structure=phase2)
    response = financeur_client.get(detail_url(phase2))
    assert response.status_code == 200
    assert len(response.context["avenants"]) == 1
    assert "avenant_form" not in response.context


# --- Requests ---------------------------------------------------------------------------------------------------
def test_referent_requests_an_avenant_dated_today(referent_client, referent, phase2):
    response = referent_client.post(request_url(phase2), avenant_data())

    assert response.status_code == 302
    assert response.url == detail_url(phase2) + "#avenants"
    avenant = Avenant.objects.get()
    assert (avenant.structure, avenant.type, avenant.statut) == (phase2, TypeAvenant.AJOUT, StatutAvenant.EN_COURS)
    assert avenant.date_demande == timezone.localdate()
    assert avenant.history.first().history_user == referent


def test_second_pending_request_is_refused(referent_client, phase2):
    pending = factories.AvenantFactory(structure=phase2)

    response = referent_client.post(request_url(phase2), avenant_data())

    assert response.status_code == 400
    assert "Cette structure a déjà une demande d'avenant en cours." in text(response)
    assert list(Avenant.objects.all()) == [pending]


def test_ajout_in_phase_1_is_refused(referent_client, structure):
    assert structure.phase == 1

    response = referent_client.post(request_url(structure), avenant_data())

    assert response.status_code == 400
    assert "Une structure de la phase 1 ne peut pas demander d'ajout de postes." in text(response)
    assert not Avenant.objects.exists()


def test_retrait_beyond_the_posts_held_is_refused(referent_client, structure):
    response = referent_client.post(request_url(structure), avenant_data(type=TypeAvenant.RETRAIT))

    assert response.status_code == 400
    assert "elle ne peut pas en retirer 1" in text(response)
    assert not Avenant.objects.exists()


def test_missing_fields_are_refused_in_french(referent_client, phase2):
    response = referent_client.post(request_url(phase2), {})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    assert not Avenant.objects.exists()


def test_referent_gets_404_on_another_structure(referent_client, other_structure):
    assert referent_client.get(detail_url(other_structure)).status_code == 404
    assert referent_client.post(request_url(other_structure), avenant_data()).status_code == 404
    assert not Avenant.objects.exists()


def test_funder_posting_a_request_gets_403(financeur_client, phase2):
    assert financeur_client.post(request_url(phase2), avenant_data()).status_code == 403
    assert not Avenant.objects.exists()


# --- Decisions --------------------------------------------------------------------------------------------------
def test_staff_validate_a_pending_request(staff_client, phase2):
    avenant = factories.AvenantFactory(structure=phase2)
    assert staff_client.get(detail_url(phase2)).context["can_decide_avenants"]

    response = staff_client.post(decide_url(avenant), {"statut": StatutAvenant.VALIDEE})

    assert response.status_code == 302
    avenant.refresh_from_db()
    assert (avenant.statut, avenant.date_decision) == (StatutAvenant.VALIDEE, timezone.localdate())


def test_staff_refuse_a_pending_request(staff_client, phase2):
    avenant = factories.AvenantFactory(structure=phase2)
    assert staff_client.post(decide_url(avenant), {"statut": StatutAvenant.REFUSEE}).status_code == 302
    avenant.refresh_from_db()
    assert avenant.statut == StatutAvenant.REFUSEE


def test_decided_request_cannot_be_decided_again(staff_client, phase2):
    avenant = factories.AvenantFactory(
        structure=phase2, statut=StatutAvenant.REFUSEE, date_decision=timezone.localdate()
    )

    response = staff_client.post(decide_url(avenant), {"statut": StatutAvenant.VALIDEE})

    assert response.status_code == 400
    assert "Cette demande a déjà été tranchée." in text(response)
    avenant.refresh_from_db()
    assert avenant.statut == StatutAvenant.REFUSEE


def test_unknown_decision_is_refused(staff_client, phase2):
    avenant = factories.AvenantFactory(structure=phase2)
    response = staff_client.post(decide_url(avenant), {"statut": StatutAvenant.EN_COURS})
    assert response.status_code == 400
    assert "Une demande se valide ou se refuse." in text(response)
    avenant.refresh_from_db()
    assert avenant.statut == StatutAvenant.EN_COURS


def test_referent_cannot_decide_their_own_request(referent_client, phase2):
    avenant = factories.AvenantFactory(structure=phase2)
    assert referent_client.post(decide_url(avenant), {"statut": StatutAvenant.VALIDEE}).status_code == 403
    avenant.refresh_from_db()
    assert avenant.statut == StatutAvenant.EN_COURS


def test_referent_gets_404_deciding_another_structures_request(referent_client, other_structure):
    avenant = factories.AvenantFactory(structure=other_structure)
    assert referent_client.post(decide_url(avenant), {"statut": StatutAvenant.VALIDEE}).status_code == 404
