"""The funding admin: pages answer, writes go through the services (same rules, same French messages, history),
a refused submission writes nothing, money rows cannot be deleted."""

import datetime

import pytest
from django.contrib import admin

from financements import services
from financements.models import Avoir, Bareme, Convention, Financeur, LigneFinancement, Versement
from tests import factories

from .conftest import euros

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return factories.StaffUserFactory(is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def ligne(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    versement = services.versement_plan(
        ligne=ligne, numero=1, date_prevue=datetime.date(2022, 2, 1), montant_prevu=25000, by=staff
    )
    services.versement_record(
        versement=versement, date_versement=datetime.date(2022, 2, 1), montant_verse=25000, by=staff
    )
    services.avoir_record(ligne=ligne, date=datetime.date(2022, 9, 1), montant=500, motif="autre", by=staff)
    return ligne


MODELS = [Financeur, Bareme, Convention, LigneFinancement, Versement, Avoir]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_pages_answer(admin_client, ligne, model):
    base = f"/admin/financements/{model._meta.model_name}/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(base, {"q": "Labège"}).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 200
    obj = model.objects.first()
    assert admin_client.get(f"{base}{obj.pk}/change/").status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_no_delete_in_the_admin(rf, superuser, model):
    request = rf.get("/")
    request.user = superuser
    assert not admin.site._registry[model].has_delete_permission(request)


def test_line_total_is_read_only(rf, superuser, ligne):
    request = rf.get("/")
    request.user = superuser
    assert "montant_total" in admin.site._registry[LigneFinancement].get_readonly_fields(request, ligne)


def test_adding_a_line_in_the_admin_prefills_from_the_bareme(
    admin_client, superuser, staff, etat, mairie, make_convention
):
    convention = make_convention(financeur=etat, structure=mairie)
    poste = factories._PosteForFinancementFactory(structure=mairie)
    response = admin_client.post(
        "/admin/financements/lignefinancement/add/",
        {"convention": convention.pk, "poste": poste.pk, "bareme": "", "montant_base": "", "bonus_qpv_zrr": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ligne = LigneFinancement.objects.get(poste=poste)
    assert ligne.montant_total == euros(50000)
    assert ligne.history.get().history_user == superuser


def test_admin_refuses_an_instalment_after_the_end_in_french(admin_client, ligne):
    response = admin_client.post(
        "/admin/financements/versement/add/",
        {"ligne": ligne.pk, "numero": 2, "date_prevue": "2024-01-15", "montant_prevu": "25000"},
    )
    assert response.status_code == 200
    assert "Impossible de prévoir une échéance après la fin de la convention" in response.content.decode()
    assert Versement.objects.count() == 1


def test_admin_refuses_an_overpayment_and_writes_nothing(admin_client, staff, ligne):
    second = services.versement_plan(
        ligne=ligne, numero=2, date_prevue=datetime.date(2023, 1, 1), montant_prevu=25000, by=staff
    )
    response = admin_client.post(
        f"/admin/financements/versement/{second.pk}/change/",
        {"date_versement": "2023-01-02", "montant_verse": "25000.01"},
    )
    assert response.status_code == 200
    assert "au-delà du montant accordé" in response.content.decode()
    second.refresh_from_db()
    assert second.montant_verse is None


def test_admin_records_an_instalment_inline_on_the_line(admin_client, superuser, ligne):
    url = f"/admin/financements/lignefinancement/{ligne.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    data = {
        "montant_base": "50000.00",
        "bonus_qpv_zrr": "0.00",
    }
    for context_formset in page.context["inline_admin_formsets"]:
        formset = context_formset.formset
        prefix = formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = str(formset.total_form_count())
        data[f"{prefix}-INITIAL_FORMS"] = str(formset.initial_form_count())
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
        if formset.model is Versement and formset.initial_form_count() == 0:
            data.update(
                {
                    f"{prefix}-0-numero": "2",
                    f"{prefix}-0-date_prevue": "2023-02-01",
                    f"{prefix}-0-montant_prevu": "25000",
                }
            )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Versement.objects.get(ligne=ligne, numero=2)
    assert added.montant_prevu == euros(25000)
    assert added.history.get().history_user == superuser
