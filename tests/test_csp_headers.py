"""The Content Security Policy holds on every HTML page, and no page relies on what it refuses.

Every named route that answers GET is requested by an anonymous visitor, by a member of the Sicoval staff (with a
TOTP device, as the MFA middleware demands: without one every page would be the same redirect) and by a conseillère
(Sarah Martin, who owns B's activities and facilitates B's sessions in the access matrix's data, so that her pages
answer 200 rather than 404). Routes without arguments are requested as they are; routes with arguments get their
objects from ``ARGUMENTS`` below, built on the data of ``tests/test_access_matrix_activites_ateliers.py``; the admin's
pages are read by a superuser (with TOTP too), its object pages on the first row of their model. Every ``text/html``
answer, error pages included, must carry:

- a ``Content-Security-Policy`` header (enforced, not report-only) whose ``script-src`` has neither
  ``'unsafe-inline'`` nor ``'unsafe-eval'``, with ``object-src 'none'``, ``frame-ancestors 'none'`` and
  ``base-uri 'none'``;
- a body with no inline ``<script>`` (one without ``src``), no ``<style>`` element, no ``on*=`` event handler, no
  ``style=`` attribute and no ``javascript:`` URL: what the policy would refuse in a browser would silently not work.

Routes whose objects cannot be built here are in ``NOT_BUILT`` with the reason. A last test reads the templates
themselves, cheaply, for the same inline script, handlers and styles, pages not reached above included."""

import datetime
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, get_resolver, reverse

from accounts.policies import mfa_missing
from aidants.models import ActiviteCoordination, Aidant, DemandeHabilitation, Evenement, Orientation
from ateliers import services as ateliers_services
from conseillers.models import Contrat, MiseEnRelation, Poste
from financements.models import Convention, LigneFinancement, Versement
from imports.models import Import, MediateurCoop, StatutImport, TypeImport
from notifications.rappels import FAMILLES
from reporting.models import Rapport, TypeRapport
from structures.models import ArretItinerant, Membership
from tests import factories
from tests.test_access_matrix_activites_ateliers import _build
from tests.test_route_inventory import _walk

ROOT_DIR = Path(__file__).resolve().parent.parent
ROLES = ["anonymous", "staff", "conseiller"]
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"}

# Route name → the kinds of object its URL takes (looked up in the ``objects`` fixture; a uuid is taken from models).
ARGUMENTS = {
    "lieu_public": ["lieu"],
    "financements:convention_detail": ["convention"],
    "financements:convention_edit": ["convention"],
    "financements:convention_sign": ["convention"],
    "financements:convention_statut": ["convention"],
    "financements:ligne_create": ["convention"],
    "financements:versement_plan": ["ligne"],
    "financements:versements_plan_v2": ["ligne"],
    "financements:avoir_record": ["ligne"],
    "financements:versement_record": ["versement"],
    "notifications:rappel_edit": ["rappel"],
    "notifications:rappel_preview": ["rappel"],
    "notifications:rappel_preview_html": ["rappel", "rappel_genre"],
    "notifications:rappel_run": ["rappel"],
    "notifications:detail": ["email"],
    "notifications:html": ["email"],
    "notifications:resend": ["email"],
    "aidants:aidant": ["aidant"],
    "aidants:aidant_edit": ["aidant"],
    "aidants:formation_add": ["aidant"],
    "aidants:account_link": ["aidant"],
    "aidants:aidant_activity": ["aidant"],
    "aidants:habilitations_structure": ["structure_habilitation"],
    "aidants:demande_transition": ["demande"],
    "aidants:orientation_detail": ["orientation"],
    "aidants:orientation_accept": ["orientation"],
    "aidants:orientation_close": ["orientation"],
    "aidants:orientation_redirect": ["orientation"],
    "aidants:orientation_cancel": ["orientation"],
    "aidants:evenement": ["evenement"],
    "aidants:evenement_edit": ["evenement"],
    "aidants:evenement_cancel": ["evenement"],
    "aidants:evenement_invite": ["evenement"],
    "aidants:evenement_answer": ["evenement"],
    "aidants:evenement_attendance": ["evenement"],
    "aidants:evenement_close": ["evenement"],
    "aidants:coordination_edit": ["coordination"],
    "aidants:coordination_delete": ["coordination"],
    "partenaires:structure_clients": ["structure_client"],
    "partenaires:client_detail": ["client_api"],
    "partenaires:client_revoke": ["client_api"],
    "structures:detail": ["structure"],
    "structures:edit": ["structure"],
    "structures:statut": ["structure"],
    "structures:conventionnement": ["structure"],
    "structures:membership_add": ["structure"],
    "structures:membership_remove": ["membership"],
    "structures:lieu_create": ["structure"],
    "structures:lieu_edit": ["lieu"],
    "structures:lieu_toggle": ["lieu"],
    "structures:arret_create": ["lieu"],
    "structures:arret_delete": ["arret"],
    "conseillers:poste": ["poste"],
    "conseillers:poste_assign": ["poste"],
    "conseillers:poste_release": ["poste"],
    "conseillers:poste_move": ["poste"],
    "conseillers:poste_return": ["poste"],
    "conseillers:contrat_create": ["poste"],
    "conseillers:contrat_rupture": ["poste"],
    "conseillers:contrat_edit": ["contrat"],
    "conseillers:conseiller": ["conseiller"],
    "conseillers:conseiller_edit": ["conseiller"],
    "conseillers:formation_add": ["conseiller"],
    "conseillers:recrutement": ["recrutement"],
    "conseillers:recrutement_statut": ["recrutement"],
    "conseillers:avenant_request": ["structure"],
    "conseillers:avenant_decide": ["avenant"],
    "accompagnements:detail": ["activite"],
    "accompagnements:edit": ["activite"],
    "accompagnements:delete": ["activite"],
    "accompagnements:partage_revoke": ["partage"],
    "accompagnements:partage_public": ["partage_token"],
    "accompagnements:beneficiaire": ["beneficiaire"],
    "accompagnements:beneficiaire_edit": ["beneficiaire"],
    "imports:nouveau": ["import_slug"],
    "imports:detail": ["import"],
    "imports:progression": ["import"],
    "imports:confirmer": ["import"],
    "imports:abandonner": ["import"],
    "imports:relancer": ["import"],
    "imports:coop_mediateur_associer": ["mediateur"],
    "reporting:rapport": ["rapport"],
    "reporting:rapport_progression": ["rapport"],
    "reporting:rapport_relancer": ["rapport"],
    "reporting:rapport_pdf": ["rapport"],
    "reporting:rapport_xlsx": ["rapport"],
    "ateliers:seance_publique": ["seance"],
    "ateliers:inscription": ["seance"],
    "ateliers:confirmation": ["inscription_token"],
    "ateliers:inscription_ics": ["inscription_token"],
    "ateliers:annuler": ["inscription_token"],
    "ateliers:gestion_atelier": ["atelier"],
    "ateliers:gestion_atelier_edit": ["atelier"],
    "ateliers:gestion_seance_create": ["atelier"],
    "ateliers:gestion_seance": ["seance"],
    "ateliers:gestion_seance_edit": ["seance"],
    "ateliers:gestion_seance_cancel": ["seance"],
    "ateliers:gestion_inscrire": ["seance"],
    "ateliers:gestion_inscription_cancel": ["inscription"],
    "ateliers:gestion_inscription_move": ["inscription"],
    "ateliers:gestion_appel": ["seance_passee"],
    "ateliers:gestion_appel_sur_place": ["seance_passee"],
    "ateliers:gestion_appel_cloturer": ["seance_passee"],
    "ateliers:pass_commande": ["commande"],
    "ateliers:pass_carnets_attribuer": ["commande"],
    "ateliers:pass_carnet_remettre": ["carnet"],
    "account_confirm_email": ["email_confirmation_key"],
    "account_reset_password_from_key": ["reset_uidb36", "reset_key"],
    # Named by Django's UserAdmin after auth.User whatever the user model: the admin's rule below cannot find it.
    "admin:auth_user_password_change": ["staff_user"],
}

# Route (or ``namespace:`` prefix) → why this test does not request it.
NOT_BUILT = {
    "api/v1/": "the partner API renders JSON only (DRF's JSONRenderer is its only renderer): no HTML to check",
    "donnees_personnelles:": "pages of the personal-data app being written in parallel; staff only, covered by "
    "tests/donnees_personnelles/ (its routes without arguments are requested here all the same)",
    "admin:view_on_site": "a redirect to the object's own page, no HTML of its own",
}

# Markup of a library's template that the policy refuses, each with why it is tolerated: exact strings, so that
# anything else in the same pages is still checked.
KNOWN_THIRD_PARTY_MARKUP = {
    # django-simple-history's admin history list (simple_history/object_history_list.html): a cosmetic border that
    # the browser drops under style-src 'self'. Overriding that template in templates/ would remove it.
    '<p class="paginator" style="border-top: 0">': "cosmetic, dropped by the browser, no script",
}


class _InlineCode(HTMLParser):
    """Collects what the policy refuses in a page: inline scripts, style elements and attributes, event handlers
    and ``javascript:`` URLs. A ``<script type="application/json">`` is a data block that no browser runs (allauth's
    e-mail and recovery-code pages carry one), so it is not inline code."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.found.append(f"<script> inline (ligne {self.getpos()[0]})")
        if tag == "style":
            self.found.append(f"<style> (ligne {self.getpos()[0]})")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> (ligne {self.getpos()[0]})")
            elif name == "style":
                self.found.append(f"<{tag} style=…> (ligne {self.getpos()[0]})")
            elif value and re.sub(r"\s", "", value).lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…> (ligne {self.getpos()[0]})")

    handle_startendtag = handle_starttag


def inline_code(html):
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def policy_problems(header):
    """What is wrong with a Content-Security-Policy header, as a list of French sentences (empty when right)."""
    if not header:
        return ["pas d'en-tête Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    problems = []
    # script-src and object-src fall back to default-src (the e-mail previews' "default-src 'none'" is stricter).
    script_src = directives.get("script-src", directives.get("default-src"))
    if script_src is None:
        problems.append("ni script-src ni default-src")
    elif unsafe := sorted(UNSAFE_SCRIPT_SOURCES.intersection(script_src)):
        problems.append(f"script-src permet {' '.join(unsafe)}")
    if directives.get("object-src", directives.get("default-src")) != ["'none'"]:
        problems.append("object-src n'est pas 'none'")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors n'est pas 'none'")
    if directives.get("base-uri") != ["'none'"]:
        problems.append("base-uri n'est pas 'none'")
    return problems


# --- The data ------------------------------------------------------------------------------------------------------
@pytest.fixture
def objects(db):
    """The access matrix's data (B = the Sicoval) and, for the other apps, one object of each kind."""
    data = _build(activites=False)
    b, accounts = data["b"], data["accounts"]
    sicoval = data["structures"]["sicoval"]
    staff = accounts["staff"]
    poste = Poste.objects.filter(structure=sicoval).order_by("pk").first()
    convention = Convention.objects.filter(structure=sicoval).order_by("pk").first()
    ligne = LigneFinancement.objects.filter(convention=convention).order_by("pk").first()
    demande = DemandeHabilitation.objects.order_by("pk").first()
    client_api = data["client_api"]
    famille = next(iter(FAMILLES.values()))
    today = datetime.date.today()
    unverified = factories.UserFactory()
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    address = EmailAddress.objects.get(user=unverified)
    found = {
        **b,
        "structure": sicoval,
        "poste": poste,
        "contrat": Contrat.objects.filter(poste=poste).order_by("pk").first(),
        "recrutement": MiseEnRelation.objects.order_by("pk").first(),
        "convention": convention,
        "ligne": ligne,
        "versement": Versement.objects.filter(ligne=ligne).order_by("pk").first(),
        "avenant": factories.AvenantFactory(structure=sicoval),
        "aidant": Aidant.objects.order_by("pk").first(),
        "demande": demande,
        "structure_habilitation": demande.structure if demande else None,
        "orientation": Orientation.objects.order_by("pk").first(),
        "evenement": Evenement.objects.order_by("pk").first(),
        "coordination": ActiviteCoordination.objects.order_by("pk").first(),
        "client_api": client_api,
        "structure_client": client_api.structure,
        "membership": Membership.objects.filter(structure=sicoval).order_by("pk").first(),
        "arret": ArretItinerant.objects.order_by("pk").first(),
        "rappel": famille.code,
        "rappel_genre": next(iter(famille.genres)),
        "partage_token": b["partage"].token,
        "inscription_token": ateliers_services.cancel_token(b["inscription"]),
        "import_slug": "lieux",
        "import": Import.objects.create(
            type=TypeImport.LIEUX,
            statut=StatutImport.ECHEC,
            nom_fichier="lieux.csv",
            erreur="Fichier illisible.",
            demande_par=staff,
        ),
        "mediateur": MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), prenom="Camille", nom="Coop"),
        "rapport": Rapport.objects.create(
            type=TypeRapport.MENSUEL, du=today.replace(day=1) - datetime.timedelta(days=62), au=today, demande_par=staff
        ),
        "email_confirmation_key": EmailConfirmationHMAC(address).key,
        "reset_uidb36": user_pk_to_url_str(accounts["sarah"]),
        "reset_key": default_token_generator.make_token(accounts["sarah"]),
        "staff_user": staff,
    }
    missing = sorted(kind for kinds in ARGUMENTS.values() for kind in kinds if found.get(kind) is None)
    assert missing == [], f"objets introuvables dans les données : {missing}"
    # The admin's pages need the model permissions that the access matrix's staff member does not have: a superuser
    # (staff too, so with TOTP) reads them.
    superuser = factories.StaffUserFactory(is_superuser=True)
    for user in (staff, superuser, accounts["sarah"]):
        if mfa_missing(user):  # staff, and coordinators if the conseillère ever is one: the policy of the day
            TOTP.activate(user, generate_totp_secret())
    found["users"] = {"staff": staff, "admin": superuser, "conseiller": accounts["sarah"]}
    return found


def _argument(value):
    return getattr(value, "uuid", None) or getattr(value, "pk", None) or value


def _admin_args(name):
    """The arguments of an admin object page: the first row of its model (None when its table is empty)."""
    if name == "admin:app_list":
        return {"app_label": "structures"}
    route = name.removeprefix("admin:")
    prefixes = {f"{model._meta.app_label}_{model._meta.model_name}_": model for model in admin.site._registry}
    matching = [prefix for prefix in prefixes if route.startswith(prefix)]
    if not matching:
        return None
    model = prefixes[max(matching, key=len)]
    row = model._default_manager.order_by("pk").first()
    if row is None:
        return None
    if route.endswith("_simple_history"):
        record = row.history.order_by("history_id").first()
        return [row.pk, record.history_id] if record else None
    return [row.pk]


def _not_built(name, route):
    return any(name == key or name.startswith(key) or route.startswith(key) for key in NOT_BUILT)


def _needs_arguments(name):
    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


def page_urls(objects, *, with_admin):
    """(route name, URL) of every named route this test can build, and the names it could not."""
    urls, unbuilt = {}, []
    for name, route in _walk(get_resolver()):
        if not name or name in urls or (name.startswith("admin:") and not with_admin):
            continue
        if not _needs_arguments(name):
            urls[name] = reverse(name)
        elif _not_built(name, route):
            continue
        elif name in ARGUMENTS:
            urls[name] = reverse(name, args=[_argument(objects[kind]) for kind in ARGUMENTS[name]])
        elif name.startswith("admin:") and (args := _admin_args(name)) is not None:
            urls[name] = reverse(name, kwargs=args) if isinstance(args, dict) else reverse(name, args=args)
        else:
            unbuilt.append(name)
    return urls, unbuilt


# --- Every page ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_html_page_has_a_strict_policy_and_no_inline_code(client, objects, role):
    user = objects["users"].get(role)
    urls, unbuilt = page_urls(objects, with_admin=role == "staff")
    # Admin object pages of a model with no row at all are the only ones allowed to be left out.
    assert [name for name in unbuilt if not name.startswith("admin:")] == []
    wrong, statuses = [], {}
    for name, url in urls.items():
        if user is not None:
            # Again before each page: a page that logs out must not hide the others.
            client.force_login(objects["users"]["admin"] if name.startswith("admin:") else user)
        response = client.get(url)
        statuses[name] = response.status_code
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        problems = policy_problems(response.get("Content-Security-Policy"))
        if response.has_header("Content-Security-Policy-Report-Only"):
            problems.append("politique en Report-Only")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(response.charset or "utf-8", errors="replace")
        for markup in KNOWN_THIRD_PARTY_MARKUP:
            text = text.replace(markup, "")
        problems += inline_code(text)
        if problems:
            wrong.append((name, url, response.status_code, problems))
    assert wrong == []
    # Sanity: the pages were reached, not all turned away (the staff by a missing TOTP, everybody by a 404).
    reached = [name for name, status in statuses.items() if status == 200]
    expected = {"anonymous": 25, "staff": 280, "conseiller": 60}[role]  # 29, 307 (the admin's included) and 73 today
    assert len(reached) >= expected, (len(reached), sorted(set(statuses) - set(reached)))
    assert statuses["home"] == 200


def test_every_route_with_arguments_is_built_or_explained():
    """A new route with arguments must get its objects in ARGUMENTS, or a reason in NOT_BUILT."""
    unexplained = sorted(
        name
        for name, route in _walk(get_resolver())
        if name
        and not name.startswith("admin:")
        and name not in ARGUMENTS
        and not _not_built(name, route)
        and _needs_arguments(name)
    )
    assert unexplained == []
    assert sorted(name for name in ARGUMENTS if not _needs_arguments(name)) == []


def test_staff_without_a_second_factor_would_only_see_the_totp_page(client, db):
    """Why the staff above have a TOTP device: without it the middleware sends every page to its set-up, so the
    test would only ever read that page."""
    client.force_login(factories.StaffUserFactory(with_totp=False))
    response = client.get(reverse("structures:list"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


# --- The checks themselves -----------------------------------------------------------------------------------------
def test_the_inline_code_finder_sees_what_the_policy_refuses():
    page = """<html><head><script src="/static/js/app.js"></script><script>alert(1)</script><style>p{}</style>
    <script type="application/json">{"ok": true}</script></head>
    <body><p style="color:red" onclick="x()">a</p><a href=" javascript:void(0)">b</a><img src="x" onerror="y()"/>
    <p data-onclick="fine" class="style">c</p></body></html>"""
    found = inline_code(page)
    assert len(found) == 6, found
    assert inline_code('<script src="/a.js" defer></script><p data-style="x" hidden>ok</p>') == []


def test_the_policy_check_refuses_a_lax_policy():
    assert policy_problems(settings_policy_header()) == []
    lax = "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'self'"
    assert len(policy_problems(lax)) == 4
    assert policy_problems(None) == ["pas d'en-tête Content-Security-Policy"]


def settings_policy_header():
    """The policy of the settings, as django-csp writes it (its nonce, an object until a request, left out)."""
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    return "; ".join(
        f"{name} {' '.join(value for value in values if isinstance(value, str))}" for name, values in directives.items()
    )


# --- The templates, read without rendering -------------------------------------------------------------------------
def template_files():
    folders = [Path(folder) for engine in settings.TEMPLATES for folder in engine.get("DIRS", [])]
    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates"
        if folder.is_dir() and ROOT_DIR in folder.parents and "site-packages" not in folder.parts:  # ours only
            folders.append(folder)
    return sorted({path for folder in folders for path in folder.rglob("*.html")})


# Django template tags and comments, replaced by a neutral word so that the HTML parser reads the markup around them.
TEMPLATE_SYNTAX = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}|{%.*?%}|{{.*?}}", re.DOTALL)


def test_templates_carry_no_inline_script_handler_nor_style():
    """E-mail templates (``*/emails/*``) are left out: they are read in mail clients, which need inline styles, and
    the site shows them only under the e-mail previews' sandbox policy, where nothing runs."""
    files = [path for path in template_files() if "emails" not in path.relative_to(ROOT_DIR).parts]
    assert len(files) > 100, len(files)  # sanity: the folders were found
    wrong = {}
    for path in files:
        text = TEMPLATE_SYNTAX.sub(lambda match: "" if match.group(0).startswith("{%") else "x", path.read_text())
        if found := inline_code(text):
            wrong[str(path.relative_to(ROOT_DIR))] = found
    assert wrong == {}
