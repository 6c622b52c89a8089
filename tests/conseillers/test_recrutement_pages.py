"""Recruitment pages: the list scoped by role with its filters, opening a record, the national workflow offered as the
reachable statuses only, hired ≤ granted refused with its French message, and the list's query budget. Also the
contract correction form of a post's page."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.models import Role
from conseillers.choices import StatutMiseEnRelation as S
from conseillers.models import Contrat, MiseEnRelation
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("conseillers:recrutements")
CREATE_URL = reverse("conseillers:recrutement_create")


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def statut_url(record):
    return reverse("conseillers:recrutement_statut", args=[record.uuid])


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


@pytest.fixture
def record(structure):
    return factories.MiseEnRelationFactory(structure=structure, statut=S.INTERESSEE)


# --- The list ---------------------------------------------------------------------------------------------------
def test_referent_sees_only_the_records_of_their_structure(referent_client, record, other_structure):
    factories.MiseEnRelationFactory(structure=other_structure)

    response = referent_client.get(LIST_URL)

    assert response.status_code == 200
    assert [r.pk for r in response.context["page"].object_list] == [record.pk]


def test_staff_see_every_record_and_filter_by_structure_and_status(staff_client, record, other_structure):
    other = factories.MiseEnRelationFactory(structure=other_structure)

    assert len(staff_client.get(LIST_URL).context["page"].object_list) == 2
    by_structure = staff_client.get(LIST_URL, {"structure": other_structure.uuid})
    assert [r.pk for r in by_structure.context["page"].object_list] == [other.pk]
    by_statut = staff_client.get(LIST_URL, {"statut": S.INTERESSEE})
    assert [r.pk for r in by_statut.context["page"].object_list] == [record.pk]
    by_person = staff_client.get(LIST_URL, {"conseiller": record.conseiller.uuid})
    assert [r.pk for r in by_person.context["page"].object_list] == [record.pk]


def test_list_shows_conseiller_structure_and_status(staff_client, record):
    page = text(staff_client.get(LIST_URL))
    assert record.conseiller.nom in page
    assert record.structure.nom in page
    assert "Présélectionnée" in page


def test_funder_gets_no_record_and_no_creation_form(financeur_client, record):
    response = financeur_client.get(LIST_URL)
    assert list(response.context["page"].object_list) == []
    assert "creation_form" not in response.context


def test_conseiller_profile_links_to_their_recruitment(staff_client, record):
    response = staff_client.get(reverse("conseillers:conseiller", args=[record.conseiller.uuid]))
    content = response.content.decode()
    assert reverse("conseillers:recrutement", args=[record.uuid]) in content
    assert f"{LIST_URL}?conseiller={record.conseiller.uuid}" in content


# --- Opening a record -------------------------------------------------------------------------------------------
def test_referent_opens_a_record_with_another_of_their_structures(referent_client, referent, record):
    second = factories.StructureFactory(nom="Seconde structure")
    factories.MembershipFactory(structure=second, user=referent, role=Role.REFERENT)

    response = referent_client.post(
        CREATE_URL, {"recrutement-conseiller": record.conseiller.uuid, "recrutement-structure": second.uuid}
    )

    assert response.status_code == 302
    opened = MiseEnRelation.objects.get(structure=second)
    assert (opened.conseiller, opened.statut) == (record.conseiller, S.NOUVELLE)


def test_second_record_for_the_same_pair_is_refused(referent_client, record):
    response = referent_client.post(
        CREATE_URL, {"recrutement-conseiller": record.conseiller.uuid, "recrutement-structure": record.structure.uuid}
    )

    assert response.status_code == 400
    assert "Cette candidature existe déjà pour cette structure." in text(response)
    assert list(MiseEnRelation.objects.all()) == [record]


def test_staff_open_a_record(staff_client, structure):
    conseiller = factories.ConseillerFactory()

    response = staff_client.post(
        CREATE_URL, {"recrutement-conseiller": conseiller.uuid, "recrutement-structure": structure.uuid}
    )

    record = MiseEnRelation.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("conseillers:recrutement", args=[record.uuid])
    assert (record.conseiller, record.structure, record.statut) == (conseiller, structure, S.NOUVELLE)


def test_referent_cannot_open_a_record_for_another_structure(referent_client, structure, other_structure):
    conseiller = factories.MiseEnRelationFactory(structure=structure).conseiller

    response = referent_client.post(
        CREATE_URL, {"recrutement-conseiller": conseiller.uuid, "recrutement-structure": other_structure.uuid}
    )

    assert response.status_code == 400
    assert "Choisissez une structure de la liste." in text(response)
    assert MiseEnRelation.objects.count() == 1


def test_funder_posting_a_record_gets_403(financeur_client, structure):
    conseiller = factories.ConseillerFactory()
    response = financeur_client.post(
        CREATE_URL, {"recrutement-conseiller": conseiller.uuid, "recrutement-structure": structure.uuid}
    )
    assert response.status_code == 403
    assert not MiseEnRelation.objects.exists()


# --- The workflow -----------------------------------------------------------------------------------------------
def test_record_page_offers_only_the_reachable_statuses(referent_client, record):
    response = referent_client.get(reverse("conseillers:recrutement", args=[record.uuid]))

    offered = [value for value, _label in response.context["statut_form"].fields["statut"].choices if value]
    assert offered == [S.NON_INTERESSEE, S.RECRUTEE]


def test_referent_hires_within_granted_posts(referent_client, record):
    factories.PosteFactory(structure=record.structure)

    response = referent_client.post(statut_url(record), {"statut-statut": S.RECRUTEE, "statut-date": "2024-09-02"})

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.statut, record.date_recrutement) == (S.RECRUTEE, datetime.date(2024, 9, 2))
    assert record.history.first().history_user.pk == int(referent_client.session["_auth_user_id"])


def test_hiring_beyond_granted_posts_is_refused_with_its_message(referent_client, record):
    response = referent_client.post(statut_url(record), {"statut-statut": S.RECRUTEE, "statut-date": ""})

    assert response.status_code == 400
    assert "un recrutement de plus dépasserait ses postes" in text(response)
    record.refresh_from_db()
    assert (record.statut, record.date_recrutement) == (S.INTERESSEE, None)


def test_unreachable_status_is_refused(referent_client, record):
    response = referent_client.post(statut_url(record), {"statut-statut": S.FINALISEE})

    assert response.status_code == 400
    assert "Ce changement n'est pas possible depuis « Présélectionnée »." in text(response)
    record.refresh_from_db()
    assert record.statut == S.INTERESSEE


def test_final_status_offers_no_change(staff_client, structure):
    record = factories.MiseEnRelationFactory(structure=structure, statut=S.TERMINEE)
    response = staff_client.get(reverse("conseillers:recrutement", args=[record.uuid]))
    assert "Ce statut est définitif" in text(response)


def test_referent_gets_404_on_another_structures_record(referent_client, other_structure):
    other = factories.MiseEnRelationFactory(structure=other_structure, statut=S.INTERESSEE)

    assert referent_client.get(reverse("conseillers:recrutement", args=[other.uuid])).status_code == 404
    assert referent_client.post(statut_url(other), {"statut-statut": S.NON_INTERESSEE}).status_code == 404
    other.refresh_from_db()
    assert other.statut == S.INTERESSEE


def test_recruitment_pages_need_a_login(client, record):
    for url in (LIST_URL, reverse("conseillers:recrutement", args=[record.uuid])):
        response = client.get(url)
        assert response.status_code == 302
        assert "/comptes/login/" in response.url


# --- Query budget -----------------------------------------------------------------------------------------------
def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_list_query_count_does_not_grow_with_rows(staff_client):
    factories.MiseEnRelationFactory.create_batch(2)
    with_2 = count_queries(staff_client, LIST_URL)

    factories.MiseEnRelationFactory.create_batch(18)
    with_20 = count_queries(staff_client, LIST_URL)

    assert with_2 == with_20


# --- Correcting a contract --------------------------------------------------------------------------------------
@pytest.fixture
def contrat(structure):
    poste = factories.PosteFactory(structure=structure)
    return factories.ContratFactory(
        poste=poste, type="CDD", date_debut=datetime.date(2022, 1, 1), date_fin=datetime.date(2023, 12, 31)
    )


def contrat_data(contrat, **overrides):
    data = {
        "type": contrat.type,
        "date_debut": f"{contrat.date_debut:%Y-%m-%d}",
        "date_fin": f"{contrat.date_fin:%Y-%m-%d}" if contrat.date_fin else "",
        "salaire_brut_mensuel": "2100.00",
        "cout_employeur_mensuel": "3000.00",
        "temps_plein": "on",
    }
    data.update(overrides)
    return {f"contrat-{name}": value for name, value in data.items()}


def edit_url(contrat):
    return reverse("conseillers:contrat_edit", args=[contrat.uuid])


def test_post_page_links_each_contract_to_its_correction(referent_client, contrat):
    response = referent_client.get(reverse("conseillers:poste", args=[contrat.poste.uuid]))
    assert edit_url(contrat) in response.content.decode()


def test_referent_corrects_a_contract_of_their_post(referent_client, contrat):
    assert referent_client.get(edit_url(contrat)).status_code == 200

    response = referent_client.post(edit_url(contrat), contrat_data(contrat, date_fin="2024-06-30"))

    assert response.status_code == 302
    assert response.url == reverse("conseillers:poste", args=[contrat.poste.uuid]) + "#contrats"
    contrat.refresh_from_db()
    assert (contrat.date_fin, str(contrat.salaire_brut_mensuel)) == (datetime.date(2024, 6, 30), "2100.00")


def test_cdd_without_end_date_is_refused(referent_client, contrat):
    response = referent_client.post(edit_url(contrat), contrat_data(contrat, date_fin=""))

    assert response.status_code == 400
    assert "Un contrat « CDD » doit avoir une date de fin." in text(response)
    contrat.refresh_from_db()
    assert contrat.date_fin == datetime.date(2023, 12, 31)


def test_referent_gets_404_on_another_structures_contract(referent_client, other_structure):
    other = factories.ContratFactory(poste=factories.PosteFactory(structure=other_structure))
    assert referent_client.get(edit_url(other)).status_code == 404
    assert referent_client.post(edit_url(other), contrat_data(other)).status_code == 404


def test_funder_posting_a_contract_correction_gets_403(financeur_client, contrat):
    response = financeur_client.post(edit_url(contrat), contrat_data(contrat, date_fin="2024-06-30"))
    assert response.status_code == 403
    contrat.refresh_from_db()
    assert contrat.date_fin == datetime.date(2023, 12, 31)
    assert Contrat.objects.count() == 1
