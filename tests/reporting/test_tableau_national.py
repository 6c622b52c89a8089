"""A national dashboard counts thousands of communes and structures: the accompaniments per commune detail the
communes with the most (``COMMUNES_AFFICHEES``) and the posts per structure those with the most posts
(``STRUCTURES_AFFICHEES``), the others summed on one row each. The caps are lowered here to a few rows."""

import datetime

import pytest
from django.urls import reverse

from accompagnements import services
from accompagnements import statistiques as figures
from accounts.models import Role
from conseillers.models import Affectation
from reporting import resume
from reporting.tableau import Perimetre, activites, reseau, tableau_de_bord
from reporting.tableau.activites import section_accompagnements
from reporting.tableau.reseau import section_postes
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
DU, AU = D(2024, 1, 1), D(2024, 6, 30)
AUJOURD_HUI = D(2025, 1, 15)
FEVRIER = D(2024, 2, 5)
ATTRIBUTION = D(2023, 1, 1)


def conseiller_of(structure):
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


def accompagner(conseiller, commune, n, *, date=FEVRIER):
    """``n`` accompaniments: a workshop of ``n`` anonymous participants held in ``commune``, or held remotely
    (without commune) when ``commune`` is None."""
    data = {
        "type": "collectif",
        "date": date,
        "duree": 60,
        "type_lieu": "a_distance" if commune is None else "domicile",
        "lieu": None,
        "commune": commune,
        "thematiques": ["email"],
        "materiel": ["ordinateur"],
        "titre_atelier": "Atelier",
        "niveau": "debutant",
    }
    return services.activite_create(by=conseiller.user, data=data, participants=services.Participants(anonymes=n))


@pytest.fixture
def quatre_communes(db):
    """One structure's accompaniments in four communes: Alpha 6, Bravo 4, Charlie 2, Delta 1 (no tie), 5 held
    remotely, and 3 outside the period."""
    communes = {
        nom: factories.CommuneFactory(code_insee=code, nom=nom, population=1000)
        for code, nom in (("31001", "Alpha"), ("31002", "Bravo"), ("31003", "Charlie"), ("31004", "Delta"))
    }
    structure = factories.StructureFactory(commune=communes["Alpha"])
    conseiller = conseiller_of(structure)
    for nom, n in (("Alpha", 6), ("Bravo", 4), ("Charlie", 2), ("Delta", 1)):
        accompagner(conseiller, communes[nom], n)
    accompagner(conseiller, None, 5)
    accompagner(conseiller, communes["Delta"], 3, date=D(2024, 9, 1))
    resume.mettre_a_jour()  # what the update task does after the commits
    return {**communes, "structure": structure}


def lignes(figure):
    return {ligne.code: (ligne.label, ligne.value) for ligne in figure.lignes}


# --- Accompaniments per commune --------------------------------------------------------------------------------------
def test_statistiques_detail_the_communes_with_the_most_and_sum_the_others(quatre_communes):
    plafonnee = resume.statistiques(DU, AU, communes_detaillees=2).figure("communes")
    assert lignes(plafonnee) == {
        "31001": ("Alpha", 6),
        "31002": ("Bravo", 4),
        resume.AUTRES: ("Autres communes (2)", 3),  # Charlie 2 + Delta 1
        "sans": (figures.SANS_COMMUNE, 5),
    }
    # The same accompaniments as without a cap, where every commune has its row.
    complete = resume.statistiques(DU, AU).figure("communes")
    assert lignes(complete) == {
        "31001": ("Alpha", 6),
        "31002": ("Bravo", 4),
        "31003": ("Charlie", 2),
        "31004": ("Delta", 1),
        "sans": (figures.SANS_COMMUNE, 5),
    }
    assert sum(ligne.value for ligne in plafonnee.lignes) == sum(ligne.value for ligne in complete.lignes) == 18
    assert plafonnee.base == complete.base == 18


def test_statistiques_give_no_other_communes_row_when_every_commune_is_detailed(quatre_communes):
    assert lignes(resume.statistiques(DU, AU, communes_detaillees=4).figure("communes")) == lignes(
        resume.statistiques(DU, AU).figure("communes")
    )


@pytest.mark.parametrize("cap", [2, 10])
def test_statistiques_count_communes_in_whole_numbers_with_a_cap(quatre_communes, cap):
    """On PostgreSQL too, where a SUM over the per-commune sums would be ``numeric`` (Decimal in Python): every row
    is an int, the capped ones as the others."""
    figure = resume.statistiques(DU, AU, communes_detaillees=cap).figure("communes")
    assert {ligne.code: type(ligne.value) for ligne in figure.lignes} == dict.fromkeys(lignes(figure), int)


def test_the_other_communes_are_those_of_the_filters(quatre_communes):
    """Read from the rows of a structure's scope: the communes ranked and summed are those of its activities."""
    ailleurs = factories.StructureFactory(commune=quatre_communes["Delta"])
    accompagner(conseiller_of(ailleurs), quatre_communes["Delta"], 7)
    resume.mettre_a_jour()
    structure = quatre_communes["structure"]
    figure = resume.statistiques(DU, AU, structures=[structure.pk], communes_detaillees=1).figure("communes")
    assert lignes(figure) == {
        "31001": ("Alpha", 6),
        resume.AUTRES: ("Autres communes (3)", 7),  # Bravo 4 + Charlie 2 + Delta 1, not the other structure's 7
        "sans": (figures.SANS_COMMUNE, 5),
    }


def test_dashboard_groups_the_communes_beyond_the_cap(quatre_communes, monkeypatch):
    monkeypatch.setattr(activites, "COMMUNES_AFFICHEES", 2)
    figure = section_accompagnements(DU, AU, Perimetre()).figure("communes")
    assert [(ligne.code, ligne.label, ligne.value) for ligne in figure.lignes] == [
        ("31001", "Alpha", 6),
        ("31002", "Bravo", 4),
        ("autres", "Autres communes (2)", 3),
        ("sans", figures.SANS_COMMUNE, 5),
    ]
    autres = figure.lignes[2]
    assert autres.part == pytest.approx(100 * 3 / 18)
    assert autres.extras == {"population": None, "pour_mille": None}
    assert "Les 2 communes qui comptent le plus d'accompagnements sont détaillées" in figure.how


def test_dashboard_has_the_database_group_the_communes(quatre_communes, monkeypatch):
    """The summaries are read with the cap: the thousands of communes of a nation never reach Python."""
    monkeypatch.setattr(activites, "COMMUNES_AFFICHEES", 2)
    lues = []
    statistiques = resume.statistiques
    monkeypatch.setattr(resume, "statistiques", lambda *a, **kw: lues.append(kw) or statistiques(*a, **kw))
    section_accompagnements(DU, AU, Perimetre())
    assert [kw["communes_detaillees"] for kw in lues] == [2]


def test_dashboard_shows_every_commune_and_no_other_row_within_the_cap(quatre_communes, monkeypatch):
    monkeypatch.setattr(activites, "COMMUNES_AFFICHEES", 4)
    figure = section_accompagnements(DU, AU, Perimetre()).figure("communes")
    assert [ligne.code for ligne in figure.lignes] == ["31001", "31002", "31003", "31004", "sans"]
    assert not any(ligne.label.startswith("Autres communes") for ligne in figure.lignes)


def test_dashboard_sums_the_other_communes_of_a_figure_not_grouped_yet(quatre_communes, monkeypatch):
    """A breakdown read without a cap (every commune) is grouped the same way by the dashboard itself."""
    monkeypatch.setattr(activites, "COMMUNES_AFFICHEES", 2)
    complete = resume.statistiques(DU, AU).figure("communes")
    regroupee = activites._figure_communes(complete)
    assert [(ligne.code, ligne.label, ligne.value) for ligne in regroupee.lignes] == [
        ("31001", "Alpha", 6),
        ("31002", "Bravo", 4),
        ("autres", "Autres communes (2)", 3),
        ("sans", figures.SANS_COMMUNE, 5),
    ]
    assert regroupee.lignes[2].part == pytest.approx(100 * 3 / 18)


def test_dashboard_page_shows_the_other_communes_row(quatre_communes, monkeypatch, staff_client):
    monkeypatch.setattr(activites, "COMMUNES_AFFICHEES", 2)
    response = staff_client.get(reverse("reporting:tableau"), {"du": "2024-01", "au": "2024-06"})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<th scope="row">Autres communes (2)</th>' in page
    assert '<th scope="row">Alpha</th>' in page and '<th scope="row">Bravo</th>' in page
    assert '<th scope="row">Charlie</th>' not in page and '<th scope="row">Delta</th>' not in page

    monkeypatch.setattr(activites, "COMMUNES_AFFICHEES", 4)
    page = staff_client.get(reverse("reporting:tableau"), {"du": "2024-01", "au": "2024-06"}).content.decode()
    assert "Autres communes" not in page
    assert '<th scope="row">Charlie</th>' in page and '<th scope="row">Delta</th>' in page


# --- Posts per structure -------------------------------------------------------------------------------------------
def postes(structure, accordes, occupes, *, date_attribution=ATTRIBUTION):
    """``accordes`` posts of ``structure``, the first ``occupes`` of them with an occupant since 2023."""
    for i in range(accordes):
        poste = factories.PosteFactory(structure=structure, date_attribution=date_attribution)
        if i < occupes:
            Affectation.objects.create(poste=poste, conseiller=factories.ConseillerFactory(), date_debut=D(2023, 3, 1))


@pytest.fixture
def cinq_structures(db):
    """Granted posts on 30/06/2024: Zèbre 4 (1 occupied), Abeille 3 (3), Moineau 2 (1), Castor 1 (0); Hérisson has
    only a post granted after the period, Loutre only a post returned within it (none granted on that day)."""
    structures = {nom: factories.StructureFactory(nom=nom) for nom in ("Zèbre", "Abeille", "Moineau", "Castor")}
    postes(structures["Zèbre"], 4, 1)
    postes(structures["Abeille"], 3, 3)
    postes(structures["Moineau"], 2, 1)
    postes(structures["Castor"], 1, 0)
    structures["Hérisson"] = factories.StructureFactory(nom="Hérisson")
    postes(structures["Hérisson"], 1, 0, date_attribution=D(2024, 9, 1))
    structures["Loutre"] = factories.StructureFactory(nom="Loutre")
    factories.PosteFactory(
        structure=structures["Loutre"], date_attribution=ATTRIBUTION, etat="rendu", date_rendu=D(2024, 3, 1)
    )
    return structures


def rangees(section):
    return dict(section.figure("structures").donnees())


def test_posts_table_details_the_structures_with_the_most_posts_by_name_and_sums_the_others(
    cinq_structures, monkeypatch
):
    monkeypatch.setattr(reseau, "STRUCTURES_AFFICHEES", 2)
    section = section_postes(DU, AU, Perimetre(), today=AUJOURD_HUI)
    figure = section.figure("structures")
    # The two with the most posts, by name; then the others: Moineau and Castor (Hérisson and Loutre had no post
    # granted that day).
    assert [ligne.label for ligne in figure.lignes] == ["Abeille", "Zèbre", "Autres structures (2)"]
    assert figure.lignes[-1].code == "autres"
    rows = rangees(section)
    assert rows["Abeille"] == [3, 3, 0, pytest.approx(100.0)]
    assert rows["Zèbre"] == [4, 1, 3, pytest.approx(25.0)]
    # granted, occupied, vacant summed; the rate is occupied ÷ granted of the sums (1 ÷ 3), not a mean of rates.
    assert rows["Autres structures (2)"] == [3, 1, 2, pytest.approx(100 / 3)]
    assert "Au-delà de 2 structures, les 2 qui ont le plus de postes sont détaillées" in figure.how


def test_posts_table_with_a_cap_of_one_keeps_the_cards_of_every_structure(cinq_structures, monkeypatch):
    monkeypatch.setattr(reseau, "STRUCTURES_AFFICHEES", 1)
    section = section_postes(DU, AU, Perimetre(), today=AUJOURD_HUI)
    rows = rangees(section)
    assert list(rows) == ["Zèbre", "Autres structures (3)"]
    assert rows["Autres structures (3)"] == [6, 4, 2, pytest.approx(100 * 4 / 6)]
    # The table's rows add up to the cards, which count every structure.
    cartes = {carte.key: carte.value for carte in section.cartes}
    assert (cartes["accordes"], cartes["occupes"], cartes["vacants"]) == (10, 5, 5)
    assert [sum(values[i] for values in rows.values()) for i in range(3)] == [10, 5, 5]


def test_posts_table_has_no_other_structures_row_within_the_cap(cinq_structures, monkeypatch):
    monkeypatch.setattr(reseau, "STRUCTURES_AFFICHEES", 4)
    rows = rangees(section_postes(DU, AU, Perimetre(), today=AUJOURD_HUI))
    assert list(rows) == ["Abeille", "Castor", "Moineau", "Zèbre"]


def test_dashboard_page_shows_the_other_structures_row(cinq_structures, monkeypatch, staff_client):
    monkeypatch.setattr(reseau, "STRUCTURES_AFFICHEES", 2)
    page = staff_client.get(reverse("reporting:tableau"), {"du": "2024-01", "au": "2024-06"}).content.decode()
    assert '<th scope="row">Autres structures (2)</th>' in page
    assert '<th scope="row">Moineau</th>' not in page
    # The whole dashboard agrees with the section.
    figure = tableau_de_bord(DU, AU, Perimetre()).section("postes").figure("structures")
    assert figure.lignes[-1].label == "Autres structures (2)"
