"""The posts and people admin: pages answer, a post is created through its service, its structure and state stay
read-only, contract rules give French messages on the form, nothing carrying history is deleted."""

import datetime

import pytest
from django.contrib import admin

from conseillers.models import Affectation, Avenant, Conseiller, Contrat, Formation, MiseEnRelation, Poste, Rattachement
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
MODELS = [Poste, Rattachement, Affectation, Conseiller, MiseEnRelation, Contrat, Formation, Avenant]


@pytest.fixture
def superuser(db):
    return factories.StaffUserFactory(is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def rows(structure):
    contrat = factories.ContratFactory(poste=factories.PosteFactory(structure=structure))
    Affectation.objects.create(poste=contrat.poste, conseiller=contrat.conseiller, date_debut=D(2022, 1, 1))
    factories.FormationFactory(conseiller=contrat.conseiller)
    factories.MiseEnRelationFactory(conseiller=contrat.conseiller, structure=structure)
    factories.AvenantFactory()
    return contrat


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_pages_answer(admin_client, rows, model):
    base = f"/admin/conseillers/{model._meta.model_name}/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(base, {"q": "Structure"}).status_code == 200
    obj = model.objects.first()
    assert admin_client.get(f"{base}{obj.pk}/change/").status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_no_delete_in_the_admin(rf, superuser, model):
    request = rf.get("/")
    request.user = superuser
    assert not admin.site._registry[model].has_delete_permission(request)


def test_poste_structure_and_state_are_read_only_once_created(rf, superuser, rows):
    request = rf.get("/")
    request.user = superuser
    fields = admin.site._registry[Poste].get_readonly_fields(request, rows.poste)
    assert {"structure", "etat", "date_rendu"} <= set(fields)


def test_admin_creates_a_post_with_its_attachment_and_author(admin_client, superuser, structure):
    data = {
        "typologie": "conum",
        "structure": structure.pk,
        "phase": 1,
        "date_attribution": "01/06/2021",
        "coselec_reference": "COSELEC-2021-12",
    }
    response = admin_client.post("/admin/conseillers/poste/add/", data)
    assert response.status_code == 302, response.context["adminform"].errors
    poste = Poste.objects.get()
    assert poste.rattachements.get().structure == structure
    assert poste.history.first().history_user == superuser


def test_admin_post_form_refuses_a_coselec_after_attribution(admin_client, structure):
    data = {
        "typologie": "conum",
        "structure": structure.pk,
        "phase": 1,
        "date_attribution": "01/06/2021",
        "coselec_date": "01/07/2021",
    }
    response = admin_client.post("/admin/conseillers/poste/add/", data)
    assert response.status_code == 200
    assert "La décision du comité de sélection ne peut pas suivre l&#x27;attribution du poste." in response.text
    assert not Poste.objects.exists()


def test_admin_contract_form_shows_the_cdi_rule_in_french(admin_client, rows):
    data = {
        "conseiller": rows.conseiller.pk,
        "poste": rows.poste.pk,
        "type": "CDI",
        "date_debut": "01/01/2024",
        "date_fin": "31/12/2024",
        "salaire_brut_mensuel": "2000",
        "cout_employeur_mensuel": "3000",
        "temps_plein": "on",
    }
    response = admin_client.post("/admin/conseillers/contrat/add/", data)
    assert response.status_code == 200
    assert "Un CDI n&#x27;a pas de date de fin." in response.text
    data.update(type="CDD", date_debut="01/06/2023")
    response = admin_client.post("/admin/conseillers/contrat/add/", data)
    assert response.status_code == 200
    assert "ne peuvent pas se chevaucher" in response.text
    assert Contrat.objects.count() == 1
