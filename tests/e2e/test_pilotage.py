"""Steering the territory in a real browser: the coordinator opens the dashboard, changes the period (htmx refreshes
the figures), downloads its data, asks for a report on a period, watches it being prepared and downloads the PDF; the
public statistics page. axe-core finds 0 violation on each page and state, and no CSP violation is reported."""

import datetime

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from reporting.models import Rapport, StatutRapport

from .conftest import check_axe, goto, log_in_as, submit


def _staff():
    from tests.factories import StaffUserFactory

    return StaffUserFactory()


def test_staff_change_the_dashboards_period_and_download_its_data(page, live_server):
    log_in_as(page, live_server, _staff())
    response = goto(page, reverse("reporting:tableau"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pilotage du territoire")
    check_axe(page, response)
    for title in ("Accompagnements", "Ateliers", "Postes", "Financements"):
        expect(page.get_by_role("link", name=title, exact=False).first).to_be_visible()

    # Another period: htmx refreshes the results and the address, and screen readers hear it.
    page.get_by_label("Du mois de").fill("2025-01")
    page.get_by_label("Au mois de").fill("2025-03")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator(".stats-period")).to_contain_text("Du 1 janvier 2025 au 31 mars 2025")
    expect(page.locator("#tableau-statut")).to_contain_text("Tableau de bord mis à jour")
    assert "du=2025-01" in page.url
    check_axe(page, response)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger les données (tableur XLSX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as handle:
        assert handle.read(2) == b"PK"  # a zip: the XLSX container


def test_staff_ask_for_a_report_watch_it_build_and_download_it(page, live_server):
    log_in_as(page, live_server, _staff())
    goto(page, reverse("reporting:tableau"))
    page.get_by_role("link", name="Rapports mensuels et annuels").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rapports")
    response = goto(page, reverse("reporting:rapport_demander"))
    check_axe(page, response)

    # A period in the wrong order is explained, nothing is created.
    page.get_by_label("Premier mois").fill("2025-10")
    page.get_by_label("Dernier mois (inclus)").fill("2025-09")
    response = submit(page, page.get_by_role("button", name="Préparer le rapport"))
    check_axe(page, response, status=400)
    assert not Rapport.objects.exists()

    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    page.get_by_label("Premier mois").fill(f"{last_month:%Y-%m}")
    page.get_by_label("Dernier mois (inclus)").fill(f"{last_month:%Y-%m}")
    response = submit(page, page.get_by_role("button", name="Préparer le rapport"))
    # Tasks run inline here: the report is ready when its page opens; with a worker, htmx polls the progress bar.
    rapport = Rapport.objects.get()
    assert rapport.statut == StatutRapport.PRET and rapport.progression == 100
    expect(page.locator("#etat-rapport")).to_contain_text("prêt")
    check_axe(page, response)

    with page.expect_download() as download_info:
        page.locator("#progression-rapport a[href$='/pdf/']").click()
    download = download_info.value
    assert download.suggested_filename == f"rapport-sicoval-{last_month:%Y-%m}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_a_report_being_prepared_shows_its_progress(page, live_server):
    staff = _staff()
    log_in_as(page, live_server, staff)
    rapport = Rapport.objects.create(
        type="periode", du=datetime.date(2025, 9, 1), au=datetime.date(2025, 9, 30), demande_par=staff
    )
    Rapport.objects.filter(pk=rapport.pk).update(statut=StatutRapport.EN_COURS, progression=55, etape="Mise en page")
    response = goto(page, reverse("reporting:rapport", args=[rapport.uuid]))
    expect(page.locator("progress")).to_have_attribute("value", "55")
    check_axe(page, response)
    # The worker finishes: the polling (every 2 s) shows it without a reload, then stops.
    Rapport.objects.filter(pk=rapport.pk).update(
        statut=StatutRapport.PRET, progression=100, pdf=b"%PDF-1.7", xlsx=b"PK"
    )
    expect(page.locator("#etat-rapport")).to_contain_text("prêt", timeout=10_000)
    expect(page.locator("[hx-trigger]")).to_have_count(0)


def test_public_statistics_page(page, live_server):
    response = goto(page, reverse("statistiques_publiques:index"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_axe(page, response)


def test_staff_see_tune_preview_and_run_the_reminders(page, live_server):
    log_in_as(page, live_server, _staff())
    response = goto(page, reverse("notifications:rappels"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rappels automatiques")
    check_axe(page, response)
    response = goto(page, reverse("notifications:rappel_edit", args=["atelier"]))
    check_axe(page, response)
    response = goto(page, reverse("notifications:rappel_preview", args=["atelier"]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aperçu du rappel")
    check_axe(page, response)
    goto(page, reverse("notifications:rappels"))
    response = submit(page, page.get_by_role("button", name="Lancer maintenant le rappel « ", exact=False).first)
    assert response.status == 200
    check_axe(page, response)
