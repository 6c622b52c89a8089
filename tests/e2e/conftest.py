"""Real-browser tests: Playwright driving the system Chromium against pytest-django's live server, with the demo
data of the Sicoval. Every test here is marked ``e2e``; each fails on a CSP violation or an uncaught page error."""

import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(scope="package", autouse=True)
def _allow_sync_orm_beside_playwright():
    """The live server runs in a thread of this process while Playwright's sync API keeps an event loop running:
    Django must not refuse its synchronous ORM calls. Set for this package's browser tests only, undone after."""
    patch = pytest.MonkeyPatch()
    patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield
    patch.undo()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000

# Records Content Security Policy violations where the test can read them.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push({directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
                     sample: e.sample});
  if (window.__reportCsp) {
    window.__reportCsp({directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
                        line: e.lineNumber, sample: e.sample});
  }
});
"""


def pytest_collection_modifyitems(config, items):
    """Marks the tests of this folder (and only them: the hook sees the whole session's items) as ``e2e``."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def browser(live_server):
    """One Chromium for the browser tests, stopped with them: Playwright's event loop must not outlive this package,
    or the synchronous ORM of the tests that follow would be refused."""
    executable = shutil.which("chromium")
    if executable is None:
        reason = "Chromium absent (paquet Debian « chromium ») : tests de navigateur non exécutés"
        if settings.REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 mais {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def demo(live_server):
    """The demo territory in the live server's database (emptied after each test, see the collection hook), without
    its activity log (the tests that read it load the whole demo: see test_activites.py)."""
    from sicoval_numerique.demo import load_demo

    return load_demo(activites=False)


class PageWatch:
    """What went wrong in the browser during a test: CSP violations, uncaught errors, console errors."""

    def __init__(self, page):
        self.csp = []
        self.page_errors = []
        self.console_errors = []
        self.broken_resources = []
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("console", lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("response", self._check_resource)

    def _check_resource(self, response):
        """A style sheet, script or image that does not load (the documents' own status is checked by tests)."""
        if not response.request.is_navigation_request() and response.status >= 400:
            self.broken_resources.append(f"{response.status} {response.url}")

    def report_csp(self, _source, violation):
        self.csp.append(violation)

    def assert_clean(self):
        # Chromium reports refused resources and inline code on the console too ("Refused to …").
        csp_console = [m for m in self.console_errors if "Content Security Policy" in m and "Refused" in m]
        assert not self.csp, f"Violations de la CSP : {self.csp}"
        assert not csp_console, f"Violations de la CSP (console) : {csp_console}"
        assert not self.page_errors, f"Erreurs JavaScript : {self.page_errors}"
        assert not self.broken_resources, f"Ressources en erreur : {self.broken_resources}"


def _checked_page(browser, live_server, context_options):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = PageWatch(page)
    # Every violation reaches Python as soon as it happens (window.__csp would be lost at the next navigation).
    context.expose_binding("__reportCsp", watch.report_csp)
    context.add_init_script(CSP_LISTENER)
    page.watch = watch
    yield page
    context.close()
    watch.assert_clean()


@pytest.fixture
def page(browser, live_server, demo):
    yield from _checked_page(browser, live_server, DESKTOP)


@pytest.fixture
def phone_page(browser, live_server, demo):
    yield from _checked_page(browser, live_server, PHONE)


def goto(page, path):
    """Opens a path of the live server and checks that it answered 200."""
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} a répondu {response and response.status}"
    return response


def check_axe(page, response, *, status=200):
    """0 axe-core violation (WCAG 2.1 A and AA) on the current page. The page must have answered ``status`` (200;
    400 for a form sent back with errors): axe finds nothing wrong with an error page that shows the wrong thing."""
    from axe_playwright_python.sync_playwright import Axe

    assert response is not None, f"aucune réponse pour {page.url}"
    assert response.status == status, f"{response.url} a répondu {response.status} au lieu de {status}"
    page.wait_for_load_state("load")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    if violations:
        lines = [f"{len(violations)} règle(s) axe-core non respectée(s) sur {page.url} :"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}) : {violation['help']}")
            for node in violation["nodes"][:10]:
                summary = " ".join(line.strip() for line in node.get("failureSummary", "").splitlines()[1:])
                lines.append(f"    {' '.join(map(str, node['target']))} — {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


def login(page, email, password=None):
    """Logs in through allauth's form; returns the response of the page the login leads to."""
    from sicoval_numerique.demo import DEMO_PASSWORD

    goto(page, "/comptes/login/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(password or DEMO_PASSWORD)
    return submit(page, page.get_by_role("button", name="Se connecter", exact=True))


def current_totp(secret, period=30):
    """The code an authenticator app shows now (RFC 6238: SHA-1, 30 s, 6 digits). allauth accepts no drift by
    default, so a code about to expire is not used: the next one is waited for."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if time.time() % period > period - 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def log_in_as(page, live_server, user):
    """Opens a session for ``user`` without going through the login form (journeys test the form itself)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return user


def submit(page, button):
    """Clicks a submit button and returns the response of the document it ends on, after redirects (a form sent
    back with errors answers 400 or 200 itself; a success redirects to the page to check)."""

    def final_document(response):
        request = response.request
        return (
            request.is_navigation_request() and response.frame == page.main_frame and not 300 <= response.status < 400
        )

    with page.expect_response(final_document) as info:
        button.click()
    page.wait_for_load_state("load")
    return info.value


def tab_to(page, target, *, limit=80):
    """Presses Tab, as a keyboard-only user does, until ``target`` (a locator) has the focus; fails when it is not
    reached within ``limit`` presses (a control out of the tab order, or a focus trap before it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return target
    pytest.fail(f"{target} n'a pas reçu le focus après {limit} appuis sur Tab.", pytrace=False)
