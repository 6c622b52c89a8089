"""Back-office pages of the funding: the overview's figures equal the selectors' to the cent, scoping of référents and
funders, every staff form's happy path and its refusal (400, a French message, nothing written), and query counts
independent of the number of agreements."""

import datetime
import html
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.models import Role
from financements import selectors, services
from financements.models import Avoir, Convention, Financeur, LigneFinancement, Versement
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
ON = D(2024, 12, 31)
NBSP = "\u00a0"


# --- Helpers -------------------------------------------------------------------------------------------------------
def text(response):
    return html.unescape(response.content.decode())


def squash(value):
    """Collapse the layout's white space, keeping the no-break spaces the pages write in amounts."""
    return re.sub(r"[ \t\r\n]+", " ", value).strip()


def plain_text(response):
    return squash(strip_tags(text(response)))


def fr(amount):
    """The amount as the pages write it: ``fr(50000)`` → « 50 000,00 € » with no-break spaces."""
    return services.euros(amount)


class _Tables(HTMLParser):
    """{caption: [[cell text, …] per body row]} of the tables of a page."""

    def __init__(self):
        super().__init__()
        self.tables, self._caption, self._rows, self._cell, self._in = {}, None, None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in = "caption"
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in = None
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(squash(self._cell))
            self._cell = None
        elif tag == "table":
            self.tables[squash(self._caption)] = [row for row in self._rows[1:] if row]
            self._rows = None

    def handle_data(self, data):
        if self._in == "caption":
            self._caption += data
        elif self._cell is not None:
            self._cell += data


def tables(response):
    parser = _Tables()
    parser.feed(text(response))
    return parser.tables


def table(response, caption_start):
    found = [rows for caption, rows in tables(response).items() if caption.startswith(caption_start)]
    assert found, f"aucun tableau « {caption_start} » dans {list(tables(response))}"
    return found[0]


def row_of(rows, name):
    matching = [row for row in rows if row[0] == name]
    assert matching, f"aucune ligne « {name} » dans {rows}"
    return matching[0]


def login(client, user):
    client.force_login(user)
    return client


def detail_url(convention):
    return reverse("financements:convention_detail", args=[convention.uuid])


def overview(client, **params):
    return client.get(reverse("financements:overview"), params)


def snapshot():
    """Every money row, to prove that a refused form wrote nothing."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Financeur, Convention, LigneFinancement, Versement, Avoir)
    ]


# --- Data ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def territory(staff, etat, departement, mairie, make_convention):
    """The mairie's post co-funded by the State (V1, 50 000 € in two instalments, the second overdue) and the
    Département (10 000 €, 1 500 € paid back); a QPV structure's post on a V2 agreement (50 000 € over three
    years, the first paid)."""
    quartier = factories.StructureFactory(nom="Centre social du Mirail", secteur="public", qpv=True)
    p1 = factories._PosteForFinancementFactory(structure=mairie)
    p2 = factories._PosteForFinancementFactory(structure=quartier)

    v1 = make_convention(financeur=etat, structure=mairie, reference="V1-LABEGE")
    l1 = services.ligne_create(convention=v1, poste=p1, by=staff)
    e1 = services.versement_plan(ligne=l1, numero=1, date_prevue=D(2022, 1, 15), montant_prevu=25000, by=staff)
    e2 = services.versement_plan(ligne=l1, numero=2, date_prevue=D(2023, 1, 15), montant_prevu=25000, by=staff)
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
    return {
        "mairie": mairie,
        "quartier": quartier,
        "p1": p1,
        "p2": p2,
        "v1": v1,
        "cofi": cofi,
        "v2": v2,
        "l1": l1,
        "l2": l2,
        "l3": l3,
        "e2": e2,
    }


@pytest.fixture
def staff_client(client, staff):
    return login(client, staff)


@pytest.fixture
def referent_client(client, territory):
    referent = factories.MembershipFactory(structure=territory["quartier"], role=Role.REFERENT).user
    return login(client, referent)


@pytest.fixture
def departement_client(client, departement, territory):
    """A member of the Département's structure on the platform, with the funder role."""
    structure = factories.StructureFactory(nom="Conseil départemental")
    departement.structure = structure
    departement.save()
    member = factories.MembershipFactory(structure=structure, role=Role.FINANCEUR).user
    return login(client, member)


# --- Overview ------------------------------------------------------------------------------------------------------
def test_overview_totals_equal_the_selectors_to_the_cent(staff_client, territory):
    response = overview(staff_client, on_date="2024-12-31")
    assert response.status_code == 200
    expected = selectors.figures_territoire(on_date=ON)
    assert response.context["totals"] == expected
    # 110 000 agreed, 55 000 paid, 1 500 repaid, two overdue instalments (25 000 + 17 500).
    assert (expected.agreed, expected.paid, expected.repaid) == (Decimal("110000.00"), Decimal("55000.00"), 1500)
    assert (expected.overdue, expected.overdue_count) == (Decimal("42500.00"), 2)
    page = plain_text(response)
    for amount in (expected.agreed, expected.paid, expected.remaining, expected.repaid, expected.net, expected.overdue):
        assert fr(amount) in page
    assert f"50{NBSP}000,00{NBSP}€" in page  # French grouping with no-break spaces


def test_overview_rows_per_funder_and_structure_equal_the_selectors(staff_client, territory, etat, departement):
    response = overview(staff_client, on_date="2024-12-31")
    lignes = LigneFinancement.objects.all()
    by_financeur = selectors.figures_by_financeur(lignes_queryset=lignes, on_date=ON)
    by_structure = selectors.figures_by_structure(lignes_queryset=lignes, on_date=ON)

    rows = table(response, "Montants par financeur")
    for financeur in (etat, departement):
        expected = by_financeur[financeur.pk]
        row = row_of(rows, financeur.nom)
        assert row[1:4] == [fr(expected.agreed), fr(expected.paid), fr(expected.remaining)]
    assert row_of(rows, etat.nom)[4] == f"En retard {fr(42500)} (2 échéances)"
    assert row_of(rows, departement.nom)[4] == "À jour"

    rows = table(response, "Montants par structure")
    for structure in (territory["mairie"], territory["quartier"]):
        expected = by_structure[structure.pk]
        row = row_of(rows, structure.nom)
        assert row[1:4] == [fr(expected.agreed), fr(expected.paid), fr(expected.remaining)]
        assert row[4] == f"En retard {fr(expected.overdue)} (1 échéance)"


def test_overview_lists_overdue_instalments_with_links(staff_client, territory):
    response = overview(staff_client, on_date="2024-12-31")
    rows = table(response, "Échéances prévues avant le")
    assert [row[:2] for row in rows] == [["15/01/2023 En retard", fr(25000)], ["01/07/2024 En retard", fr(17500)]]
    assert f'href="{detail_url(territory["v1"])}#lignes"' in text(response)


def test_overview_date_changes_the_figures(staff_client, territory):
    """On 1 January 2023 only the State's V1 first instalment and the Département's were paid; nothing overdue."""
    response = overview(staff_client, on_date="2023-01-01")
    totals = response.context["totals"]
    assert (totals.paid, totals.overdue_count) == (Decimal("35000.00"), 0)
    assert "Aucune échéance en retard" in plain_text(response)


def test_overview_defaults_to_today_and_the_current_calendar_year(staff_client, territory):
    response = overview(staff_client)
    today = datetime.date.today()
    assert response.context["on_date"] == today
    assert (response.context["cost_start"], response.context["cost_end"]) == (
        D(today.year, 1, 1),
        D(today.year, 12, 31),
    )


def test_overview_employer_cost_of_a_structure_equals_the_selector(staff_client, territory):
    mairie = territory["mairie"]
    factories._ContratForFinancementFactory(poste=territory["p1"])
    response = overview(staff_client, start="2022-01-01", end="2022-12-31", structure=str(mairie.uuid))
    expected = selectors.employer_remaining_cost(start=D(2022, 1, 1), end=D(2022, 12, 31), structure=mairie)
    assert response.context["cost"] == expected
    block = plain_text(response).split("Reste à charge de l'employeur")[1]
    for label, amount in (("Coût employeur", expected.cost), ("Subventions", expected.subsidies)):
        assert re.search(f"{label} ?{fr(amount)}", block)
    assert re.search(f"Reste à charge ?{fr(expected.remaining)}", block)


def test_overview_refuses_a_period_ending_before_it_starts(staff_client, territory):
    response = overview(staff_client, start="2024-12-31", end="2024-01-01")
    assert response.status_code == 200
    assert "La fin de la période doit suivre son début." in plain_text(response)


def test_referent_overview_shows_only_their_structure(referent_client, territory, departement):
    response = overview(referent_client, on_date="2024-12-31")
    assert response.status_code == 200
    page = plain_text(response)
    assert territory["quartier"].nom in page
    assert territory["mairie"].nom not in page
    assert departement.nom not in page
    assert response.context["totals"] == selectors.figures(
        lignes_queryset=LigneFinancement.objects.filter(convention=territory["v2"]), on_date=ON
    )
    assert [row[1] for row in table(response, "Échéances prévues avant le")] == [fr(17500)]
    # Their own employer cost, never the territory's nor another structure's.
    assert response.context["cost_structure"] == territory["quartier"]
    other = overview(referent_client, structure=str(territory["mairie"].uuid))
    assert other.context["cost_structure"] == territory["quartier"]
    assert "Cette structure n'est pas dans la liste." in plain_text(other)


def test_funder_member_sees_only_their_funders_conventions(departement_client, territory, etat):
    response = overview(departement_client, on_date="2024-12-31")
    assert etat.nom not in plain_text(response)
    assert response.context["totals"].agreed == Decimal("10000.00")
    assert "Reste à charge de l'employeur" not in plain_text(response)

    response = departement_client.get(reverse("financements:conventions"))
    assert [c.pk for c in response.context["page"].object_list] == [territory["cofi"].pk]
    assert departement_client.get(detail_url(territory["v1"])).status_code == 404
    assert departement_client.get(detail_url(territory["cofi"])).status_code == 200


def test_users_without_a_funding_role_get_403(client, territory):
    conseiller = factories.MembershipFactory(structure=territory["mairie"], role=Role.CONSEILLER).user
    login(client, conseiller)
    assert overview(client).status_code == 403
    assert client.get(reverse("financements:conventions")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = overview(client)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_navigation_offers_the_funding_to_staff_referents_and_funders(staff_client, territory):
    assert f'href="{reverse("financements:overview")}"' in text(staff_client.get(reverse("dashboard")))


# --- Agreements: list and page -------------------------------------------------------------------------------------
def test_convention_list_filters(staff_client, territory, etat, departement):
    url = reverse("financements:conventions")

    def listed(**params):
        return {c.pk for c in staff_client.get(url, params).context["page"].object_list}

    assert listed() == {territory["v1"].pk, territory["cofi"].pk, territory["v2"].pk}
    assert listed(financeur=str(departement.uuid)) == {territory["cofi"].pk}
    assert listed(structure=str(territory["quartier"].uuid)) == {territory["v2"].pk}
    assert listed(enveloppe="V1") == {territory["v1"].pk}
    assert listed(statut="signee", financeur=str(etat.uuid)) == {territory["v1"].pk, territory["v2"].pk}


def test_convention_page_shows_lines_instalments_repayments_and_history(staff_client, staff, territory):
    response = staff_client.get(detail_url(territory["v1"]))
    assert response.status_code == 200
    page = plain_text(response)
    assert "V1-LABEGE" in page
    lines = table(response, "Montants par poste financé")
    assert len(lines) == 1
    assert lines[0][3] == fr(50000)
    instalments = table(response, "Échéances de la ligne")
    assert [row[3] for row in instalments] == ["Versé", "En retard"]
    history = table(response, "Les 30 dernières modifications")
    author = staff.get_full_name()
    assert all(row[1] == author for row in history)
    assert any(row[2] == "Convention" and "Statut : En préparation → Signée" in row[3] for row in history)
    assert any(f"Montant versé (€) : — → {fr(25000)}" in row[3] for row in history)

    cofi = staff_client.get(detail_url(territory["cofi"]))
    assert table(cofi, "Avoirs de la convention")[0][2:4] == [fr(1500), "Poste vacant"]


def test_referent_gets_404_on_another_structures_funding(referent_client, territory):
    assert referent_client.get(detail_url(territory["v1"])).status_code == 404
    assert referent_client.get(detail_url(territory["v2"])).status_code == 200
    versement = Versement.objects.filter(ligne=territory["l1"]).first()
    assert referent_client.get(reverse("financements:versement_record", args=[versement.uuid])).status_code == 404
    assert referent_client.get(reverse("financements:avoir_record", args=[territory["l1"].uuid])).status_code == 404


def test_referent_reads_but_cannot_write(referent_client, territory):
    v2 = territory["v2"]
    response = referent_client.get(detail_url(v2))
    assert "Modifier la convention" not in plain_text(response)
    assert referent_client.get(reverse("financements:convention_edit", args=[v2.uuid])).status_code == 403
    assert referent_client.get(reverse("financements:convention_create")).status_code == 403
    assert referent_client.get(reverse("financements:financeurs")).status_code == 403
    before = snapshot()
    response = referent_client.post(
        reverse("financements:convention_statut", args=[v2.uuid]), {"statut-statut": "soldee"}
    )
    assert response.status_code == 403
    assert snapshot() == before


# --- Staff forms ---------------------------------------------------------------------------------------------------
def test_staff_creates_a_funder(staff_client):
    response = staff_client.post(
        reverse("financements:financeur_create"), {"nom": "AG2R La Mondiale", "type": "organisme_social"}
    )
    assert response.status_code == 302
    assert Financeur.objects.get(nom="AG2R La Mondiale").type == "organisme_social"
    listing = staff_client.get(reverse("financements:financeurs"))
    assert "AG2R La Mondiale" in plain_text(listing)


def test_funder_with_an_existing_name_is_refused(staff_client, etat):
    before = snapshot()
    response = staff_client.post(reverse("financements:financeur_create"), {"nom": etat.nom, "type": "etat"})
    assert response.status_code == 400
    assert "existe déjà" in plain_text(response)
    assert snapshot() == before


def convention_data(financeur, structure, **overrides):
    data = {
        "financeur": str(financeur.uuid),
        "structure": str(structure.uuid),
        "enveloppe": "V1",
        "phase": "1",
        "reference": "CONV-2025-01",
        "date_debut": "2025-01-01",
        "date_fin": "2026-12-31",
        "date_debut_financement": "2025-01-01",
        "date_fin_financement": "2026-12-31",
    }
    data.update(overrides)
    return data


def test_staff_records_a_convention(staff_client, staff, etat, mairie):
    response = staff_client.post(reverse("financements:convention_create"), convention_data(etat, mairie))
    convention = Convention.objects.get(reference="CONV-2025-01")
    assert response.status_code == 302
    assert response["Location"] == detail_url(convention)
    assert (convention.statut, convention.date_fin_financement) == ("en_preparation", D(2026, 12, 31))
    assert convention.history.first().history_user == staff
    assert "La convention est enregistrée" in plain_text(staff_client.get(response["Location"]))


def test_convention_ending_before_it_starts_is_refused(staff_client, etat, mairie):
    before = snapshot()
    data = convention_data(etat, mairie, date_fin="2024-06-30", date_fin_financement="2024-06-30")
    response = staff_client.post(reverse("financements:convention_create"), data)
    assert response.status_code == 400
    assert "La fin de la convention doit suivre son début." in plain_text(response)
    assert snapshot() == before


def test_staff_edits_a_convention(staff_client, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    url = reverse("financements:convention_edit", args=[convention.uuid])
    assert staff_client.get(url).status_code == 200
    data = convention_data(etat, mairie, reference="NOUVELLE-REF", date_debut="2022-01-01", date_fin="2023-12-31")
    data.update(date_debut_financement="2022-01-01", date_fin_financement="2023-12-31")
    assert staff_client.post(url, data).status_code == 302
    convention.refresh_from_db()
    assert convention.reference == "NOUVELLE-REF"


def test_financing_outside_the_convention_is_refused_on_edit(staff_client, territory, etat, mairie):
    v1 = territory["v1"]
    before = snapshot()
    data = convention_data(etat, mairie, date_debut="2022-01-01", date_fin="2023-12-31")
    data.update(date_debut_financement="2022-01-01", date_fin_financement="2024-06-30")
    response = staff_client.post(reverse("financements:convention_edit", args=[v1.uuid]), data)
    assert response.status_code == 400
    assert "ne peut pas se prolonger après la fin de la convention" in plain_text(response)
    assert snapshot() == before


def test_staff_signs_a_convention(staff_client, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    url = reverse("financements:convention_sign", args=[convention.uuid])
    response = staff_client.post(url, {"signature-date_signature": "2022-02-01"})
    assert response.status_code == 302
    convention.refresh_from_db()
    assert (convention.statut, convention.date_signature) == ("signee", D(2022, 2, 1))


def test_signature_in_the_future_is_refused(staff_client, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    before = snapshot()
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    url = reverse("financements:convention_sign", args=[convention.uuid])
    response = staff_client.post(url, {"signature-date_signature": tomorrow.isoformat()})
    assert response.status_code == 400
    assert "La date de signature ne peut pas être dans le futur." in plain_text(response)
    assert snapshot() == before


def test_staff_closes_a_signed_convention(staff_client, territory):
    v1 = territory["v1"]
    response = staff_client.post(reverse("financements:convention_statut", args=[v1.uuid]), {"statut-statut": "soldee"})
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.statut == "soldee"


def test_closing_an_unsigned_convention_is_refused(staff_client, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    before = snapshot()
    url = reverse("financements:convention_statut", args=[convention.uuid])
    response = staff_client.post(url, {"statut-statut": "soldee"})
    assert response.status_code == 400
    assert "Ce changement n'est pas possible depuis le statut « En préparation »." in plain_text(response)
    assert snapshot() == before


def test_staff_adds_a_line_prefilled_from_the_bareme(staff_client, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    url = reverse("financements:ligne_create", args=[convention.uuid])
    form_page = staff_client.get(url)
    assert "Laissez vide pour reprendre le montant du barème" in plain_text(form_page)
    response = staff_client.post(url, {"poste": str(poste.uuid), "montant_base": "", "bonus_qpv_zrr": ""})
    assert response.status_code == 302
    ligne = LigneFinancement.objects.get(convention=convention)
    assert (ligne.poste, ligne.montant_total, ligne.bareme.code) == (poste, Decimal("50000.00"), "v1-public")


def test_line_with_a_negative_amount_is_refused(staff_client, departement, mairie, poste, make_convention):
    convention = make_convention(financeur=departement, structure=mairie, enveloppe="cofinancement")
    before = snapshot()
    url = reverse("financements:ligne_create", args=[convention.uuid])
    response = staff_client.post(url, {"poste": str(poste.uuid), "montant_base": "-5 000,00"})
    assert response.status_code == 400
    assert "Le montant de base ne peut pas être négatif." in plain_text(response)
    assert snapshot() == before


def test_line_for_a_post_of_another_structure_is_refused(staff_client, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    other = factories._PosteForFinancementFactory()
    before = snapshot()
    response = staff_client.post(
        reverse("financements:ligne_create", args=[convention.uuid]), {"poste": str(other.uuid)}
    )
    assert response.status_code == 400
    assert "Ce poste n'est pas un poste de la structure bénéficiaire." in plain_text(response)
    assert snapshot() == before


def test_staff_plans_an_instalment_within_the_financing(staff_client, etat, mairie, poste, make_convention, staff):
    convention = make_convention(financeur=etat, structure=mairie)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    url = reverse("financements:versement_plan", args=[ligne.uuid])
    assert staff_client.get(url).context["form"].initial["numero"] == 1
    response = staff_client.post(url, {"numero": "1", "date_prevue": "2022-03-01", "montant_prevu": "25 000,00"})
    assert response.status_code == 302
    versement = ligne.versements.get()
    assert (versement.date_prevue, versement.montant_prevu) == (D(2022, 3, 1), Decimal("25000.00"))


def test_instalment_after_the_convention_end_is_refused(staff_client, territory):
    ligne = territory["l1"]
    before = snapshot()
    url = reverse("financements:versement_plan", args=[ligne.uuid])
    response = staff_client.post(url, {"numero": "3", "date_prevue": "2024-03-01", "montant_prevu": "100"})
    assert response.status_code == 400
    assert "Impossible de prévoir une échéance après la fin de la convention" in plain_text(response)
    assert snapshot() == before


def test_staff_records_a_payment(staff_client, territory):
    e2 = territory["e2"]
    url = reverse("financements:versement_record", args=[e2.uuid])
    assert staff_client.get(url).context["form"].initial["montant_verse"] == Decimal("25000.00")
    response = staff_client.post(url, {"date_versement": "2023-02-01", "montant_verse": "25000"})
    assert response.status_code == 302
    e2.refresh_from_db()
    assert (e2.date_versement, e2.montant_verse) == (D(2023, 2, 1), Decimal("25000.00"))


def test_overpayment_is_refused(staff_client, territory):
    before = snapshot()
    url = reverse("financements:versement_record", args=[territory["e2"].uuid])
    response = staff_client.post(url, {"date_versement": "2023-02-01", "montant_verse": "25000,01"})
    assert response.status_code == 400
    assert "au-delà du montant accordé sur la ligne" in plain_text(response)
    assert snapshot() == before


def test_payment_on_an_unsigned_convention_is_refused(staff_client, staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    versement = services.versement_plan(ligne=ligne, numero=1, date_prevue=D(2022, 3, 1), montant_prevu=1000, by=staff)
    before = snapshot()
    url = reverse("financements:versement_record", args=[versement.uuid])
    response = staff_client.post(url, {"date_versement": "2022-03-01", "montant_verse": "1000"})
    assert response.status_code == 400
    assert "Un versement s'enregistre sur une convention signée (celle-ci est en préparation)." in plain_text(response)
    assert snapshot() == before


def test_staff_records_a_repayment(staff_client, territory):
    url = reverse("financements:avoir_record", args=[territory["l1"].uuid])
    response = staff_client.post(
        url, {"date": "2024-01-10", "montant": "2 000,50", "motif": "rupture", "commentaire": "Rupture en mars."}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#avoirs")
    avoir = Avoir.objects.get(ligne=territory["l1"])
    assert (avoir.montant, avoir.motif) == (Decimal("2000.50"), "rupture")


def test_repayment_above_what_was_paid_is_refused(staff_client, territory):
    before = snapshot()
    url = reverse("financements:avoir_record", args=[territory["l1"].uuid])
    response = staff_client.post(url, {"date": "2024-01-10", "montant": "25000,01", "motif": "rupture"})
    assert response.status_code == 400
    assert "dépasse ce qui reste versé sur la ligne" in plain_text(response)
    assert snapshot() == before


def test_staff_plans_the_three_v2_instalments(staff_client, staff, etat, make_convention):
    quartier = factories.StructureFactory(secteur="public", qpv=True)
    poste = factories._PosteForFinancementFactory(structure=quartier)
    v2 = make_convention(financeur=etat, structure=quartier, enveloppe="V2", start=D(2023, 7, 1), end=D(2026, 6, 30))
    ligne = services.ligne_create(convention=v2, poste=poste, by=staff)
    assert "Prévoir les 3 échéances V2" in plain_text(staff_client.get(detail_url(v2)))
    response = staff_client.post(reverse("financements:versements_plan_v2", args=[ligne.uuid]))
    assert response.status_code == 302
    assert [v.montant_prevu for v in ligne.versements.order_by("numero")] == [20000, 17500, 12500]


def test_v2_schedule_on_a_v1_line_is_refused(staff_client, territory):
    before = snapshot()
    response = staff_client.post(reverse("financements:versements_plan_v2", args=[territory["l1"].uuid]))
    assert response.status_code == 400
    assert "Le calendrier annuel ne concerne que les conventions V2." in plain_text(response)
    assert snapshot() == before


def test_forms_only_accept_post_where_they_write(staff_client, territory):
    assert staff_client.get(reverse("financements:convention_sign", args=[territory["v1"].uuid])).status_code == 405
    assert staff_client.get(reverse("financements:versements_plan_v2", args=[territory["l3"].uuid])).status_code == 405


# --- Query budget --------------------------------------------------------------------------------------------------
def _funded_conventions(staff, count):
    for _ in range(count):
        ligne = factories.LigneFinancementFactory(convention__financeur=factories.FinanceurFactory())
        convention = ligne.convention
        convention.statut, convention.date_signature = "signee", convention.date_debut
        convention.save()
        factories.VersementFactory(ligne=ligne, date_prevue=D(2022, 6, 1))
        factories.VersementFactory(
            ligne=ligne, date_prevue=D(2022, 9, 1), date_versement=D(2022, 9, 2), montant_verse=1000
        )


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url_name", ["financements:overview", "financements:conventions", "financements:financeurs"])
def test_query_count_does_not_grow_with_the_number_of_conventions(staff_client, staff, url_name):
    url = reverse(url_name)
    params = {"on_date": "2024-12-31"}
    _funded_conventions(staff, 2)
    small = _queries(staff_client, url, params)
    _funded_conventions(staff, 18)
    assert Convention.objects.count() == 20
    assert _queries(staff_client, url, params) == small


def test_referent_overview_query_count_does_not_grow(referent_client, territory):
    url = reverse("financements:overview")
    small = _queries(referent_client, url)
    for _ in range(5):
        ligne = factories.LigneFinancementFactory(convention__structure=territory["quartier"])
        factories.VersementFactory(ligne=ligne)
    assert _queries(referent_client, url) == small


def test_convention_page_query_count_does_not_grow_with_its_lines(staff_client, staff, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, enveloppe="cofinancement")

    def add_line():
        poste = factories._PosteForFinancementFactory(structure=mairie)
        ligne = services.ligne_create(convention=convention, poste=poste, montant_base=1000, by=staff)
        versement = services.versement_plan(
            ligne=ligne, numero=1, date_prevue=D(2022, 2, 1), montant_prevu=500, by=staff
        )
        services.versement_record(versement=versement, date_versement=D(2022, 2, 2), montant_verse=500, by=staff)
        services.avoir_record(ligne=ligne, date=D(2022, 3, 1), montant=100, motif="autre", by=staff)

    add_line()
    small = _queries(staff_client, detail_url(convention))
    for _ in range(5):
        add_line()
    assert _queries(staff_client, detail_url(convention)) == small
