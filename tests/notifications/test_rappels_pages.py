"""The staff pages of the reminders: staff only (403 for everyone else, the login for strangers, 404 for an unknown
family); the list with each family's recipients, timing, state and last run, in a fixed number of queries; a family's
settings with a French error and nothing saved on bad input, and their history; the preview on real objects only;
running a family now."""

import datetime
import html

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from notifications.models import Declenchement, Email, ExecutionRappel, StatutEmail, StatutExecution
from notifications.rappels import FAMILLES
from notifications.rappels.services import reglage_of
from notifications.views import HTML_PREVIEW_POLICY
from tests import factories

from .test_rappels import SESSION, VEILLE, inscrire, paris, regler

pytestmark = pytest.mark.django_db

LIST_URL = reverse("notifications:rappels")
EDIT_URL = reverse("notifications:rappel_edit", args=["atelier"])
PREVIEW_URL = reverse("notifications:rappel_preview", args=["atelier"])
PREVIEW_HTML_URL = reverse("notifications:rappel_preview_html", args=["atelier", "veille"])
RUN_URL = reverse("notifications:rappel_run", args=["atelier"])
VALID = {"actif": "on", "jours_avant": "1", "jours_avant_anticipe": "3", "anticipation_jours": "21", "heure": "10"}


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def upcoming(db):
    """A registration to a session to come (the preview's real object)."""
    seance = factories.SeanceFactory(debut=SESSION, fin=SESSION + datetime.timedelta(hours=2))
    return inscrire(seance, paris(2026, 2, 1), prenom="Josiane", email="josiane.martin@example.org")


# --- Access ----------------------------------------------------------------------------------------------------
def test_strangers_are_sent_to_the_login(client):
    for url in (LIST_URL, EDIT_URL, PREVIEW_URL, PREVIEW_HTML_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/comptes/login/" in response.url
    assert client.post(RUN_URL).status_code == 302
    assert client.post(EDIT_URL, VALID).status_code == 302


@pytest.mark.parametrize("role", [Role.REFERENT, Role.CONSEILLER, Role.AIDANT])
def test_users_other_than_staff_get_403_and_change_nothing(client, role, upcoming):
    client.force_login(factories.MembershipFactory(role=role).user)
    for url in (LIST_URL, EDIT_URL, PREVIEW_URL, PREVIEW_HTML_URL):
        assert client.get(url).status_code == 403
    assert client.post(EDIT_URL, {**VALID, "actif": ""}).status_code == 403
    assert client.post(RUN_URL).status_code == 403
    assert reglage_of("atelier").actif is True
    assert not ExecutionRappel.objects.exists()


def test_an_unknown_family_is_404(staff_client):
    assert staff_client.get(reverse("notifications:rappel_edit", args=["inconnue"])).status_code == 404
    assert staff_client.get(reverse("notifications:rappel_preview", args=["inconnue"])).status_code == 404
    assert staff_client.post(reverse("notifications:rappel_run", args=["inconnue"])).status_code == 404
    unknown_kind = reverse("notifications:rappel_preview_html", args=["atelier", "inconnu"])
    assert staff_client.get(unknown_kind).status_code == 404


# --- The list ----------------------------------------------------------------------------------------------------
def test_the_list_shows_each_family_its_recipients_timing_state_and_last_run(staff_client, staff_user):
    regler("pass_expiration", actif=False)
    ExecutionRappel.objects.create(
        famille="fin_contrat",
        debut=paris(2026, 5, 1, 9, 7),
        fin=paris(2026, 5, 1, 9, 8),
        statut=StatutExecution.REUSSIE,
        envoyes=3,
        deja_traites=2,
        manques=1,
    )
    page = text(staff_client.get(LIST_URL))
    for famille in FAMILLES.values():
        assert famille.libelle in page
        assert reverse("notifications:rappel_edit", args=[famille.code]) in page
        assert reverse("notifications:rappel_preview", args=[famille.code]) in page
    assert "1 jour avant la séance à 9 h" in page
    assert "Désactivé" in page
    assert "01/05/2026 09:07" in page and "3 mis en file, 2 déjà traités, 1 manqué" in page
    assert "Jamais exécuté" in page
    assert "<caption" in page and 'scope="row"' in page


def _runs(n):
    for famille in FAMILLES:
        for index in range(n):
            ExecutionRappel.objects.create(
                famille=famille,
                debut=paris(2026, 5, 1) + datetime.timedelta(hours=index),
                fin=paris(2026, 5, 1) + datetime.timedelta(hours=index, minutes=1),
                statut=StatutExecution.REUSSIE,
                lance_par=factories.StaffUserFactory(with_totp=False) if index % 2 else None,
                declenchement=Declenchement.MANUEL if index % 2 else Declenchement.AUTOMATIQUE,
            )


@pytest.mark.parametrize("runs", [2, 50])
def test_the_list_answers_in_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries, runs):
    _runs(runs)
    staff_client.get(LIST_URL)  # the session and MFA checks warm up
    with django_assert_max_num_queries(7):
        response = staff_client.get(LIST_URL)
    assert response.status_code == 200


def test_the_emails_page_links_to_the_reminders_and_filters_by_a_reminder_kind_before_any_left(staff_client):
    assert LIST_URL in text(staff_client.get(reverse("notifications:list")))
    response = staff_client.get(reverse("notifications:list"), {"type": "rappel_atelier"})
    assert response.status_code == 200
    assert "Aucun e-mail ne correspond à ces filtres." in response.content.decode()


# --- Settings ------------------------------------------------------------------------------------------------------
def test_staff_change_a_familys_timing_and_the_history_keeps_who(staff_client, staff_user):
    form = text(staff_client.get(EDIT_URL))
    assert 'name="jours_avant"' in form and 'value="1"' in form
    response = staff_client.post(EDIT_URL, {**VALID, "actif": ""})
    assert response.status_code == 302 and response.url == LIST_URL
    reglage = reglage_of("atelier")
    assert reglage.actif is False
    assert reglage.parametres == {"jours_avant": 1, "jours_avant_anticipe": 3, "anticipation_jours": 21, "heure": 10}
    assert reglage.history.latest().history_user == staff_user
    page = text(staff_client.get(EDIT_URL))
    assert "Historique" in page and "Rappel anticipé, jours avant la séance" in page and "2 jours → 3 jours" in page
    assert "3 jours avant pour les personnes inscrites au moins 21 jours à l'avance" in page
    assert staff_client.post(EDIT_URL, {**VALID, "actif": ""}).status_code == 302
    assert reglage.history.count() == 2  # the defaults, then this change; the same again records nothing


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"jours_avant": "0"}, "jours_avant", "Saisissez un nombre entre 1 et 7."),
        ({"jours_avant": "abc"}, "jours_avant", "Saisissez un nombre entier."),
        ({"heure": "23"}, "heure", "Saisissez un nombre entre 7 et 20."),
        ({"heure": ""}, "heure", "Saisissez une valeur."),
        ({"jours_avant": "3", "jours_avant_anticipe": "2"}, "jours_avant_anticipe", "doit partir plus tôt"),
        ({"anticipation_jours": "3"}, "anticipation_jours", "plus grand que celui du rappel anticipé"),
    ],
)
def test_bad_timing_is_refused_in_french_and_nothing_is_saved(staff_client, data, field, message):
    before = reglage_of("atelier")
    versions = before.history.count()
    response = staff_client.post(EDIT_URL, {**VALID, **data})
    assert response.status_code == 400
    page = text(response)
    assert message in page and "Le formulaire n'a pas pu être enregistré" in page
    assert f'href="#id_{field}"' in page
    after = reglage_of("atelier")
    assert (after.actif, after.parametres) == (before.actif, before.parametres)
    assert after.history.count() == versions


def test_a_post_vacancy_reminder_cannot_come_after_the_post_must_be_returned(staff_client, settings):
    settings.POSTE_VACANCE_MAX_MOIS = 6
    url = reverse("notifications:rappel_edit", args=["poste_vacant"])
    response = staff_client.post(url, {"actif": "on", "mois_vacance": "6", "heure": "9"})
    assert response.status_code == 400
    assert "Saisissez un nombre entre 1 et 5." in text(response)


# --- Preview -----------------------------------------------------------------------------------------------------
def test_the_preview_without_any_real_object_explains_instead_of_inventing_one(staff_client):
    page = text(staff_client.get(PREVIEW_URL))
    assert "Aucun objet de la base ne correspond encore à cet e-mail" in page
    assert staff_client.get(PREVIEW_HTML_URL).status_code == 404
    for famille in FAMILLES:
        assert staff_client.get(reverse("notifications:rappel_preview", args=[famille])).status_code == 200


def test_the_preview_renders_each_email_with_a_real_object_and_sends_nothing(staff_client, upcoming):
    with time_machine.travel(paris(2026, 3, 1), tick=False):
        page = text(staff_client.get(PREVIEW_URL))
        html_page = staff_client.get(PREVIEW_HTML_URL)
    assert f"Rappel : {upcoming.seance.atelier.titre} demain" in page
    assert "Bonjour Josiane" in page
    assert "j***@example.org" in page and "josiane.martin@example.org" not in page
    assert "11/03/2026 à 09:00" in page  # its moment for that object
    assert "Rappel anticipé" in page and "après-demain" in page
    assert html_page.status_code == 200 and html_page["Content-Security-Policy"] == HTML_PREVIEW_POLICY
    assert "Libérez votre place" in text(html_page)
    assert not Email.objects.exists()


def test_the_preview_of_a_staff_reminder_uses_a_real_contract(staff_client, structure, staff_user):
    contrat = factories.ContratFactory(
        poste=factories.PosteFactory(structure=structure),
        date_debut=datetime.date(2026, 1, 1),
        date_fin=datetime.date(2027, 6, 30),
    )
    with time_machine.travel(paris(2026, 3, 1), tick=False):
        page = text(staff_client.get(reverse("notifications:rappel_preview", args=["fin_contrat"])))
    assert f"{contrat.conseiller.prenom} {contrat.conseiller.nom}" in page and "30 juin 2027" in page


# --- Running now -------------------------------------------------------------------------------------------------
def test_staff_run_a_family_now_and_see_its_result(staff_client, staff_user, upcoming):
    with time_machine.travel(VEILLE + datetime.timedelta(minutes=30), tick=False):
        response = staff_client.post(RUN_URL)
        assert response.status_code == 302 and response.url == LIST_URL
        page = text(staff_client.get(LIST_URL))
    run = ExecutionRappel.objects.get()
    assert (run.declenchement, run.lance_par, run.envoyes) == (Declenchement.MANUEL, staff_user, 1)
    # The day before: the early reminder's window (Tuesday) is past, it is recorded missed; the other one goes.
    assert "1 mis en file d'envoi, 0 déjà traité, 1 manqué (trop tard)" in page
    assert "lancée par l'équipe par" in page
    assert {(e.destinataire, e.statut) for e in Email.objects.all()} == {
        ("josiane.martin@example.org", StatutEmail.A_ENVOYER),
        ("josiane.martin@example.org", StatutEmail.MANQUE),
    }
    with time_machine.travel(VEILLE + datetime.timedelta(minutes=31), tick=False):
        staff_client.post(RUN_URL)
    assert Email.objects.count() == 2


def test_running_a_disabled_family_says_so(staff_client, upcoming):
    regler("atelier", actif=False)
    with time_machine.travel(VEILLE + datetime.timedelta(minutes=30), tick=False):
        page = text(staff_client.post(RUN_URL, follow=True))
    assert "est désactivé : rien n'a été envoyé" in page
    assert not Email.objects.exists()
