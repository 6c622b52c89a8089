"""The activity log in a real browser, on a phone: Inès (conseillère at Ramonville) records an individual session in
a few taps, a workshop, duplicates it, finds them in her history and her figures; her typing survives a reload and a
lost connection; the form works with the keyboard alone and with JavaScript off; axe-core finds nothing on these
pages."""

import re
import time

import pytest
from playwright.sync_api import expect

from accompagnements.models import Activite

from .conftest import PHONE, _checked_page, check_axe, goto, login, submit, tab_to

INES = "conseiller@sicoval-numerique.example"


@pytest.fixture
def demo(live_server):
    """The whole demo, with six months of Inès's and her colleagues' activities."""
    from sicoval_numerique.demo import load_demo

    return load_demo(activites=True)


def _count(ines_email=INES):
    return Activite.objects.actives().filter(conseiller__user__email=ines_email).count()


def _key_number(page, label):
    """A key number of "Mes statistiques" (default period), as shown."""
    goto(page, "/activites/statistiques/")
    card = page.locator(".stats-cards > li").filter(has=page.locator("span", has_text=re.compile(f"^{label}$")))
    return int(re.sub(r"\D", "", card.locator("strong").first.inner_text()))


def test_conseiller_records_a_session_and_a_workshop_on_a_phone(phone_page, live_server):
    page = phone_page
    login(page, INES)
    before = _count()
    accompaniments_before = _key_number(page, "Accompagnements")

    # From "Mon espace" to the form; the usual place is already chosen, the date is today.
    goto(page, "/espace/")
    page.get_by_role("link", name="Nouvelle activité").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle activité")
    check_axe(page, goto(page, "/activites/nouvelle/"))
    expect(page.get_by_label("Lieu d’activité", exact=True)).to_be_checked()
    expect(page.get_by_label("Accompagnement individuel")).to_be_checked()

    # The common case: duration, theme, autonomy, save — four taps beyond the defaults, well under a minute.
    started = time.monotonic()
    taps = 0
    for label in ("30 min", "E-mail", "Autonome"):
        page.get_by_text(label, exact=True).click()
        taps += 1
    response = submit(page, page.get_by_role("button", name="Enregistrer"))
    taps += 1
    elapsed = time.monotonic() - started
    assert taps <= 6 and elapsed < 60
    assert response.status == 200 and re.search(r"/activites/$", page.url.split("#")[0])
    expect(page.get_by_role("status").first).to_contain_text("enregistrée")
    first = page.locator(".activity-list > li").first
    expect(first).to_contain_text("Accompagnement individuel")
    expect(first).to_contain_text("E-mail")
    assert _count() == before + 1
    check_axe(page, response)

    # A workshop: the workshop's fields appear when its type is chosen (htmx), the individual ones go.
    page.get_by_role("link", name="Nouvel atelier").click()
    expect(page.get_by_label("Titre de l'atelier")).to_be_visible()
    expect(page.get_by_text("Niveau d'autonomie")).to_be_hidden()
    page.get_by_label("Titre de l'atelier").fill("Se protéger des arnaques en ligne")
    page.get_by_text("2 h", exact=True).click()
    page.get_by_text("Prévention en sécurité numérique", exact=True).click()
    page.get_by_label("Participants anonymes").fill("6")
    response = submit(page, page.get_by_role("button", name="Enregistrer"))
    assert response.status == 200
    workshop = page.locator(".activity-list > li").first
    expect(workshop).to_contain_text("Se protéger des arnaques en ligne")
    expect(workshop).to_contain_text("6 participants")

    # Duplicate it: the same workshop next week is one tap and a save.
    workshop.get_by_role("link", name=re.compile("^Dupliquer")).click()
    expect(page.get_by_label("Titre de l'atelier")).to_have_value("Se protéger des arnaques en ligne")
    expect(page.get_by_label("Participants anonymes")).to_have_value("6")
    response = submit(page, page.get_by_role("button", name="Enregistrer"))
    assert response.status == 200
    assert _count() == before + 3
    newest = page.locator(".activity-list > li")
    for index in (0, 1):
        expect(newest.nth(index)).to_contain_text("Se protéger des arnaques en ligne")

    # The activity's page, then the figures: the 13 new accompaniments (1 + 6 + 6) are counted.
    page.locator(".activity-list > li").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Se protéger des arnaques en ligne")
    check_axe(page, goto(page, page.url))
    response = goto(page, "/activites/statistiques/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes statistiques")
    check_axe(page, response)
    assert _key_number(page, "Accompagnements") == accompaniments_before + 13


def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(phone_page):
    page = phone_page
    login(page, INES)
    goto(page, "/activites/nouvelle/")
    page.get_by_text("45 min", exact=True).click()
    response = submit(page, page.get_by_role("button", name="Enregistrer"))
    assert response.status == 400
    summary = page.locator("#erreurs-formulaire")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choisissez au moins une thématique.")
    expect(page.get_by_label("45 min")).to_be_checked()
    check_axe(page, response, status=400)


def test_a_draft_survives_a_reload_and_a_lost_connection(phone_page):
    page = phone_page
    login(page, INES)
    before = _count()
    goto(page, "/activites/nouvelle/")
    page.get_by_text("1 h 30", exact=True).click()
    page.get_by_text("Santé", exact=True).click()
    page.wait_for_timeout(600)  # the draft is written 0.4 s after typing stops

    # The connection drops: the form is not sent, the person is told, nothing is lost.
    page.context.set_offline(True)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#hors-connexion")).to_be_visible()
    assert _count() == before
    page.context.set_offline(False)

    # Even after closing the page, the typed answers come back on demand.
    goto(page, "/activites/nouvelle/")
    expect(page.get_by_label("Santé", exact=True)).not_to_be_checked()
    banner = page.locator("#brouillon")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Reprendre la saisie").click()
    expect(page.get_by_label("Santé", exact=True)).to_be_checked()
    expect(page.get_by_label("1 h 30")).to_be_checked()
    response = submit(page, page.get_by_role("button", name="Enregistrer"))
    assert response.status == 200
    assert _count() == before + 1

    # Saved: the draft is gone.
    goto(page, "/activites/nouvelle/")
    expect(page.locator("#brouillon")).to_be_hidden()


def test_keyboard_only_recording(page):
    """An activity recorded with the keyboard alone, in the tab order of the page: Tab into the duration's radio
    group, arrows to « 30 min », Tab to a thématique, Space, Tab to the button, Enter."""
    login(page, INES)
    before = _count()
    goto(page, "/activites/nouvelle/")
    durees = page.get_by_role("group", name=re.compile("^Durée")).get_by_role("radio")
    tab_to(page, durees.first)
    for _ in range(durees.count()):
        if page.get_by_label("30 min").is_checked():
            break
        page.keyboard.press("ArrowRight")
    expect(page.get_by_label("30 min")).to_be_checked()
    expect(page.get_by_label("30 min")).to_be_focused()
    tab_to(page, page.get_by_label("E-mail"))
    page.keyboard.press("Space")
    expect(page.get_by_label("E-mail")).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Enregistrer"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _count() == before + 1


def test_recording_works_with_javascript_off(browser, live_server, demo):
    pages = _checked_page(browser, live_server, {**PHONE, "java_script_enabled": False})
    page = next(pages)
    login(page, INES)
    before = _count()
    goto(page, "/activites/nouvelle/")
    # Every field shows without scripts: the workshop's too.
    expect(page.get_by_label("Titre de l'atelier")).to_be_visible()
    page.get_by_label("1 h", exact=True).check()
    page.get_by_label("Bureautique").check()
    response = submit(page, page.get_by_role("button", name="Enregistrer"))
    assert response.status == 200
    assert _count() == before + 1
    next(pages, None)
