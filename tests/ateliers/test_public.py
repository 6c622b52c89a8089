"""The public pages of the workshops: the agenda and its filters (a fixed number of queries at any size, 400 on a bad
filter, never 500), the iCal feed, a session's page, registration (honeypot, rate limit per IP, refusals in French,
nothing written on error), the confirmation page and the signed cancellation link."""

import datetime
import html
import re
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ateliers import services as ateliers
from ateliers.models import Inscription, Seance, StatutInscription, StatutSeance
from ateliers.views.public import RATE_LIMIT, RATE_WINDOW
from notifications.models import Email
from tests import factories

pytestmark = pytest.mark.django_db

AGENDA = "/ateliers/"
FEED = "/ateliers/agenda.ics"


def _in(days, hour=14, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _seance(days=7, **kwargs):
    debut = kwargs.pop("debut", None) or _in(days)
    return factories.SeanceFactory(debut=debut, fin=debut + datetime.timedelta(hours=2), **kwargs)


def _fill(seance, count, statut=StatutInscription.CONFIRMEE):
    for _ in range(count):
        factories.InscriptionFactory(seance=seance, statut=statut)


def _form(n=1, **overrides):
    data = {"prenom": f"Prénom{n}", "nom": f"Nom{n}", "email": f"personne{n}@example.org", "consentement": "on"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _register_url(seance):
    return f"/ateliers/seances/{seance.uuid}/inscription/"


def _text(response):
    """The page's text as read: entities decoded, runs of spaces and new lines as one space (non-breaking spaces
    kept, French typography relies on them)."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(response.content.decode()))


def _cards(response):
    """The titles of the sessions listed, in order."""
    return re.findall(r'<h3><a href="/ateliers/seances/[^"]+/">([^<]+)</a></h3>', response.content.decode())


# --- agenda --------------------------------------------------------------------------------------------------------
def test_agenda_lists_upcoming_public_scheduled_sessions_in_date_order(client):
    _seance(days=9, atelier__titre="Plus tard")
    _seance(days=2, atelier__titre="Bientôt")
    cancelled = _seance(days=3, atelier__titre="Annulée")
    Seance.objects.filter(pk=cancelled.pk).update(statut=StatutSeance.ANNULEE, motif_annulation="Salle fermée")
    _seance(days=4, atelier__titre="Réservée", publique=False, reservee_a=factories.StructureFactory())
    past = _seance(days=1, atelier__titre="Commencée")
    Seance.objects.filter(pk=past.pk).update(debut=timezone.now() - datetime.timedelta(minutes=10))
    _seance(days=5, atelier__titre="Retirée", atelier__actif=False)

    response = client.get(AGENDA)
    assert response.status_code == 200
    assert _cards(response) == ["Bientôt", "Plus tard"]
    assert "2 séances à venir" in _text(response)


def test_agenda_card_shows_date_place_seats_and_audience(client):
    lieu = factories.LieuFactory(nom="Médiathèque", commune=factories.CommuneFactory(nom="Escalquens"))
    debut = _in(3, 9, 30)
    full = _seance(
        debut=debut, atelier__titre="Complet", atelier__publics=["seniors", "familles"], lieu=lieu, capacite=2
    )
    Seance.objects.filter(pk=full.pk).update(fin=debut + datetime.timedelta(minutes=90))
    _fill(full, 2)
    _fill(full, 1, statut=StatutInscription.ATTENTE)
    one = _seance(days=4, atelier__titre="Une place", capacite=3)
    _fill(one, 2)
    _fill(one, 3, statut=StatutInscription.ANNULEE)  # cancelled registrations free their seat
    _seance(days=5, atelier__titre="Libre", capacite=3)

    text = _text(client.get(AGENDA))
    assert "Complet — liste d'attente" in text
    assert "1 place restante" in text
    assert "3 places restantes" in text
    day = full.debut.astimezone(timezone.get_current_timezone())
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]  # fmt: skip
    assert f"{day.day} {months[day.month - 1]} {day.year}, de 9\u00a0h\u00a030 à 11\u00a0h" in text
    assert "Médiathèque, Escalquens" in text
    assert '<li class="badge badge-neutral">Seniors</li>' in text
    assert '<li class="badge badge-neutral">Familles et parents</li>' in text


def test_agenda_is_paginated_by_20(client):
    atelier = factories.AtelierFactory()
    lieu = factories.LieuFactory(structure=atelier.structure)
    for day in range(1, 24):
        _seance(days=day, atelier=atelier, lieu=lieu)
    first = client.get(AGENDA)
    assert len(_cards(first)) == 20 and "Page 1 sur 2" in _text(first)
    assert len(_cards(client.get(AGENDA + "?page=2"))) == 3


def test_agenda_filter_by_commune_of_the_place_or_of_the_bus_stop(client):
    aureville = factories.CommuneFactory(nom="Aureville", codes_postaux=["31320"])
    elsewhere = factories.CommuneFactory(nom="Ailleurs", codes_postaux=["31670"])  # another postal area
    _seance(days=2, atelier__titre="Au lieu", lieu=factories.LieuFactory(commune=aureville))
    stop = factories.ArretItinerantFactory(commune=aureville, emplacement="Parking de la mairie")
    _seance(days=3, atelier__titre="Au bus", lieu=None, arret=stop)
    _seance(days=4, atelier__titre="Ailleurs", lieu=factories.LieuFactory(commune=elsewhere))

    response = client.get(AGENDA, {"commune": aureville.code_insee})
    assert response.status_code == 200
    assert _cards(response) == ["Au lieu", "Au bus"]
    text = _text(response)
    assert "2 séances à venir correspondant à votre recherche" in text
    assert "(Parking de la mairie), Aureville" in text
    assert f'<option value="{aureville.code_insee}" selected>Aureville</option>' in text


def test_agenda_filter_by_theme_audience_and_dates(client):
    _seance(days=2, atelier__titre="Sécurité", atelier__thematiques=["securite_numerique"])
    _seance(days=3, atelier__titre="Mails", atelier__thematiques=["email", "navigation_sur_internet"])
    _seance(days=4, atelier__titre="Seniors", atelier__publics=["seniors"])
    _seance(days=5, atelier__titre="Emploi", atelier__publics=["demandeurs_emploi"], atelier__thematiques=["email"])

    def titles(**query):
        response = client.get(AGENDA, query)
        assert response.status_code == 200, _text(response)
        return _cards(response)

    assert titles(theme="email") == ["Mails", "Emploi"]
    assert titles(theme="securite_numerique") == ["Sécurité", "Seniors"]
    assert titles(theme="justice") == []
    # Workshops for everyone welcome every public.
    assert titles(public="seniors") == ["Sécurité", "Mails", "Seniors"]
    assert titles(public="demandeurs_emploi") == ["Sécurité", "Mails", "Emploi"]
    assert titles(public="tout_public") == ["Sécurité", "Mails"]
    day = lambda n: (timezone.localdate() + datetime.timedelta(days=n)).isoformat()  # noqa: E731
    assert titles(du=day(3)) == ["Mails", "Seniors", "Emploi"]
    assert titles(au=day(3)) == ["Sécurité", "Mails"]
    assert titles(du=day(3), au=day(4)) == ["Mails", "Seniors"]
    french = (timezone.localdate() + datetime.timedelta(days=4)).strftime("%d/%m/%Y")
    assert titles(du=french, au=french) == ["Seniors"]
    assert titles(theme="email", public="demandeurs_emploi", du=day(4)) == ["Emploi"]
    assert titles(commune="", theme="", public="", du="", au="") == ["Sécurité", "Mails", "Seniors", "Emploi"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("commune=99999", "Cette commune n'est pas dans la liste"),
        ("commune=pas-un-code", "Cette commune n'est pas dans la liste"),
        ("commune=%00", "Cette commune n'est pas dans la liste"),
        ("commune=31%0000", "Cette commune n'est pas dans la liste"),
        ("theme=inconnu", "Ce thème n'existe pas"),
        ("theme=" + "x" * 5000, "Ce thème n'existe pas"),
        ("public=martiens", "Ce public n'existe pas"),
        ("du=2026-13-45", "Indiquez une date valide"),
        ("au=demain", "Indiquez une date valide"),
        ("du=9999-12-31", "Indiquez une date entre 2000 et 2100"),
        ("au=0001-01-01", "Indiquez une date entre 2000 et 2100"),
        ("du=2030-05-02&au=2030-05-01", "La date de fin doit être la même que la date de début ou la suivre"),
        ("theme=email&theme=%00", "Ce thème n'existe pas"),
    ],
)
def test_agenda_bad_filter_is_400_in_french(client, query, message):
    _seance()
    response = client.get(f"{AGENDA}?{query}")
    assert response.status_code == 400
    text = _text(response)
    assert "La recherche n'a pas pu être faite" in text
    assert message in text
    assert 'aria-invalid="true"' in text
    feed = client.get(f"{FEED}?{query}")
    assert feed.status_code == 400
    assert feed["Content-Type"] == "text/plain; charset=utf-8"
    assert "Filtre invalide" in feed.content.decode()


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=999999999999999999999", "tri=inconnu", "page="])
def test_agenda_other_parameters_never_fail(client, query):
    _seance()
    assert client.get(f"{AGENDA}?{query}").status_code == 200


def test_agenda_links_to_the_feed_with_the_same_filters(client):
    commune = factories.CommuneFactory()
    _seance(lieu=factories.LieuFactory(commune=commune))
    text = _text(client.get(AGENDA, {"commune": commune.code_insee, "theme": "email", "page": "1"}))
    assert f'href="/ateliers/agenda.ics?commune={commune.code_insee}&theme=email"' in text


# --- query budget ---------------------------------------------------------------------------------------------------
def _many_sessions(count):
    """``count`` sessions over a few places, a stop of the bus and workshops, some full, some with registrations."""
    communes = [factories.CommuneFactory() for _ in range(3)]
    ateliers_ = [factories.AtelierFactory(publics=["seniors", "tout_public"]) for _ in range(3)]
    lieux = [factories.LieuFactory(commune=commune) for commune in communes]
    stop = factories.ArretItinerantFactory(commune=communes[0])
    start = timezone.now() + datetime.timedelta(days=1)
    rows = []
    for n in range(count):
        debut = start + datetime.timedelta(hours=3 * n)
        on_bus = n % 4 == 0
        rows.append(
            Seance(
                atelier=ateliers_[n % 3],
                lieu=None if on_bus else lieux[n % 3],
                arret=stop if on_bus else None,
                debut=debut,
                fin=debut + datetime.timedelta(hours=2),
                capacite=2,
            )
        )
    seances = Seance.objects.bulk_create(rows)
    Inscription.objects.bulk_create(
        factories.InscriptionFactory.build(seance=seance, rang=rang, email=f"p{seance.pk}-{rang}@example.org")
        for seance in seances[::3]
        for rang in (1, 2, 3)
    )
    return communes[0]


def _queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries), response


@pytest.mark.parametrize(
    "query", ["", "?commune={commune}", "?commune={commune}&theme=securite_numerique&public=seniors&page=2"]
)
@pytest.mark.parametrize("path", [AGENDA, FEED])
def test_agenda_and_feed_run_the_same_queries_at_5_and_500_sessions(client, path, query):
    commune = _many_sessions(5)
    few, _ = _queries(client, path + query.format(commune=commune.code_insee))
    _many_sessions(495)
    many, response = _queries(client, path + query.format(commune=commune.code_insee))
    assert many == few, f"{path}{query} : {few} requêtes pour 5 séances, {many} pour 500"
    assert few <= 5
    if path == AGENDA and not query:
        assert len(_cards(response)) == 20


def test_agenda_query_count_is_reported(client):
    commune = _many_sessions(500)
    plain, _ = _queries(client, AGENDA)
    filtered, _ = _queries(client, f"{AGENDA}?commune={commune.code_insee}&theme=securite_numerique")
    feed, _ = _queries(client, FEED)
    # Form's communes, count, page; + the commune looked up when filtered. The feed: its rows only.
    assert (plain, filtered, feed) == (3, 4, 1)


# --- iCal feed ------------------------------------------------------------------------------------------------------
def _unfold(body):
    return body.replace("\r\n ", "")


def test_feed_is_valid_icalendar(client):
    long_title = "Atelier « Découvrir l'ordinateur, la tablette; et internet » " + "é" * 60
    lieu = factories.LieuFactory(nom="Salle, des fêtes", adresse="1 place; de la Mairie")
    seance = _seance(days=3, atelier__titre=long_title, atelier__description="Ligne 1\nLigne 2", lieu=lieu)
    _seance(days=200, atelier__titre="Trop loin")  # beyond six months

    response = client.get(FEED)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    lines = body.split("\r\n")[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert all(len(line.encode("utf-8")) <= 75 for line in lines), "lignes pliées à 75 octets"
    assert any(line.startswith(" ") for line in lines), "le long titre est plié"
    content = _unfold(body).split("\r\n")
    assert content.count("BEGIN:VEVENT") == content.count("END:VEVENT") == 1
    assert "VERSION:2.0" in content and any(line.startswith("PRODID:") for line in content)
    assert f"DTSTART:{seance.debut.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}" in content
    assert f"DTEND:{seance.fin.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}" in content
    assert any(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in content)
    assert f"UID:seance-{seance.uuid}@127.0.0.1" in content
    summary = long_title.replace(",", "\\,").replace(";", "\\;")
    assert f"SUMMARY:{summary}" in content
    assert "DESCRIPTION:Ligne 1\\nLigne 2" in content
    assert any(line.startswith("LOCATION:Salle\\, des fêtes\\, 1 place\\; de la Mairie") for line in content)
    assert f"URL:http://testserver/ateliers/seances/{seance.uuid}/" in content
    assert "Trop loin" not in body


def test_feed_applies_the_filters(client):
    commune = factories.CommuneFactory(codes_postaux=["31750"])
    _seance(days=2, atelier__titre="Ici", lieu=factories.LieuFactory(commune=commune))
    _seance(days=3, atelier__titre="Ailleurs")  # a commune of another postal area (31320)
    body = _unfold(client.get(FEED, {"commune": commune.code_insee}).content.decode())
    assert "SUMMARY:Ici" in body and "Ailleurs" not in body


# --- a session's page -----------------------------------------------------------------------------------------------
def test_session_page_shows_the_details_and_the_form(client):
    lieu = factories.LieuFactory(
        nom="Espace Castanet",
        adresse="3 avenue de Toulouse",
        complement_adresse="Rez-de-chaussée",
        code_postal="31320",
        commune=factories.CommuneFactory(nom="Castanet-Tolosan"),
        prise_en_charge_specifique=["Surdité", "Handicaps moteurs"],
        fiche_acces_libre="https://acceslibre.beta.gouv.fr/app/31-castanet/a/mairie/erp/espace/",
        telephone="0561000000",
    )
    seance = _seance(
        days=6,
        lieu=lieu,
        capacite=4,
        atelier__titre="Arnaques en ligne",
        atelier__description="Reconnaître les faux messages.",
        atelier__niveau="debutant",
        atelier__publics=["seniors"],
        atelier__thematiques=["securite_numerique"],
    )
    _fill(seance, 1)
    response = client.get(f"/ateliers/seances/{seance.uuid}/")
    assert response.status_code == 200
    text = _text(response)
    for expected in (
        "<h1>Arnaques en ligne</h1>",
        "Reconnaître les faux messages.",
        "de 14\u00a0h à 16\u00a0h",
        "(2\u00a0h)",
        "3 avenue de Toulouse, Rez-de-chaussée",
        "31320 Castanet-Tolosan",
        "Accueil adapté : Surdité, Handicaps moteurs.",
        'href="https://acceslibre.beta.gouv.fr/app/31-castanet/a/mairie/erp/espace/"',
        "Seniors",
        "Débutant",
        "Prévention en sécurité numérique",
        "3 places restantes",
        f'action="/ateliers/seances/{seance.uuid}/inscription/"',
        ">M'inscrire</button>",
    ):
        assert expected in text, expected


def test_session_page_of_a_full_session_offers_the_waiting_list(client, seance):
    _fill(seance, 3)
    text = _text(client.get(f"/ateliers/seances/{seance.uuid}/"))
    assert "Complet — liste d'attente" in text
    assert ">M'inscrire sur la liste d'attente</button>" in text


def test_cancelled_session_says_so_with_the_reason_and_takes_no_registration(client, seance):
    Seance.objects.filter(pk=seance.pk).update(statut=StatutSeance.ANNULEE, motif_annulation="Animatrice malade")
    response = client.get(f"/ateliers/seances/{seance.uuid}/")
    assert response.status_code == 200
    text = _text(response)
    assert "Cette séance est annulée." in text and "Motif : Animatrice malade." in text
    assert '<form method="post"' not in text
    assert client.get(_register_url(seance)).status_code == 200


def test_past_session_page_takes_no_registration(client, seance):
    Seance.objects.filter(pk=seance.pk).update(debut=timezone.now() - datetime.timedelta(days=1))
    text = _text(client.get(f"/ateliers/seances/{seance.uuid}/"))
    assert "Cette séance a déjà commencé ou a eu lieu." in text
    assert 'name="prenom"' not in text


def test_reserved_and_unknown_sessions_are_404_in_french(client):
    reserved = _seance(publique=False, reservee_a=factories.StructureFactory())
    for path in (
        f"/ateliers/seances/{reserved.uuid}/",
        _register_url(reserved),
        f"/ateliers/seances/{uuid.uuid4()}/",
        f"/ateliers/seances/{uuid.uuid4()}/inscription/",
        "/ateliers/seances/pas-un-uuid/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page introuvable" in response.content.decode()
    assert client.post(_register_url(reserved), _form()).status_code == 404
    assert not Inscription.objects.exists()


# --- registration ---------------------------------------------------------------------------------------------------
def test_registration_redirects_to_its_confirmation(client, seance):
    response = client.post(
        _register_url(seance),
        _form(commune=seance.lieu.commune.code_insee, tranche_age="soixante_dix_plus", telephone="06 12 34 56 78"),
    )
    assert response.status_code == 302
    inscription = Inscription.objects.get()
    assert response["Location"] == f"/ateliers/inscription/{ateliers.cancel_token(inscription)}/"
    assert inscription.statut == StatutInscription.CONFIRMEE
    assert (inscription.email, inscription.telephone) == ("personne1@example.org", "+33612345678")
    assert inscription.commune == seance.lieu.commune and inscription.tranche_age == "soixante_dix_plus"
    assert inscription.source == "en_ligne" and inscription.consentement_le is not None

    page = client.get(response["Location"])
    assert page.status_code == 200
    text = _text(page)
    assert "Votre inscription est confirmée" in text
    assert f'href="/ateliers/inscription/{ateliers.cancel_token(inscription)}/atelier.ics"' in text
    assert f'href="/ateliers/annulation/{ateliers.cancel_token(inscription)}/"' in text
    assert "no-cache" in page["Cache-Control"] and "no-store" in page["Cache-Control"]
    assert page["X-Robots-Tag"] == "noindex, nofollow"


def test_the_form_asks_for_optional_answers_and_consent_clearly(client, seance):
    text = _text(client.get(_register_url(seance)))
    assert "Pour nos statistiques anonymes" in text and "(facultatif)" in text
    assert "conservées 12 mois après la séance" in text
    assert 'name="commune"' in text and 'name="tranche_age"' in text
    assert 'autocomplete="given-name"' in text and 'type="tel"' in text
    # The honeypot: visually hidden, hidden from assistive technologies, out of the tab order.
    assert re.search(
        r'<div class="visually-hidden" aria-hidden="true">\s*<label for="id_site_web">Ne pas remplir</label>\s*'
        r'<input type="text" name="site_web" id="id_site_web" value="" tabindex="-1" autocomplete="off">',
        response_text := client.get(_register_url(seance)).content.decode(),
    ), response_text


def test_full_session_puts_the_next_person_on_the_waiting_list_with_its_position(client, seance, register):
    for n in range(1, 5):
        register(seance, n)  # 3 confirmed, the 4th waiting
    response = client.post(_register_url(seance), _form(5))
    assert response.status_code == 302
    inscription = Inscription.objects.get(email="personne5@example.org")
    assert inscription.statut == StatutInscription.ATTENTE
    text = _text(client.get(response["Location"]))
    assert "Vous êtes sur la liste d'attente" in text
    assert "n°\u00a02" in text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (_form(consentement=None), "consentement", "Cochez la case pour donner votre accord"),
        (_form(email="", telephone=""), "email", "Indiquez une adresse e-mail ou un numéro de téléphone"),
        (_form(email="pas-un-email"), "email", "Indiquez une adresse e-mail valide"),
        (_form(email="", telephone="12"), "telephone", "Indiquez un numéro de téléphone valide"),
        (_form(prenom=""), "prenom", "Ce champ est obligatoire"),
        (_form(commune="99999"), "commune", "Choisissez une commune dans la liste"),
        (_form(tranche_age="centenaire"), "tranche_age", "Choisissez une tranche d"),
    ],
)
def test_invalid_registration_is_400_with_the_errors_and_writes_nothing(client, seance, data, field, message):
    response = client.post(_register_url(seance), data)
    assert response.status_code == 400
    text = _text(response)
    assert "Le formulaire n'a pas pu être enregistré" in text
    assert f'<a href="#id_{field}">' in text
    assert message in text
    assert not Inscription.objects.exists()
    assert not Email.objects.exists()


def test_already_registered_is_refused_in_french(client, seance, register):
    register(seance, 1)
    response = client.post(_register_url(seance), _form(1, email="PERSONNE1@example.ORG"))
    assert response.status_code == 400
    assert "Vous êtes déjà inscrit(e) à cette séance avec ces coordonnées." in _text(response)
    assert Inscription.objects.count() == 1


def test_already_registered_by_phone_written_differently(client, seance):
    assert client.post(_register_url(seance), _form(1, email="", telephone="06 12 34 56 78")).status_code == 302
    response = client.post(_register_url(seance), _form(2, email="", telephone="+33612345678"))
    assert response.status_code == 400
    assert Inscription.objects.count() == 1


def test_registration_to_a_session_that_closed_meanwhile_is_refused(client, seance):
    Seance.objects.filter(pk=seance.pk).update(statut=StatutSeance.ANNULEE, motif_annulation="Salle inondée")
    response = client.post(_register_url(seance), _form())
    assert response.status_code == 400
    text = _text(response)
    assert "Cette séance est annulée : les inscriptions sont fermées." in text
    assert 'name="prenom"' not in text

    started = _seance(days=1)
    Seance.objects.filter(pk=started.pk).update(debut=timezone.now() - datetime.timedelta(minutes=1))
    response = client.post(_register_url(started), _form())
    assert response.status_code == 400
    assert "Cette séance a déjà commencé" in _text(response)
    assert not Inscription.objects.exists()


def test_honeypot_filled_is_refused_without_writing_and_comes_back_empty(client, seance):
    response = client.post(_register_url(seance), _form(site_web="http://spam.example"))
    assert response.status_code == 400
    text = _text(response)
    assert "Votre inscription n'a pas pu être envoyée" in text
    assert 'name="site_web" id="id_site_web" value=""' in text
    assert "spam.example" not in text
    assert 'value="Prénom1"' in text  # what a person typed is kept, to send again
    assert not Inscription.objects.exists() and not Email.objects.exists()
    assert client.post(_register_url(seance), _form()).status_code == 302


def test_registrations_are_rate_limited_per_ip_with_retry_after(client, seance):
    for n in range(RATE_LIMIT):
        status = client.post(_register_url(seance), _form(n, email="" if n % 2 else f"p{n}@example.org")).status_code
        assert status in (302, 400)
    response = client.post(_register_url(seance), _form(99))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= RATE_WINDOW + 1
    text = _text(response)
    assert "Trop de demandes en peu de temps" in text and "Réessayez dans" in text
    assert not Inscription.objects.filter(email="personne99@example.org").exists()
    # Reading is never limited; another address still registers.
    assert client.get(_register_url(seance)).status_code == 200
    assert client.post(_register_url(seance), _form(99), REMOTE_ADDR="10.1.2.3").status_code == 302


def test_registration_sends_the_confirmation_email_with_its_calendar_entry(
    client, seance, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_register_url(seance), _form())
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.startswith(f"Inscription confirmée : {seance.atelier.titre} le ")
    token = ateliers.cancel_token(Inscription.objects.get())
    assert f"http://127.0.0.1:8000/ateliers/annulation/{token}/" in message.body
    assert "2 rue de l'Église" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and '<html lang="fr">' in html
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("seance.ics", "text/calendar")
    assert "BEGIN:VEVENT" in content and f"UID:seance-{seance.uuid}@" in content


# --- confirmation and cancellation through the signed link ----------------------------------------------------------
def _token(inscription):
    return ateliers.cancel_token(inscription)


@pytest.mark.parametrize("prefix", ["/ateliers/inscription/", "/ateliers/annulation/"])
def test_tampered_token_is_404_in_french(client, seance, register, prefix):
    token = _token(register(seance, 1))
    for bad in (token[:-2] + "xx", token.replace(":", "", 1), "abc", "A" * 300):
        response = client.get(f"{prefix}{bad}/")
        assert response.status_code == 404, bad
        assert "Ce lien n'est pas valide" in response.content.decode()
    assert client.post(f"/ateliers/annulation/{token[:-2]}xx/").status_code == 404
    assert Inscription.objects.get().statut == StatutInscription.CONFIRMEE


def test_the_calendar_entry_of_a_registration(client, seance, register):
    token = _token(register(seance, 1))
    response = client.get(f"/ateliers/inscription/{token}/atelier.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="atelier.ics"'
    assert "BEGIN:VEVENT" in response.content.decode()
    assert client.get(f"/ateliers/inscription/{token[:-1]}/atelier.ics").status_code == 404


def test_cancellation_asks_first_then_frees_the_seat_for_the_first_waiting_once(client, seance, register):
    people = [register(seance, n) for n in range(1, 6)]  # 4 and 5 waiting
    url = f"/ateliers/annulation/{_token(people[0])}/"

    page = client.get(url)
    assert page.status_code == 200
    text = _text(page)
    assert "Annuler mon inscription" in text and seance.atelier.titre in text
    assert "Confirmer l'annulation" in text
    assert Inscription.objects.get(pk=people[0].pk).statut == StatutInscription.CONFIRMEE, "GET n'annule rien"

    response = client.post(url, follow=True)
    assert response.redirect_chain == [(url, 302)]
    text = _text(response)
    assert "Votre place a été libérée." in text
    assert "Cette inscription est annulée" in text
    statuts = dict(Inscription.objects.values_list("prenom", "statut"))
    assert statuts == {
        "Prénom1": "annulee",
        "Prénom2": "confirmee",
        "Prénom3": "confirmee",
        "Prénom4": "confirmee",
        "Prénom5": "attente",
    }

    # Twice: nothing more happens, and the page says it is already cancelled.
    again = client.post(url, follow=True)
    assert again.status_code == 200
    assert Inscription.objects.get(prenom="Prénom5").statut == StatutInscription.ATTENTE
    later = client.get(url)
    assert later.status_code == 200 and "Cette inscription est annulée depuis le" in _text(later)


def test_leaving_the_waiting_list_through_the_link(client, seance, register):
    people = [register(seance, n) for n in range(1, 5)]
    url = f"/ateliers/annulation/{_token(people[3])}/"
    assert "n°\u00a01 sur la liste d" in _text(client.get(url))
    response = client.post(url, follow=True)
    assert "Vous avez quitté la liste d'attente." in _text(response)
    assert Inscription.objects.filter(statut=StatutInscription.CONFIRMEE).count() == 3


def test_cancellation_once_the_session_started_is_refused_online(client, seance, register):
    inscription = register(seance, 1)
    Seance.objects.filter(pk=seance.pk).update(debut=timezone.now() - datetime.timedelta(minutes=1))
    url = f"/ateliers/annulation/{_token(inscription)}/"
    assert "Annulation impossible en ligne" in _text(client.get(url))
    response = client.post(url)
    assert response.status_code == 400
    assert "ne peut plus être annulée en ligne" in _text(response)
    assert Inscription.objects.get().statut == StatutInscription.CONFIRMEE


def test_confirmation_page_follows_the_registration(client, seance, register):
    people = [register(seance, n) for n in range(1, 5)]
    waiting = f"/ateliers/inscription/{_token(people[3])}/"
    assert "Vous êtes sur la liste d'attente" in _text(client.get(waiting))
    ateliers.inscription_cancel(inscription=people[0])
    text = _text(client.get(waiting))
    assert "Votre inscription est confirmée" in text and "une place s'est libérée pour vous" in text
    cancelled = _text(client.get(f"/ateliers/inscription/{_token(people[0])}/"))
    assert "Cette inscription est annulée" in cancelled and "Annuler mon inscription" not in cancelled


# --- e-mails render for every kind of session -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lieu", "arret", "reservee"])
def test_every_email_renders_text_and_html_with_the_details(kind):
    from ateliers import emails
    from notifications.services import render_email

    if kind == "arret":
        stop = factories.ArretItinerantFactory(emplacement="Parking du stade", lieu__telephone="0561000001")
        seance = _seance(lieu=None, arret=stop, atelier__formation_pass=True)
    elif kind == "reservee":
        seance = _seance(publique=False, reservee_a=factories.StructureFactory())
    else:
        seance = _seance(lieu__complement_adresse="1er étage")
    seance.motif_annulation = "Salle indisponible"
    inscription = factories.InscriptionFactory(seance=seance, prenom="Zoé")
    context = emails._context(inscription)
    for template in (
        "inscription_confirmee",
        "inscription_attente",
        "place_liberee",
        "inscription_annulee",
        "seance_annulee",
    ):
        sujet, texte, html = render_email(f"ateliers/emails/{template}", context)
        assert seance.atelier.titre in sujet
        for body in (texte, html):
            assert "Bonjour Zoé," in body
            assert seance.atelier.titre in body
            assert "\u00a0h" in body  # the time, in French
            assert ("/ateliers/seances/" in body) == (kind != "reservee"), "pas de lien vers une page inexistante"
        if kind == "arret":
            assert "Parking du stade" in texte and "0561000001" in texte
            if template == "inscription_confirmee":
                assert "Pass numérique" in texte and "gratuit" not in texte
        if kind == "lieu":
            assert "1er étage" in texte
        if template == "seance_annulee":
            assert "Salle indisponible" in texte and "Salle indisponible" in html
        if template in ("inscription_confirmee", "inscription_attente", "place_liberee"):
            assert context["url_annulation"] in texte and f'href="{context["url_annulation"]}"' in html
        assert "{{" not in texte and "{%" not in texte


def test_a_resident_finds_the_sessions_of_neighbouring_communes(client, db):
    """Pechbusque and Castanet-Tolosan share the postal code 31320: a session at Castanet is near home."""
    from django.conf import settings

    from structures.models import Commune

    epci = factories.EpciFactory(siren=settings.TERRITOIRE_EPCI_SIREN)
    pechbusque = Commune.objects.create(code_insee="31411", nom="Pechbusque", codes_postaux=["31320"], epci=epci)
    castanet = Commune.objects.create(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"], epci=epci)
    ramonville = Commune.objects.create(code_insee="31446", nom="Ramonville", codes_postaux=["31520"], epci=epci)
    near = factories.SeanceFactory(lieu=factories.LieuFactory(commune=castanet))
    far = factories.SeanceFactory(lieu=factories.LieuFactory(commune=ramonville))
    html = client.get(AGENDA, {"commune": pechbusque.code_insee}).content.decode()
    assert str(near.uuid) in html
    assert str(far.uuid) not in html


def test_walk_ins_added_on_the_day_take_no_seat_on_the_public_pages():
    """The agenda's remaining seats are those the registration service counts: a walk-in holds no seat."""
    from ateliers.selectors import seances_visibles

    seance = factories.SeanceFactory(capacite=3)
    factories.InscriptionFactory(seance=seance)
    factories.InscriptionFactory(seance=seance, source="sur_place")
    shown = seances_visibles().get(pk=seance.pk)
    assert (shown.nb_confirmees, shown.nb_places_restantes) == (1, 2)
