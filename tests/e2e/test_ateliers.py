"""The public workshops in a real browser, on a phone: a visitor finds a session in the agenda filtered by their
commune, people register until it is full, the next one lands on the waiting list, and a cancellation through the
link promotes them. axe-core finds nothing on the agenda, the session page, the form (also sent back with errors), the
confirmation and the cancellation pages."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from tests import factories

from .conftest import check_axe, goto, submit, tab_to

RAMONVILLE_PLACE = "Espace numérique de la mairie de Ramonville"
TITLE = "Visio en famille : garder le lien"


def _session(demo):
    """A session of two seats at the demo's place in Ramonville, in three days."""
    lieu = next(lieu for lieu in demo["lieux"] if lieu.nom == RAMONVILLE_PLACE)
    atelier = factories.AtelierFactory(
        structure=lieu.structure,
        titre=TITLE,
        description="Installer une application d'appel vidéo et appeler ses proches.",
        thematiques=["reseaux_sociaux"],
        publics=["familles", "seniors"],
    )
    day = timezone.localdate() + datetime.timedelta(days=3)
    debut = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
    return factories.SeanceFactory(
        atelier=atelier, lieu=lieu, debut=debut, fin=debut + datetime.timedelta(hours=2), capacite=2
    )


def _register(page, prenom, nom, email):
    page.get_by_label(re.compile(r"^Prénom")).fill(prenom)
    page.get_by_label(re.compile(r"^Nom")).fill(nom)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label(re.compile(r"^J'accepte")).check()
    return submit(page, page.get_by_role("button", name=re.compile(r"^M'inscrire")))


def test_visitor_registers_on_a_phone_until_full_then_a_cancellation_promotes_the_waiting(phone_page, demo):
    page = phone_page
    seance = _session(demo)

    # The agenda, filtered by the visitor's commune.
    check_axe(page, goto(page, "/ateliers/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ateliers numériques près de chez vous")
    page.get_by_label("Commune", exact=True).select_option(label="Ramonville-Saint-Agne")
    response = submit(page, page.get_by_role("button", name="Rechercher"))
    expect(page).to_have_url(re.compile(r"commune=31446"))
    check_axe(page, response)
    results = page.get_by_role("list", name=re.compile("correspondant à votre recherche"))
    card = results.locator("> li").filter(has_text=TITLE)
    expect(card).to_contain_text("2 places restantes")
    expect(card).to_contain_text(f"{RAMONVILLE_PLACE}, Ramonville-Saint-Agne")
    expect(card).to_contain_text(re.compile(r"de 10\sh à 12\sh"))
    expect(results).not_to_contain_text("Se protéger des arnaques en ligne")  # at Castanet, not here

    card.get_by_role("link", name=TITLE, exact=True).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page).to_have_url(re.compile(rf"/ateliers/seances/{seance.uuid}/$"))
    check_axe(page, page.reload())

    # Sent empty: the errors, announced and linked to their fields.
    response = submit(page, page.get_by_role("button", name="M'inscrire"))
    check_axe(page, response, status=400)
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Prénom : Ce champ est obligatoire.")
    expect(summary).to_contain_text("Indiquez une adresse e-mail ou un numéro de téléphone")
    expect(summary).to_contain_text("Cochez la case pour donner votre accord")
    expect(page.get_by_label(re.compile(r"^Prénom"))).to_have_attribute("aria-invalid", "true")

    # Two people take the two seats.
    response = _register(page, "Alice", "Martin", "alice@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre inscription est confirmée")
    check_axe(page, response)
    alice_confirmation = page.url
    goto(page, f"/ateliers/seances/{seance.uuid}/")
    expect(page.get_by_text("1 place restante")).to_be_visible()
    _register(page, "Bruno", "Durand", "bruno@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre inscription est confirmée")

    # The session is full: the third lands on the waiting list.
    goto(page, f"/ateliers/seances/{seance.uuid}/")
    expect(page.get_by_text("Complet — liste d'attente")).to_be_visible()
    response = _register(page, "Chloé", "Petit", "chloe@example.org")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes sur la liste d'attente")
    expect(page.get_by_text(re.compile(r"Vous êtes n°\s1 sur la liste d'attente"))).to_be_visible()
    check_axe(page, response)
    chloe_confirmation = page.url

    # Alice cancels through her link: asked first, then her seat goes to Chloé.
    goto(page, alice_confirmation)
    page.get_by_role("link", name="Annuler mon inscription").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler mon inscription")
    check_axe(page, page.reload())
    response = submit(page, page.get_by_role("button", name="Confirmer l'annulation"))
    expect(page.get_by_role("status")).to_contain_text("Votre place a été libérée.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscription annulée")
    check_axe(page, response)

    goto(page, chloe_confirmation)
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre inscription est confirmée")
    expect(page.get_by_text("une place s'est libérée pour vous")).to_be_visible()
    goto(page, f"/ateliers/seances/{seance.uuid}/")
    expect(page.get_by_text("Complet — liste d'attente")).to_be_visible()


def test_keyboard_only_registration(page, demo):
    """A visitor registers with the keyboard alone, in the tab order of the session page: each field reached by Tab
    and typed into, the consent box ticked with Space, the form sent with Enter; the confirmation follows."""
    seance = _session(demo)
    goto(page, f"/ateliers/seances/{seance.uuid}/")
    tab_to(page, page.get_by_label(re.compile(r"^Prénom")))
    page.keyboard.type("Denise")
    tab_to(page, page.get_by_label(re.compile(r"^Nom")))
    page.keyboard.type("Garcia")
    tab_to(page, page.get_by_label("Adresse e-mail"))
    page.keyboard.type("denise@example.org")
    consent = tab_to(page, page.get_by_label(re.compile(r"^J'accepte")))
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    tab_to(page, page.get_by_role("button", name=re.compile(r"^M'inscrire")))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre inscription est confirmée")
    assert seance.inscriptions.filter(email="denise@example.org", statut="confirmee").exists()
