"""A referral in a real browser, on a phone: the demo aidant (CCAS de Castanet) refers a person to Inès (conseillère
at Ramonville); Inès takes it in charge and closes it with the activity recorded in her log; the aidant sees the
outcome. No phone call, no spreadsheet. axe-core finds nothing on these pages, the form sent back with errors
included."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from accompagnements.models import Activite
from aidants.models import Orientation, StatutOrientation

from .conftest import check_axe, goto, login, submit

AIDANT = "aidant@sicoval-numerique.example"
INES = "conseiller@sicoval-numerique.example"
RAMONVILLE = "31446"


def test_an_aidant_refers_a_person_and_the_conseiller_closes_it_with_an_activity(phone_page):
    page = phone_page
    login(page, AIDANT)

    # The form, then the form sent back with errors: both accessible.
    check_axe(page, goto(page, "/gestion/aidants/orientations/nouvelle/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Orienter une personne")
    response = submit(page, page.get_by_role("button", name="Envoyer l'orientation"))
    check_axe(page, response, status=400)
    expect(page.locator("#erreurs-formulaire")).to_contain_text("Choisissez au moins un besoin.")

    page.get_by_label("Prendre en main du matériel").check()
    page.get_by_label("Commune où habite la personne").select_option(RAMONVILLE)
    page.get_by_label("Prénom de la personne").fill("Josiane")
    page.get_by_label("Par téléphone").check()
    page.get_by_label("Téléphone de la personne").fill("06 12 34 56 78")
    page.get_by_label("Conseiller numérique", exact=True).select_option(label="Inès Conseillère")
    page.get_by_label("La personne est d'accord").check()
    response = submit(page, page.get_by_role("button", name="Envoyer l'orientation"))
    check_axe(page, response)
    expect(page.locator(".messages")).to_contain_text("L'orientation a été envoyée à Inès Conseillère")
    orientation = Orientation.objects.get(telephone="+33612345678")  # the demo holds another one
    assert orientation.conseiller.user.email == INES and orientation.telephone == "+33612345678"

    check_axe(page, goto(page, "/gestion/aidants/orientations/"))
    expect(page.locator(".cards")).to_contain_text("Nouvelle")

    # Inès finds it among the referrals she received, takes it in charge, and closes it with the activity.
    page.context.clear_cookies()
    login(page, INES)
    before = Activite.objects.actives().filter(conseiller=orientation.conseiller).count()
    check_axe(page, goto(page, "/gestion/aidants/orientations/recues/"))
    page.get_by_role("link", name="Josiane, Ramonville-Saint-Agne").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orientation du")
    expect(page.get_by_text("+33612345678")).to_be_visible()
    response = submit(page, page.get_by_role("button", name="Prendre en charge"))
    check_axe(page, response)
    expect(page.get_by_role("heading", name="Clôturer : accompagnement réalisé")).to_be_visible()

    page.get_by_label("45 min", exact=True).check()
    page.get_by_label("À domicile", exact=True).check()
    page.get_by_label("Suite donnée, pour l'aidant").fill("Accompagnée pour prendre en main son téléphone.")
    response = submit(page, page.get_by_role("button", name="Clôturer et enregistrer l'accompagnement"))
    check_axe(page, response)
    expect(page.locator(".messages")).to_contain_text("l'accompagnement est enregistré dans votre journal")
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.REALISEE
    assert orientation.activite.duree == 45 and orientation.activite.commune.code_insee == RAMONVILLE
    assert Activite.objects.actives().filter(conseiller=orientation.conseiller).count() == before + 1

    # The aidant sees the outcome.
    page.context.clear_cookies()
    login(page, AIDANT)
    response = goto(page, "/gestion/aidants/orientations/")
    check_axe(page, response)
    expect(page.locator(".cards")).to_contain_text("Accompagnement réalisé")
    expect(page.locator(".cards")).to_contain_text("Accompagnée pour prendre en main son téléphone.")


def test_staffs_follow_up_page_lists_the_late_ones_accessibly(page, live_server):
    """A referral nobody took for ten days shows in staff's late ones (the table and its badges pass axe)."""
    from aidants.models import Aidant
    from tests.factories import StaffUserFactory

    from .conftest import log_in_as

    aidant = Aidant.objects.get(user__email=AIDANT)
    ines = Activite._meta.get_field("conseiller").related_model.objects.get(user__email=INES)
    orientation = Orientation.objects.create(
        aidant=aidant,
        conseiller=ines,
        commune=ines.user.memberships.first().structure.commune,
        thematiques=["email"],
        prenom="Gérard",
        contact_prefere="via_aidant",
        consentement_le=timezone.now(),
    )
    Orientation.objects.filter(pk=orientation.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    log_in_as(page, live_server, StaffUserFactory())
    check_axe(page, goto(page, "/gestion/aidants/orientations/suivi/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivi des orientations")
    expect(page.locator("#caption-retard")).to_have_text("1 orientation en retard")
    expect(page.locator("main")).not_to_contain_text("Gérard")
