"""Key journeys in a real browser: the public finding a place (with the mouse, the keyboard, on a phone), staff
setting up their mandatory second factor, a référent editing their place, a funder reading."""

import re

import pytest
from playwright.sync_api import expect

from sicoval_numerique.demo import DEMO_PASSWORD

from .conftest import check_axe, current_totp, goto, login, submit

SICOVAL = "Communauté d'agglomération du Sicoval"
RAMONVILLE_PLACE = "Espace numérique de la mairie de Ramonville"


def test_public_finds_the_bus_stopping_in_their_commune(page):
    goto(page, "/")
    page.get_by_role("link", name="Trouver un lieu près de chez moi").click()
    expect(page).to_have_url(re.compile(r"/lieux/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un lieu de médiation numérique")

    # Aureville has no place of its own: the bus stops there.
    page.get_by_label("Commune").select_option(label="Aureville")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"commune=31025"))
    results = page.get_by_role("list", name=re.compile("correspondant à votre recherche"))
    expect(results.locator("> li")).to_have_count(1)
    expect(results).to_contain_text("Bus numérique du Sicoval")
    expect(results).to_contain_text("Prochain passage : Aureville")

    page.get_by_role("link", name="Bus numérique du Sicoval", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bus numérique du Sicoval")
    stops = page.get_by_role("table", name=re.compile("Arrêts à venir"))
    expect(stops.get_by_role("columnheader")).to_have_text(["Date", "Commune", "Emplacement", "Horaires"])
    expect(stops.get_by_role("row").filter(has_text="Aureville").first).to_contain_text("Parking de la mairie")
    expect(stops.get_by_role("row").nth(1)).to_contain_text(re.compile(r"de 9\sh\s30 à 12\sh\s30"))
    hours = page.locator(".horaires").first
    expect(hours).to_contain_text("Du mardi au vendredi")


def test_keyboard_only_skip_link_and_search(page):
    goto(page, "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()

    # From the main content, the first link is the call to action.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Trouver un lieu près de chez moi")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/lieux/$"))

    # Tab through the page until the commune list has the focus, then choose with the keyboard only.
    commune = page.get_by_label("Commune")
    for _ in range(30):
        page.keyboard.press("Tab")
        if commune.evaluate("el => el === document.activeElement"):
            break
    expect(commune).to_be_focused()
    page.keyboard.type("Ramonville")  # type-ahead selection in a closed <select>
    expect(commune).to_have_value("31446")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Service recherché")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Rechercher")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"commune=31446"))
    expect(page.get_by_role("heading", name=re.compile("correspondant à votre recherche"))).to_be_visible()
    expect(page.get_by_role("link", name=RAMONVILLE_PLACE, exact=True)).to_be_visible()


def test_phone_menu_button_toggles_navigation(phone_page):
    page = phone_page
    goto(page, "/")
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Navigation principale")
    link = nav.get_by_role("link", name="Trouver un lieu")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(link).to_be_hidden()

    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(link).to_be_visible()
    expect(nav.get_by_role("link", name="Se connecter")).to_be_visible()

    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(link).to_be_hidden()

    toggle.tap()
    link.tap()
    expect(page).to_have_url(re.compile(r"/lieux/$"))


def activate_totp(page):
    """On the TOTP activation page: reads the secret the page shows, and sends the current code."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    secret = page.get_by_label("Clé secrète de l'application d'authentification").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.get_by_label("Code de l'authentificateur").fill(current_totp(secret))
    return submit(page, page.get_by_role("button", name="Activer"))


def test_staff_must_set_up_totp_before_reaching_the_back_office(page):
    login(page, "coordination@sicoval-numerique.example")
    expect(page.get_by_role("status")).to_contain_text("doit être protégé par une double authentification")
    # allauth (65.x) asks for the password again before adding an authenticator, even right after the login.
    if "/comptes/reauthenticate/" in page.url:
        expect(page).to_have_url(re.compile(r"next=%2Fcomptes%2F2fa%2Ftotp%2Factivate%2F"))
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Confirmer").click()
    expect(page).to_have_url(re.compile(r"/comptes/2fa/totp/activate/$"))

    # A wrong code is refused with a French message, and nothing else is reachable meanwhile.
    page.get_by_label("Code de l'authentificateur").fill("000000")
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    goto(page, "/gestion/structures/")
    expect(page).to_have_url(re.compile(r"/comptes/2fa/totp/activate/$"))

    recovery_codes_response = activate_totp(page)
    expect(page).to_have_url(re.compile(r"/comptes/2fa/recovery-codes/$"))
    codes = page.get_by_label("Codes inutilisés")
    expect(codes).to_be_visible()
    assert len(codes.input_value().split()) == 10
    check_axe(page, recovery_codes_response)

    goto(page, "/gestion/structures/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Structures")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=SICOVAL)).to_be_visible()
    expect(page.get_by_role("link", name="Créer une structure")).to_be_visible()


def test_referent_edits_the_opening_hours_of_their_own_place(page):
    login(page, "referent@sicoval-numerique.example")
    expect(page).to_have_url(re.compile(r"/espace/$"))
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Lieux").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lieux de médiation numérique")

    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(2)  # header + their only place
    expect(table.get_by_role("link", name=RAMONVILLE_PLACE)).to_be_visible()
    for other in ("Bus numérique du Sicoval", "Point numérique du CCAS de Castanet-Tolosan"):
        expect(table.get_by_text(other)).to_have_count(0)

    table.get_by_role("link", name=RAMONVILLE_PLACE).click()
    hours = page.get_by_label(re.compile("^Horaires"))
    expect(hours).to_have_value("Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00")

    hours.fill("Lundi 9h-12h")
    page.get_by_role("button", name="Enregistrer le lieu").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Jour non reconnu")
    expect(hours).to_have_attribute("aria-invalid", "true")
    expect(hours).to_have_value("Lundi 9h-12h")  # what was typed is kept, to be corrected
    summary.get_by_role("link", name=re.compile("^Horaires")).press("Enter")  # the summary leads to the field
    expect(hours).to_be_focused()

    hours.fill("Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00; Su off")
    page.get_by_role("button", name="Enregistrer le lieu").click()
    expect(page.get_by_role("status")).to_contain_text(f"Le lieu « {RAMONVILLE_PLACE} » a été enregistré.")
    expect(page.get_by_label(re.compile("^Horaires"))).to_have_value(
        "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00; Su off"
    )


def test_funder_reads_structures_without_editing(page):
    login(page, "financeur@sicoval-numerique.example")
    expect(page).to_have_url(re.compile(r"/espace/$"))
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Lieux")).to_have_count(0)
    nav.get_by_role("link", name="Structures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Structures")
    expect(page.get_by_role("link", name="Créer une structure")).to_have_count(0)

    page.get_by_role("table").get_by_role("link", name=SICOVAL).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SICOVAL)
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=re.compile("^Modifier"))).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)
    expect(main.locator("form[method=post]")).to_have_count(0)


@pytest.mark.parametrize("email", ["aidant@sicoval-numerique.example", "conseiller@sicoval-numerique.example"])
def test_other_roles_see_no_back_office_navigation(page, email):
    login(page, email)
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Mon espace")).to_be_visible()
    expect(nav.get_by_role("link", name="Structures")).to_have_count(0)
    expect(nav.get_by_role("link", name="Lieux")).to_have_count(0)
