"""A partner's developer, reading only /api/docs/ in a real browser: authorises with the demo client's credentials
(client credentials, through the documentation's own "Authorize" dialog), lists their sessions and registers a
person ("Try it out", on from the start), without a CSP violation or a page error."""

import json

from playwright.sync_api import expect

from ateliers.models import Inscription
from sicoval_numerique.demo_partenaires import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

from .conftest import TIMEOUT_MS, goto


def open_operation(page, method, path):
    block = page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    block.locator(".opblock-summary").first.click()
    # "Try it out" is on from the start (SWAGGER_UI_SETTINGS): the form is ready to execute.
    expect(block.get_by_role("button", name="Execute")).to_be_visible(timeout=TIMEOUT_MS)
    return block


def test_a_developer_gets_a_token_lists_sessions_and_registers_a_person_from_the_docs(page, demo):
    response = goto(page, "/api/docs/")
    assert response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("API Sicoval numérique", timeout=TIMEOUT_MS)

    # Authorize: the OAuth2 client-credentials flow of the schema, against /api/oauth/token/.
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input#client_id_clientCredentials").fill(DEMO_CLIENT_ID)
    dialog.locator("input#client_secret_clientCredentials").fill(DEMO_CLIENT_SECRET)
    dialog.locator("button.modal-btn.authorize").click()
    expect(dialog.locator("button.modal-btn", has_text="Logout")).to_be_visible(timeout=TIMEOUT_MS)
    dialog.locator("button.modal-btn", has_text="Close").first.click()

    # List the sessions of the structure.
    block = open_operation(page, "GET", "/api/v1/seances/")
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200", timeout=TIMEOUT_MS)
    body = json.loads(block.locator(".live-responses-table .microlight").first.inner_text())
    seance = next(s for s in body["results"] if s["statut"] == "planifiee" and s["places_restantes"])

    # Register a person to one of them.
    block = open_operation(page, "POST", "/api/v1/inscriptions/")
    payload = {
        "seance": seance["uuid"],
        "prenom": "Camille",
        "nom": "Martin",
        "email": "camille.martin@example.org",
        "consentement": True,
    }
    block.locator("textarea.body-param__text").fill(json.dumps(payload))
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("201", timeout=TIMEOUT_MS)
    assert Inscription.objects.filter(seance__uuid=seance["uuid"], email="camille.martin@example.org").exists()
