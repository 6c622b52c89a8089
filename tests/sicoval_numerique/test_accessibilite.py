"""The accessibility statement (RGAA): public, with the sections the model statement requires and a way to write."""

from django.test import override_settings
from django.urls import reverse

SECTIONS = (
    "État de conformité",
    "Résultats des tests",
    "Contenus non accessibles",
    "Établissement de cette déclaration",
    "Retour d'information et contact",
    "Voies de recours",
)


@override_settings(CONTACT_ACCESSIBILITE="accessibilite@territoire.example")
def test_the_statement_is_public_and_has_every_section_and_a_contact(client, db):
    response = client.get(reverse("accessibilite"))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f"<h2>{section}</h2>") for section in SECTIONS]
    assert positions == sorted(positions)  # in the model statement's order
    assert 'href="mailto:accessibilite@territoire.example"' in html
    assert "partiellement conforme" in html


def test_every_page_links_to_the_statement(client, db):
    html = client.get("/").content.decode()
    assert f'href="{reverse("accessibilite")}"' in html
