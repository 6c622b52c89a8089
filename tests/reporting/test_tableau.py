"""The dashboard (« Pilotage »): figures equal what the data says, each user sees their own scope only, filters,
refused input (400 in French, never 500), CSV and XLSX exports, and a query count that does not grow with the data."""

import csv
import datetime
import html
import io
import itertools
import re
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accompagnements import services
from accounts.models import Role
from aidants.models import Aidant, FormationAidant, Orientation
from ateliers.models import Carnet, CommandePass, PassNumerique
from conseillers.models import Affectation
from reporting import exports, resume
from reporting.tableau import REQUETES, Perimetre, perimetre_pour, tableau_de_bord
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
DU, AU = D(2024, 1, 1), D(2024, 6, 30)
URL = reverse("reporting:tableau")
PERIODE = {"du": "2024-01", "au": "2024-06"}
NUMEROS = itertools.count(1)


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def card(response, label):
    """The text of a key-number card, by its label."""
    match = re.search(r"<strong>([^<]+)</strong>\s*<span>" + re.escape(label) + r"\b", response.content.decode())
    assert match, f"pas de carte {label!r}"
    return html.unescape(match.group(1)).replace("\u00a0", " ")


# --- Data ----------------------------------------------------------------------------------------------------------
def conseiller_of(structure):
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


FEVRIER = D(2024, 2, 5)
CARTES_ACTIVITES = (
    "accompagnements", "activites", "individuels", "collectifs", "nouveaux", "deja_accompagnes", "duree",
)  # fmt: skip


def record(conseiller, *, date=FEVRIER, commune=None, type="individuel", participants=None, **extra):
    data = {
        "type": type,
        "date": date,
        "duree": 60,
        "type_lieu": "domicile",
        "lieu": None,
        "commune": commune,
        "thematiques": extra.pop("thematiques", ["email"]),
        "materiel": ["ordinateur"],
    }
    if type == "individuel":
        data["autonomie"] = "autonome"
    else:
        data.update(titre_atelier="Atelier", niveau="debutant")
    data.update(extra)
    return services.activite_create(by=conseiller.user, data=data, participants=participants)


@pytest.fixture
def territoire(db):
    """Two structures in two communes, a conseiller in each."""
    labege = factories.CommuneFactory(code_insee="31254", nom="Labège", population=4000)
    escalquens = factories.CommuneFactory(code_insee="31169", nom="Escalquens", population=500)
    a = factories.StructureFactory(nom="Mairie de Labège", commune=labege)
    b = factories.StructureFactory(nom="CCAS d'Escalquens", commune=escalquens)
    return {"a": a, "b": b, "labege": labege, "escalquens": escalquens, "ca": conseiller_of(a), "cb": conseiller_of(b)}


@pytest.fixture
def activites(territoire):
    """Structure A: 2 individual accompaniments in Labège (one of a person seen before), a workshop of 5 in Labège,
    one individual in Escalquens; structure B: 1 individual in Escalquens; and one activity outside the period."""
    t, P = territoire, services.Participants
    record(t["ca"], commune=t["labege"], date=D(2024, 1, 10))
    record(t["ca"], commune=t["labege"], date=D(2024, 2, 10), participants=P(deja_accompagne=True, anonyme={}))
    record(t["ca"], commune=t["labege"], date=D(2024, 2, 20), type="collectif", participants=P(anonymes=5))
    record(t["ca"], commune=t["escalquens"], date=D(2024, 3, 1), thematiques=["sante"])
    record(t["cb"], commune=t["escalquens"], date=D(2024, 3, 2))
    record(t["ca"], commune=t["labege"], date=D(2024, 7, 1))
    resume.mettre_a_jour()  # what the update task does after the commits
    return t


def member(role, structure):
    return factories.MembershipFactory(structure=structure, role=role).user


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client):
    return login(client, factories.StaffUserFactory())


def figure_values(section, key):
    return {ligne.code: ligne.value for ligne in section.figure(key).lignes}


# --- Activity figures ------------------------------------------------------------------------------------------------
def test_activity_figures_are_those_of_the_summaries(activites):
    tableau = tableau_de_bord(DU, AU, Perimetre())
    section = tableau.section("accompagnements")
    attendu = resume.statistiques(DU, AU).chiffres
    assert {carte.key: carte.value for carte in section.cartes} == {key: attendu[key] for key in CARTES_ACTIVITES}
    assert attendu["accompagnements"] == 9  # 4 individual + a workshop of 5
    assert figure_values(section, "types") == {"individuel": 4, "collectif": 5}
    assert figure_values(section, "nouveaux") == {"nouveaux": 8, "deja_accompagnes": 1}
    assert figure_values(section, "mois")["2024-02"] == 6
    assert figure_values(section, "thematiques") == {"email": 4, "sante": 1}
    assert figure_values(section, "lieux")["domicile"] == 5


def test_communes_show_accompaniments_per_thousand_inhabitants(activites):
    section = tableau_de_bord(DU, AU, Perimetre()).section("accompagnements")
    rows = dict(section.figure("communes").donnees())
    # Labège: 7 accompaniments for 4,000 inhabitants; Escalquens: 2 for 500.
    assert rows["Labège"][0] == 7 and rows["Labège"][2:] == [4000, 1.8]
    assert rows["Escalquens"][0] == 2 and rows["Escalquens"][2:] == [500, 4.0]
    assert section.figure("communes").en_tetes[-1] == "Pour 1 000 habitants"


def test_page_shows_every_section_with_charts_and_tables(activites, staff_client):
    response = staff_client.get(URL, PERIODE)
    assert response.status_code == 200
    page = response.content.decode()
    for title in ("Accompagnements", "Ateliers collectifs", "Postes de conseillers", "Financements"):
        assert f">{title}</h2>" in page
    for title in ("Pass numérique", "Orientations des aidants", "Aidants numériques"):
        assert f">{title}</h2>" in page
    assert card(response, "Accompagnements") == "9"
    assert page.count('role="img"') >= 5  # the SVG charts
    assert "<caption" in page and '<th scope="col"' in page and '<th scope="row">Labège</th>' in page
    assert "style=" not in page.split("<main")[1].replace('role="img"', "")  # no inline style (CSP)
    assert "<script" not in page.split("<main")[1]


# --- Workshops, posts, funding, passes, referrals, aidants -----------------------------------------------------------
def _seance(structure, debut, **kwargs):
    return factories.SeanceFactory(
        atelier=factories.AtelierFactory(structure=structure),
        debut=timezone.make_aware(debut),
        fin=timezone.make_aware(debut + datetime.timedelta(hours=2)),
        **kwargs,
    )


def test_workshop_figures(territoire):
    a = territoire["a"]
    held = _seance(a, datetime.datetime(2024, 3, 5, 14), capacite=10, appel_cloture_le=timezone.now())
    for _ in range(4):
        factories.InscriptionFactory(seance=held, statut="confirmee", presence="present")
    factories.InscriptionFactory(seance=held, statut="confirmee", presence="absent", promue_le=timezone.now())
    factories.InscriptionFactory(seance=held, statut="confirmee", presence="present", source="sur_place")
    factories.InscriptionFactory(seance=held, statut="attente")
    factories.InscriptionFactory(seance=held, statut="annulee")
    _seance(a, datetime.datetime(2024, 4, 5, 14), capacite=8)
    _seance(a, datetime.datetime(2024, 4, 6, 14), capacite=8, statut="annulee", motif_annulation="Météo")
    _seance(a, datetime.datetime(2024, 8, 6, 14), capacite=8)  # outside the period

    section = tableau_de_bord(DU, AU, Perimetre()).section("ateliers")
    values = {carte.key: carte.value for carte in section.cartes}
    assert values["seances_tenues"] == 2
    assert values["places_offertes"] == 18
    assert values["places_occupees"] == 5  # confirmed registrations; the walk-in takes no seat
    assert values["remplissage"] == pytest.approx(100 * 5 / 18)
    assert values["liste_attente"] == 2  # still waiting, and promoted from the waiting list
    assert values["presents"] == 5  # walk-in included
    assert values["presence"] == pytest.approx(80.0)  # 4 of the 5 registered
    assert section.carte("seances_tenues").detail == "1 annulée"
    assert figure_values(section, "seances")["2024-04"] == 1


def test_post_figures_at_the_end_of_the_period(territoire):
    a, b = territoire["a"], territoire["b"]
    occupied = factories.PosteFactory(structure=a, date_attribution=D(2023, 1, 1))
    factories.PosteFactory(structure=a, date_attribution=D(2023, 1, 1))
    factories.PosteFactory(structure=b, date_attribution=D(2023, 1, 1))
    factories.PosteFactory(structure=b, date_attribution=D(2024, 9, 1))  # granted after the period
    Affectation.objects.create(poste=occupied, conseiller=territoire["ca"], date_debut=D(2023, 3, 1))

    section = tableau_de_bord(DU, AU, Perimetre()).section("postes")
    assert {carte.key: carte.value for carte in section.cartes} == {
        "accordes": 3,
        "occupes": 1,
        "vacants": 2,
        "occupation": pytest.approx(100 / 3, abs=0.01),
    }
    rows = dict(section.figure("structures").donnees())
    assert rows["Mairie de Labège"][:3] == [2, 1, 1]
    assert rows["CCAS d'Escalquens"][:3] == [1, 0, 1]


def _ligne(structure, financeur, montant, verse=None):
    convention = factories.ConventionFactory(structure=structure, financeur=financeur)
    ligne = factories.LigneFinancementFactory(convention=convention, montant_base=Decimal(montant))
    if verse:
        factories.VersementFactory(
            ligne=ligne, montant_prevu=Decimal(verse), date_versement=D(2024, 2, 1), montant_verse=Decimal(verse)
        )
    return ligne


def test_funding_figures_in_euros(territoire, staff_client):
    etat = factories.FinanceurFactory(nom="État")
    _ligne(territoire["a"], etat, "50000.00", verse="20000.00")
    _ligne(territoire["b"], etat, "32000.00")

    section = tableau_de_bord(DU, AU, Perimetre()).section("financements")
    values = {carte.key: carte.value for carte in section.cartes}
    assert values["accorde"] == Decimal("82000.00")
    assert values["verse"] == Decimal("20000.00")
    assert values["reste"] == Decimal("62000.00")
    response = staff_client.get(URL, PERIODE)
    assert card(response, "Montant accordé") == "82 000,00 €"
    assert card(response, "Reste à verser") == "62 000,00 €"


def _passes(distributeur, lieu, *, remis, utilises, categorie="senior", day=FEVRIER):
    financeur = factories.FinanceurFactory(nom="AG2R")
    commande = CommandePass.objects.create(
        financeur=financeur,
        date_commande=D(2024, 1, 5),
        nombre=remis,
        valeur_faciale=Decimal("10.00"),
        valide_jusqu_au=D(2024, 12, 31),
        tolerance_jusqu_au=D(2025, 1, 31),
    )
    carnet = Carnet.objects.create(
        commande=commande,
        numero=f"C-{next(NUMEROS)}",
        distributeur=distributeur,
        remis_le=day,
        categorie=categorie,
    )
    for n in range(remis):
        used = n < utilises
        PassNumerique.objects.create(
            carnet=carnet,
            numero=f"{carnet.numero}-{n}",
            statut="utilise" if used else "remis",
            lieu=lieu if used else None,
            utilise_le=day if used else None,
        )


def test_pass_handed_out_and_used(territoire):
    lieu = factories.LieuFactory(structure=territoire["a"])
    _passes(territoire["a"], lieu, remis=10, utilises=3)
    _passes(territoire["b"], lieu, remis=5, utilises=0, categorie="demandeur_emploi")
    _passes(territoire["b"], lieu, remis=5, utilises=5, categorie="demandeur_emploi", day=D(2024, 9, 1))

    section = tableau_de_bord(DU, AU, Perimetre()).section("pass")
    values = {carte.key: carte.value for carte in section.cartes}
    assert values == {"remis": 15, "carnets": 2, "utilises": 3, "valeur": Decimal("30.00")}
    assert figure_values(section, "publics") == {"demandeur_emploi": 5, "senior": 10}


def _orientation(aidant, commune, statut, conseiller):
    orientation = Orientation.objects.create(
        aidant=aidant,
        conseiller=conseiller,
        commune=commune,
        thematiques=["email"],
        prenom="Zéphyrine",
        telephone="+33612345678",
        contact_prefere="telephone",
        consentement_le=timezone.now(),
        statut=statut,
    )
    Orientation.objects.filter(pk=orientation.pk).update(created_at=timezone.make_aware(datetime.datetime(2024, 2, 1)))
    return orientation


def _aidant(structure):
    return Aidant.objects.create(
        structure=structure, prenom="Ada", nom="Aidante", profession="Agent d'accueil", type="professionnel"
    )


def test_referrals_by_outcome_and_aidants_trained(territoire):
    t = territoire
    aidant = _aidant(t["a"])
    for statut in ("realisee", "realisee", "nouvelle", "annulee"):
        _orientation(aidant, t["labege"], statut, t["ca"])
    FormationAidant.objects.create(aidant=aidant, type="aidants_connect_14h", date=D(2024, 3, 1), heures=14)
    FormationAidant.objects.create(aidant=aidant, type="pix", date=D(2024, 4, 1), heures=2)
    FormationAidant.objects.create(aidant=_aidant(t["b"]), type="pix", date=D(2023, 4, 1), heures=2)

    tableau = tableau_de_bord(DU, AU, Perimetre())
    orientations = tableau.section("orientations")
    assert figure_values(orientations, "suites") == {
        "nouvelle": 1,
        "acceptee": 0,
        "realisee": 2,
        "reorientee": 0,
        "annulee": 1,
    }
    assert orientations.carte("taux_realisation").value == 50.0
    aidants = {carte.key: carte.value for carte in tableau.section("aidants").cartes}
    assert aidants == {"formes": 1, "formations": 2, "actifs": 2, "habilites": 0}


# --- Scopes --------------------------------------------------------------------------------------------------------
def test_departement_filter_is_offered_across_departements_and_counts_their_communes(activites, staff_client):
    # One département: no such filter on the page.
    response = staff_client.get(URL, PERIODE)
    assert 'name="departement"' not in response.content.decode()
    albi = factories.CommuneFactory(code_insee="81004", nom="Albi", departement="81")
    ailleurs = factories.StructureFactory(nom="Médiathèque d'Albi", commune=albi)
    record(conseiller_of(ailleurs), commune=albi, date=D(2024, 3, 3))
    resume.mettre_a_jour()
    response = staff_client.get(URL, PERIODE)
    assert 'name="departement"' in response.content.decode()
    assert card(response, "Accompagnements") == "10"
    response = staff_client.get(URL, {**PERIODE, "departement": "81"})
    assert response.status_code == 200 and card(response, "Accompagnements") == "1"
    assert "département : 81" in text(response)
    assert card(staff_client.get(URL, {**PERIODE, "departement": "31"}), "Accompagnements") == "9"
    # A commune outside the département chosen: nothing.
    response = staff_client.get(URL, {**PERIODE, "departement": "81", "commune": "31254"})
    assert response.status_code == 200 and card(response, "Accompagnements") == "0"
    assert staff_client.get(URL, {**PERIODE, "departement": "99"}).status_code == 400


def test_referent_sees_only_their_structures(activites, client):
    referent = member(Role.REFERENT, activites["a"])
    response = login(client, referent).get(URL, PERIODE)
    assert response.status_code == 200
    assert card(response, "Accompagnements") == "8"  # B's accompaniment is not theirs
    assert response.context["tableau"].perimetre.structures == (activites["a"].pk,)
    structures = [label for _value, label in response.context["form"].fields["structure"].choices]
    assert "CCAS d'Escalquens" not in structures and "Mairie de Labège" in structures


def test_referent_cannot_pick_another_structure(activites, client):
    referent = member(Role.REFERENT, activites["a"])
    response = login(client, referent).get(URL, {**PERIODE, "structure": str(activites["b"].uuid)})
    assert response.status_code == 400
    assert response.context["tableau"] is None
    assert "Choisissez une structure de votre périmètre dans la liste." in text(response)
    export = client.get(reverse("reporting:tableau_csv"), {**PERIODE, "structure": str(activites["b"].uuid)})
    assert export.status_code == 400


def test_perimetre_refuses_a_structure_outside_the_scope(activites):
    referent = member(Role.REFERENT, activites["a"])
    from django.http import Http404

    with pytest.raises(Http404):
        perimetre_pour(referent, structure=activites["b"])


def test_funder_sees_the_structures_they_fund_and_only_their_own_lines(activites, client):
    funder_structure = factories.StructureFactory(nom="Département")
    departement = factories.FinanceurFactory(nom="Département de la Haute-Garonne", structure=funder_structure)
    _ligne(activites["a"], departement, "10000.00", verse="4000.00")
    _ligne(activites["a"], factories.FinanceurFactory(nom="État"), "50000.00")  # another funder's line
    funder = member(Role.FINANCEUR, funder_structure)

    perimetre = perimetre_pour(funder)
    assert perimetre.structures == (activites["a"].pk,) and perimetre.public
    response = login(client, funder).get(URL, PERIODE)
    assert response.status_code == 200
    assert card(response, "Montant accordé") == "10 000,00 €"
    assert card(response, "Accompagnements") == "8"
    assert "Vous ne voyez que vos propres financements." in text(response)


def test_funder_dashboard_hides_small_counts_of_people(activites, client):
    funder_structure = factories.StructureFactory(nom="Département")
    departement = factories.FinanceurFactory(nom="Département", structure=funder_structure)
    _ligne(activites["b"], departement, "10000.00")
    response = login(client, member(Role.FINANCEUR, funder_structure)).get(URL, PERIODE)
    assert response.status_code == 200
    # B has a single accompaniment: shown as « moins de 5 », never as 1.
    assert card(response, "Accompagnements") == "moins de 5"
    section = response.context["tableau"].section("accompagnements")
    assert section.figure("mois").values()["2024-03"] is None


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.AIDANT])
def test_conseillers_and_aidants_are_refused(territoire, client, role):
    response = login(client, member(role, territoire["a"])).get(URL)
    assert response.status_code == 403
    assert login(client, member(role, territoire["a"])).get(reverse("reporting:tableau_xlsx")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    for url in (URL, reverse("reporting:tableau_csv"), reverse("reporting:tableau_xlsx")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_navigation_offers_pilotage_to_staff_referents_and_funders(territoire, client):
    for user, shown in (
        (factories.StaffUserFactory(), True),
        (member(Role.REFERENT, territoire["a"]), True),
        (member(Role.FINANCEUR, territoire["a"]), True),
        (member(Role.CONSEILLER, territoire["a"]), False),
    ):
        nav = login(client, user).get(reverse("dashboard")).content.decode().split("</nav>")[0]
        assert (f'href="{URL}"' in nav) is shown


# --- Filters -------------------------------------------------------------------------------------------------------
def test_default_period_is_the_last_twelve_whole_months(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    tableau = response.context["tableau"]
    today = timezone.localdate()
    assert tableau.au.month == today.month and (tableau.au + datetime.timedelta(days=1)).day == 1
    assert tableau.du.day == 1
    assert (tableau.au.year - tableau.du.year) * 12 + tableau.au.month - tableau.du.month == 11
    assert 'type="month"' in response.content.decode()


def test_structure_and_commune_filters(activites, staff_client):
    response = staff_client.get(URL, {**PERIODE, "structure": str(activites["b"].uuid)})
    assert card(response, "Accompagnements") == "1"
    response = staff_client.get(URL, {**PERIODE, "commune": "31169"})  # Escalquens
    assert card(response, "Accompagnements") == "2"
    assert "commune : Escalquens" in text(response)


def test_months_typed_as_text_are_accepted(activites, staff_client):
    response = staff_client.get(URL, {"du": "01/2024", "au": "2024-6"})
    assert response.status_code == 200
    assert response.context["tableau"].au == D(2024, 6, 30)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "2024-13", "au": "2024-06"}, "Saisissez un mois au format AAAA-MM, par exemple 2024-09."),
        ({"du": "janvier", "au": "2024-06"}, "Saisissez un mois au format AAAA-MM, par exemple 2024-09."),
        ({"du": "1850-01", "au": "2024-06"}, "Choisissez un mois entre janvier 2000 et décembre 2100."),
        ({"du": "2024-06", "au": "2024-01"}, "Le dernier mois doit suivre le premier mois de la période."),
        ({"du": "2001-01", "au": "2024-06"}, "Choisissez une période de dix ans au plus."),
        ({**PERIODE, "commune": "99999"}, "Choisissez une commune du territoire dans la liste."),
        ({**PERIODE, "structure": "pas-un-uuid"}, "Choisissez une structure de votre périmètre dans la liste."),
        ({"du": "2024-01\x00", "au": "2024-06"}, "Saisissez un mois au format AAAA-MM"),
    ],
)
def test_bad_input_answers_400_in_french_and_computes_nothing(staff_client, params, message):
    response = staff_client.get(URL, params)
    assert response.status_code == 400
    assert message in text(response)
    assert response.context["tableau"] is None
    for name in ("reporting:tableau_csv", "reporting:tableau_xlsx"):
        export = staff_client.get(reverse(name), params)
        assert export.status_code == 400
        assert message in export.content.decode()


def test_htmx_refresh_answers_the_results_only(activites, staff_client):
    response = staff_client.get(URL, PERIODE, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith("{% comment %}") is False and 'id="tableau-resultats"' in page
    assert "<html" not in page and 'hx-swap-oob="innerHTML"' in page
    assert "Tableau de bord mis à jour" in page
    # A refused filter still shows its error summary (htmx only swaps 2xx answers).
    response = staff_client.get(URL, {"du": "2024-13"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Saisissez un mois au format AAAA-MM" in text(response)


# --- Exports -------------------------------------------------------------------------------------------------------
def test_csv_export_has_every_figure(activites, staff_client):
    response = staff_client.get(reverse("reporting:tableau_csv"), PERIODE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="pilotage-2024-01-2024-06.csv"' in response["Content-Disposition"]
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content[1:]), delimiter=";"))
    assert rows[0] == ["Rubrique", "Tableau", "Ligne", "Mesure", "Valeur"]
    assert ["Accompagnements", "Chiffres clés", "Accompagnements", "Valeur", "9"] in rows
    assert ["Accompagnements", "Accompagnements par commune", "Labège", "Pour 1 000 habitants", "1,8"] in rows
    assert {row[0] for row in rows[1:]} == {
        "Accompagnements",
        "Ateliers collectifs",
        "Postes de conseillers",
        "Financements",
        "Pass numérique",
        "Orientations des aidants",
        "Aidants numériques",
    }


def test_csv_keeps_a_name_starting_like_a_formula_as_text(territoire):
    factories.PosteFactory(structure=factories.StructureFactory(nom="=HYPERLINK(1)"), date_attribution=D(2023, 1, 1))
    content = exports.tableau_csv(tableau_de_bord(DU, AU, Perimetre())).decode("utf-8")
    assert "'=HYPERLINK(1)" in content and ";=HYPERLINK" not in content


def test_xlsx_export_has_one_sheet_per_section(activites, staff_client):
    etat = factories.FinanceurFactory(nom="État")
    _ligne(activites["a"], etat, "50000.00", verse="20000.00")
    response = staff_client.get(reverse("reporting:tableau_xlsx"), PERIODE)
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Accompagnements",
        "Ateliers collectifs",
        "Postes de conseillers",
        "Financements",
        "Pass numérique",
        "Orientations des aidants",
        "Aidants numériques",
    ]
    cells = {row[0]: row[1:] for row in workbook["Accompagnements"].iter_rows(values_only=True) if row[0]}
    assert cells["Accompagnements"][0] == 9
    money = {row[0]: row[1] for row in workbook["Financements"].iter_rows(values_only=True) if row[0]}
    assert money["Montant accordé (€)"] == 50000
    assert workbook["Financements"]["B6"].number_format.endswith('"€"')


# --- Query budget --------------------------------------------------------------------------------------------------
def _data_set(territoire, n):
    """``n`` of everything the dashboard counts, in structure A."""
    t, a = territoire, territoire["a"]
    lieu = factories.LieuFactory(structure=a)
    aidant = _aidant(a)
    etat = factories.FinanceurFactory(nom="État")
    for i in range(n):
        day = D(2024, 1 + i % 6, 1 + i)
        record(t["ca"], commune=t["labege"] if i % 2 else t["escalquens"], date=day)
        seance = _seance(a, datetime.datetime(2024, 1 + i % 6, 1 + i, 14), appel_cloture_le=timezone.now())
        factories.InscriptionFactory(seance=seance, presence="present")
        poste = factories.PosteFactory(structure=factories.StructureFactory(), date_attribution=D(2023, 1, 1))
        _ligne(poste.structure, etat, "1000.00", verse="100.00")
        _orientation(aidant, t["labege"], "realisee", t["ca"])
        FormationAidant.objects.create(aidant=_aidant(a), type="pix", date=day, heures=2)
    _passes(a, lieu, remis=n, utilises=n // 2)
    resume.mettre_a_jour()


def _queries(client, url=URL):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, PERIODE)
    assert response.status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_grow_with_the_data(territoire, client, django_assert_max_num_queries):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    _data_set(territoire, 2)
    small = _queries(client)
    small_export = _queries(client, reverse("reporting:tableau_xlsx"))
    _data_set(territoire, 20)
    assert _queries(client) == small
    assert _queries(client, reverse("reporting:tableau_xlsx")) == small_export
    with django_assert_max_num_queries(small):
        client.get(URL, PERIODE)


def test_builder_query_count_is_fixed(territoire, django_assert_max_num_queries):
    _data_set(territoire, 2)
    with CaptureQueriesContext(connection) as small:
        tableau_de_bord(DU, AU, Perimetre())
    assert len(small) <= REQUETES
    _data_set(territoire, 20)
    with django_assert_max_num_queries(len(small)):
        tableau_de_bord(DU, AU, Perimetre())
