"""No personal data of the public in logs and error reports: the e-mail to ADMINS of a crashed request shows neither
the posted values nor the query string nor a capability token; log lines have their e-mail addresses and phone numbers
masked; gunicorn's access log drops query strings and redacts the tokens of links."""

import datetime
import io
import logging
import runpy
import types

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.urls.resolvers import RegexPattern
from gunicorn.config import Config

from sicoval_numerique.journaux import (
    EMAIL_MASK,
    PHONE_MASK,
    TOKEN_MASK,
    PersonalDataFilter,
    PersonalDataReporterFilter,
    mask_personal_data,
    redact_path,
    redact_url,
)


# --- a crashing view, for the error e-mail -------------------------------------------------------------------------
def crash(request, token=None):
    email = request.POST.get("email")  # a local variable holding personal data, as a real view would have
    raise ValueError(f"inscription impossible pour {email} ({request.POST.get('telephone')})")


urlpatterns = [
    path("plantage/", crash),
    path("ateliers/annulation/<str:token>/", crash),
]


def crash_report(client, url):
    """The e-mail sent to ADMINS when ``url`` crashes on a POST of an e-mail address, a phone number and a name."""
    with override_settings(ADMINS=[("Exploitation", "exploitation@sicoval.example")]):
        response = client.post(url, {"email": EMAIL, "telephone": PHONE, "nom": "Martin"})
    assert response.status_code == 500
    (report,) = mail.outbox
    return report


# The data of the tests, kept away from the view above: the DEBUG page shows the lines around it.
EMAIL = "jeanne.martin@example.org"
PHONES = ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "06-12-34-56-78", "+33 6 12 34 56 78", "+33612345678"]
PHONE = PHONES[0]
TOKEN = "Zx9SeCrEtT0kEn"


@pytest.fixture
def crashing_client(db):
    return Client(raise_request_exception=False)


@pytest.mark.urls(__name__)
def test_the_error_email_to_admins_shows_no_posted_value_nor_query_value(crashing_client):
    report = crash_report(crashing_client, f"/plantage/?email={EMAIL}&tel=0698765432&q=Martin")
    text = report.subject + report.body + "".join(content for content, _type in report.alternatives)
    for secret in (EMAIL, PHONE, "0698765432", "Martin", "jeanne.martin%40example.org"):
        assert secret not in text, secret
    # The report still says what failed and where: the parameters' names, the exception, the view.
    assert "ValueError" in report.body and "Internal Server Error: /plantage/" in report.subject
    assert "email = '********************'" in report.body
    assert "nom = '********************'" in report.body
    assert f"inscription impossible pour {EMAIL_MASK} ({PHONE_MASK})" in report.body
    assert "/plantage/?email=********************&tel=" in report.body


@pytest.mark.urls(__name__)
def test_the_error_email_to_admins_shows_no_capability_token(crashing_client):
    report = crash_report(crashing_client, f"/ateliers/annulation/{TOKEN}/")
    assert TOKEN not in report.subject + report.body
    assert f"/ateliers/annulation/{TOKEN_MASK}/" in report.body


@pytest.mark.urls(__name__)
def test_the_html_error_report_is_masked_too(crashing_client):
    with override_settings(DEBUG=True):  # the technical 500 page, which a test server might show
        response = crashing_client.post(
            f"/ateliers/annulation/{TOKEN}/?q={EMAIL}", {"email": EMAIL, "telephone": PHONE}
        )
    page = response.content.decode()
    assert response.status_code == 500 and "ValueError" in page
    for secret in (EMAIL, PHONE, TOKEN):
        assert secret not in page, secret


def test_the_reporter_filter_masks_every_post_and_query_value():
    request = RequestFactory().post(f"/x/?email={EMAIL}&page=2", {"email": EMAIL, "telephone": PHONE, "nom": "Martin"})
    reporter_filter = PersonalDataReporterFilter()
    assert reporter_filter.get_post_parameters(request).dict() == {
        "email": "********************",
        "telephone": "********************",
        "nom": "********************",
    }
    assert reporter_filter.get_query_parameters(request).dict() == {
        "email": "********************",
        "page": "********************",
    }
    meta = reporter_filter.get_safe_request_meta(request)
    assert EMAIL not in meta["QUERY_STRING"] and "page=" in meta["QUERY_STRING"]


def test_settings_use_the_masking_reporter_and_filter():
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "sicoval_numerique.journaux.PersonalDataReporterFilter"
    assert settings.DEFAULT_EXCEPTION_REPORTER == "sicoval_numerique.journaux.PersonalDataExceptionReporter"


# --- log lines ----------------------------------------------------------------------------------------------------
def handlers_with_the_filter(logger):
    return [
        handler
        for handler in logger.handlers
        if any(isinstance(log_filter, PersonalDataFilter) for log_filter in handler.filters)
    ]


def test_the_console_and_mail_admins_handlers_carry_the_filter():
    (console,) = handlers_with_the_filter(logging.getLogger())
    assert isinstance(console, logging.StreamHandler)
    (mail_admins,) = handlers_with_the_filter(logging.getLogger("django"))
    assert type(mail_admins).__name__ == "AdminEmailHandler"
    assert logging.getLogger("django").handlers == [mail_admins]  # no unfiltered handler of Django's defaults


def test_the_console_writes_log_lines_with_addresses_and_phones_masked():
    (console,) = handlers_with_the_filter(logging.getLogger())
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        logging.getLogger("ateliers.views.public").warning("Inscription de %s, tél. %s", EMAIL, PHONE)
    finally:
        console.setStream(previous)
    line = stream.getvalue()
    assert "Inscription de [e-mail], tél. [téléphone]" in line
    assert EMAIL not in line and PHONE not in line


def test_the_filter_masks_message_arguments_and_traceback(caplog):
    caplog.handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger("tests.journaux")
    with caplog.at_level(logging.INFO, logger="tests.journaux"):
        logger.info("Rappel envoyé à %(email)s", {"email": EMAIL})
        logger.info(f"Rappel envoyé à {EMAIL} et au {PHONE}")
        logger.info("Annulation par /ateliers/annulation/%s/", TOKEN)
        logger.info("Séance %s : %d inscrits", "3f2c9a1e-0612-4a5b-9c3d-061234567890", 12)
        try:
            raise ValueError(f"adresse refusée : {EMAIL}")
        except ValueError:
            logger.exception("Échec de l'envoi")
    assert caplog.messages[:4] == [
        "Rappel envoyé à [e-mail]",
        "Rappel envoyé à [e-mail] et au [téléphone]",
        f"Annulation par /ateliers/annulation/{TOKEN_MASK}/",
        "Séance 3f2c9a1e-0612-4a5b-9c3d-061234567890 : 12 inscrits",  # ids and counts are left alone
    ]
    assert EMAIL not in caplog.text and PHONE not in caplog.text and TOKEN not in caplog.text
    assert "ValueError: adresse refusée : [e-mail]" in caplog.text


@pytest.mark.parametrize("phone", PHONES + ["+33 (0)6 12 34 56 78", "0033 6 12 34 56 78", "05 61 00 00 00"])
def test_french_phone_numbers_are_masked_in_every_usual_spelling(phone):
    assert mask_personal_data(f"tél. {phone}.") == f"tél. {PHONE_MASK}."


@pytest.mark.parametrize(
    "text",
    [
        "SIRET 12345678901234",
        "uuid 3f2c9a1e-0612-4a5b-9c3d-061234567890",
        "le 2026-11-27 06:46:28",
        "montant 1234.56 €, 0,12345678",
        "rapport 20 lignes en 0.5 s",
    ],
)
def test_numbers_that_are_not_phones_are_left_alone(text):
    assert mask_personal_data(text) == text


def test_addresses_are_masked_also_url_encoded():
    assert mask_personal_data(f"a {EMAIL} b jeanne%40example.org") == f"a {EMAIL_MASK} b {EMAIL_MASK}"


# --- capability tokens --------------------------------------------------------------------------------------------
TOKEN_PARAMETERS = {"token", "key", "uidb36"}


def routes_with_a_token(resolver=None, namespace=""):
    """(name, parameter names) of every named route of the project whose URL holds a token or a key."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from routes_with_a_token(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            pattern = entry.pattern
            names = set(pattern.regex.groupindex) if isinstance(pattern, RegexPattern) else set(pattern.converters)
            if names & TOKEN_PARAMETERS:
                yield f"{namespace}{entry.name}", names


def test_every_route_with_a_token_is_redacted():
    samples = {"token": TOKEN, "key": TOKEN, "uidb36": "1b"}
    routes = dict(routes_with_a_token())
    assert {"ateliers:annuler", "ateliers:confirmation", "account_reset_password_from_key"} <= set(routes)
    assert len(routes) >= 6
    for name, parameters in routes.items():
        url = reverse(name, kwargs={parameter: samples[parameter] for parameter in parameters})
        assert TOKEN not in redact_path(url), url
        assert TOKEN_MASK in redact_path(url)


def test_pages_next_to_token_routes_are_not_redacted():
    assert redact_path("/comptes/password/reset/key/done/") == "/comptes/password/reset/key/done/"
    assert redact_path("/ateliers/") == "/ateliers/"
    assert redact_url(f"https://x.example/ateliers/inscription/{TOKEN}/atelier.ics?email={EMAIL}") == (
        f"https://x.example/ateliers/inscription/{TOKEN_MASK}/atelier.ics?email=********************"
    )


# --- gunicorn's access log ------------------------------------------------------------------------------------------
def gunicorn_config():
    """gunicorn's configuration with gunicorn.conf.py applied, as gunicorn reads it from the working directory."""
    config = Config()
    for name, value in runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)
    return config


def access_line(raw_uri, referrer="-"):
    config = gunicorn_config()
    logger = config.logger_class(config)
    path_info, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": referrer,
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    response = types.SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = types.SimpleNamespace(headers=[("REFERER", referrer), ("USER-AGENT", "Mozilla/5.0")])
    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=12))
    return config.access_log_format % atoms


def test_gunicorn_uses_the_redacting_access_logger():
    assert gunicorn_config().logger_class.__name__ == "AccessLogger"


def test_access_log_has_no_query_string_and_no_token():
    line = access_line(
        f"/ateliers/annulation/{TOKEN}/?email={EMAIL}&tel=0612345678",
        referrer=f"https://sicoval.example/ateliers/inscription/{TOKEN}/?nom=Martin",
    )
    assert f'"GET /ateliers/annulation/{TOKEN_MASK}/ HTTP/1.1" 200 512' in line
    assert f'"https://sicoval.example/ateliers/inscription/{TOKEN_MASK}/"' in line
    for secret in (TOKEN, EMAIL, "0612345678", "Martin", "?"):
        assert secret not in line, secret
    assert line.startswith("203.0.113.7 - - [")


def test_access_log_keeps_ordinary_paths():
    line = access_line("/gestion/ateliers/?page=2")
    assert '"GET /gestion/ateliers/ HTTP/1.1" 200 512 "-" "Mozilla/5.0"' in line
