"""The public statistics page: open without an account, the headline figures of the last twelve whole months, no
count of people from 1 to 4 ever shown (with the complementary rule), cheap (fixed queries, cached) and linked from
every page's footer."""

import datetime
import html
import re
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accompagnements import services
from accounts.models import Role
from conseillers.models import Affectation
from reporting import resume
from reporting.views.public import periode_publique
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("statistiques_publiques:index")


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def card(response, label):
    match = re.search(r"<strong>([^<]+)</strong>\s*<span>" + re.escape(label) + r"\b", response.content.decode())
    assert match, f"pas de carte {label!r}"
    return html.unescape(match.group(1)).replace("\u00a0", " ")


def months_ago(n):
    """The 10th of the month ``n`` months before the current one."""
    return timezone.localdate().replace(day=10) - relativedelta(months=n)


@pytest.fixture
def conseiller(db):
    structure = factories.StructureFactory(commune=factories.CommuneFactory(code_insee="31254", nom="Labège"))
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


def record(conseiller, n, *, when, thematiques=("email",)):
    commune = conseiller.user.memberships.first().structure.commune
    for _ in range(n):
        services.activite_create(
            by=conseiller.user,
            data={
                "type": "individuel",
                "date": when,
                "duree": 30,
                "type_lieu": "domicile",
                "lieu": None,
                "commune": commune,
                "thematiques": list(thematiques),
                "materiel": ["ordinateur"],
                "autonomie": "autonome",
            },
        )
    resume.mettre_a_jour()  # what the update task does after the commits


def test_public_period_is_the_last_twelve_whole_months():
    assert periode_publique(datetime.date(2025, 3, 14)) == (datetime.date(2024, 3, 1), datetime.date(2025, 2, 28))


def test_page_opens_without_an_account(client, conseiller):
    record(conseiller, 6, when=months_ago(1))
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>" in page and "Chiffres clés</h2>" in page
    assert card(response, "Accompagnements") == "6"
    assert card(response, "Activités") == "6"
    assert card(response, "Communes touchées") == "1"
    assert "Accompagnements par mois" in page and "Activités par thématique" in page
    assert '<th scope="col"' in page and "<caption" in page and 'role="img"' in page
    main = page.split("<main")[1]
    assert "<script" not in main and " style=" not in main


def test_the_current_month_and_older_months_are_left_out(client, conseiller):
    record(conseiller, 6, when=timezone.localdate().replace(day=1))
    record(conseiller, 7, when=months_ago(13))
    assert card(client.get(URL), "Accompagnements") == "0"


def test_counts_of_people_from_one_to_four_are_hidden(client, conseiller):
    record(conseiller, 3, when=months_ago(1))
    poste = factories.PosteFactory(structure=conseiller.user.memberships.first().structure)
    Affectation.objects.create(poste=poste, conseiller=conseiller, date_debut=datetime.date(2021, 7, 1))
    response = client.get(URL)
    assert card(response, "Accompagnements") == "moins de 5"
    assert card(response, "Conseillers numériques en poste") == "moins de 5"
    assert card(response, "Activités") == "moins de 5"  # an individual activity is a person
    section = response.context["section"]
    assert [ligne.value for ligne in section.figure("mois").lignes if ligne.value is None] == [None]
    assert ">3<" not in response.content.decode().split("Accompagnements par mois")[1]
    assert "moins de 5" in text(response)


def test_a_single_small_cell_hides_the_next_smallest_one_too(client, conseiller):
    record(conseiller, 3, when=months_ago(1))
    record(conseiller, 8, when=months_ago(2))
    record(conseiller, 12, when=months_ago(3))
    section = client.get(URL).context["section"]
    values = [ligne.value for ligne in section.figure("mois").lignes]
    assert values.count(None) == 2 and 3 not in values and 8 not in values and 12 in values


def test_participants_are_hidden_when_individual_accompaniments_are_few(client, conseiller):
    """Accompaniments − workshop participants = individual accompaniments: 3 of them would be given back."""
    record(conseiller, 3, when=months_ago(1))
    for _ in range(2):
        services.activite_create(
            by=conseiller.user,
            data={
                "type": "collectif",
                "date": months_ago(2),
                "duree": 120,
                "type_lieu": "autre",
                "lieu": None,
                "commune": conseiller.user.memberships.first().structure.commune,
                "thematiques": ["email"],
                "materiel": ["ordinateur"],
                "titre_atelier": "Premiers pas",
                "niveau": "debutant",
            },
            participants=services.Participants(anonymes=9),
        )
    resume.mettre_a_jour()
    response = client.get(URL)
    assert card(response, "Accompagnements") == "21"
    assert card(response, "Participants aux ateliers") == "non diffusé"
    assert card(response, "Activités") == "non diffusé"  # 5 activities − 2 workshops would give the 3 back


def test_counts_of_five_and_more_are_shown(client, conseiller):
    record(conseiller, 5, when=months_ago(1), thematiques=("email", "sante"))
    section = client.get(URL).context["section"]
    assert section.figure("thematiques").values() == {"email": 5, "sante": 5}
    assert section.carte("accompagnements").value == 5


def test_query_count_is_fixed_and_the_figures_are_cached(client, conseiller, django_assert_max_num_queries):
    record(conseiller, 2, when=months_ago(1))
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    with CaptureQueriesContext(connection) as cached:
        client.get(URL)
    assert len(cached) == 0  # anonymous and cached: no query at all
    from django.core.cache import cache

    cache.clear()
    record(conseiller, 18, when=months_ago(2))
    with django_assert_max_num_queries(len(small)):
        client.get(URL)
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(large) == len(small)


def test_the_page_answers_when_the_cache_is_down(client, conseiller):
    record(conseiller, 6, when=months_ago(1))
    with mock.patch("reporting.views.public.cache.get", side_effect=ConnectionError("Redis injoignable")):
        response = client.get(URL)
    assert response.status_code == 200
    assert card(response, "Accompagnements") == "6"


def test_every_page_links_to_the_public_statistics(client, db):
    response = client.get(reverse("home"))
    assert f'href="{URL}"' in response.content.decode().split('class="site-footer"')[1]
