"""Back-office pages of posts and conseillers: scoping by role, the board's counts at a date and its exports, the
forms of a post's page and of a conseiller (happy path and refused input), and the query budgets of the lists."""

import csv
import datetime
import html
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from openpyxl import load_workbook

from accounts.models import Role
from conseillers import services
from conseillers.models import Affectation, Conseiller, Contrat, Formation, Poste
from tests import factories

pytestmark = pytest.mark.django_db

ATTRIBUTION = datetime.date(2021, 6, 1)
START = datetime.date(2022, 1, 1)


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def poste_url(poste, action=""):
    name = action if action.startswith("contrat") else f"poste_{action}" if action else "poste"
    return reverse(f"conseillers:{name}", args=[poste.uuid])


@pytest.fixture
def staff_member(db):
    return factories.StaffUserFactory()


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client


@pytest.fixture
def referent_client(client, referent):
    client.force_login(referent)
    return client


@pytest.fixture
def financeur_client(client):
    client.force_login(factories.MembershipFactory(role=Role.FINANCEUR).user)
    return client


@pytest.fixture
def poste(structure):
    return factories.PosteFactory(structure=structure, date_attribution=ATTRIBUTION)


@pytest.fixture
def other_poste(db):
    return factories.PosteFactory(structure=factories.StructureFactory(nom="Mairie d'ailleurs"))


def occupy(poste, by, *, date=START, conseiller=None, contrat=True):
    conseiller = conseiller or factories.ConseillerFactory()
    services.poste_assign(poste=poste, conseiller=conseiller, date=date, by=by)
    if contrat:
        factories.ContratFactory(conseiller=conseiller, poste=poste, date_debut=date, date_fin=date.replace(year=2030))
    return conseiller


# --- Pages answer -----------------------------------------------------------------------------------------------
def test_every_page_answers_for_staff(staff_client, staff_member, poste):
    conseiller = occupy(poste, staff_member)
    urls = [
        reverse("conseillers:postes"),
        reverse("conseillers:postes_export_csv"),
        reverse("conseillers:postes_export_xlsx"),
        reverse("conseillers:poste_create"),
        poste_url(poste),
        reverse("conseillers:conseillers"),
        reverse("conseillers:conseiller_create"),
        reverse("conseillers:conseiller", args=[conseiller.uuid]),
        reverse("conseillers:conseiller_edit", args=[conseiller.uuid]),
    ]
    for url in urls:
        assert staff_client.get(url).status_code == 200, url


def test_board_shows_occupant_contract_end_training_and_funding(staff_client, staff_member, poste):
    conseiller = occupy(poste, staff_member)
    factories.LigneFinancementFactory(convention__structure=poste.structure, poste=poste)

    response = staff_client.get(reverse("conseillers:postes"))

    page = text(response)
    assert f"{conseiller.prenom} {conseiller.nom}" in page
    assert "01/01/2030" in page  # the contract's end
    assert "À faire" in page  # no module yet this year
    assert "50 000,00 €" in page
    assert response.context["counts"]["occupied"] == 1


def test_board_filters_by_state_and_training_owed(staff_client, staff_member, poste):
    occupy(poste, staff_member)
    vacant = factories.PosteFactory(structure=poste.structure)
    url = reverse("conseillers:postes")

    assert [p.pk for p in staff_client.get(url, {"etat": "vacant"}).context["rows"]] == [vacant.pk]
    assert [p.pk for p in staff_client.get(url, {"formation_due": "on"}).context["rows"]] == [poste.pk]


def test_board_lists_contracts_ending_soon_and_posts_vacant_too_long(staff_client, staff_member, poste):
    today = timezone.localdate()
    conseiller = occupy(poste, staff_member, contrat=False)
    factories.ContratFactory(
        conseiller=conseiller, poste=poste, date_debut=START, date_fin=today + datetime.timedelta(days=20)
    )
    factories.PosteFactory(structure=factories.StructureFactory(nom="Médiathèque vide"))

    response = staff_client.get(reverse("conseillers:postes"), {"fin_contrat": "on"})

    assert [p.pk for p in response.context["rows"]] == [poste.pk]
    assert [c.conseiller_id for c in response.context["ending"]] == [conseiller.pk]
    assert "Conseiller numérique de Médiathèque vide : vacant depuis le 01/06/2021" in text(response)


def test_board_counts_at_a_past_date(staff_client, staff_member, structure):
    occupied_then = factories.PosteFactory(structure=structure)
    occupy(occupied_then, staff_member, contrat=False)
    services.poste_release(poste=occupied_then, date=datetime.date(2023, 1, 1), by=staff_member)
    factories.PosteFactory(structure=structure, date_attribution=datetime.date(2023, 6, 1))
    returned_later = factories.PosteFactory(structure=structure)
    services.poste_return(poste=returned_later, date=datetime.date(2022, 6, 1), by=staff_member)
    url = reverse("conseillers:postes")

    past = staff_client.get(url, {"date": "2022-03-01"}).context["counts"]
    now = staff_client.get(url).context["counts"]

    assert (past["granted"], past["occupied"], past["vacant"], past["returned"]) == (2, 1, 1, 0)
    assert past["occupancy_rate"] == Decimal("0.5000")
    assert (now["granted"], now["occupied"], now["vacant"], now["returned"]) == (2, 0, 2, 1)


def test_board_refuses_a_future_date_and_keeps_today(staff_client):
    future = timezone.localdate() + datetime.timedelta(days=3)

    response = staff_client.get(reverse("conseillers:postes"), {"date": future.isoformat()})

    assert response.status_code == 200
    assert response.context["counts"]["date"] == timezone.localdate()
    assert "Les effectifs se lisent aujourd'hui ou à une date passée." in text(response)


# --- Scoping ----------------------------------------------------------------------------------------------------
def test_referent_sees_only_their_structures_posts(referent_client, poste, other_poste):
    response = referent_client.get(reverse("conseillers:postes"))

    assert [p.pk for p in response.context["rows"]] == [poste.pk]
    assert "Mairie d'ailleurs" not in text(response)
    assert response.context["counts"]["granted"] == 1


def test_other_structure_gets_404_on_poste_detail_and_actions(referent_client, other_poste):
    assert referent_client.get(poste_url(other_poste)).status_code == 404
    response = referent_client.post(poste_url(other_poste, "contrat_create"), {})
    assert response.status_code == 404


def test_referent_exports_hold_only_their_posts(referent_client, poste, other_poste):
    csv_text = b"".join(referent_client.get(reverse("conseillers:postes_export_csv")).streaming_content).decode()
    xlsx = b"".join(referent_client.get(reverse("conseillers:postes_export_xlsx")).streaming_content)

    assert str(poste.uuid) in csv_text
    assert str(other_poste.uuid) not in csv_text
    sheet = load_workbook(io.BytesIO(xlsx))["Postes"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [str(poste.uuid)]


def test_referent_cannot_assign_but_can_record_a_contract(referent_client, referent, staff_member, poste):
    conseiller = occupy(poste, staff_member, contrat=False)
    response = referent_client.get(poste_url(poste))
    assert "assign_form" not in response.context
    assert "contrat_form" in response.context

    refused = referent_client.post(poste_url(poste, "release"), {"liberer-date": "2023-01-01"})
    assert refused.status_code == 403
    assert Affectation.objects.get(poste=poste).date_fin is None

    data = contrat_data(type="CDI", date_fin="")
    assert referent_client.post(poste_url(poste, "contrat_create"), data).status_code == 302
    assert Contrat.objects.get(poste=poste).conseiller == conseiller


def test_referent_gets_404_on_another_structures_conseiller(referent_client, staff_member, other_poste):
    outsider = occupy(other_poste, staff_member)

    assert referent_client.get(reverse("conseillers:conseiller", args=[outsider.uuid])).status_code == 404
    assert referent_client.get(reverse("conseillers:conseiller_edit", args=[outsider.uuid])).status_code == 404
    listed = referent_client.get(reverse("conseillers:conseillers")).context["page"].object_list
    assert outsider not in listed


def test_funder_reads_the_board_and_a_post_without_forms(financeur_client, staff_member, poste, other_poste):
    occupy(poste, staff_member)

    board = financeur_client.get(reverse("conseillers:postes"))
    detail = financeur_client.get(poste_url(poste))

    assert {p.pk for p in board.context["rows"]} == {poste.pk, other_poste.pk}
    assert detail.status_code == 200
    forms = ["assign_form", "release_form", "move_form", "return_form", "contrat_form", "rupture_form"]
    assert not any(name in detail.context for name in forms)
    assert detail.content.decode().count('method="post"') == 1  # the logout button only
    assert financeur_client.post(poste_url(poste, "release"), {"liberer-date": "2023-01-01"}).status_code == 403


# --- Post forms -------------------------------------------------------------------------------------------------
def test_staff_creates_a_post(staff_client, structure):
    data = {"structure": structure.uuid, "typologie": "conum", "phase": "2", "date_attribution": "2024-02-01"}

    response = staff_client.post(reverse("conseillers:poste_create"), data)

    poste = Poste.objects.get()
    assert response.status_code == 302
    assert response["Location"] == poste_url(poste)
    assert poste.rattachements.get().structure == structure


def test_post_creation_refuses_a_coselec_after_attribution(staff_client, structure):
    data = {
        "structure": structure.uuid,
        "typologie": "conum",
        "phase": "2",
        "date_attribution": "2024-02-01",
        "coselec_date": "2024-03-01",
    }

    response = staff_client.post(reverse("conseillers:poste_create"), data)

    assert response.status_code == 400
    assert "La décision du comité de sélection ne peut pas suivre l'attribution du poste." in text(response)
    assert not Poste.objects.exists()


def test_referent_cannot_create_a_post(referent_client):
    assert referent_client.get(reverse("conseillers:poste_create")).status_code == 403


def test_staff_assigns_then_releases_an_occupant(staff_client, poste):
    conseiller = factories.ConseillerFactory()

    assigned = staff_client.post(
        poste_url(poste, "assign"), {"affecter-conseiller": conseiller.uuid, "affecter-date": "2022-01-01"}
    )
    assert assigned.status_code == 302
    assert staff_client.get(assigned["Location"]).context["occupant"] == conseiller

    released = staff_client.post(poste_url(poste, "release"), {"liberer-date": "2023-01-01"}, follow=True)
    assert "le poste est vacant" in text(released)
    poste.refresh_from_db()
    assert poste.etat == "vacant"


def test_assigning_before_attribution_is_refused(staff_client, poste):
    conseiller = factories.ConseillerFactory()

    response = staff_client.post(
        poste_url(poste, "assign"), {"affecter-conseiller": conseiller.uuid, "affecter-date": "2020-01-01"}
    )

    assert response.status_code == 400
    assert "Le poste n'est attribué que depuis le 01/06/2021." in text(response)
    assert not Affectation.objects.exists()


def test_release_before_assignment_is_refused(staff_client, staff_member, poste):
    occupy(poste, staff_member, contrat=False)

    response = staff_client.post(poste_url(poste, "release"), {"liberer-date": "2021-12-01"})

    assert response.status_code == 400
    assert "Le départ doit suivre la prise de poste (01/01/2022)." in text(response)
    assert Affectation.objects.get().date_fin is None


def test_staff_moves_a_post(staff_client, poste):
    target = factories.StructureFactory(nom="CCAS de Labège")

    response = staff_client.post(
        poste_url(poste, "move"), {"deplacer-structure": target.uuid, "deplacer-date": "2023-01-01"}
    )

    assert response.status_code == 302
    poste.refresh_from_db()
    assert poste.structure == target


def test_moving_before_the_current_attachment_is_refused(staff_client, poste):
    target = factories.StructureFactory()

    response = staff_client.post(
        poste_url(poste, "move"), {"deplacer-structure": target.uuid, "deplacer-date": "2021-01-01"}
    )

    assert response.status_code == 400
    assert "doit suivre le début du rattachement actuel (01/06/2021)" in text(response)
    poste.refresh_from_db()
    assert poste.structure != target


def test_staff_returns_a_vacant_post(staff_client, poste):
    response = staff_client.post(poste_url(poste, "return"), {"rendre-date": "2023-01-01"})

    assert response.status_code == 302
    poste.refresh_from_db()
    assert (poste.etat, poste.date_rendu) == ("rendu", datetime.date(2023, 1, 1))


def test_returning_an_occupied_post_is_refused(staff_client, staff_member, poste):
    occupy(poste, staff_member, contrat=False)

    response = staff_client.post(poste_url(poste, "return"), {"rendre-date": "2023-01-01"})

    assert response.status_code == 400
    assert "Ce poste est occupé : libérez-le avant de le rendre." in text(response)
    poste.refresh_from_db()
    assert poste.etat == "occupe"


def contrat_data(**overrides):
    data = {
        "type": "CDD",
        "date_debut": "2022-01-01",
        "date_fin": "2023-12-31",
        "salaire_brut_mensuel": "2000.00",
        "cout_employeur_mensuel": "3000.00",
        "temps_plein": "on",
    }
    data.update(overrides)
    return {f"contrat-{name}": value for name, value in data.items()}


def test_staff_records_a_contract_for_the_occupant(staff_client, staff_member, poste):
    conseiller = occupy(poste, staff_member, contrat=False)

    response = staff_client.post(poste_url(poste, "contrat_create"), contrat_data())

    assert response.status_code == 302
    contrat = Contrat.objects.get()
    assert (contrat.conseiller, contrat.date_fin) == (conseiller, datetime.date(2023, 12, 31))


def test_cdd_without_end_date_is_refused(staff_client, staff_member, poste):
    occupy(poste, staff_member, contrat=False)

    response = staff_client.post(poste_url(poste, "contrat_create"), contrat_data(date_fin=""))

    assert response.status_code == 400
    assert "Un contrat « CDD » doit avoir une date de fin." in text(response)
    assert not Contrat.objects.exists()


def test_overlapping_contract_is_refused(staff_client, staff_member, poste):
    occupy(poste, staff_member)  # a CDD from 2022 to 2030

    response = staff_client.post(poste_url(poste, "contrat_create"), contrat_data(date_debut="2023-01-01"))

    assert response.status_code == 400
    assert "ne peuvent pas se chevaucher" in text(response)
    assert Contrat.objects.count() == 1


def test_staff_records_a_rupture(staff_client, staff_member, poste):
    occupy(poste, staff_member)
    contrat = Contrat.objects.get()

    response = staff_client.post(
        poste_url(poste, "contrat_rupture"),
        {"rupture-contrat": contrat.uuid, "rupture-date_rupture": "2023-03-31", "rupture-motif_rupture": "demission"},
    )

    assert response.status_code == 302
    contrat.refresh_from_db()
    assert (contrat.date_rupture, contrat.motif_rupture) == (datetime.date(2023, 3, 31), "demission")


def test_rupture_outside_the_contract_is_refused(staff_client, staff_member, poste):
    occupy(poste, staff_member)
    contrat = Contrat.objects.get()

    response = staff_client.post(
        poste_url(poste, "contrat_rupture"),
        {"rupture-contrat": contrat.uuid, "rupture-date_rupture": "2021-03-31", "rupture-motif_rupture": "demission"},
    )

    assert response.status_code == 400
    assert "La rupture doit tomber pendant le contrat" in text(response)
    contrat.refresh_from_db()
    assert contrat.date_rupture is None


def test_post_history_shows_changes_with_the_actor(staff_client, staff_member, poste):
    occupy(poste, staff_member)
    services.poste_release(poste=poste, date=datetime.date(2023, 1, 1), by=staff_member)

    history = staff_client.get(poste_url(poste)).context["history"]

    assert history[0]["user"] == staff_member
    assert {"label": "État", "old": "Occupé", "new": "Vacant"} in history[0]["changes"] + history[1]["changes"]
    assert any(entry["subject"].startswith("Affectation de") for entry in history)


def test_post_page_query_count_does_not_grow_with_history(staff_client, staff_member, poste):
    conseiller = occupy(poste, staff_member)

    def release_and_come_back(month):
        services.poste_release(poste=poste, date=datetime.date(2023, month, 1), by=staff_member)
        services.poste_assign(
            poste=poste, conseiller=conseiller, date=datetime.date(2023, month + 1, 1), by=staff_member
        )

    release_and_come_back(1)
    few = count_queries(staff_client, poste_url(poste))
    for month in range(3, 12, 2):
        release_and_come_back(month)
    many = count_queries(staff_client, poste_url(poste))
    assert few == many


# --- Conseillers ------------------------------------------------------------------------------------------------
def conseiller_data(**overrides):
    data = {"prenom": "Lina", "nom": "Martin", "email": "lina.martin@example.org", "telephone": "05 61 00 00 00"}
    data.update(overrides)
    return data


def test_staff_records_a_conseiller(staff_client):
    response = staff_client.post(reverse("conseillers:conseiller_create"), conseiller_data())

    conseiller = Conseiller.objects.get()
    assert response.status_code == 302
    assert conseiller.telephone == "+33561000000"


def test_conseiller_without_name_is_refused(staff_client):
    response = staff_client.post(reverse("conseillers:conseiller_create"), conseiller_data(nom=""))

    assert response.status_code == 400
    assert "Nom : Ce champ est obligatoire." in text(response)
    assert not Conseiller.objects.exists()


def test_referent_records_a_conseiller_for_their_structure(referent_client, structure):
    refused = referent_client.post(reverse("conseillers:conseiller_create"), conseiller_data())
    assert refused.status_code == 400
    assert "Choisissez la structure qui recrute." in text(refused)
    assert not Conseiller.objects.exists()

    data = conseiller_data(structure=structure.uuid)
    assert referent_client.post(reverse("conseillers:conseiller_create"), data).status_code == 302
    assert Conseiller.objects.get().mises_en_relation.get().structure == structure


def test_staff_edits_a_conseiller(staff_client):
    conseiller = factories.ConseillerFactory(nom="Ancien")

    response = staff_client.post(
        reverse("conseillers:conseiller_edit", args=[conseiller.uuid]), conseiller_data(nom="Nouveau")
    )

    assert response.status_code == 302
    conseiller.refresh_from_db()
    assert conseiller.nom == "Nouveau"


def test_coordinator_still_coordinating_cannot_lose_the_flag(staff_client):
    coordinateur = factories.ConseillerFactory(est_coordinateur=True, nom="Coordo")
    factories.ConseillerFactory(coordinateur=coordinateur)

    response = staff_client.post(reverse("conseillers:conseiller_edit", args=[coordinateur.uuid]), conseiller_data())

    assert response.status_code == 400
    assert "Cette personne coordonne encore des conseillers" in text(response)
    coordinateur.refresh_from_db()
    assert (coordinateur.nom, coordinateur.est_coordinateur) == ("Coordo", True)


def formation_data(**overrides):
    data = {"type": "continue", "intitule": "Accompagner les démarches en ligne", "date_debut": "2024-03-01"}
    data["heures"] = "14"
    data.update(overrides)
    return {f"formation-{name}": value for name, value in data.items()}


def test_staff_adds_a_training_and_sees_the_yearly_status(staff_client, staff_member, poste):
    conseiller = occupy(poste, staff_member)
    url = reverse("conseillers:formation_add", args=[conseiller.uuid])

    response = staff_client.post(url, formation_data(date_debut=f"{timezone.localdate().year}-01-02"), follow=True)

    assert Formation.objects.get().conseiller == conseiller
    years = response.context["training_years"]
    assert years[0]["year"] == timezone.localdate().year
    assert years[0]["training_status"] == "done"
    assert years[-1]["year"] == 2022


def test_continuing_module_without_hours_is_refused(staff_client):
    conseiller = factories.ConseillerFactory()

    response = staff_client.post(
        reverse("conseillers:formation_add", args=[conseiller.uuid]), formation_data(heures="")
    )

    assert response.status_code == 400
    assert "Indiquez la durée du module en heures." in text(response)
    assert not Formation.objects.exists()


def test_conseillers_list_searches_and_filters_by_training(staff_client, staff_member, poste):
    occupied = occupy(poste, staff_member, conseiller=factories.ConseillerFactory(nom="Durand"))
    factories.ConseillerFactory(nom="Martin")
    url = reverse("conseillers:conseillers")

    assert list(staff_client.get(url, {"q": "dura"}).context["page"].object_list) == [occupied]
    assert list(staff_client.get(url, {"formation": "due"}).context["page"].object_list) == [occupied]
    assert [c.nom for c in staff_client.get(url, {"formation": "aucune"}).context["page"].object_list] == ["Martin"]
    assert list(staff_client.get(url, {"structure": poste.structure.uuid}).context["page"].object_list) == [occupied]


# --- Exports ----------------------------------------------------------------------------------------------------
def test_csv_export_has_bom_semicolons_headers_and_the_filtered_rows(staff_client, staff_member, poste):
    conseiller = occupy(poste, staff_member)
    factories.LigneFinancementFactory(convention__structure=poste.structure, poste=poste)
    vacant = factories.PosteFactory()

    response = staff_client.get(reverse("conseillers:postes_export_csv"), {"etat": "occupe"})

    content = b"".join(response.streaming_content).decode("utf-8")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert content.startswith("\ufeffIdentifiant;Structure;Commune;Typologie;Phase;État;")
    lines = content.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"{poste.uuid};{poste.structure.nom};")
    assert f";{conseiller.prenom} {conseiller.nom};CDD;01/01/2030;À faire;50000,00;0,00" in lines[1]
    assert str(vacant.uuid) not in content


def test_csv_export_keeps_a_formula_like_name_as_text(staff_client, poste):
    poste.structure.nom = '=HYPERLINK("http://exemple.invalid")'
    poste.structure.save()

    response = staff_client.get(reverse("conseillers:postes_export_csv"))

    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[1][1] == '\'=HYPERLINK("http://exemple.invalid")'


def test_xlsx_export_reads_back_with_typed_cells(staff_client, staff_member, poste):
    occupy(poste, staff_member)
    factories.LigneFinancementFactory(convention__structure=poste.structure, poste=poste)
    factories.PosteFactory()

    response = staff_client.get(reverse("conseillers:postes_export_xlsx"), {"structure": poste.structure.uuid})

    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Postes"]
    rows = list(workbook["Postes"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Identifiant", "Structure", "Commune")
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Identifiant"] == str(poste.uuid)
    assert row["Date d'attribution"] == datetime.datetime(2021, 6, 1)
    assert row["Financement accordé (€)"] == 50000


# --- Query budgets ----------------------------------------------------------------------------------------------
def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def make_funded_occupied_posts(count, by):
    for _ in range(count):
        poste = factories.PosteFactory()
        conseiller = occupy(poste, by, conseiller=factories.ConseillerFactory(coordinateur=None))
        factories.FormationFactory(conseiller=conseiller, date_debut=datetime.date(2024, 3, 1))
        factories.LigneFinancementFactory(convention__structure=poste.structure, poste=poste)


def test_board_query_count_does_not_grow_with_posts(staff_client, staff_member):
    url = reverse("conseillers:postes")
    make_funded_occupied_posts(2, staff_member)
    with_2 = count_queries(staff_client, url)

    make_funded_occupied_posts(28, staff_member)
    with_30 = count_queries(staff_client, url)

    assert with_2 == with_30


def test_conseillers_list_query_count_does_not_grow_with_rows(staff_client, staff_member):
    url = reverse("conseillers:conseillers")
    coordinateur = factories.ConseillerFactory(est_coordinateur=True)
    make_funded_occupied_posts(2, staff_member)
    Conseiller.objects.exclude(pk=coordinateur.pk).update(coordinateur=coordinateur)
    with_2 = count_queries(staff_client, url)

    make_funded_occupied_posts(28, staff_member)
    Conseiller.objects.exclude(pk=coordinateur.pk).update(coordinateur=coordinateur)
    with_30 = count_queries(staff_client, url)

    assert with_2 == with_30
