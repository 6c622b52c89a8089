"""« Mes statistiques »: figures on a known dataset, who sees whose figures, refused input (400, never 500), share
links, and a query count that does not grow with the number of activities."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accompagnements import selectors, services, statistiques
from accompagnements.models import Accompagnement, Activite, ActiviteThematique, PartageStatistiques
from accounts.models import Role
from reporting import resume
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
START, END = D(2024, 1, 1), D(2024, 6, 30)
URL = reverse("accompagnements:statistiques")
PERIOD = {"du": "2024-01-01", "au": "2024-06-30"}


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def card(response, label):
    """The number of a key-number card, as an int."""
    match = re.search(r"<strong>([^<]+)</strong>\s*<span>" + re.escape(label) + r"\b", response.content.decode())
    assert match, f"no card {label!r}"
    return int(html.unescape(match.group(1)).replace("\u00a0", ""))


@pytest.fixture
def commune2(db):
    return factories.CommuneFactory(nom="Labège")


@pytest.fixture
def dataset(conseiller, lieu, commune2, record):
    """Six live activities of ``conseiller`` from January to April 2024 (10 accompaniments, 417 minutes), one
    deleted, two outside the period."""
    P = services.Participants
    record(
        conseiller,
        P(anonyme={"genre": "feminin", "tranche_age": "vingt_cinq_trente_neuf", "statut_social": "en_emploi"}),
        date=D(2024, 1, 10),
        duree=29,
        thematiques=["email"],
    )
    record(
        conseiller,
        P(deja_accompagne=True, anonyme={"genre": "masculin"}),
        date=D(2024, 2, 5),
        duree=30,
        type_lieu="lieu_activite",
        lieu=lieu,
        thematiques=["aide_aux_demarches_administratives", "logement", "argent_impots"],
    )
    record(
        conseiller,
        P(anonymes=5, repartition={"genre": {"feminin": 3, "masculin": 1}}),
        type="collectif",
        titre_atelier="Découvrir la tablette",
        niveau="debutant",
        date=D(2024, 2, 20),
        duree=120,
        type_lieu="lieu_activite",
        lieu=lieu,
        thematiques=["email", "securite_numerique"],
    )
    # Remote: counted without commune even though the helper records the structure's commune.
    record(conseiller, date=D(2024, 3, 1), duree=59, type_lieu="a_distance", thematiques=["sante"])
    record(conseiller, date=D(2024, 3, 2), duree=60, type_lieu="autre", commune=commune2, thematiques=["email"])
    record(conseiller, date=D(2024, 4, 2), duree=119, commune=commune2, thematiques=["bureautique"])
    deleted = record(conseiller, date=D(2024, 4, 3), duree=45, thematiques=["parentalite"])
    services.activite_delete(activite=deleted, by=conseiller.user)
    record(conseiller, date=D(2023, 12, 31), duree=45, thematiques=["culture_numerique"])
    record(conseiller, date=D(2024, 7, 1), duree=45, thematiques=["culture_numerique"])
    resume.mettre_a_jour()
    return conseiller


def compute_for(conseiller, start=START, end=END):
    activites = selectors.activites_visible_to(conseiller.user).filter(conseiller=conseiller)
    return statistiques.compute(activites, start, end)


# --- Figures on a known dataset ------------------------------------------------------------------------------------
def test_totals_count_workshop_participants_and_ignore_deleted_and_out_of_period_activities(dataset):
    n = compute_for(dataset).chiffres
    assert n["activites"] == 6
    assert n["individuels"] == 5
    assert n["collectifs"] == 1
    assert n["participants_ateliers"] == 5
    assert n["accompagnements"] == 10  # a workshop of 5 counts 5
    assert n["duree"] == 29 + 30 + 120 + 59 + 60 + 119


def test_new_and_seen_again_beneficiaries(dataset):
    n = compute_for(dataset).chiffres
    assert n["deja_accompagnes"] == 1
    assert n["nouveaux"] == 9


def test_duration_bands_include_their_lower_bound_and_exclude_their_upper_bound(dataset):
    bands = compute_for(dataset).figure("durees").values()
    assert bands == {"moins_30": 1, "30_60": 2, "60_120": 2, "120_plus": 1}  # 29 | 30, 59 | 60, 119 | 120


def test_thematiques_count_each_activity_once_per_theme(dataset):
    stats = compute_for(dataset)
    assert stats.figure("thematiques").values() == {
        "email": 3,
        "aide_aux_demarches_administratives": 1,
        "securite_numerique": 1,
        "sante": 1,
        "bureautique": 1,
    }
    assert stats.figure("demarches").values() == {"logement": 1, "argent_impots": 1}
    email = stats.figure("thematiques").lignes[0]
    assert (email.code, email.part) == ("email", 50.0)  # 3 of 6 activities


def test_communes_count_accompaniments_and_remote_activities_apart(dataset, conseiller, commune2):
    communes = {ligne.label: ligne.value for ligne in compute_for(dataset).figure("communes").lignes}
    home = conseiller.user.memberships.first().structure.commune
    assert communes == {home.nom: 1 + 1 + 5, "À distance ou sans commune": 1, commune2.nom: 2}


def test_places_and_people_breakdowns(dataset):
    stats = compute_for(dataset)
    assert stats.figure("lieux").values() == {"lieu_activite": 2, "domicile": 2, "a_distance": 1, "autre": 1}
    assert stats.figure("genre").values() == {"feminin": 4, "masculin": 2, "non_communique": 4}
    assert stats.figure("tranche_age").values()["vingt_cinq_trente_neuf"] == 1
    assert stats.figure("statut_social").values()["en_emploi"] == 1
    assert sum(stats.figure("statut_social").values().values()) == 10


def test_every_month_of_the_period_is_present_even_at_zero(dataset):
    months = compute_for(dataset).figure("mois").lignes
    assert [(m.code, m.value, m.activites) for m in months] == [
        ("2024-01", 1, 1),
        ("2024-02", 6, 2),
        ("2024-03", 2, 2),
        ("2024-04", 1, 1),
        ("2024-05", 0, 0),
        ("2024-06", 0, 0),
    ]
    assert months[0].label == "janvier 2024"


def test_every_figure_explains_how_it_is_counted(dataset):
    stats = compute_for(dataset)
    assert all(figure.how for figure in stats.figures)
    assert all(carte.how for carte in stats.cartes)
    assert "un accompagnement par participant" in stats.cartes[0].how


def test_page_shows_the_conseillers_figures(client, dataset):
    client.force_login(dataset.user)
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert "<h1>Mes statistiques</h1>" in response.content.decode()
    assert card(response, "Accompagnements") == 10
    assert card(response, "Activités") == 6
    assert "6\u00a0h\u00a057\u00a0min" in response.content.decode()
    assert response.content.decode().count('role="img"') >= 8
    assert "Comment c'est compté" in text(response)
    assert re.search(
        r'<caption id="[\w-]+">Accompagnements par mois, du 1 janvier 2024 au 30 juin 2024</caption>',
        response.content.decode(),
    )
    assert 'style="' not in response.content.decode()
    assert "Partager mes statistiques" in text(response)


def test_page_opens_on_the_default_period(client, conseiller, record):
    record(conseiller, date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(conseiller.user)
    response = client.get(URL)
    start, end = selectors.default_period()
    assert response.status_code == 200
    # Figures are kept by month: the default period runs to the end of the current month.
    assert response.context["stats"].start == start
    assert response.context["stats"].end == resume.dernier_jour(end)
    assert card(response, "Accompagnements") == 1


def test_page_of_a_period_without_activity_says_so(client, conseiller):
    client.force_login(conseiller.user)
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert "Aucune activité enregistrée du 1 janvier 2024 au 30 juin 2024." in text(response)


# --- Who sees whose figures ----------------------------------------------------------------------------------------
def test_conseiller_never_sees_another_conseillers_figures(client, conseiller, colleague, record):
    record(conseiller, date=D(2024, 2, 1))
    record(colleague, date=D(2024, 2, 1))
    record(colleague, date=D(2024, 2, 2))
    client.force_login(conseiller.user)
    assert card(client.get(URL, PERIOD), "Activités") == 1
    response = client.get(URL, {**PERIOD, "conseiller": str(colleague.uuid)})
    assert response.status_code == 404


def test_referent_sees_the_structures_conseillers_and_can_choose_one(
    client, referent, conseiller, colleague, other_conseiller, record
):
    record(conseiller, date=D(2024, 2, 1))
    record(colleague, date=D(2024, 2, 1))
    record(other_conseiller, date=D(2024, 2, 1))
    client.force_login(referent)
    everyone = client.get(URL, PERIOD)
    assert everyone.status_code == 200
    assert "<h1>Statistiques des activités</h1>" in everyone.content.decode()
    assert card(everyone, "Activités") == 2
    assert "Partager mes statistiques" not in text(everyone)
    one = client.get(URL, {**PERIOD, "conseiller": str(colleague.uuid)})
    assert one.status_code == 200
    assert card(one, "Activités") == 1
    assert f"{colleague.prenom} {colleague.nom}" in text(one)


def test_referent_of_structure_a_gets_404_on_a_conseiller_of_structure_b(client, referent, other_conseiller, record):
    record(other_conseiller, date=D(2024, 2, 1))
    client.force_login(referent)
    response = client.get(URL, {**PERIOD, "conseiller": str(other_conseiller.uuid)})
    assert response.status_code == 404


def test_staff_can_choose_any_conseiller(staff_client, conseiller, other_conseiller, record):
    record(conseiller, date=D(2024, 2, 1))
    record(other_conseiller, date=D(2024, 2, 1))
    record(other_conseiller, date=D(2024, 2, 2))
    assert card(staff_client.get(URL, PERIOD), "Activités") == 3
    response = staff_client.get(URL, {**PERIOD, "conseiller": str(other_conseiller.uuid)})
    assert response.status_code == 200
    assert card(response, "Activités") == 2


def test_user_who_is_neither_conseiller_nor_referent_nor_staff_gets_403(client):
    client.force_login(factories.MembershipFactory(role=Role.FINANCEUR).user)
    assert client.get(URL).status_code == 403


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# --- Refused input: 400, never 500 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"du": "2024-13-45"},
        {"du": "x", "au": "y"},
        {"du": "2024-06-30", "au": "2024-01-01"},
        {"du": "0001-01-01"},
        {"au": "9999-12-31"},
        {"conseiller": "not-a-uuid"},
    ],
)
def test_bad_query_answers_400_with_a_french_error(client, referent, conseiller, params):
    client.force_login(referent)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert "Les statistiques n'ont pas pu être affichées" in text(response)
    assert response.context["stats"] is None


def test_start_after_end_is_explained(client, conseiller):
    client.force_login(conseiller.user)
    response = client.get(URL, {"du": "2024-06-30", "au": "2024-01-01"})
    assert response.status_code == 400
    assert "Le mois de fin doit suivre le mois de début." in text(response)


def test_unknown_conseiller_uuid_is_404(client, referent):
    client.force_login(referent)
    assert client.get(URL, {"conseiller": "9b2f0c4e-1111-4d6a-8c33-123456789abc"}).status_code == 404


def test_a_period_longer_than_ten_years_is_clamped(client, conseiller):
    client.force_login(conseiller.user)
    response = client.get(URL, {"du": "2000-01-01", "au": "2024-06-30"})
    assert response.status_code == 200
    assert response.context["stats"].start == resume.premier_jour(D(2024, 6, 30) - datetime.timedelta(days=3660))
    assert "Une période ne dépasse pas dix ans" in text(response)


def test_statistics_page_only_answers_get(client, conseiller):
    client.force_login(conseiller.user)
    assert client.post(URL).status_code == 405


# --- Share links ---------------------------------------------------------------------------------------------------
CREATE = reverse("accompagnements:partage_create")


def share(conseiller, start=START, end=END, libelle="Mairie"):
    return services.partage_create(by=conseiller.user, date_debut=start, date_fin=end, libelle=libelle)


def public_url(partage):
    return reverse("accompagnements:partage_public", args=[partage.token])


def test_conseiller_creates_a_share_link_and_sees_its_full_url_once(client, conseiller):
    client.force_login(conseiller.user)
    response = client.post(
        CREATE, {"partage-date_debut": "2024-01-01", "partage-date_fin": "2024-06-30", "partage-libelle": "Mairie"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}#lien-cree"
    partage = PartageStatistiques.objects.get(conseiller=conseiller)
    assert (partage.date_debut, partage.date_fin, partage.libelle) == (D(2024, 1, 1), D(2024, 6, 30), "Mairie")
    full_url = f"http://testserver{public_url(partage)}"
    first = client.get(URL)
    assert f'value="{full_url}" readonly' in first.content.decode()
    assert "Le lien de partage est créé." in text(first)
    second = client.get(URL)
    assert partage.token not in second.content.decode()
    assert "Du 01/01/2024 au 30/06/2024" in text(second)  # still listed, without its address
    assert "Actif" in text(second)


def test_share_form_refuses_an_end_before_the_start(client, conseiller):
    client.force_login(conseiller.user)
    response = client.post(CREATE, {"partage-date_debut": "2024-06-30", "partage-date_fin": "2024-01-01"})
    assert response.status_code == 400
    assert "Le mois de fin doit suivre le mois de début." in text(response)
    assert not PartageStatistiques.objects.exists()


def test_share_form_refuses_garbage_dates_without_500(client, conseiller):
    client.force_login(conseiller.user)
    response = client.post(CREATE, {"partage-date_debut": "2024-02-31", "partage-date_fin": "x"})
    assert response.status_code == 400
    assert "Le lien n'a pas pu être créé." in text(response)
    assert not PartageStatistiques.objects.exists()


def test_only_a_conseiller_creates_a_share_link(client, referent):
    client.force_login(referent)
    response = client.post(CREATE, {"partage-date_debut": "2024-01-01", "partage-date_fin": "2024-06-30"})
    assert response.status_code == 403
    assert not PartageStatistiques.objects.exists()


def test_public_page_needs_no_login_and_shows_the_shared_totals(client, dataset):
    partage = share(dataset)
    response = client.get(public_url(partage))
    assert response.status_code == 200
    assert card(response, "Accompagnements") == 10
    assert card(response, "Activités") == 6
    page = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert f"{dataset.prenom} {dataset.nom}" in text(response)
    assert "Se connecter" in text(response)  # nobody logged in


def test_public_page_respects_the_shared_period(client, dataset):
    partage = share(dataset, start=D(2024, 2, 1), end=D(2024, 2, 29))
    response = client.get(public_url(partage))
    assert card(response, "Activités") == 2
    assert card(response, "Accompagnements") == 6
    assert response.context["stats"].figure("mois").values() == {"2024-02": 6}


def test_public_page_shows_neither_notes_nor_names_of_beneficiaries(client, conseiller, record):
    beneficiaire = services.beneficiaire_create(
        by=conseiller.user, data={"prenom": "Ginette", "nom": "Zorglub", "consentement": True}
    )
    record(
        conseiller,
        services.Participants(beneficiaires=[beneficiaire]),
        date=D(2024, 2, 1),
        notes="Note très confidentielle",
    )
    response = client.get(public_url(share(conseiller)))
    assert response.status_code == 200
    assert "Zorglub" not in response.content.decode()
    assert "confidentielle" not in response.content.decode()


def test_public_page_hides_counts_of_fewer_than_five_people(client, dataset):
    response = client.get(public_url(share(dataset)))
    stats = response.context["stats"]
    # Genre: 4 women, 2 men, 4 not said: every count under 5 is hidden.
    assert stats.figure("genre").values() == {"feminin": None, "masculin": None, "non_communique": None}
    # Communes: 7 in the structure's commune, 2 in Labège, 1 remote.
    assert sorted(v for v in stats.figure("communes").values().values() if v is not None) == [7]
    assert "moins de 5" in text(response)
    # Figures that do not count people stay exact.
    assert stats.figure("durees").values() == {"moins_30": 1, "30_60": 2, "60_120": 2, "120_plus": 1}


def test_hiding_a_single_small_count_hides_a_second_one(dataset):
    stats = compute_for(dataset)
    figure = stats.figure("genre")
    for ligne in figure.lignes:
        ligne.value = {"feminin": 12, "masculin": 3, "non_communique": 7}[ligne.code]
    statistiques.hide_small_counts(stats)
    assert figure.values() == {"feminin": 12, "masculin": None, "non_communique": None}


def test_conseillers_own_page_shows_small_counts(client, dataset):
    client.force_login(dataset.user)
    response = client.get(URL, PERIOD)
    assert response.context["stats"].figure("genre").values() == {"feminin": 4, "masculin": 2, "non_communique": 4}
    assert "moins de 5" not in text(response)


def test_revoked_share_link_answers_404(client, conseiller):
    partage = share(conseiller)
    client.force_login(conseiller.user)
    response = client.post(reverse("accompagnements:partage_revoke", args=[partage.uuid]))
    assert response.status_code == 302
    partage.refresh_from_db()
    assert partage.revoque_le is not None
    client.logout()
    assert client.get(public_url(partage)).status_code == 404


def test_unknown_share_token_answers_404(client):
    assert client.get(reverse("accompagnements:partage_public", args=["x" * 43])).status_code == 404
    assert client.get(reverse("accompagnements:partage_public", args=["x" * 200])).status_code == 404


def test_another_user_cannot_revoke_a_share_link(client, conseiller, colleague, referent):
    partage = share(conseiller)
    for user in (colleague.user, referent):
        client.force_login(user)
        response = client.post(reverse("accompagnements:partage_revoke", args=[partage.uuid]))
        assert response.status_code == 404
    partage.refresh_from_db()
    assert partage.revoque_le is None


def test_share_routes_refuse_the_wrong_method(client, conseiller):
    partage = share(conseiller)
    client.force_login(conseiller.user)
    assert client.get(CREATE).status_code == 405
    assert client.get(reverse("accompagnements:partage_revoke", args=[partage.uuid])).status_code == 405
    assert client.post(public_url(partage)).status_code == 405


def test_conseiller_lists_only_their_own_share_links(client, conseiller, colleague):
    share(conseiller, libelle="Pour ma mairie")
    share(colleague, libelle="Pour le CCAS")
    client.force_login(conseiller.user)
    page = text(client.get(URL))
    assert "Pour ma mairie" in page
    assert "Pour le CCAS" not in page


# --- Query budget --------------------------------------------------------------------------------------------------
def bulk_activities(conseiller, count, start=START):
    """``count`` live activities of ``conseiller`` over six months (one workshop of 3 in four), with their
    accompaniment and thématique rows, written in bulk."""
    structure = conseiller.user.memberships.first().structure
    activites = Activite.objects.bulk_create(
        [
            Activite(
                conseiller=conseiller,
                structure=structure,
                type="collectif" if i % 4 == 0 else "individuel",
                titre_atelier="Atelier" if i % 4 == 0 else "",
                participants=3 if i % 4 == 0 else 1,
                date=start + datetime.timedelta(days=i % 180),
                duree=15 + i % 200,
                type_lieu=("domicile", "a_distance", "autre")[i % 3],
                commune=structure.commune,
                thematiques=["email", "sante"] if i % 2 else ["bureautique"],
            )
            for i in range(count)
        ]
    )
    Accompagnement.objects.bulk_create(
        [
            Accompagnement(activite=activite, rang=rang, genre=("feminin", "masculin")[rang % 2])
            for activite in activites
            for rang in range(1, activite.participants + 1)
        ]
    )
    ActiviteThematique.objects.bulk_create(
        [
            ActiviteThematique(activite=activite, thematique=code)
            for activite in activites
            for code in activite.thematiques
        ]
    )
    resume.reconstruire()  # activities written in bulk come into the summaries with the rebuild


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries), response


def test_conseiller_page_runs_the_same_queries_with_5_and_500_activities(client, conseiller, colleague):
    share(conseiller)
    client.force_login(conseiller.user)
    bulk_activities(conseiller, 5)
    small, response = count_queries(client, URL, PERIOD)
    assert card(response, "Activités") == 5
    bulk_activities(conseiller, 495)
    bulk_activities(colleague, 50)
    large, response = count_queries(client, URL, PERIOD)
    assert card(response, "Activités") == 500
    assert large == small


def test_team_page_runs_the_same_queries_with_5_and_500_activities(staff_client, conseiller, colleague):
    bulk_activities(conseiller, 5)
    params = {**PERIOD, "conseiller": str(conseiller.uuid)}
    small, _ = count_queries(staff_client, URL, params)
    small_all, _ = count_queries(staff_client, URL, PERIOD)
    bulk_activities(conseiller, 495)
    bulk_activities(colleague, 100)
    large, response = count_queries(staff_client, URL, params)
    assert card(response, "Activités") == 500
    large_all, response = count_queries(staff_client, URL, PERIOD)
    assert card(response, "Activités") == 600
    assert (large, large_all) == (small, small_all)


def test_public_page_runs_the_same_queries_with_5_and_500_activities(client, conseiller):
    partage = share(conseiller)
    bulk_activities(conseiller, 5)
    small, _ = count_queries(client, public_url(partage))
    bulk_activities(conseiller, 495)
    large, response = count_queries(client, public_url(partage))
    assert card(response, "Accompagnements") == Accompagnement.objects.count() == 374 + 126 * 3
    assert large == small


def test_figures_take_five_queries(conseiller, django_assert_num_queries):
    bulk_activities(conseiller, 40)
    activites = Activite.objects.actives().filter(conseiller=conseiller)
    with django_assert_num_queries(5):
        stats = statistiques.compute(activites, D(2024, 1, 1), D(2024, 6, 30))
    assert stats.chiffres["activites"] == 40


def test_commune_chart_shows_the_first_ten_communes_and_the_table_all_of_them():
    counts = {(f"31{600 + i}", f"Commune {i:02d}"): 20 - i for i in range(12)}
    figure = statistiques._figure_communes(counts, sum(counts.values()))
    assert len(figure.lignes) == 12
    assert [label for label, _value, _spoken in figure.chart_data] == [f"Commune {i:02d}" for i in range(10)]
    assert figure.chart_truncated


def test_the_second_hidden_count_is_never_a_zero(dataset):
    """10 / 3 / 0: hiding the 0 with the 3 would let the total give the 3 back; the 10 is hidden instead."""
    stats = compute_for(dataset)
    figure = stats.figure("genre")
    for ligne in figure.lignes:
        ligne.value = {"feminin": 10, "masculin": 3, "non_communique": 0}[ligne.code]
    statistiques.hide_small_counts(stats)
    assert figure.values() == {"feminin": None, "masculin": None, "non_communique": 0}
