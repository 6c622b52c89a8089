"""A person's rights in one staff action: find every record about them (followed person with their
accompaniments, registrations, referrals, e-mails), export them as JSON or CSV, or erase them everywhere, history
included, all or nothing; each action journaled with who did it and the criterion masked. Staff only; bad input is a
400 in French; a fixed number of queries whatever the matches."""

import csv
import io
import json
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnements import services as cra
from accompagnements.models import Activite, Beneficiaire
from accounts.models import Role
from aidants.models import Orientation
from ateliers import services as ateliers
from ateliers.models import Inscription
from donnees_personnelles import services
from donnees_personnelles.forms import ONE_CRITERION
from donnees_personnelles.models import Demande, TypeCritere, TypeDemande
from donnees_personnelles.selectors import Critere
from notifications.models import Email
from tests import factories
from tests.accompagnements.conftest import activite_data
from tests.aidants.test_orientations import aidant_with_account, create, make_commune, make_conseiller

pytestmark = pytest.mark.django_db

SEARCH_URL = reverse("donnees_personnelles:recherche")
EXPORT_URL = reverse("donnees_personnelles:export")
ERASE_URL = reverse("donnees_personnelles:effacement")
LIST_URL = reverse("donnees_personnelles:demandes")

ROSE = {"prenom": "Rose", "nom": "Daran", "email": "rose.daran@example.org", "telephone": "06 12 34 56 78"}
BY_EMAIL = {"email": "rose.daran@example.org"}
NOTES = "Rose vit seule, sa fille est à Lyon"


@pytest.fixture
def world(db):
    """Rose everywhere (followed, registered, referred, in the outbox), and Paul, who must not be touched."""
    commune = make_commune()
    conseiller = make_conseiller(commune)
    aidant = aidant_with_account()
    beneficiaire = cra.beneficiaire_create(
        by=conseiller.user, data={**ROSE, "consentement": True, "commune_residence": commune}, confirme_doublon=True
    )
    # A second version in the history, the old address in it.
    data = {name: getattr(beneficiaire, name) for name in cra.BENEFICIAIRE_FIELDS}
    cra.beneficiaire_update(beneficiaire=beneficiaire, by=conseiller.user, data={**data, "annee_naissance": 1950})
    activite = cra.activite_create(
        by=conseiller.user,
        data=activite_data(commune=commune, notes=NOTES),
        participants=cra.Participants(beneficiaires=[beneficiaire]),
    )
    seance = factories.SeanceFactory(atelier__titre="Premiers pas sur tablette")
    inscription = ateliers.inscription_create(seance=seance, data={**ROSE, "consentement": True})
    orientation = create(
        aidant, commune, conseiller=conseiller, prenom="Rose", email=ROSE["email"], telephone=ROSE["telephone"]
    )
    paul = ateliers.inscription_create(
        seance=seance, data={"prenom": "Paul", "nom": "Daran", "email": "paul@example.org", "consentement": True}
    )
    return SimpleNamespace(
        conseiller=conseiller,
        beneficiaire=beneficiaire,
        activite=activite,
        inscription=inscription,
        orientation=orientation,
        paul=paul,
    )


def staff():
    return factories.StaffUserFactory(first_name="Agnès", last_name="Coordinatrice")


@pytest.fixture
def agnes_client(client):
    user = staff()
    client.force_login(user)
    client.user = user
    return client


def emails_of_rose(world):
    return Email.objects.filter(objet__startswith=f"inscription:{world.inscription.uuid}") | Email.objects.filter(
        objet__startswith=f"orientation:{world.orientation.uuid}"
    )


# --- Access -------------------------------------------------------------------------------------------------------
def test_strangers_are_sent_to_the_login(client):
    for response in (
        client.get(SEARCH_URL),
        client.get(LIST_URL),
        client.post(SEARCH_URL, BY_EMAIL),
        client.post(EXPORT_URL, {**BY_EMAIL, "format": "export_json"}),
        client.post(ERASE_URL, {**BY_EMAIL, "confirme": "1"}),
    ):
        assert response.status_code == 302
        assert "/comptes/login/" in response.url


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.REFERENT])
def test_conseillers_and_referents_get_403(client, world, role):
    client.force_login(factories.MembershipFactory(role=role).user)
    for response in (
        client.get(SEARCH_URL),
        client.get(LIST_URL),
        client.post(SEARCH_URL, BY_EMAIL),
        client.post(EXPORT_URL, {**BY_EMAIL, "format": "export_json"}),
        client.post(ERASE_URL, {**BY_EMAIL, "confirme": "1", "attendu": "7"}),
    ):
        assert response.status_code == 403
        assert "<h1>Accès refusé</h1>" in response.content.decode()
    assert not Demande.objects.exists()
    assert Inscription.objects.get(pk=world.inscription.pk).email == ROSE["email"]


def test_the_conseiller_of_a_followed_person_cannot_erase_through_the_service(world):
    with pytest.raises(PermissionDenied):
        services.demande_effacement(by=world.conseiller.user, critere=Critere(type="email", email=ROSE["email"]))
    assert Beneficiaire.objects.get(pk=world.beneficiaire.pk).anonymise_le is None


def test_exports_and_erasures_are_posts(agnes_client):
    assert agnes_client.get(EXPORT_URL).status_code == 405
    assert agnes_client.get(ERASE_URL).status_code == 405


# --- Search -------------------------------------------------------------------------------------------------------
def test_search_by_email_lists_every_record_about_the_person(agnes_client, world):
    response = agnes_client.post(SEARCH_URL, {"email": "  Rose.Daran@Example.org "})
    assert response.status_code == 200
    dossier = response.context["dossier"]
    assert dossier.counts() == {"beneficiaires": 1, "inscriptions": 1, "orientations": 1, "emails": 2}
    page = response.content.decode()
    assert "Rose Daran" in page and "Premiers pas sur tablette" in page
    assert "Accompagnements de ces bénéficiaires" in page
    for label in ("Exporter (JSON)", "Exporter (CSV)", "Effacer"):
        assert f">{label}</button>" in page
    assert "paul@example.org" not in page
    # The address is never in a URL: searched by POST, handed over in hidden fields.
    assert response.request["QUERY_STRING"] == ""
    assert response["Cache-Control"].startswith("max-age=0")


def test_search_by_phone_finds_the_numbers_however_stored(agnes_client, world):
    response = agnes_client.post(SEARCH_URL, {"telephone": "+33 6 12 34 56 78"})
    assert response.status_code == 200
    assert response.context["dossier"].counts() == {
        "beneficiaires": 1,
        "inscriptions": 1,
        "orientations": 1,
        "emails": 2,  # about the registration and the referral
    }


def test_search_by_name_reaches_what_keeps_a_full_name(agnes_client, world):
    response = agnes_client.post(SEARCH_URL, {"prenom": "rose", "nom": "DARAN"})
    assert response.status_code == 200
    # A referral keeps a first name only: a name does not identify it.
    assert response.context["dossier"].counts() == {
        "beneficiaires": 1,
        "inscriptions": 1,
        "orientations": 0,
        "emails": 1,
    }


def test_nobody_found_says_so_and_offers_no_erasure(agnes_client, world):
    response = agnes_client.post(SEARCH_URL, {"email": "inconnu@example.org"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Aucun enregistrement trouvé" in page
    assert ">Effacer</button>" not in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, ONE_CRITERION),
        ({"email": "rose@example.org", "telephone": "0612345678"}, ONE_CRITERION),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse e-mail valide"),
        ({"telephone": "12 34"}, "Saisissez un numéro de téléphone valide"),
        ({"telephone": "06 12 34 56 78; DROP"}, "Saisissez un numéro de téléphone valide"),
        ({"prenom": "Rose"}, "indiquez le prénom et le nom"),
        ({"prenom": "Rose", "nom": "x" * 151}, "au plus 150 caractères"),
        ({"prenom": "Ro\x00se", "nom": "Daran"}, "Le caractère nul n’est pas autorisé"),
    ],
)
def test_bad_input_is_a_400_in_french(agnes_client, world, data, message):
    for url, extra in (
        (SEARCH_URL, {}),
        (EXPORT_URL, {"format": "export_csv"}),
        (ERASE_URL, {"confirme": "1", "attendu": "5"}),
    ):
        response = agnes_client.post(url, {**data, **extra})
        assert response.status_code == 400, url
        assert message in response.content.decode().replace("&#x27;", "'"), url
    assert not Demande.objects.exists()


def test_a_bad_format_or_count_is_a_400(agnes_client, world):
    response = agnes_client.post(EXPORT_URL, {**BY_EMAIL, "format": "xml"})
    assert response.status_code == 400
    assert "Choisissez un export JSON ou CSV." in response.content.decode()
    response = agnes_client.post(ERASE_URL, {**BY_EMAIL, "confirme": "1", "attendu": "beaucoup"})
    assert response.status_code == 400
    assert "recommencez la recherche" in response.content.decode()
    assert not Demande.objects.exists()
    assert Inscription.objects.get(pk=world.inscription.pk).email == ROSE["email"]


# --- Exports ------------------------------------------------------------------------------------------------------
def test_json_export_holds_every_record_and_is_journaled(agnes_client, world):
    response = agnes_client.post(EXPORT_URL, {**BY_EMAIL, "format": "export_json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="donnees-personnelles-')
    document = json.loads(response.content.decode("utf-8"))
    assert document["critere"] == {"type": "Adresse e-mail", "valeur_masquee": "r***@example.org"}
    [beneficiaire] = document["beneficiaires"]
    assert (beneficiaire["prenom"], beneficiaire["nom"], beneficiaire["email"]) == ("Rose", "Daran", ROSE["email"])
    assert beneficiaire["annee_naissance"] == 1950
    [accompagnement] = beneficiaire["accompagnements"]
    assert accompagnement["identifiant"] == str(world.activite.uuid)
    assert accompagnement["notes"] == NOTES
    assert accompagnement["duree"] == 30
    assert {"genre", "tranche_age", "statut_social", "commune_residence"} <= set(accompagnement)
    [inscription] = document["inscriptions"]
    assert (inscription["email"], inscription["atelier"]) == (ROSE["email"], "Premiers pas sur tablette")
    [orientation] = document["orientations"]
    assert (orientation["prenom"], orientation["telephone"]) == ("Rose", "+33612345678")
    assert len(document["emails"]) == 2
    assert all(email["texte"] for email in document["emails"])

    [demande] = Demande.objects.all()
    assert (demande.type, demande.par, demande.type_critere) == (
        TypeDemande.EXPORT_JSON,
        agnes_client.user,
        TypeCritere.EMAIL,
    )
    assert demande.nombre_enregistrements == 5
    assert demande.detail == {"beneficiaires": 1, "inscriptions": 1, "orientations": 1, "emails": 2}
    assert demande.critere_masque == "r***@example.org"
    # An export changes nothing.
    assert Inscription.objects.get(pk=world.inscription.pk).email == ROSE["email"]


def test_csv_export_is_utf8_with_semicolons_one_line_per_field(agnes_client, world):
    response = agnes_client.post(EXPORT_URL, {"telephone": "06.12.34.56.78", "format": "export_csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Enregistrement", "Identifiant", "Champ", "Valeur"]
    cells = {(kind, field): value for kind, _uuid, field, value in rows[1:]}
    assert cells[("Bénéficiaire suivi", "Prénom")] == "Rose"
    assert cells[("Bénéficiaire suivi", "Accord pour le suivi recueilli le")]
    assert cells[("Accompagnement", "Notes du conseiller")] == NOTES
    assert cells[("Inscription à un atelier", "Atelier")] == "Premiers pas sur tablette"
    # A number starting with « + » stays text in a spreadsheet (CSV injection).
    assert cells[("Inscription à un atelier", "Téléphone")] == "'+33612345678"
    assert cells[("Orientation", "Prénom")] == "Rose"
    assert ("E-mail", "Texte") in cells
    demande = Demande.objects.get()
    assert (demande.type, demande.type_critere, demande.critere_masque) == (
        TypeDemande.EXPORT_CSV,
        TypeCritere.TELEPHONE,
        "********78",
    )


# --- Erasure ------------------------------------------------------------------------------------------------------
def test_erasure_asks_for_confirmation_first(agnes_client, world):
    response = agnes_client.post(ERASE_URL, BY_EMAIL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Effacer les données de cette personne ?" in page
    assert "Effacer définitivement 5 enregistrements" in page
    assert 'name="attendu" value="5"' in page
    assert not Demande.objects.exists()
    assert Inscription.objects.get(pk=world.inscription.pk).email == ROSE["email"]


def test_erasure_reaches_every_table_and_every_version_of_the_history(agnes_client, world):
    assert emails_of_rose(world).count() == 2
    response = agnes_client.post(ERASE_URL, {**BY_EMAIL, "confirme": "1", "attendu": "5"})
    assert response.status_code == 302
    assert response.url == LIST_URL

    beneficiaire = Beneficiaire.objects.get(pk=world.beneficiaire.pk)
    assert str(beneficiaire) == "Personne anonymisée" and beneficiaire.anonymise_le is not None
    assert (beneficiaire.email, beneficiaire.telephone, beneficiaire.annee_naissance) == ("", "", None)
    versions = Beneficiaire.history.filter(id=beneficiaire.pk)
    assert versions.count() == 2
    assert set(versions.values_list("prenom", "nom", "email", "telephone", "annee_naissance")) == {
        ("Personne", "anonymisée", "", "", None)
    }
    # Still one followed person in the statistics: the row and its link stay.
    assert world.activite.accompagnements.get().beneficiaire_id == beneficiaire.pk
    assert Activite.objects.get(pk=world.activite.pk).notes == ""

    inscription = Inscription.objects.get(pk=world.inscription.pk)
    assert (inscription.prenom, inscription.nom, inscription.email, inscription.telephone) == (
        "Personne",
        "anonymisée",
        "",
        "",
    )
    assert not Inscription.history.filter(id=inscription.pk).exclude(email="").exists()
    assert not Inscription.history.filter(id=inscription.pk, prenom="Rose").exists()

    orientation = Orientation.objects.get(pk=world.orientation.pk)
    assert (orientation.prenom, orientation.email, orientation.telephone) == ("", "", "")
    assert orientation.anonymisee_le is not None
    assert set(Orientation.history.filter(id=orientation.pk).values_list("prenom", "email", "telephone")) == {
        ("", "", "")
    }

    assert not emails_of_rose(world).exists()
    assert not Email.objects.filter(destinataire=ROSE["email"]).exists()

    # Paul is untouched.
    paul = Inscription.objects.get(pk=world.paul.pk)
    assert (paul.prenom, paul.email) == ("Paul", "paul@example.org")
    assert Email.objects.filter(destinataire="paul@example.org").exists()

    demande = Demande.objects.get()
    assert (demande.type, demande.par, demande.nombre_enregistrements) == (
        TypeDemande.EFFACEMENT,
        agnes_client.user,
        5,
    )
    assert demande.detail == {
        "beneficiaires": 1,
        "inscriptions": 1,
        "orientations": 1,
        "emails": 2,
        "notes_effacees": 1,
    }
    assert ROSE["email"] not in json.dumps([demande.critere_masque, demande.detail])
    # Nothing left to find.
    assert agnes_client.post(SEARCH_URL, BY_EMAIL).context["dossier"].total == 0


def test_erasure_is_all_or_nothing(world, monkeypatch):
    def broken(emails):
        raise RuntimeError("panne au milieu de l'effacement")

    monkeypatch.setattr(services, "emails_erase", broken)
    with pytest.raises(RuntimeError):
        services.demande_effacement(by=staff(), critere=Critere(type=TypeCritere.EMAIL, email=ROSE["email"]))
    beneficiaire = Beneficiaire.objects.get(pk=world.beneficiaire.pk)
    assert (beneficiaire.prenom, beneficiaire.anonymise_le) == ("Rose", None)
    assert Beneficiaire.history.filter(id=beneficiaire.pk, prenom="Rose").count() == 2
    assert Activite.objects.get(pk=world.activite.pk).notes == NOTES
    assert Inscription.objects.get(pk=world.inscription.pk).email == ROSE["email"]
    assert Orientation.objects.get(pk=world.orientation.pk).anonymisee_le is None
    assert emails_of_rose(world).count() == 2
    assert not Demande.objects.exists()


def test_records_changed_since_the_check_are_not_erased(agnes_client, world):
    response = agnes_client.post(ERASE_URL, {**BY_EMAIL, "confirme": "1", "attendu": "4"})
    assert response.status_code == 400
    assert "ont changé depuis votre vérification (5 au lieu de 4)" in response.content.decode()
    assert Inscription.objects.get(pk=world.inscription.pk).email == ROSE["email"]
    assert not Demande.objects.exists()


def test_nothing_to_erase_is_a_400(agnes_client, world):
    response = agnes_client.post(ERASE_URL, {"email": "inconnu@example.org", "confirme": "1", "attendu": "1"})
    assert response.status_code == 400
    assert "il n'y a rien à effacer" in response.content.decode().replace("&#x27;", "'")
    assert not Demande.objects.exists()


# --- The journal --------------------------------------------------------------------------------------------------
def test_the_journal_lists_who_did_what_and_when_without_the_criterion(agnes_client, world):
    agnes_client.post(EXPORT_URL, {**BY_EMAIL, "format": "export_json"})
    agnes_client.post(ERASE_URL, {**BY_EMAIL, "confirme": "1", "attendu": "5"})
    response = agnes_client.get(LIST_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 demandes" in page
    assert "Agnès Coordinatrice" in page
    assert "Export (JSON)" in page and "Effacement" in page
    assert "r***@example.org" in page
    assert ROSE["email"] not in page
    assert "5 enregistrements effacés." in page  # the message after the erasure
    assert timezone.localtime().strftime("%d/%m/%Y") in page


# --- Query budget -------------------------------------------------------------------------------------------------
def _rose_everywhere(n, conseiller, commune):
    for _ in range(n):
        beneficiaire = Beneficiaire.objects.create(
            conseiller=conseiller, prenom="Rose", nom="Daran", email=ROSE["email"], consentement_le=timezone.now()
        )
        cra.activite_create(
            by=conseiller.user,
            data=activite_data(commune=commune),
            participants=cra.Participants(beneficiaires=[beneficiaire]),
        )
        inscription = factories.InscriptionFactory(prenom="Rose", nom="Daran", email=ROSE["email"])
        Email.objects.create(
            destinataire=ROSE["email"], type="test", objet=f"test:{inscription.uuid}", sujet="Sujet", texte="Rose"
        )


def _queries(client, method, url, data=None):
    with CaptureQueriesContext(connection) as context:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    return len(context)


def test_the_pages_cost_the_same_queries_at_2_and_20_matches(agnes_client, django_assert_max_num_queries):
    commune = make_commune()
    conseiller = make_conseiller(commune)
    _rose_everywhere(2, conseiller, commune)
    services.demande_export(
        by=agnes_client.user, critere=Critere(type="email", email="x@example.org"), type="export_csv"
    )
    agnes_client.post(SEARCH_URL, BY_EMAIL)  # the session's first request reads what later ones find in cache
    small = {
        "search": _queries(agnes_client, "post", SEARCH_URL, BY_EMAIL),
        "confirm": _queries(agnes_client, "post", ERASE_URL, BY_EMAIL),
        "export": _queries(agnes_client, "post", EXPORT_URL, {**BY_EMAIL, "format": "export_json"}),
        "journal": _queries(agnes_client, "get", LIST_URL),
    }
    _rose_everywhere(18, conseiller, commune)
    for _ in range(18):
        services.demande_export(
            by=agnes_client.user, critere=Critere(type="email", email="x@example.org"), type="export_csv"
        )
    large = {
        "search": _queries(agnes_client, "post", SEARCH_URL, BY_EMAIL),
        "confirm": _queries(agnes_client, "post", ERASE_URL, BY_EMAIL),
        "export": _queries(agnes_client, "post", EXPORT_URL, {**BY_EMAIL, "format": "export_json"}),
        "journal": _queries(agnes_client, "get", LIST_URL),
    }
    assert small == large
    assert max(large.values()) <= 12
    with django_assert_max_num_queries(12):
        response = agnes_client.post(SEARCH_URL, BY_EMAIL)
    assert response.context["dossier"].counts() == {
        "beneficiaires": 20,
        "inscriptions": 20,
        "orientations": 0,
        "emails": 20,
    }
