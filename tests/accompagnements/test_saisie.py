"""The "Nouvelle activité" form, the history and an activity's page, through HTTP: rules shown in French with a 400
and nothing written, scoping (a conseiller never sees another's activities, a référent never another structure's),
notes for the author alone, duplication, the htmx refresh, and the query budgets."""

import datetime
import html as html_lib
import random
import re
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnements import services
from accompagnements.models import Accompagnement, Activite
from accounts.models import Role
from conseillers.models import Affectation
from tests import factories

CREATE = reverse("accompagnements:create")
LIST = reverse("accompagnements:list")
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def individual(place, **overrides):
    data = {
        "type": "individuel",
        "date": YESTERDAY.isoformat(),
        "duree_choix": "30",
        "type_lieu": "lieu_activite",
        "lieu": place.pk,
        "thematiques": ["email"],
    }
    data.update(overrides)
    return data


def text(response):
    """The page as a reader sees it (entities decoded)."""
    return html_lib.unescape(response.content.decode())


@pytest.fixture
def conseiller_client(client, conseiller):
    client.force_login(conseiller.user)
    return client


# --- Recording -----------------------------------------------------------------------------------------------------
def test_form_preselects_the_usual_place_and_commune(conseiller_client, conseiller, lieu, record):
    other = factories.LieuFactory(structure=lieu.structure, nom="Médiathèque")
    for _ in range(3):
        record(conseiller, type_lieu="lieu_activite", lieu=other)
    record(conseiller, type_lieu="lieu_activite", lieu=lieu)
    html = conseiller_client.get(CREATE).content.decode()
    assert f'<option value="{other.pk}" selected>' in html
    assert 'id="id_type_lieu_0" required checked' in html


def test_form_preselects_the_structure_place_for_a_first_activity(conseiller_client, lieu):
    html = conseiller_client.get(CREATE).content.decode()
    assert f'<option value="{lieu.pk}" selected>' in html


def test_type_collectif_from_the_address_bar(conseiller_client, lieu):
    html = conseiller_client.get(f"{CREATE}?type=collectif").content.decode()
    assert 'id="id_type_1" required checked' in html


def test_recording_an_individual_session_creates_it_and_redirects_to_the_history(conseiller_client, conseiller, lieu):
    response = conseiller_client.post(CREATE, individual(lieu, notes="Revoir mardi"))
    activite = Activite.objects.get()
    assert response.status_code == 302
    assert response.url == f"{LIST}#activite-{activite.uuid}"
    assert (activite.conseiller, activite.duree, activite.lieu, activite.commune) == (
        conseiller,
        30,
        lieu,
        lieu.commune,
    )
    assert activite.accompagnements.count() == 1
    assert response.cookies["brouillon_enregistre"].value == "activite:nouvelle"


def test_other_duration_is_typed_in_minutes(conseiller_client, lieu):
    conseiller_client.post(CREATE, individual(lieu, duree_choix="autre", duree_autre="75"))
    assert Activite.objects.get().duree == 75


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"thematiques": []}, "Choisissez au moins une thématique."),
        ({"duree_choix": "autre", "duree_autre": ""}, "Indiquez la durée en minutes."),
        ({"duree_choix": "autre", "duree_autre": "481"}, "entre 1 et 480 minutes"),
        ({"duree_choix": "autre", "duree_autre": "0"}, "entre 1 et 480 minutes"),
        ({"date": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()}, "dans le futur"),
        ({"date": "2019-05-01"}, "début du programme"),
        ({"date": "31/02/2026"}, "Saisissez une date valide"),
        ({"type_lieu": "domicile", "lieu": ""}, "Indiquez la commune"),
        ({"lieu": ""}, "Choisissez le lieu d'activité."),
        ({"lieu": "999999"}, "Ce lieu n'existe pas"),
        ({"type_lieu": "domicile", "commune": "999999"}, "Cette commune n'existe pas"),
        ({"thematiques": ["email", "logement"]}, "Thématique inconnue."),
        ({"thematiques_administratives": ["logement"]}, "Aide aux démarches administratives"),
        ({"materiel": ["aucun", "telephone"]}, "Pas de matériel"),
        ({"type": "collectif", "titre_atelier": "Atelier", "anonymes": "0"}, "au moins un participant"),
        ({"type": "collectif", "anonymes": "3"}, "Donnez un titre"),
        (
            {"type": "collectif", "titre_atelier": "A", "anonymes": "2", "rep_genre_feminin": "3"},
            "La répartition par genre (3) dépasse le nombre de participants anonymes (2).",
        ),
        ({"beneficiaire": "424242"}, "Choisissez une personne que vous suivez."),
        ({"type": "inconnu"}, "Type d'activité inconnu."),
    ],
)
def test_a_broken_rule_answers_400_in_french_and_writes_nothing(conseiller_client, lieu, overrides, message):
    response = conseiller_client.post(CREATE, individual(lieu, **overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert not Activite.objects.exists()
    assert not Accompagnement.objects.exists()


def test_a_followed_person_of_another_conseiller_cannot_be_chosen(conseiller_client, lieu, other_conseiller):
    stranger = factories_beneficiaire(other_conseiller)
    response = conseiller_client.post(CREATE, individual(lieu, beneficiaire=stranger.pk))
    assert response.status_code == 400
    assert not Activite.objects.exists()


def factories_beneficiaire(conseiller, **data):
    return services.beneficiaire_create(
        by=conseiller.user, data={"prenom": "Jeanne", "nom": "Martin", "consentement": True, **data}
    )


def test_garbage_never_answers_500_nor_writes(conseiller_client, lieu):
    rng = random.Random(4)
    garbage = [
        "",
        "x",
        "-1",
        "0",
        "9" * 30,
        "2024-99-99",
        "<script>",
        "null",
        "\x00",
        "é" * 300,
        "1e9",
        str(uuid.uuid4()),
    ]
    fields = [
        "type", "date", "duree_choix", "duree_autre", "type_lieu", "lieu", "commune", "thematiques",
        "thematiques_administratives", "materiel", "beneficiaire", "beneficiaires", "anonymes", "genre",
        "tranche_age", "statut_social", "oriente", "autonomie", "rep_genre_feminin", "niveau", "commune_residence",
    ]  # fmt: skip
    for _ in range(60):
        data = individual(lieu)
        for name in rng.sample(fields, 4):
            data[name] = rng.choice(garbage)
        response = conseiller_client.post(CREATE, data)
        assert response.status_code in (302, 400), (data, response.status_code)
        if response.status_code == 400:
            assert "Le formulaire n'a pas pu être enregistré" in response.content.decode()
    assert Activite.objects.count() == Accompagnement.objects.values("activite").distinct().count()


def test_a_workshop_with_anonymous_counts_and_a_followed_person(conseiller_client, conseiller, lieu):
    jeanne = factories_beneficiaire(conseiller)
    data = individual(
        lieu,
        type="collectif",
        titre_atelier="Se protéger des arnaques",
        niveau="debutant",
        anonymes="4",
        beneficiaires=[jeanne.pk],
        rep_genre_feminin="2",
        rep_genre_masculin="1",
    )
    assert conseiller_client.post(CREATE, data).status_code == 302
    activite = Activite.objects.get()
    assert activite.participants == 5
    rows = list(activite.accompagnements.order_by("rang"))
    assert rows[0].beneficiaire == jeanne and [row.beneficiaire for row in rows[1:]] == [None] * 4
    assert sorted(row.genre for row in rows[1:]) == ["feminin", "feminin", "masculin", "non_communique"]


def test_only_conseillers_record(client, referent, lieu):
    client.force_login(referent)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, individual(lieu)).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(CREATE)
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_recording_stays_within_14_queries(client, structure, lieu, django_assert_max_num_queries):
    """The real case: a conseiller holding a post of their structure (the employer is found in one query); one of
    the queries marks the activity's summary slice to update, one checks that MFA is not required (accounts.policies:
    is the user a coordinator?)."""
    user = factories.UserFactory()
    conseiller = factories.ConseillerFactory(user=user)
    poste = factories.PosteFactory(structure=structure)
    Affectation.objects.create(poste=poste, conseiller=conseiller, date_debut=datetime.date(2021, 1, 1))
    client.force_login(user)
    with django_assert_max_num_queries(14):
        response = client.post(CREATE, individual(lieu))
    assert response.status_code == 302
    assert Activite.objects.get().structure == structure


# --- Dependent fields (htmx) and work without JavaScript ------------------------------------------------------------
def test_htmx_refresh_shows_the_workshop_fields_without_errors_nor_writing(conseiller_client, lieu):
    response = conseiller_client.post(
        f"{CREATE}?_refresh=1", {"type": "collectif", "type_lieu": "domicile"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "erreurs-formulaire" not in html
    assert 'id="id_titre_atelier"' in html
    assert not Activite.objects.exists()


def test_without_javascript_every_section_is_in_the_page(conseiller_client, lieu):
    html = conseiller_client.get(CREATE).content.decode()
    for field in ("id_titre_atelier", "id_anonymes", "id_autonomie_0", "id_commune", "id_lieu", "id_nom_demarche"):
        assert f'id="{field}"' in html
    assert " hidden" not in html.split('id="activite-sections"')[1].split("</form>")[0]


# --- Duplicate, edit, delete ---------------------------------------------------------------------------------------
def test_duplicate_prefills_from_an_old_activity_dated_today(conseiller_client, conseiller, lieu, record):
    old = record(conseiller, type_lieu="lieu_activite", lieu=lieu, duree=90, thematiques=["sante"], notes="secret")
    html = conseiller_client.get(f"{CREATE}?depuis={old.uuid}").content.decode()
    assert re.search(r'<input type="checkbox" name="thematiques" value="sante"[^>]* checked>', html)
    assert 'id="id_duree_choix_4" required checked' in html  # 90 min
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert "secret" not in html


def test_duplicate_of_another_persons_or_unknown_activity_is_404(conseiller_client, other_conseiller, record):
    foreign = record(other_conseiller)
    assert conseiller_client.get(f"{CREATE}?depuis={foreign.uuid}").status_code == 404
    assert conseiller_client.get(f"{CREATE}?depuis=not-a-uuid").status_code == 404


def test_author_edits_an_activity(conseiller_client, conseiller, lieu, record):
    activite = record(conseiller)
    url = reverse("accompagnements:edit", args=[activite.uuid])
    assert conseiller_client.get(url).status_code == 200
    response = conseiller_client.post(url, individual(lieu, duree_choix="60"))
    assert response.status_code == 302
    activite.refresh_from_db()
    assert activite.duree == 60 and activite.history.count() == 2


def test_nobody_else_edits_or_deletes(client, conseiller, colleague, referent, staff_user, record):
    activite = record(conseiller)
    for user in (colleague.user, referent, staff_user):
        client.force_login(user)
        assert client.get(reverse("accompagnements:edit", args=[activite.uuid])).status_code == 404
        assert client.post(reverse("accompagnements:delete", args=[activite.uuid])).status_code == 404
    activite.refresh_from_db()
    assert activite.supprimee_le is None


def test_an_imported_activity_cannot_be_edited_here(conseiller_client, conseiller, record):
    activite = record(conseiller)
    Activite.objects.filter(pk=activite.pk).update(source="import_coop", id_externe="abc")
    assert conseiller_client.get(reverse("accompagnements:edit", args=[activite.uuid])).status_code == 403


def test_delete_is_soft_and_leaves_the_history(conseiller_client, conseiller, record):
    activite = record(conseiller)
    response = conseiller_client.post(reverse("accompagnements:delete", args=[activite.uuid]))
    assert response.status_code == 302
    activite.refresh_from_db()
    assert activite.supprimee_le is not None
    assert conseiller_client.get(reverse("accompagnements:detail", args=[activite.uuid])).status_code == 404
    assert str(activite.uuid) not in conseiller_client.get(LIST).content.decode()


def test_delete_needs_post(conseiller_client, conseiller, record):
    activite = record(conseiller)
    assert conseiller_client.get(reverse("accompagnements:delete", args=[activite.uuid])).status_code == 405


# --- Reading: notes and scoping ------------------------------------------------------------------------------------
def test_notes_show_to_the_author_only(client, conseiller, referent, staff_user, record):
    activite = record(conseiller, notes="Mme a peur des arnaques")
    url = reverse("accompagnements:detail", args=[activite.uuid])
    client.force_login(conseiller.user)
    assert "Mme a peur des arnaques" in client.get(url).content.decode()
    for user in (referent, staff_user):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "Mme a peur des arnaques" not in response.content.decode()


def test_history_lists_own_activities_only(conseiller_client, conseiller, other_conseiller, colleague, record):
    mine, theirs, colleagues = record(conseiller), record(other_conseiller), record(colleague)
    html = conseiller_client.get(LIST).content.decode()
    assert str(mine.uuid) in html
    assert str(theirs.uuid) not in html and str(colleagues.uuid) not in html
    detail = reverse("accompagnements:detail", args=[colleagues.uuid])
    assert conseiller_client.get(detail).status_code == 404


def test_referent_reads_their_structures_activities_only(client, referent, conseiller, other_conseiller, record):
    mine, theirs = record(conseiller, notes="note privée"), record(other_conseiller)
    client.force_login(referent)
    html = client.get(LIST).content.decode()
    assert str(mine.uuid) in html and str(theirs.uuid) not in html
    assert "note privée" not in html
    assert client.get(reverse("accompagnements:detail", args=[theirs.uuid])).status_code == 404


def test_staff_read_everyones_activities(client, staff_user, conseiller, other_conseiller, record):
    first, second = record(conseiller), record(other_conseiller)
    client.force_login(staff_user)
    html = client.get(LIST).content.decode()
    assert str(first.uuid) in html and str(second.uuid) in html


def test_an_aidant_or_funder_reads_no_activity(client, structure):
    for role in (Role.AIDANT, Role.FINANCEUR):
        user = factories.MembershipFactory(structure=structure, role=role).user
        client.force_login(user)
        assert client.get(LIST).status_code == 403


def test_history_filters_by_type_and_bad_filters_answer_400(conseiller_client, conseiller, lieu, record):
    individual_one = record(conseiller)
    workshop = record(
        conseiller, type="collectif", titre_atelier="Tablette", participants=services.Participants(anonymes=3)
    )
    html = conseiller_client.get(f"{LIST}?type=collectif").content.decode()
    assert str(workshop.uuid) in html and str(individual_one.uuid) not in html
    for bad in ("?du=2024-13-45", "?type=nimporte", "?commune=zz", "?page=abc&du=x"):
        response = conseiller_client.get(f"{LIST}{bad}")
        assert response.status_code == 400, bad


def test_history_clears_the_saved_draft(conseiller_client, lieu):
    conseiller_client.post(CREATE, individual(lieu))
    response = conseiller_client.get(LIST)
    assert 'data-draft-clear="activite:nouvelle"' in response.content.decode()
    assert response.cookies["brouillon_enregistre"].value == ""


def _bulk_activities(conseiller, structure, n):
    day = timezone.localdate() - datetime.timedelta(days=2)
    Activite.objects.bulk_create(
        Activite(
            conseiller=conseiller,
            structure=structure,
            type="individuel",
            date=day,
            duree=30,
            type_lieu="domicile",
            commune=structure.commune,
            thematiques=["email"],
        )
        for _ in range(n)
    )


def test_history_keeps_its_query_count_from_5_to_500_activities(conseiller_client, conseiller, structure):
    counts = []
    for n in (5, 495):
        _bulk_activities(conseiller, structure, n)
        with CaptureQueriesContext(connection) as context:
            assert conseiller_client.get(LIST).status_code == 200
        counts.append(len(context))
    assert counts[0] == counts[1]
    assert Activite.objects.count() == 500


def test_detail_keeps_its_query_count_for_a_workshop_of_3_or_30(conseiller_client, conseiller, record):
    counts = []
    for n in (3, 30):
        activite = record(
            conseiller, type="collectif", titre_atelier="Atelier", participants=services.Participants(anonymes=n)
        )
        with CaptureQueriesContext(connection) as context:
            assert conseiller_client.get(reverse("accompagnements:detail", args=[activite.uuid])).status_code == 200
        counts.append(len(context))
    assert counts[0] == counts[1]


def test_the_form_offers_the_communes_and_places_of_the_conseillers_departements_only(conseiller_client, lieu):
    """At national scale a list of every commune of France (35,000, twice) and every place made a 3 MB page: the
    form offers those of the territory's départements and of the conseiller's employers'."""
    sicoval = factories.EpciFactory(siren=settings.TERRITOIRE_EPCI_SIREN)
    factories.CommuneFactory(code_insee="31254", nom="Labège", departement="31", epci=sicoval)
    factories.CommuneFactory(code_insee="31555", nom="Toulouse", departement="31")
    albi = factories.CommuneFactory(code_insee="81004", nom="Albi", departement="81")
    factories.LieuFactory(commune=albi, nom="Espace numérique du Tarn")
    html = conseiller_client.get(CREATE).content.decode()
    assert "Toulouse" in html and "Labège" in html and lieu.nom in html
    assert "Albi" not in html
    # The conseiller's employer moves to the Tarn: its communes and places are offered too.
    structure = lieu.structure
    structure.commune = albi
    structure.save()
    html = conseiller_client.get(CREATE).content.decode()
    assert "Espace numérique du Tarn" in html and ">Albi<" in html
