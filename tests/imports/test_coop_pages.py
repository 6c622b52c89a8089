"""The staff page of the synchronisation with the Coop: staff only, the secret typed and never shown again, the
connection tested, the mediators with the suggested conseiller preselected and confirmed row by row (plain forms),
a synchronisation run now (inline without a broker), and the last runs with their counts, error and rejected
activities."""

import html
import uuid

import pytest
from django.urls import reverse

from accompagnements.models import Activite
from imports import synchro
from imports.models import ConnexionCoop, MediateurCoop, StatutSynchro, SynchroCoop
from tests import factories
from tests.imports.conftest import conseiller_employe

MEDIATRICE = uuid.UUID("5e7d3c1a-2b4f-4a6e-8c9d-0f1e2d3c4b5a")
URLS_POST = [
    ("imports:coop_connexion", ()),
    ("imports:coop_tester", ()),
    ("imports:coop_mediateurs_actualiser", ()),
    ("imports:coop_mediateur_associer", (1,)),
    ("imports:coop_synchroniser", ()),
]


@pytest.fixture
def conseillere(structure):
    factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan")
    return conseiller_employe(structure, prenom="Camille", nom="Dupré", email="camille.dupre@example.org")


def texte(response):
    return html.unescape(response.content.decode())


def page(client):
    response = client.get(reverse("imports:coop"))
    assert response.status_code == 200
    return texte(response)


def test_the_page_is_for_staff_only(client, conseillere, coop_connexion):
    url = reverse("imports:coop")
    assert url == "/imports/coop/"
    response = client.get(url)
    assert response.status_code == 302 and "/comptes/" in response["Location"]
    client.force_login(conseillere.user)
    assert client.get(url).status_code == 403
    for name, args in URLS_POST:
        assert client.post(reverse(name, args=args)).status_code == 403, name
    assert client.get(reverse("imports:coop_synchroniser")).status_code == 405


def test_the_secret_is_typed_then_never_shown(staff_client, coop_fake):
    contenu = page(staff_client)
    assert "Aucune connexion enregistrée" in contenu and 'type="password"' in contenu
    response = staff_client.post(
        reverse("imports:coop_connexion"),
        {"url": coop_fake.url, "client_id": coop_fake.client_id, "secret": coop_fake.secret, "active": "on"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("imports:coop")
    conn = ConnexionCoop.objects.get()
    assert conn.secret_chiffre and conn.active
    contenu = page(staff_client)
    assert "Secret enregistré le" in contenu and "laissez vide pour le garder" in contenu
    assert coop_fake.secret not in contenu and conn.secret_chiffre not in contenu

    # An update without the secret keeps it; with errors, the page says them and shows no secret either.
    staff_client.post(reverse("imports:coop_connexion"), {"url": coop_fake.url, "client_id": "nouvel-id", "secret": ""})
    conn.refresh_from_db()
    assert conn.client_id == "nouvel-id"
    with synchro.client_de(conn) as api:
        assert api.session.headers["Authorization"] == f"Bearer nouvel-id:{coop_fake.secret}"
    saisie = {"url": "http://coop.example/api", "client_id": "", "secret": "s3cret-tape-XYZ"}
    response = staff_client.post(reverse("imports:coop_connexion"), saisie)
    assert response.status_code == 400
    contenu = texte(response)
    assert "L'adresse de l'API doit commencer par https://" not in contenu  # the form stops at the missing id
    assert "Indiquez l'identifiant client." in contenu and "s3cret-tape-XYZ" not in contenu
    response = staff_client.post(reverse("imports:coop_connexion"), {**saisie, "client_id": "id"})
    assert response.status_code == 400 and "doit commencer par https://" in texte(response)

    # Another address without the secret typed again: refused on the secret's field.
    autre = {"url": "https://coop.example/api/v1", "client_id": "nouvel-id", "secret": ""}
    response = staff_client.post(reverse("imports:coop_connexion"), autre)
    assert response.status_code == 400
    assert "Saisissez de nouveau le secret client : il n'est envoyé qu'à l'adresse pour laquelle il a été saisi." in (
        texte(response)
    )
    assert ConnexionCoop.objects.get().url == coop_fake.url


def test_a_refresh_of_the_mediators_that_fails_says_why(staff_client, coop_connexion, coop_fake):
    coop_fake.secret = "revoque"
    response = staff_client.post(reverse("imports:coop_mediateurs_actualiser"), follow=True)
    assert "Les médiateurs n'ont pas pu être lus dans la Coop : La Coop a refusé les identifiants" in texte(response)
    assert ConnexionCoop.objects.get().mediateurs_actualises_le is None


def test_testing_the_connection_from_the_page(staff_client, coop_connexion, coop_fake):
    response = staff_client.post(reverse("imports:coop_tester"), follow=True)
    assert "Connexion réussie" in texte(response)
    coop_fake.secret = "change"
    response = staff_client.post(reverse("imports:coop_tester"), follow=True)
    assert "Échec du test de connexion : La Coop a refusé les identifiants" in texte(response)


def test_mediators_are_listed_with_the_suggestion_preselected_and_confirmed_row_by_row(
    staff_client, coop_connexion, coop_fake, conseillere, structure
):
    autre = conseiller_employe(structure, prenom="Léo", nom="Martin")
    coop_fake.utilisateur(email="camille.dupre@example.org", prenom="Camille", nom="Dupré", mediateur_id=MEDIATRICE)
    coop_fake.utilisateur(email="x@ailleurs.example", prenom="Sans", nom="Correspondance", mediateur_id=uuid.uuid4())
    response = staff_client.post(reverse("imports:coop_mediateurs_actualiser"), follow=True)  # inline task
    contenu = texte(response)
    assert (
        "2 médiateurs lus dans la Coop : 1 gardé (associés ou avec un conseiller proposé), dont 1 nouveau." in contenu
    )
    assert "Dernière actualisation le " in contenu and ": 2 médiateurs lus dans la Coop." in contenu
    assert "1 médiateur gardé, dont 0 associé à un conseiller du territoire." in contenu
    assert "1 médiateur de la Coop : associés, proposés" in contenu
    assert "Sans Correspondance" not in contenu  # neither associated nor suggested: counted, not kept
    assert not MediateurCoop.objects.filter(nom="Correspondance").exists()
    contenu = texte(staff_client.get(reverse("imports:coop"), {"q": "camille  dupr"}))
    assert "1 médiateur trouvé pour « camille dupr »." in contenu
    assert "Proposé : Camille Dupré (même adresse e-mail), à confirmer" in contenu
    assert f'<option value="{conseillere.uuid}" selected>' in contenu
    assert f'<option value="{autre.uuid}" selected>' not in contenu
    mediateur = MediateurCoop.objects.get(mediateur_id=MEDIATRICE)
    assert mediateur.conseiller is None  # suggested, not saved
    assert f'<label for="conseiller-{mediateur.pk}" class="visually-hidden">' in contenu

    ConnexionCoop.objects.update(depuis="2026-01-01T00:00:00Z")
    response = staff_client.post(
        reverse("imports:coop_mediateur_associer", args=[mediateur.pk]), {"conseiller": str(conseillere.uuid)}
    )
    assert response.status_code == 302 and response["Location"].endswith("#mediateurs")
    mediateur.refresh_from_db()
    assert mediateur.conseiller == conseillere
    assert ConnexionCoop.objects.get().depuis is None
    contenu = page(staff_client)
    assert "dont 1 associé à un conseiller du territoire." in contenu

    second = MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), prenom="Sans", nom="Correspondance")
    response = staff_client.post(
        reverse("imports:coop_mediateur_associer", args=[second.pk]), {"conseiller": str(conseillere.uuid)}
    )
    assert response.status_code == 400 and "est déjà associé(e) au médiateur" in texte(response)
    response = staff_client.post(
        reverse("imports:coop_mediateur_associer", args=[second.pk]), {"conseiller": "pas-un-uuid"}
    )
    assert response.status_code == 400 and "Choisissez un conseiller de la liste." in texte(response)
    staff_client.post(reverse("imports:coop_mediateur_associer", args=[mediateur.pk]), {"conseiller": ""})
    assert MediateurCoop.objects.filter(conseiller__isnull=False).count() == 0


def test_a_synchronisation_run_now_and_the_runs_listed(
    staff_client, staff_user, coop_connexion, coop_fake, conseillere
):
    MediateurCoop.objects.create(mediateur_id=MEDIATRICE, nom="Dupré", conseiller=conseillere)
    coop_fake.activite(mediateur_id=MEDIATRICE)
    coop_fake.activite(mediateur_id=uuid.uuid4())
    inconnue = coop_fake.structure(nom="Tiers-lieu inconnu")
    coop_fake.activite(mediateur_id=MEDIATRICE, type_lieu="lieu_activite", structure_id=inconnue["id"])

    response = staff_client.post(reverse("imports:coop_synchroniser"), follow=True)
    contenu = texte(response)
    assert (
        "Synchronisation terminée : 3 activités lues, 1 créée, 0 mise à jour, 0 supprimée, 0 inchangée, 1 ignorée et "
        "1 rejetée (voir la liste ci-dessous)." in contenu
    )
    run = SynchroCoop.objects.get()
    assert (run.statut, run.lancee_par, run.creees) == (StatutSynchro.REUSSIE, staff_user, 1)
    assert Activite.objects.count() == 1
    assert "Réussie" in contenu and "Tiers-lieu inconnu" in contenu and "Le lieu d'activité n'existe pas" in contenu
    assert "<details>" in contenu and "Redemandée à chaque synchronisation." not in contenu
    assert "1 activité en attente :" in contenu
    en_attente = contenu[contenu.index("Activités rejetées en attente") :]
    assert "Le lieu d'activité n'existe pas" in en_attente and "« Tiers-lieu inconnu »" in en_attente

    coop_fake.secret = "revoque"
    response = staff_client.post(reverse("imports:coop_synchroniser"), follow=True)
    contenu = texte(response)
    assert "La synchronisation a échoué : La Coop a refusé les identifiants (HTTP 401)" in contenu
    assert "Rien n'a été enregistré." in contenu and "Échec" in contenu


def test_no_run_without_a_connection_nor_while_one_is_running(staff_client, coop_connexion):
    SynchroCoop.objects.create()
    response = staff_client.post(reverse("imports:coop_synchroniser"), follow=True)
    assert "Une synchronisation est déjà en cours" in texte(response)
    assert SynchroCoop.objects.count() == 1
    ConnexionCoop.objects.all().delete()
    response = staff_client.post(reverse("imports:coop_synchroniser"), follow=True)
    assert "Enregistrez d'abord la connexion à la Coop." in texte(response)
