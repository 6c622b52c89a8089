"""The territorial reports: built end to end (PDF with the period's text, XLSX whose figures are the data), the
monthly beat task made once and e-mailed once per staff and funder, the annual report in the national definitions,
asking for a period on the page with its progress, who may see what, refused periods (400, nothing written), and a
failed build (« échec » with a French message, no file)."""

import datetime
import io
import re
import zlib

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accompagnements import services as activites
from accounts.models import Role
from conseillers.models import Affectation
from notifications.models import Email
from reporting import rapports
from reporting import rapports_documents as documents
from reporting.models import Rapport, StatutRapport, TypeRapport
from reporting.tasks_rapports import rapport_mensuel
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date
OCTOBRE = (D(2025, 10, 1), D(2025, 10, 31))
APRES_OCTOBRE = D(2025, 11, 1)
LIST_URL = reverse("reporting:rapports")
NEW_URL = reverse("reporting:rapport_demander")


# --- Data ------------------------------------------------------------------------------------------------------------
def conseiller_de(structure):
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


def record(conseiller, participants=None, **data):
    values = {
        "type": "individuel",
        "duree": 30,
        "type_lieu": "domicile",
        "lieu": None,
        "commune": conseiller.user.memberships.first().structure.commune,
        "thematiques": ["email"],
        "materiel": ["ordinateur"],
        "autonomie": "partiellement_autonome",
        **data,
    }
    if values["type"] == "collectif":
        values.pop("autonomie")
        values.setdefault("titre_atelier", "Découvrir la tablette")
        values.setdefault("niveau", "debutant")
    return activites.activite_create(by=conseiller.user, data=values, participants=participants)


@pytest.fixture
def octobre():
    """October 2025: 2 individual sessions and a workshop of 6 people (8 accompaniments, 195 minutes); one
    activity in September and one in November, outside the month."""
    structure = factories.StructureFactory()
    conseiller = conseiller_de(structure)
    P = activites.Participants
    record(conseiller, P(anonyme={"genre": "feminin"}), date=D(2025, 10, 10), duree=45)
    record(
        conseiller,
        date=D(2025, 10, 15),
        thematiques=["aide_aux_demarches_administratives", "logement"],
    )
    record(
        conseiller,
        P(anonymes=6),
        type="collectif",
        date=D(2025, 10, 20),
        duree=120,
        thematiques=["email", "securite_numerique"],
    )
    record(conseiller, date=D(2025, 9, 30))
    record(conseiller, date=D(2025, 11, 3))
    return {
        "conseiller": conseiller,
        "structure": structure,
        "accompagnements": 8,
        "activites": 3,
        "individuels": 2,
        "collectifs": 1,
        "duree": 195,
    }


@pytest.fixture
def funder():
    return factories.MembershipFactory(role=Role.FINANCEUR).user


def build(rapport):
    rapports.rapport_construire(rapport)
    rapport.refresh_from_db()
    return rapport


# --- Reading the documents -------------------------------------------------------------------------------------------
def pdf_strings(pdf):
    """The text strings of a PDF's objects (document information, bookmarks of the headings, structure tree), read
    from its compressed object streams: enough to check which period a PDF covers without a PDF library."""
    strings = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            continue
        for hex_string in re.findall(rb"<(feff[0-9a-f]+)>", data, re.I):
            strings.append(bytes.fromhex(hex_string.decode())[2:].decode("utf-16-be"))
        for literal in re.findall(rb"/(?:Title|Subject|Alt|ActualText|Keywords) \(((?:[^()\\]|\\.)*)\)", data):
            strings.append(literal.decode("latin-1"))
    return strings


def key_numbers(xlsx, sheet):
    """{label: value} of the key numbers of a dashboard sheet of the workbook."""
    workbook = load_workbook(io.BytesIO(xlsx))
    rows = list(workbook[sheet].iter_rows(values_only=True))
    start = next(index for index, row in enumerate(rows) if row[:2] == ("Indicateur", "Valeur"))
    numbers = {}
    for row in rows[start + 1 :]:
        if not row or row[0] is None:
            break
        numbers[row[0]] = row[1]
    return numbers


# --- Building -------------------------------------------------------------------------------------------------------
def test_a_report_is_built_end_to_end_with_the_figures_of_the_data(
    octobre, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rapport = rapports.rapport_demander(du=OCTOBRE[0], au=OCTOBRE[1], by=staff_user, today=APRES_OCTOBRE)
    rapport.refresh_from_db()
    assert rapport.statut == StatutRapport.PRET
    assert (rapport.progression, rapport.etape, rapport.erreur) == (100, rapports.ETAPE_PRET, "")
    assert rapport.commence_le <= rapport.termine_le

    pdf = bytes(rapport.pdf)
    assert pdf.startswith(b"%PDF-")
    texts = pdf_strings(pdf)
    assert any("octobre 2025" in text for text in texts), texts[:20]
    assert "Rapport sur une période — octobre 2025 — Sicoval" in texts  # the document's title
    assert "Accompagnements" in texts  # a section's heading, as a bookmark

    numbers = key_numbers(bytes(rapport.xlsx), "Accompagnements")
    assert numbers["Accompagnements"] == octobre["accompagnements"]
    assert numbers["Activités"] == octobre["activites"]
    assert numbers["Accompagnements individuels"] == octobre["individuels"]
    assert numbers["Ateliers collectifs"] == octobre["collectifs"]
    assert numbers["Temps d'accompagnement (minutes)"] == octobre["duree"]


def test_the_build_records_each_step_of_its_progress(octobre, staff_user, monkeypatch):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    seen = []
    real_step = rapports._etape

    def spy(rapport, claim, key):
        step = real_step(rapport, claim, key)
        row = Rapport.objects.values("statut", "progression", "etape").get(pk=rapport.pk)
        seen.append((row["statut"], row["progression"], row["etape"]))
        return step

    monkeypatch.setattr(rapports, "_etape", spy)
    build(rapport)
    assert seen == [
        ("en_cours", 10, "Calcul des chiffres"),
        ("en_cours", 35, "Dessin des graphiques"),
        ("en_cours", 55, "Mise en page du PDF"),
        ("en_cours", 85, "Préparation du classeur XLSX"),
    ]
    assert (rapport.statut, rapport.progression) == ("pret", 100)


def test_two_builds_never_take_the_same_report(octobre, staff_user):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    Rapport.objects.filter(pk=rapport.pk).update(statut=StatutRapport.EN_COURS, commence_le=timezone.now())
    assert rapports.rapport_construire(rapport) is False  # another worker has it
    assert Rapport.objects.get(pk=rapport.pk).pdf is None
    # That worker died: its claim expires and the report is built.
    stale = timezone.now() - rapports.CLAIM_TIMEOUT - datetime.timedelta(minutes=1)
    Rapport.objects.filter(pk=rapport.pk).update(commence_le=stale)
    assert rapports.rapport_construire(rapport) is True
    rapport.refresh_from_db()
    assert rapport.statut == StatutRapport.PRET
    assert rapports.rapport_construire(rapport) is False  # ready: nothing to do


def test_a_failed_build_is_marked_failed_with_a_french_message_and_no_file(octobre, staff_user, monkeypatch, caplog):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)

    def broken(document_html):
        raise RuntimeError("cairo exploded")

    monkeypatch.setattr(documents, "pdf", broken)
    build(rapport)
    assert rapport.statut == StatutRapport.ECHEC
    assert rapport.pdf is None and rapport.xlsx is None
    assert "La préparation du rapport a échoué à l'étape « Mise en page du PDF »" in rapport.erreur
    assert str(rapport.uuid) in rapport.erreur
    assert "cairo" not in rapport.erreur  # the technical detail goes to the logs, not to staff
    assert "cairo exploded" in caplog.text


def test_a_server_without_pango_gives_a_message_staff_can_act_on(octobre, staff_user, monkeypatch):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)

    def missing(document_html):
        raise documents.MiseEnPageIndisponible("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(documents, "pdf", missing)
    build(rapport)
    assert rapport.statut == StatutRapport.ECHEC
    assert "Pango" in rapport.erreur and "équipe technique" in rapport.erreur


# --- The automatic reports ----------------------------------------------------------------------------------------
@pytest.fixture
def recipients(db):
    staff = [factories.StaffUserFactory(), factories.StaffUserFactory()]
    funder = factories.MembershipFactory(role=Role.FINANCEUR).user
    factories.MembershipFactory(user=funder, role=Role.FINANCEUR)  # a funder of two structures: one e-mail
    factories.StaffUserFactory(is_active=False)  # left the team
    factories.MembershipFactory(role=Role.REFERENT)  # not a recipient
    return sorted(user.email for user in [*staff, funder])


def test_the_monthly_beat_task_run_twice_makes_one_report_and_one_email_per_recipient(
    octobre, recipients, django_capture_on_commit_callbacks
):
    paris = datetime.datetime(2025, 11, 1, 6, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    with time_machine.travel(paris, tick=False), django_capture_on_commit_callbacks(execute=True):
        rapport_mensuel.apply()
        rapport_mensuel.apply()
    rapport = Rapport.objects.get()
    assert (rapport.type, rapport.du, rapport.au) == (TypeRapport.MENSUEL, *OCTOBRE)
    assert rapport.statut == StatutRapport.PRET and rapport.demande_par is None
    assert rapport.envoye_le is not None

    emails = Email.objects.filter(type="rapport_mensuel")
    assert sorted(emails.values_list("destinataire", flat=True)) == recipients
    assert set(emails.values_list("objet", flat=True)) == {f"rapport:{rapport.uuid}"}
    assert sorted(address for message in mail.outbox for address in message.to) == recipients
    message = mail.outbox[0]
    assert message.subject == "Rapport mensuel — octobre 2025 du Sicoval"
    link = "http://127.0.0.1:8000" + reverse("reporting:rapport", args=[rapport.uuid])
    assert link in message.body
    assert "8 accompagnements" in message.body and "3 activités" in message.body
    assert not message.attachments  # a link to the page (login required), not the files


def test_the_monthly_report_in_numbers_matches_the_data(octobre, recipients):
    rapport = rapports.rapport_mensuel_automatique(APRES_OCTOBRE)
    assert rapport.nom_fichier("pdf") == "rapport-sicoval-2025-10.pdf"
    rapport.refresh_from_db()
    numbers = key_numbers(bytes(rapport.xlsx), "Accompagnements")
    assert (numbers["Accompagnements"], numbers["Activités"]) == (octobre["accompagnements"], octobre["activites"])
    assert any("Rapport mensuel — octobre 2025" in text for text in pdf_strings(bytes(rapport.pdf)))


def test_a_failed_automatic_report_is_built_again_and_sent_by_the_next_run(octobre, recipients, monkeypatch):
    real_pdf = documents.pdf
    monkeypatch.setattr(documents, "pdf", lambda html: (_ for _ in ()).throw(RuntimeError("boom")))
    rapport = rapports.rapport_mensuel_automatique(APRES_OCTOBRE)
    assert rapport.statut == StatutRapport.ECHEC
    assert not Email.objects.exists()
    monkeypatch.setattr(documents, "pdf", real_pdf)
    rapport = rapports.rapport_mensuel_automatique(APRES_OCTOBRE)
    assert rapport.statut == StatutRapport.PRET
    assert Email.objects.count() == len(recipients)
    assert Rapport.objects.count() == 1


def test_the_sweeper_builds_waiting_reports_and_catches_up_a_missed_monthly_run(octobre, recipients, staff_user):
    # On 2 November at 09:00 the 1 November run had not happened (broker down at 06:00).
    now = timezone.make_aware(datetime.datetime(2025, 11, 2, 9, 0))
    waiting = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    fresh = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    Rapport.objects.filter(pk=waiting.pk).update(created_at=now - datetime.timedelta(minutes=5))
    Rapport.objects.filter(pk=fresh.pk).update(created_at=now - datetime.timedelta(seconds=30))
    rapports.rapports_relancer(now)
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert waiting.statut == StatutRapport.PRET
    assert fresh.statut == StatutRapport.EN_ATTENTE  # its publication may still be on its way
    monthly = Rapport.objects.get(type=TypeRapport.MENSUEL)
    assert (monthly.du, monthly.au, monthly.statut) == (*OCTOBRE, StatutRapport.PRET)
    assert Email.objects.filter(type="rapport_mensuel").count() == len(recipients) + 1  # and staff_user
    # Later the same day: nothing more.
    rapports.rapports_relancer(now + datetime.timedelta(hours=1))
    assert Rapport.objects.filter(type=TypeRapport.MENSUEL).count() == 1
    assert Email.objects.filter(type="rapport_mensuel").count() == len(recipients) + 1
    # After the catch-up days, a missing monthly report is not made by the sweeper.
    rapports.rapports_relancer(timezone.make_aware(datetime.datetime(2025, 12, 5, 9, 0)))
    assert not Rapport.objects.filter(type=TypeRapport.MENSUEL, du=D(2025, 11, 1)).exists()


def test_the_annual_report_gives_the_national_indicators(octobre, recipients):
    structure = octobre["structure"]
    occupied = factories.PosteFactory(structure=structure, date_attribution=D(2021, 6, 1))
    factories.PosteFactory(structure=structure, date_attribution=D(2021, 6, 1))
    factories.PosteFactory(structure=structure, date_attribution=D(2025, 3, 1))  # granted during the year
    Affectation.objects.create(poste=occupied, conseiller=octobre["conseiller"], date_debut=D(2024, 1, 1))

    rapport = rapports.rapport_annuel_automatique(D(2026, 1, 1))
    assert (rapport.type, rapport.du, rapport.au) == (TypeRapport.ANNUEL, D(2025, 1, 1), D(2025, 12, 31))
    rapport.refresh_from_db()
    assert rapport.statut == StatutRapport.PRET, rapport.erreur
    assert rapport.nom_fichier("xlsx") == "rapport-annuel-sicoval-2025.xlsx"
    assert any("Bilan annuel 2025 du dispositif Conseiller numérique" in text for text in pdf_strings(rapport.pdf))

    workbook = load_workbook(io.BytesIO(bytes(rapport.xlsx)))
    assert workbook.sheetnames[0] == documents.FEUILLE_NATIONALE
    rows = [row for row in workbook[documents.FEUILLE_NATIONALE].iter_rows(values_only=True) if row and row[0]]
    by_code = {}
    for row in rows:
        if len(row) > 2 and isinstance(row[1], str) and row[1].islower():
            by_code.setdefault(row[1], row[2])  # the first occurrence: posts on 1 January, then the year's figures
    end_of_year = rows[[row[0] for row in rows].index("Postes — au 31/12/2025") + 1 :]
    posts_at_end = {row[1]: row[2] for row in end_of_year[:5]}
    assert posts_at_end == {
        "postes_attribues": 3,
        "postes_occupes": 1,
        "postes_vacants": 2,
        "taux_occupation": pytest.approx(1 / 3, abs=1e-4),
        "postes_rendus": 0,
    }
    assert by_code["postes_attribues"] == 2  # on 1 January 2025
    # The year's activities: October's 3, September's and November's.
    assert by_code["activites"] == 5
    assert by_code["accompagnements"] == 10
    assert by_code["ateliers_collectifs"] == 1
    assert by_code["email"] == 4  # email in 4 activities (every default one and the workshop)
    assert by_code["logement"] == 1
    assert by_code["aide_aux_demarches_administratives"] == 1
    assert "securite_numerique" in by_code and "intelligence_artificielle" in by_code  # every national code
    assert Email.objects.filter(type="rapport_annuel").count() == len(recipients)


# --- Pages ---------------------------------------------------------------------------------------------------------
def test_staff_ask_for_a_period_and_follow_its_progress(octobre, staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(NEW_URL, {"du": "2025-10", "au": "2025-10"})
    rapport = Rapport.objects.get()
    detail = reverse("reporting:rapport", args=[rapport.uuid])
    assert response.status_code == 302 and response["Location"] == detail
    assert (rapport.type, rapport.du, rapport.au, rapport.statut) == ("periode", *OCTOBRE, "en_attente")

    page = staff_client.get(detail).content.decode()
    assert 'role="status" aria-live="polite"' in page
    assert '<progress id="barre-rapport" max="100" value="0">' in page
    assert '<label for="barre-rapport">' in page
    assert 'hx-trigger="every 2s"' in page
    assert ">Actualiser</a>" in page
    assert "http-equiv" not in page  # no automatic reload
    progression = reverse("reporting:rapport_progression", args=[rapport.uuid])
    assert staff_client.get(progression, {"vu": "en_attente-0"}).status_code == 204  # nothing new

    for callback in callbacks:  # the build runs (inline without a broker)
        callback()
    fragment = staff_client.get(progression, {"vu": "en_attente-0"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "hx-trigger" not in html  # done: polling stops
    assert 'id="etat-rapport" hx-swap-oob="innerHTML">Le rapport est prêt' in html
    assert reverse("reporting:rapport_pdf", args=[rapport.uuid]) in html

    pdf = staff_client.get(reverse("reporting:rapport_pdf", args=[rapport.uuid]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="rapport-sicoval-2025-10.pdf"'
    assert pdf.content.startswith(b"%PDF-")
    xlsx = staff_client.get(reverse("reporting:rapport_xlsx", args=[rapport.uuid]))
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx["Content-Disposition"] == 'attachment; filename="rapport-sicoval-2025-10.xlsx"'

    archive = staff_client.get(LIST_URL).content.decode()
    assert "Octobre 2025" in archive and "Prêt" in archive
    assert reverse("reporting:rapport_xlsx", args=[rapport.uuid]) in archive


def test_the_progress_fragment_shows_the_current_step(staff_client, staff_user):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    Rapport.objects.filter(pk=rapport.pk).update(
        statut=StatutRapport.EN_COURS, progression=55, etape="Mise en page du PDF", commence_le=timezone.now()
    )
    url = reverse("reporting:rapport_progression", args=[rapport.uuid])
    html = staff_client.get(url, {"vu": "en_attente-0"}).content.decode()
    assert 'value="55"' in html and "vu=en_cours-55" in html and 'hx-trigger="every 2s"' in html
    assert "Préparation du rapport : Mise en page du PDF (55 %)." in html
    assert staff_client.get(url, {"vu": "en_cours-55"}).status_code == 204


@pytest.mark.parametrize(
    ("du", "au", "message"),
    [
        ("2025-10", "2025-09", "Le dernier mois doit être le même que le premier ou le suivre."),
        ("2025-10", "2099-01", "La période ne peut pas dépasser le mois en cours"),
        ("2010-01", "2025-10", "La période ne peut pas dépasser dix ans (120 mois) : elle en compte 190."),
        ("octobre", "2025-10", "Saisissez un mois au format AAAA-MM, par exemple 2024-09."),
        ("", "2025-10", "Ce champ est obligatoire."),
    ],
)
def test_a_bad_period_is_refused_in_french_and_nothing_is_written(staff_client, du, au, message):
    response = staff_client.post(NEW_URL, {"du": du, "au": au})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not Rapport.objects.exists()


def test_a_double_click_asks_for_one_report(staff_client):
    staff_client.post(NEW_URL, {"du": "2025-10", "au": "2025-12"})
    staff_client.post(NEW_URL, {"du": "2025-10", "au": "2025-12"})
    assert Rapport.objects.count() == 1


def test_failed_report_page_shows_the_message_and_staff_relaunch_it(
    octobre, staff_client, staff_user, monkeypatch, django_capture_on_commit_callbacks
):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    monkeypatch.setattr(documents, "xlsx", lambda contenu: 1 / 0)
    build(rapport)
    page = staff_client.get(reverse("reporting:rapport", args=[rapport.uuid])).content.decode()
    assert "La préparation a échoué" in page and "Préparation du classeur XLSX" in page
    assert staff_client.get(reverse("reporting:rapport_pdf", args=[rapport.uuid])).status_code == 404
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("reporting:rapport_relancer", args=[rapport.uuid]))
    assert response.status_code == 302
    rapport.refresh_from_db()
    assert rapport.statut == StatutRapport.PRET  # rebuilt inline (no broker in the tests)
    again = staff_client.post(reverse("reporting:rapport_relancer", args=[rapport.uuid]))
    assert again.status_code == 400  # only a failed report is relaunched


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.REFERENT, Role.AIDANT])
def test_other_roles_get_403_on_every_report_page(client, staff_user, role):
    rapport = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    client.force_login(factories.MembershipFactory(role=role).user)
    for url in [
        LIST_URL,
        NEW_URL,
        reverse("reporting:rapport", args=[rapport.uuid]),
        reverse("reporting:rapport_progression", args=[rapport.uuid]),
        reverse("reporting:rapport_pdf", args=[rapport.uuid]),
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(NEW_URL, {"du": "2025-10", "au": "2025-10"}).status_code == 403
    assert Rapport.objects.count() == 1


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302 and "/comptes/login/" in response["Location"]


def test_funders_read_and_download_ready_reports_only(octobre, client, funder, staff_user):
    ready = rapports.rapport_mensuel_automatique(APRES_OCTOBRE)
    waiting = Rapport.objects.create(type=TypeRapport.PERIODE, du=OCTOBRE[0], au=OCTOBRE[1], demande_par=staff_user)
    client.force_login(funder)
    archive = client.get(LIST_URL)
    assert archive.status_code == 200
    assert str(ready.uuid) in archive.content.decode() and str(waiting.uuid) not in archive.content.decode()
    assert "Préparer un rapport" not in archive.content.decode()
    assert client.get(reverse("reporting:rapport", args=[ready.uuid])).status_code == 200
    assert client.get(reverse("reporting:rapport", args=[waiting.uuid])).status_code == 404
    download = client.get(reverse("reporting:rapport_pdf", args=[ready.uuid]))
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert client.get(NEW_URL).status_code == 403


def test_an_unknown_report_answers_404(staff_client):
    assert (
        staff_client.get(reverse("reporting:rapport", args=["6f2b1c3e-0000-4000-8000-000000000000"])).status_code == 404
    )


def test_the_archive_costs_the_same_queries_at_2_and_20_reports(
    staff_client, staff_user, django_assert_max_num_queries
):
    def make(n):
        for month in range(n):
            du = D(2020 + month // 12, month % 12 + 1, 1)
            Rapport.objects.create(
                type=TypeRapport.PERIODE, du=du, au=rapports._fin_de_mois(du), demande_par=staff_user
            )

    make(2)
    with django_assert_max_num_queries(12) as two:
        staff_client.get(LIST_URL)
    Rapport.objects.all().delete()
    make(20)
    with django_assert_max_num_queries(len(two.captured_queries)):
        staff_client.get(LIST_URL)
