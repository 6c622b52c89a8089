"""The staff pages of the outbox: staff only (403 for everyone else, the login for strangers), the list with its
filters, masked recipients, its status badges and a query budget that does not grow with the rows; bad filters answer
400 with French messages; an e-mail's text, and its HTML served alone under a sandboxing policy; sending a failed
e-mail again and running the relay now; and the read-only admin."""

import datetime

import pytest
from django.contrib import admin
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Email, StatutEmail
from notifications.services import MAX_TENTATIVES
from notifications.views import HTML_PREVIEW_POLICY, PAGE_SIZE
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("notifications:list")
RELAY_URL = reverse("notifications:relay")


def detail_url(email):
    return reverse("notifications:detail", args=[email.uuid])


def html_url(email):
    return reverse("notifications:html", args=[email.uuid])


def resend_url(email):
    return reverse("notifications:resend", args=[email.uuid])


@pytest.fixture
def failed(make_email):
    return make_email(
        destinataire="jeanne.martin@example.org",
        statut=StatutEmail.ECHEC,
        tentatives=MAX_TENTATIVES,
        prochain_essai=None,
        derniere_erreur="SMTPException: 451 Serveur indisponible",
        pieces_jointes=[{"nom": "atelier.ics", "type": "text/calendar", "contenu": "BEGIN:VCALENDAR"}],
    )


# --- Access ----------------------------------------------------------------------------------------------------
def test_strangers_are_sent_to_the_login(client, failed):
    for url in (LIST_URL, detail_url(failed), html_url(failed)):
        response = client.get(url)
        assert response.status_code == 302
        assert "/comptes/login/" in response.url
    assert client.post(resend_url(failed)).status_code == 302
    assert client.post(RELAY_URL).status_code == 302


def test_other_users_get_403(client, referent, failed):
    client.force_login(referent)
    for url in (LIST_URL, detail_url(failed), html_url(failed)):
        assert client.get(url).status_code == 403
    assert client.post(resend_url(failed)).status_code == 403
    assert client.post(RELAY_URL).status_code == 403
    failed.refresh_from_db()
    assert failed.statut == StatutEmail.ECHEC


def test_a_conseiller_gets_403(client, failed):
    conseiller = factories.MembershipFactory(role="conseiller").user
    client.force_login(conseiller)
    assert client.get(LIST_URL).status_code == 403


def test_unknown_email_is_404(staff_client):
    assert (
        staff_client.get(reverse("notifications:detail", args=["0" * 8 + "-0000-0000-0000-" + "0" * 12])).status_code
        == 404
    )


def test_actions_are_posts(staff_client, failed):
    assert staff_client.get(resend_url(failed)).status_code == 405
    assert staff_client.get(RELAY_URL).status_code == 405


# --- The list --------------------------------------------------------------------------------------------------
def test_list_shows_each_email_with_its_delivery_and_a_masked_recipient(staff_client, failed, make_email):
    sent = make_email(
        destinataire="paul@example.org", statut=StatutEmail.ENVOYE, tentatives=1, envoye_le=timezone.now()
    )
    response = staff_client.get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "j***@example.org" in html
    assert "p***@example.org" in html
    assert "jeanne.martin@example.org" not in html
    assert "paul@example.org" not in html
    assert '<span class="badge badge-danger">Échec définitif</span>' in html
    assert '<span class="badge badge-success">Envoyé</span>' in html
    assert "SMTPException: 451 Serveur indisponible" in html
    assert failed.objet in html and sent.objet in html
    assert html.count(f'action="{resend_url(failed)}"') == 1
    assert f'action="{resend_url(sent)}"' not in html
    assert "Relancer l'envoi maintenant" in html
    assert "<td>8</td>" in html  # attempts


def test_list_is_paginated_by_50(staff_client, make_email):
    for _ in range(PAGE_SIZE + 1):
        make_email()
    first = staff_client.get(LIST_URL)
    assert len(first.context["rows"]) == PAGE_SIZE
    assert "Page 1 sur 2" in first.content.decode()
    assert len(staff_client.get(LIST_URL, {"page": 2}).context["rows"]) == 1
    assert staff_client.get(LIST_URL, {"page": "abc"}).status_code == 200


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries)


def test_list_query_count_does_not_grow_with_rows(staff_client, make_email):
    for n in range(2):
        make_email(statut=StatutEmail.ECHEC, type=f"type_{n}")
    with_2 = count_queries(staff_client, LIST_URL)
    filtered_2 = count_queries(staff_client, LIST_URL, {"statut": "echec"})

    for n in range(48):
        make_email(statut=StatutEmail.ECHEC if n % 2 else StatutEmail.ENVOYE, type=f"type_{n % 5}")
    with_50 = count_queries(staff_client, LIST_URL)
    filtered_50 = count_queries(staff_client, LIST_URL, {"statut": "echec"})

    print(f"requêtes de la liste : {with_2} à 2 lignes, {with_50} à 50 ; filtrée : {filtered_2} et {filtered_50}")
    assert with_2 == with_50
    assert filtered_2 == filtered_50
    assert with_50 <= 10


def test_filters(staff_client, make_email):
    now = timezone.now()
    old = make_email(type="rappel", statut=StatutEmail.ENVOYE)
    Email.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=40))
    echec = make_email(type="inscription_confirmee", statut=StatutEmail.ECHEC, destinataire="cible@example.org")
    waiting = make_email(type="inscription_confirmee")

    def shown(**params):
        response = staff_client.get(LIST_URL, params)
        assert response.status_code == 200
        return {email.pk for email in response.context["rows"]}

    assert shown() == {old.pk, echec.pk, waiting.pk}
    assert shown(statut="echec") == {echec.pk}
    assert shown(type="rappel") == {old.pk}
    today = timezone.localdate()
    assert shown(du=f"{today - datetime.timedelta(days=1):%Y-%m-%d}") == {echec.pk, waiting.pk}
    assert shown(au=f"{today - datetime.timedelta(days=30):%Y-%m-%d}") == {old.pk}
    assert shown(du=f"{today:%Y-%m-%d}", au=f"{today:%Y-%m-%d}") == {echec.pk, waiting.pk}
    assert shown(destinataire=" Cible@Example.org ") == {echec.pk}
    assert shown(statut="envoye", type="inscription_confirmee") == set()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"statut": "perdu"}, "Choisissez un statut de la liste."),
        ({"type": "inconnu"}, "Choisissez un type d&#x27;e-mail de la liste."),
        ({"du": "pas-une-date"}, "Saisissez une date valide (jj/mm/aaaa)."),
        ({"du": "2025-13-45"}, "Saisissez une date valide (jj/mm/aaaa)."),
        ({"du": "0001-01-01"}, "Saisissez une date entre 01/01/2000 et 31/12/2100."),
        ({"au": "9999-12-31"}, "Saisissez une date entre 01/01/2000 et 31/12/2100."),
        ({"du": "2025-03-10", "au": "2025-03-01"}, "La date de fin doit être égale ou postérieure à la date de début."),
        ({"destinataire": "pas une adresse"}, "Saisissez une adresse e-mail valide."),
        ({"destinataire": "a" * 300 + "@example.org"}, "Assurez-vous que cette valeur comporte au plus 254 caractères"),
    ],
)
def test_bad_filters_answer_400_in_french(staff_client, make_email, params, message):
    make_email()
    response = staff_client.get(LIST_URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Les filtres n'ont pas pu être appliqués" in html
    assert message in html
    assert "<table>" not in html


# --- One e-mail ------------------------------------------------------------------------------------------------
def test_detail_shows_the_text_and_links_the_html(staff_client, failed):
    response = staff_client.get(detail_url(failed), {"next": f"{LIST_URL}?statut=echec"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bonjour Prénom" in html  # the text version
    assert "j***@example.org" in html and "jeanne.martin@example.org" not in html
    assert f'href="{html_url(failed)}"' in html
    assert "atelier.ics" in html
    assert f'href="{LIST_URL}?statut=echec"' in html  # back to the filtered list
    assert "<iframe" not in html


def test_detail_ignores_a_foreign_next(staff_client, failed):
    html = staff_client.get(detail_url(failed), {"next": "https://ailleurs.example/"}).content.decode()
    assert "ailleurs.example" not in html


def test_the_html_is_served_alone_in_a_sandbox(staff_client, failed):
    response = staff_client.get(html_url(failed))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == HTML_PREVIEW_POLICY
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in response["Content-Security-Policy"]
    assert response.content.decode() == failed.html


def test_an_email_without_html_has_no_html_page(staff_client, make_email):
    email = make_email(html="")
    assert staff_client.get(html_url(email)).status_code == 404
    assert "n'a pas de version HTML" in staff_client.get(detail_url(email)).content.decode()


# --- Actions ---------------------------------------------------------------------------------------------------
def test_resend_puts_the_failed_email_back_and_returns_to_the_list(
    staff_client, failed, django_capture_on_commit_callbacks
):
    back = f"{LIST_URL}?statut=echec"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(resend_url(failed), {"next": back})
    assert response.status_code == 302
    assert response.url == back
    failed.refresh_from_db()
    assert (failed.statut, failed.tentatives) == (StatutEmail.ENVOYE, 1)  # the relay ran after commit (no broker)
    assert len(mail.outbox) == 1


def test_resend_without_commit_leaves_it_to_send(staff_client, failed):
    response = staff_client.post(resend_url(failed), {"next": "https://ailleurs.example/"})
    assert response.status_code == 302
    assert response.url == detail_url(failed)
    failed.refresh_from_db()
    assert (failed.statut, failed.tentatives) == (StatutEmail.A_ENVOYER, 0)


def test_resend_of_an_email_that_did_not_fail_is_400(staff_client, make_email):
    email = make_email(statut=StatutEmail.ENVOYE, tentatives=1)
    response = staff_client.post(resend_url(email))
    assert response.status_code == 400
    assert "Seul un e-mail en échec définitif peut être renvoyé." in response.content.decode()
    email.refresh_from_db()
    assert (email.statut, email.tentatives) == (StatutEmail.ENVOYE, 1)


def test_relay_now_sends_what_is_due(staff_client, make_email):
    make_email()
    make_email()
    make_email(prochain_essai=timezone.now() + datetime.timedelta(minutes=30))
    response = staff_client.post(RELAY_URL, follow=True)
    assert response.redirect_chain[-1][0] == LIST_URL
    assert "Envoi relancé : 2 e-mails envoyés." in response.content.decode()
    assert len(mail.outbox) == 2
    response = staff_client.post(RELAY_URL, {"next": f"{LIST_URL}?statut=envoye"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{LIST_URL}?statut=envoye"
    assert "Aucun e-mail n&#x27;était à envoyer." in response.content.decode()


# --- Pages hold to the CSP -------------------------------------------------------------------------------------
def test_pages_have_no_inline_script_or_style(staff_client, failed):
    for url in (LIST_URL, detail_url(failed)):
        html = staff_client.get(url).content.decode()
        assert "style=" not in html
        assert "<style" not in html
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), "script en ligne"


# --- Admin -----------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(client):
    client.force_login(factories.StaffUserFactory(is_superuser=True))
    return client


def test_admin_lists_read_only_with_masked_recipients(admin_client, failed):
    base = "/admin/notifications/email/"
    response = admin_client.get(base)
    assert response.status_code == 200
    html = response.content.decode()
    assert "j***@example.org" in html and "jeanne.martin@example.org" not in html
    assert admin_client.get(base, {"statut__exact": "echec"}).status_code == 200
    assert admin_client.get(base, {"q": "pas-un-uuid"}).status_code == 200
    assert admin_client.get(base, {"q": str(failed.uuid)}).status_code == 200
    change = admin_client.get(f"{base}{failed.pk}/change/")
    assert change.status_code == 200
    assert "j***@example.org" in change.content.decode()
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}{failed.pk}/change/", {"statut": "envoye"}).status_code == 403
    failed.refresh_from_db()
    assert failed.statut == StatutEmail.ECHEC


def test_admin_allows_no_add_change_or_delete(rf, failed):
    request = rf.get("/")
    request.user = factories.StaffUserFactory(is_superuser=True)
    model_admin = admin.site._registry[Email]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, failed)
    assert not model_admin.has_delete_permission(request, failed)
