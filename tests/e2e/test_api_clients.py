"""A référent gives a partner software access to the API in a real browser: from the structure's page to a new client,
its secret shown once (and copied with the button), then its revocation; 0 axe-core violation on every step."""

import re

from django.conf import settings
from django.urls import reverse
from playwright.sync_api import expect

from partenaires.models import ClientAPI
from sicoval_numerique.demo_partenaires import DEMO_CLIENT_NAME, DEMO_CLIENT_SECRET

from .conftest import check_axe, goto, login, submit

CLIENT_NAME = "Logiciel de suivi des ateliers"


def test_referent_creates_a_client_sees_its_secret_once_and_revokes_it(page, live_server, demo):
    ramonville = demo["structures"]["ramonville"]
    login(page, "referent@sicoval-numerique.example")

    goto(page, reverse("structures:detail", args=[ramonville.uuid]))
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name="Gérer les accès à l'API").click()
    response = navigation.value
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Accès à l'API de {ramonville.nom}")
    # The demo's own client of the mairie is listed (its secret never is).
    demo_row = page.get_by_role("row").filter(has_text=DEMO_CLIENT_NAME)
    expect(demo_row).to_contain_text("Actif")
    assert DEMO_CLIENT_SECRET not in page.content()
    expect(page.get_by_label(re.compile("Statistiques détaillées"))).to_have_count(0)  # staff only
    check_axe(page, response)

    # Sent empty: the form comes back with its errors, announced and focused.
    response = submit(page, page.get_by_role("button", name="Créer le client"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Donnez un nom au client")
    expect(summary).to_contain_text("Choisissez au moins un droit.")
    expect(summary).to_be_focused()
    assert page.title().startswith("Erreur"), page.title()
    check_axe(page, response, status=400)

    page.get_by_label(re.compile("^Nom du client")).fill(CLIENT_NAME)
    ateliers = page.get_by_role("group", name="Ateliers et séances")
    ateliers.get_by_label("Lire").check()
    ateliers.get_by_label("Créer et modifier").check()
    response = submit(page, page.get_by_role("button", name="Créer le client"))
    assert "no-store" in response.headers["cache-control"]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Client créé : {CLIENT_NAME}")
    expect(page.get_by_text("Notez le secret maintenant : il ne sera plus jamais affiché.")).to_be_visible()
    client = ClientAPI.objects.get(nom=CLIENT_NAME)
    expect(page.get_by_label("Identifiant du client")).to_have_value(client.application.client_id)
    secret = page.get_by_label("Secret du client").input_value()
    assert len(secret) >= 40
    expect(page.locator("pre.snippet")).to_contain_text(f"{settings.SITE_URL.rstrip('/')}/api/oauth/token/")
    check_axe(page, response)

    # The copy button (shown because scripts run) puts the secret on the clipboard and says so.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copier le secret").click()
    expect(page.get_by_role("status").filter(has_text="copié")).to_contain_text("Secret du client")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("J'ai noté le secret")).click()
    assert secret not in page.content()
    row = page.get_by_role("row").filter(has_text=CLIENT_NAME)
    expect(row).to_contain_text("Lire : ateliers et séances")
    expect(row).to_contain_text("Actif")

    with page.expect_navigation() as navigation:
        row.get_by_role("link", name=f"Révoquer… le client {CLIENT_NAME}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Révoquer le client « {CLIENT_NAME} » ?")
    check_axe(page, navigation.value)

    response = submit(page, page.get_by_role("button", name="Révoquer définitivement"))
    expect(page.get_by_role("status")).to_contain_text(f"Le client « {CLIENT_NAME} » est révoqué")
    row = page.get_by_role("row").filter(has_text=CLIENT_NAME)
    expect(row).to_have_class("client-revoque")
    expect(row).to_contain_text("Révoqué")
    expect(row.get_by_role("link", name=re.compile("Révoquer"))).to_have_count(0)
    assert secret not in page.content()
    client.refresh_from_db()
    assert not client.actif
    check_axe(page, response)
