"""The territorial mesh: figures per commune on a small territory (a commune with a place, one with only a stop of
the itinerant unit, one with nothing, highlighted with who could cover it), staff-only access, bad periods answering
400 in French, the CSV, and the same number of queries at 3 or 36 communes and at 5 or 200 activities."""

import csv
import datetime
import html
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accompagnements import services as cra_services
from accompagnements.models import Accompagnement, Activite
from accompagnements.services import Participants
from accounts.models import Role
from aidants import maillage
from ateliers.models import StatutSeance
from conseillers.models import Affectation
from reporting import resume
from structures.choices import Itinerance
from structures.models import Epci
from tests import factories

from .conftest import AidantFactory, member

pytestmark = pytest.mark.django_db
URL = reverse("aidants:maillage")
CSV_URL = reverse("aidants:maillage_csv")


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def record(conseiller, participants=None, **overrides):
    data = {
        "type": "individuel",
        "date": days_ago(10),
        "duree": 30,
        "type_lieu": "domicile",
        "lieu": None,
        "commune": None,
        "thematiques": ["email"],
        "materiel": ["ordinateur"],
        "autonomie": "partiellement_autonome",
    }
    data.update(overrides)
    activite = cra_services.activite_create(by=conseiller.user, data=data, participants=participants)
    resume.mettre_a_jour()  # what the update task does after the commit
    return activite


def conseiller_in(structure, **names):
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, **names)


def seance_at(lieu=None, arret=None, *, debut, **extra):
    atelier = factories.AtelierFactory(structure=(lieu or arret.lieu).structure)
    return factories.SeanceFactory(atelier=atelier, lieu=lieu, arret=arret, debut=debut, **extra)


@pytest.fixture
def territoire(db):
    """Labège has a place and a conseiller; Escalquens only a stop of the bus; Mervilla nothing but an inactive
    aidant; Auzeville (same postal code as Mervilla) an active aidant. Communes outside the territory's EPCI (those
    the factories create on their own) are left out."""
    epci = factories.EpciFactory(siren=settings.TERRITOIRE_EPCI_SIREN)
    commune = lambda nom, insee, cp, pop: factories.CommuneFactory(  # noqa: E731
        nom=nom, code_insee=insee, codes_postaux=[cp], population=pop, epci=epci
    )
    c = {
        "labege": commune("Labège", "31254", "31670", 4000),
        "escalquens": commune("Escalquens", "31169", "31750", 3000),
        "mervilla": commune("Mervilla", "31340", "31320", 400),
        "auzeville": commune("Auzeville-Tolosane", "31035", "31320", 4500),
    }
    structure = factories.StructureFactory(nom="Mairie de Labège", commune=c["labege"])
    lieu = factories.LieuFactory(structure=structure, nom="Espace numérique de Labège")
    factories.LieuFactory(structure=structure, nom="Ancien espace", is_active=False)
    bus = factories.LieuFactory(structure=structure, nom="Bus numérique", itinerance=Itinerance.ITINERANT)
    arret = factories.ArretItinerantFactory(lieu=bus, commune=c["escalquens"], date=days_ago(20))
    factories.ArretItinerantFactory(lieu=bus, commune=c["escalquens"], date=days_ago(400))

    conseiller = conseiller_in(structure, prenom="Camille", nom="Conseil")
    record(conseiller, commune=c["labege"])
    record(conseiller, type_lieu="lieu_activite", lieu=lieu)
    record(
        conseiller,
        Participants(anonymes=3),
        type="collectif",
        titre_atelier="Découvrir la tablette",
        niveau="debutant",
        type_lieu="lieu_activite",
        lieu=lieu,
    )
    deleted = record(conseiller, commune=c["labege"])
    cra_services.activite_delete(activite=deleted, by=conseiller.user)
    record(conseiller, type_lieu="a_distance", commune=c["labege"])
    record(conseiller, commune=c["labege"], date=days_ago(400))

    now = timezone.now()
    seance_at(lieu, debut=now - datetime.timedelta(days=30))
    seance_at(arret=arret, debut=now - datetime.timedelta(days=20, hours=1))
    seance_at(lieu, debut=now - datetime.timedelta(days=10), statut=StatutSeance.ANNULEE, motif_annulation="Grève")
    seance_at(lieu, debut=now - datetime.timedelta(days=400))
    seance_at(lieu, debut=now + datetime.timedelta(days=3))

    parti = AidantFactory(prenom="Paul", nom="Parti", actif=False)
    parti.communes.add(c["mervilla"])
    aidant = AidantFactory(prenom="Alice", nom="Aidante")
    aidant.communes.add(c["auzeville"], c["labege"])
    return {**c, "aidant": aidant, "conseiller": conseiller, "bus": bus, "epci": epci}


def lignes(**kwargs):
    du, au = maillage.default_period()
    return {ligne.commune.nom: ligne for ligne in maillage.couverture(du, au, **kwargs).lignes}


# --- Figures -------------------------------------------------------------------------------------------------------
def test_figures_per_commune(territoire):
    rows = lignes()
    labege, escalquens, mervilla, auzeville = (
        rows["Labège"],
        rows["Escalquens"],
        rows["Mervilla"],
        rows["Auzeville-Tolosane"],
    )
    # One active fixed place: the inactive one and the itinerant unit do not count.
    assert [lieu["nom"] for lieu in labege.lieux] == ["Espace numérique de Labège"]
    # Activities held in Labège over the period: not the deleted one, the remote one, nor the one 400 days ago.
    assert labege.activites == 3
    assert labege.accompagnements == 5  # 1 + 1 + a workshop of 3
    assert labege.pour_mille == Decimal("1.3")  # 5 × 1 000 / 4 000 = 1.25, rounded half up
    assert labege.nb_conseillers == 1 and labege.nb_aidants == 1
    assert labege.ateliers == 1  # held; not the cancelled one, the one 400 days ago nor the next one
    assert not labege.sans_aide and not labege.sans_lieu

    assert escalquens.nb_lieux == 0 and escalquens.arrets == 1 and escalquens.prochain_arret is None
    assert escalquens.ateliers == 1  # the session at the stop
    assert escalquens.pour_mille == Decimal("0.0")
    assert not escalquens.sans_aide and not escalquens.sans_lieu

    # Mervilla: only an inactive aidant, so nothing.
    assert mervilla.nb_aidants == 0 and mervilla.sans_aide and mervilla.sans_lieu
    assert auzeville.sans_lieu and not auzeville.sans_aide
    assert [str(p) for p in mervilla.suggestions.aidants] == ["Alice Aidante"]
    assert [c.nom for c in mervilla.suggestions.voisines] == ["Auzeville-Tolosane"]
    assert mervilla.suggestions.itinerants == []


def test_rounding_and_unknown_population():
    assert maillage.pour_mille(1, 3) == Decimal("333.3")
    assert maillage.pour_mille(1, 1600) == Decimal("0.6")  # 0.625
    assert maillage.pour_mille(3, 2000) == Decimal("1.5")
    assert maillage.pour_mille(5, None) is None and maillage.pour_mille(5, 0) is None


def test_conseiller_employed_there_covers_without_activity(territoire):
    structure = factories.StructureFactory(commune=territoire["escalquens"])
    poste = factories.PosteFactory(structure=structure)
    other = factories.ConseillerFactory(prenom="Éloi", nom="Employé")
    Affectation.objects.create(poste=poste, conseiller=other, date_debut=days_ago(100))
    rows = lignes()
    assert [str(p) for p in rows["Escalquens"].conseillers.values()] == ["Éloi Employé"]


def test_a_planned_stop_is_help_and_a_lone_commune_gets_the_itinerant_unit(territoire):
    lone = factories.CommuneFactory(nom="Aureville", codes_postaux=["31999"], population=900, epci=territoire["epci"])
    rows = lignes()
    assert rows["Aureville"].sans_aide
    assert [lieu["nom"] for lieu in rows["Aureville"].suggestions.itinerants] == ["Bus numérique"]
    factories.ArretItinerantFactory(lieu=territoire["bus"], commune=lone, date=days_ago(-10))
    rows = lignes()
    assert rows["Aureville"].prochain_arret == days_ago(-10)
    assert not rows["Aureville"].sans_aide


def test_period_moves_the_figures(territoire):
    rows = {ligne.commune.nom: ligne for ligne in maillage.couverture(days_ago(500), days_ago(300)).lignes}
    assert rows["Labège"].activites == 1 and rows["Labège"].ateliers == 1
    assert rows["Escalquens"].arrets == 1


# --- The page ------------------------------------------------------------------------------------------------------
def test_page_shows_the_table_the_chart_and_who_could_cover(client, staff, territoire):
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    page = text(response)
    assert "Mervilla Sans aide" in page
    assert "Auzeville-Tolosane Sans lieu" in page
    assert "1,3" in page
    assert reverse("aidants:aidant", args=[territoire["aidant"].uuid]) in body
    assert 'role="img"' in body and "aucune aide" in body and "maillage-hachures" in body
    assert "Comment c'est compté" in page
    assert " style=" not in body and "<script>" not in body


def test_only_staff(client, territoire):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    for role in (Role.REFERENT, Role.CONSEILLER, Role.AIDANT, Role.FINANCEUR):
        client.force_login(member(role))
        assert client.get(URL).status_code == 403
        assert client.get(CSV_URL).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"du": "pas une date"}, "Saisissez un mois au format AAAA-MM"),
        ({"du": "2024-05", "au": "2024-04"}, "Le mois de fin doit suivre le mois de début."),
        ({"du": "1800-01"}, "Choisissez un mois entre"),
    ],
)
def test_bad_period_is_400_in_french(client, staff, params, message):
    client.force_login(staff)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in text(response)
    response = client.get(CSV_URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_csv(client, staff, territoire):
    client.force_login(staff)
    response = client.get(CSV_URL)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Code INSEE", "Commune"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Labège"][10:] == ["5", "1,3", "non"]
    assert by_name["Mervilla"][-1] == "oui"


# --- Query budget --------------------------------------------------------------------------------------------------
def _queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _populate(n_communes, n_activites):
    epci, _created = Epci.objects.get_or_create(siren=settings.TERRITOIRE_EPCI_SIREN, defaults={"nom": "Sicoval"})
    communes = [
        factories.CommuneFactory(epci=epci, codes_postaux=[f"31{i % 3:03d}"], population=1000 + i)
        for i in range(n_communes)
    ]
    structure = factories.StructureFactory(commune=communes[0])
    conseiller = conseiller_in(structure)
    bus = factories.LieuFactory(structure=structure, itinerance=Itinerance.ITINERANT)
    for i, commune in enumerate(communes):
        if i % 3 == 0:
            factories.LieuFactory(structure=structure, commune=commune)
        if i % 3 == 1:
            factories.ArretItinerantFactory(lieu=bus, commune=commune, date=days_ago(i + 1))
        if i % 4 == 0:
            AidantFactory(structure=structure).communes.add(commune)
    activites = Activite.objects.bulk_create(
        [
            Activite(
                conseiller=conseiller,
                structure=structure,
                type="individuel",
                date=days_ago(1 + i % 300),
                duree=30,
                type_lieu="domicile",
                commune=communes[i % n_communes],
                thematiques=["email"],
            )
            for i in range(n_activites)
        ]
    )
    Accompagnement.objects.bulk_create([Accompagnement(activite=a, rang=1) for a in activites])
    resume.reconstruire()  # activities written in bulk come into the summaries with the rebuild


def test_same_query_count_at_3_and_36_communes(client, staff):
    client.force_login(staff)
    _populate(3, 5)
    small = _queries(client)
    _populate(33, 200)
    assert len(maillage.couverture(*maillage.default_period()).lignes) == 36
    assert _queries(client) == small


def test_same_query_count_at_5_and_200_activities(client, staff):
    client.force_login(staff)
    _populate(5, 5)
    small = _queries(client)
    conseiller = factories.ConseillerFactory()
    structure = factories.StructureFactory()
    commune = Activite.objects.first().commune
    activites = Activite.objects.bulk_create(
        [
            Activite(
                conseiller=conseiller,
                structure=structure,
                type="individuel",
                date=days_ago(2),
                duree=30,
                type_lieu="autre",
                commune=commune,
                thematiques=["email"],
            )
            for _ in range(195)
        ]
    )
    Accompagnement.objects.bulk_create([Accompagnement(activite=a, rang=1) for a in activites])
    resume.reconstruire()
    assert _queries(client) == small


def test_selector_query_count_is_fixed(territoire, django_assert_num_queries):
    du, au = maillage.default_period()
    with django_assert_num_queries(maillage.QUERIES):
        maillage.couverture(du, au)
