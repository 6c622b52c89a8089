"""The partner API of funding agreements (``/api/v1/conventions/``), through its URLs with real tokens: the
agreements whose beneficiary is the client's structure only, their lines and money (decimal strings in euros, the
selectors' figures), filters, synchronisation (a payment or a repayment brings the agreement back), errors in
French and a query budget that does not grow with the number of rows."""

import datetime
import uuid

import pytest
import schemathesis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, settings

from financements import selectors, services
from financements.models import Convention
from sicoval_numerique.wsgi import application
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

D = datetime.date
URL = "/api/v1/conventions/"


@pytest.fixture
def auth(mairie):
    partner, _secret = api_client_for(mairie)
    return bearer(partner)


@pytest.fixture
def funding(staff, etat, departement, mairie, make_convention):
    """The mairie's post funded by the State (V1, 50 000 €: 25 000 € paid, 25 000 € planned) and co-funded by the
    Département (10 000 € paid, 1 500 € paid back); the State's agreement with another structure; an agreement of
    the mairie in preparation."""
    poste = factories._PosteForFinancementFactory(structure=mairie)
    v1 = make_convention(financeur=etat, structure=mairie, reference="ANCT-2022-001")
    ligne = services.ligne_create(convention=v1, poste=poste, montant_base=50000, by=staff)
    first = services.versement_plan(ligne=ligne, numero=1, date_prevue=D(2022, 1, 15), montant_prevu=25000, by=staff)
    services.versement_plan(ligne=ligne, numero=2, date_prevue=D(2023, 1, 15), montant_prevu=25000, by=staff)
    services.versement_record(versement=first, date_versement=D(2022, 1, 20), montant_verse=25000, by=staff)

    cofi = make_convention(financeur=departement, structure=mairie, enveloppe="cofinancement")
    ligne_cofi = services.ligne_create(convention=cofi, poste=poste, montant_base=10000, by=staff)
    paid = services.versement_plan(ligne=ligne_cofi, numero=1, date_prevue=D(2022, 6, 1), montant_prevu=10000, by=staff)
    services.versement_record(versement=paid, date_versement=D(2022, 6, 10), montant_verse=10000, by=staff)
    services.avoir_record(ligne=ligne_cofi, date=D(2023, 2, 1), montant="1500.00", motif="vacance", by=staff)

    ailleurs = factories.StructureFactory(nom="Association voisine", secteur="prive")
    other = make_convention(financeur=etat, structure=ailleurs)
    services.ligne_create(
        convention=other,
        poste=factories._PosteForFinancementFactory(structure=ailleurs),
        montant_base=32000,
        by=staff,
    )
    draft = make_convention(
        financeur=etat, structure=mairie, enveloppe="V2", sign=False, start=D(2024, 1, 1), end=D(2026, 12, 31)
    )
    return {
        "poste": poste,
        "v1": v1,
        "ligne": ligne,
        "cofi": cofi,
        "ligne_cofi": ligne_cofi,
        "other": other,
        "ailleurs": ailleurs,
        "draft": draft,
    }


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def by_uuid(response):
    return {item["uuid"]: item for item in results(response)}


def uuids(response):
    return set(by_uuid(response))


def money(accorde, verse, reste, reverse):
    return {"accorde": accorde, "verse": verse, "reste_a_verser": reste, "reverse": reverse}


# --- reads -------------------------------------------------------------------------------------------------------
def test_list_shows_the_structures_agreements_with_lines_and_money(client, auth, funding, etat):
    items = by_uuid(client.get(URL, **auth))
    assert set(items) == {str(funding[name].uuid) for name in ("v1", "cofi", "draft")}
    v1 = items[str(funding["v1"].uuid)]
    assert v1 | {"created_at": None, "updated_at": None} == {
        "uuid": str(funding["v1"].uuid),
        "reference": "ANCT-2022-001",
        "financeur": {"uuid": str(etat.uuid), "nom": "État (ANCT)", "type": "etat"},
        "enveloppe": "V1",
        "phase": None,
        "statut": "signee",
        "date_signature": "2022-01-01",
        "date_debut": "2022-01-01",
        "date_fin": "2023-12-31",
        "date_debut_financement": "2022-01-01",
        "date_fin_financement": "2023-12-31",
        "montants": money("50000.00", "25000.00", "25000.00", "0.00"),
        "lignes": [
            {
                "uuid": str(funding["ligne"].uuid),
                "poste": str(funding["poste"].uuid),
                "montant_base": "50000.00",
                "bonus_qpv_zrr": "0.00",
                "montants": money("50000.00", "25000.00", "25000.00", "0.00"),
            }
        ],
        "created_at": None,
        "updated_at": None,
    }
    cofi = items[str(funding["cofi"].uuid)]
    assert cofi["montants"] == money("10000.00", "10000.00", "0.00", "1500.00")
    assert cofi["financeur"]["nom"] == "Département de la Haute-Garonne"
    draft = items[str(funding["draft"].uuid)]
    assert (draft["statut"], draft["lignes"], draft["montants"]) == (
        "en_preparation",
        [],
        money("0.00", "0.00", "0.00", "0.00"),
    )


def test_the_amounts_are_those_of_the_financements_selectors(client, auth, funding, mairie):
    today = timezone.localdate()
    expected = selectors.figures_by_convention(
        lignes_queryset=selectors.LigneFinancement.objects.filter(convention__structure=mairie), on_date=today
    )
    for item in results(client.get(URL, **auth)):
        convention = Convention.objects.get(uuid=item["uuid"])
        figures = expected.get(convention.pk, selectors.Figures())
        assert item["montants"] == money(
            str(figures.agreed), str(figures.paid), str(figures.remaining), str(figures.repaid)
        )


def test_retrieve_an_agreement(client, auth, funding):
    response = client.get(f"{URL}{funding['cofi'].uuid}/", **auth)
    assert response.status_code == 200
    data = response.json()
    assert data["lignes"][0]["montants"] == money("10000.00", "10000.00", "0.00", "1500.00")


def test_another_structures_agreement_is_absent_and_answers_404(client, auth, funding):
    assert str(funding["other"].uuid) not in uuids(client.get(URL, **auth))
    assert client.get(f"{URL}{funding['other'].uuid}/", **auth).status_code == 404
    assert client.get(f"{URL}{uuid.uuid4()}/", **auth).status_code == 404


def test_a_funders_client_reads_none_of_the_agreements_it_funds(client, funding, departement):
    """The Département's members read its agreements on the web pages; its API client reads only the agreements of
    which its own structure is the beneficiary."""
    structure = factories.StructureFactory(nom="Département de la Haute-Garonne", type_juridique="departement")
    departement.structure = structure
    departement.save()
    partner, _secret = api_client_for(structure)
    assert results(client.get(URL, **bearer(partner))) == []
    assert client.get(f"{URL}{funding['cofi'].uuid}/", **bearer(partner)).status_code == 404


def test_the_other_structure_reads_its_own_agreement_only(client, funding):
    partner, _secret = api_client_for(funding["ailleurs"])
    items = results(client.get(URL, **bearer(partner)))
    assert [(item["uuid"], item["montants"]["accorde"]) for item in items] == [(str(funding["other"].uuid), "32000.00")]


def test_no_comment_of_a_repayment_and_no_employment_data(client, auth, funding, staff):
    services.avoir_record(
        ligne=funding["ligne"],
        date=D(2023, 3, 1),
        montant="100.00",
        motif="autre",
        commentaire="Note interne",
        by=staff,
    )
    body = client.get(URL, **auth).content.decode()
    assert "Note interne" not in body
    assert "salaire" not in body and "cout_employeur" not in body


# --- authentication and scopes -----------------------------------------------------------------------------------
def test_without_a_token_answers_401(client, funding):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}{funding['v1'].uuid}/").status_code == 401


def test_a_token_without_the_postes_scope_answers_403(client, mairie, funding):
    partner, _secret = api_client_for(mairie)
    response = client.get(URL, **bearer(partner, ["activites:read", "lieux:read"]))
    assert response.status_code == 403
    assert "postes:read" in response.json()["detail"]


def test_agreements_are_read_only(client, auth, funding):
    assert client.post(URL, {}, **auth).status_code == 405
    assert client.delete(f"{URL}{funding['v1'].uuid}/", **auth).status_code == 405


# --- filters -----------------------------------------------------------------------------------------------------
def test_filter_by_status_and_envelope(client, auth, funding):
    assert uuids(client.get(URL, {"statut": "en_preparation"}, **auth)) == {str(funding["draft"].uuid)}
    assert uuids(client.get(URL, {"statut": "signee"}, **auth)) == {str(funding[n].uuid) for n in ("v1", "cofi")}
    assert uuids(client.get(URL, {"enveloppe": "cofinancement"}, **auth)) == {str(funding["cofi"].uuid)}
    assert uuids(client.get(URL, {"statut": "soldee"}, **auth)) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"statut": "payee"}, "statut"),
        ({"statut": ""}, "statut"),
        ({"enveloppe": "V3"}, "enveloppe"),
        ({"modified_since": "2026-13-01"}, "modified_since"),
        ({"ordering": "montant"}, "ordering"),
        ({"taille": "-1"}, "taille"),
        ({"modified_since": ""}, "modified_since"),
    ],
)
def test_a_bad_parameter_answers_400_in_french(client, auth, funding, params, field):
    response = client.get(URL, params, **auth)
    assert response.status_code == 400, response.content
    message = str(response.json()[field])
    assert any(word in message for word in ("Sélectionnez", "Saisissez", "Tri", "taille", "vide")), message


def test_any_iso_8601_offset_is_accepted_and_an_impossible_date_refused(client, auth):
    """PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows: the date is compared in UTC."""
    assert client.get(URL, {"modified_since": "2026-01-01T00:00:00+22:38"}, **auth).status_code == 200
    response = client.get(URL, {"modified_since": "0001-01-01T00:00:00+05:00"}, **auth)
    assert response.status_code == 400
    assert response.json()["modified_since"] == ["Date hors des limites du calendrier."]


# --- synchronisation ---------------------------------------------------------------------------------------------
def test_a_payment_a_repayment_or_a_new_line_brings_the_agreement_back(client, auth, funding, staff, mairie):
    since = timezone.now().isoformat()
    assert uuids(client.get(URL, {"modified_since": since}, **auth)) == set()

    second = funding["ligne"].versements.get(numero=2)
    services.versement_record(versement=second, date_versement=D(2023, 1, 20), montant_verse=25000, by=staff)
    items = results(client.get(URL, {"modified_since": since}, **auth))
    assert [(item["uuid"], item["montants"]["verse"]) for item in items] == [(str(funding["v1"].uuid), "50000.00")]

    since = timezone.now().isoformat()
    services.avoir_record(ligne=funding["ligne_cofi"], date=D(2023, 3, 1), montant="500.00", motif="autre", by=staff)
    assert uuids(client.get(URL, {"modified_since": since}, **auth)) == {str(funding["cofi"].uuid)}

    since = timezone.now().isoformat()
    poste = factories._PosteForFinancementFactory(structure=mairie)
    services.ligne_create(convention=funding["draft"], poste=poste, montant_base=42500, by=staff)
    assert uuids(client.get(URL, {"modified_since": since}, **auth)) == {str(funding["draft"].uuid)}


def test_cursor_pagination_with_modified_since(client, auth, mairie, etat, make_convention):
    base = timezone.now() - datetime.timedelta(days=10)
    created = [make_convention(financeur=etat, structure=mairie, sign=False) for _ in range(5)]
    for index, convention in enumerate(created):
        Convention.objects.filter(pk=convention.pk).update(updated_at=base + datetime.timedelta(days=index))
    seen, url, params = [], URL, {"modified_since": (base + datetime.timedelta(days=2)).isoformat(), "taille": 2}
    while url:
        page = client.get(url, params, **auth).json()
        assert len(page["results"]) <= 2
        seen += [item["uuid"] for item in page["results"]]
        url, params = page["next"], None
    assert seen == [str(convention.uuid) for convention in created[2:]]


# --- query budget ------------------------------------------------------------------------------------------------
def _queries(client, auth):
    client.get(URL, **auth)  # the client's "last used" date is written at most every 5 minutes: not measured
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL, {"taille": 50}, **auth)
    assert response.status_code == 200
    return len(response.json()["results"]), len(context.captured_queries)


def test_the_list_runs_the_same_queries_at_2_and_50_rows(client, auth, mairie, etat, staff, make_convention):
    def add(count):
        for _ in range(count):
            convention = make_convention(financeur=etat, structure=mairie)
            poste = factories._PosteForFinancementFactory(structure=mairie)
            ligne = services.ligne_create(convention=convention, poste=poste, montant_base=50000, by=staff)
            versement = services.versement_plan(
                ligne=ligne, numero=1, date_prevue=D(2022, 2, 1), montant_prevu=1000, by=staff
            )
            services.versement_record(versement=versement, date_versement=D(2022, 2, 1), montant_verse=1000, by=staff)
            services.avoir_record(ligne=ligne, date=D(2022, 3, 1), montant="10.00", motif="autre", by=staff)

    add(2)
    rows_2, queries_2 = _queries(client, auth)
    add(48)
    rows_50, queries_50 = _queries(client, auth)
    assert (rows_2, rows_50) == (2, 50)
    assert queries_2 == queries_50 <= 6


# --- contract fuzzing with a real token --------------------------------------------------------------------------
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(tag="conventions")


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_a_token_the_api_honours_its_schema(case, auth, funding, keep_test_connection):
    """Generated parameters answer 200, 400 or 404 as documented: never 5xx."""
    case.call_and_validate(headers={"Authorization": auth["HTTP_AUTHORIZATION"]})
