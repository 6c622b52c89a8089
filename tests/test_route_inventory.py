"""Every named route of the site is accounted for by an access-control test.

The URL resolver is walked recursively and each named route must be either in one of the access matrices (the
back-office of posts and funding in ``tests/test_access_matrix.py``, the activity log, workshops and outbox in
``tests/test_access_matrix_activites_ateliers.py``, the partner API through the OpenAPI schema that
``tests/api/test_permission_matrix.py`` derives its operations from) or in ``ELSEWHERE`` below, with the reason it is
left out of the matrices: a public page, allauth's own pages, or the per-app test module that checks who reaches it.

Adding a route without classifying it makes ``test_every_named_route_is_accounted_for`` fail: nobody can ship a page
whose access rules no test looks at. A route that is removed must leave the inventory too, so that it stays true."""

import re
import uuid
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.api.test_permission_matrix import OPERATIONS
from tests.test_access_matrix import ROUTES as BACK_OFFICE_ROUTES
from tests.test_access_matrix_activites_ateliers import ROUTES as ACTIVITES_ATELIERS_ROUTES

TESTS_DIR = Path(__file__).resolve().parent
ROOT_DIR = TESTS_DIR.parent

# Whole namespaces, with their reason: every route they hold, today's and tomorrow's.
NAMESPACES = {
    "admin": "Django admin: staff only, reached through allauth's login and MFA (tests/accounts/test_auth.py); "
    "each app's ModelAdmin in tests/<app>/test_admin.py",
    "donnees_personnelles": "staff only, covered by tests/donnees_personnelles/",
}

_AUTH = "tests/accounts/test_auth.py"
_ALLAUTH = f"allauth's own page (login, signup closed, reset, e-mail, MFA); our rules on it in {_AUTH}"
_AIDANTS = "tests/aidants/test_pages.py"
_EVENEMENTS = "tests/aidants/test_evenements.py"
_ORIENTATIONS = "tests/aidants/test_orientation_pages.py (and tests/aidants/test_orientations.py)"
_COORDINATION = "tests/aidants/test_coordination.py"
_IMPORTS = "tests/imports/test_moteur.py"
_COOP = "tests/imports/test_coop_pages.py"
_STRUCTURES = "tests/structures/test_backoffice.py"
_PARTENAIRES = "tests/partenaires/test_web.py"
_RAPPORTS = "tests/reporting/test_rapports.py"
_TABLEAU = "tests/reporting/test_tableau.py"
_RAPPELS = "tests/notifications/test_rappels_pages.py"
_PUBLIC_ATELIERS = (
    "public page; tests/test_access_matrix_activites_ateliers.py::test_public_pages_are_open_to_anonymous_users, "
    "tests/ateliers/test_public.py"
)
_TOKEN_ATELIERS = (
    "public page behind a signed token; "
    "tests/test_access_matrix_activites_ateliers.py::test_tampered_registration_tokens_are_404_and_cancel_nothing"
)

# Route name → why it is not in a matrix, and which test checks who reaches it.
ELSEWHERE = {
    # Public pages and machine endpoints
    "home": "public page; tests/reporting/test_public.py",
    "accessibilite": "public page (accessibility statement); tests/e2e/test_accessibility.py",
    "healthz": "public health check for the load balancer, no data; tests/test_deployment.py",
    "lieux_public": "public directory of places; tests/structures/test_public_pages.py",
    "lieu_public": "public page of a published place; tests/structures/test_public_pages.py::"
    "test_retired_place_is_not_public",
    "lieux_export_csv": "open data, published places only; tests/structures/test_lieux_export.py::"
    "test_unpublished_places_are_not_exported",
    "lieux_export_json": "open data, published places only; tests/structures/test_lieux_export.py",
    "statistiques_publiques:index": "public statistics, no cell under 5 people; tests/reporting/test_public.py",
    "ateliers:agenda": _PUBLIC_ATELIERS,
    "ateliers:agenda_ics": _PUBLIC_ATELIERS,
    "ateliers:seance_publique": _PUBLIC_ATELIERS,
    "ateliers:inscription": _PUBLIC_ATELIERS,
    "ateliers:confirmation": _TOKEN_ATELIERS,
    "ateliers:inscription_ics": _TOKEN_ATELIERS,
    "ateliers:annuler": _TOKEN_ATELIERS,
    "accompagnements:partage_public": "public page behind a share token; "
    "tests/test_access_matrix_activites_ateliers.py::test_share_links_tampered_or_revoked_are_404",
    "api-schema": "public OpenAPI description of the partner API; tests/api/test_contract.py",
    "api-docs": "public API documentation page; tests/e2e/test_api_docs.py",
    "oauth2_provider:token": "OAuth2 client credentials exchange; tests/api/test_partner_auth.py",
    "oauth2_provider:revoke-token": "OAuth2 token revocation; tests/api/test_partner_auth.py",
    # allauth (login, MFA): its own views, behind its rate limits
    "account_login": _ALLAUTH,
    "account_logout": _ALLAUTH,
    "account_inactive": _ALLAUTH,
    "account_signup": f"allauth's signup, closed to the public: {_AUTH}::test_public_signup_is_closed",
    "account_reauthenticate": _ALLAUTH,
    "account_email": _ALLAUTH,
    "account_email_verification_sent": _ALLAUTH,
    "account_change_password": _ALLAUTH,
    "account_set_password": _ALLAUTH,
    "account_reset_password": _ALLAUTH,
    "account_confirm_login_code": _ALLAUTH,
    "account_confirm_email": _ALLAUTH,
    "account_reset_password_from_key_done": _ALLAUTH,
    "account_reset_password_from_key": _ALLAUTH,
    "account_reset_password_done": _ALLAUTH,
    "mfa_index": _ALLAUTH,
    "mfa_authenticate": f"allauth's second step of the login; {_AUTH}::test_staff_with_a_wrong_code_stays_out",
    "mfa_reauthenticate": _ALLAUTH,
    "mfa_activate_totp": f"allauth's TOTP set-up; {_AUTH}::test_staff_without_totp_can_set_it_up_and_then_go_on",
    "mfa_deactivate_totp": f"allauth's; staff may not use it: {_AUTH}::test_staff_cannot_deactivate_their_totp",
    "mfa_view_recovery_codes": _ALLAUTH,
    "mfa_generate_recovery_codes": _ALLAUTH,
    "mfa_download_recovery_codes": _ALLAUTH,
    # Each user's own space
    "dashboard": f"the user's own space, links by role: {_AUTH}::test_rendered_navigation_follows_the_role",
    # Aidants network (per-app tests of scope and roles)
    "aidants:annuaire": _AIDANTS,
    "aidants:export_csv": _AIDANTS,
    "aidants:export_xlsx": _AIDANTS,
    "aidants:aidant_create": _AIDANTS,
    "aidants:aidant": _AIDANTS,
    "aidants:aidant_edit": _AIDANTS,
    "aidants:formation_add": _AIDANTS,
    "aidants:account_link": _AIDANTS,
    "aidants:aidant_activity": _AIDANTS,
    "aidants:habilitations": _AIDANTS,
    "aidants:habilitations_structure": _AIDANTS,
    "aidants:demande_transition": _AIDANTS,
    "aidants:orientation_list": _ORIENTATIONS,
    "aidants:orientation_create": _ORIENTATIONS,
    "aidants:orientation_recues": _ORIENTATIONS,
    "aidants:orientation_suivi": _ORIENTATIONS,
    "aidants:orientation_detail": _ORIENTATIONS,
    "aidants:orientation_accept": _ORIENTATIONS,
    "aidants:orientation_close": _ORIENTATIONS,
    "aidants:orientation_redirect": _ORIENTATIONS,
    "aidants:orientation_cancel": _ORIENTATIONS,
    "aidants:maillage": "tests/aidants/test_maillage.py",
    "aidants:maillage_csv": "tests/aidants/test_maillage.py",
    "aidants:evenement_list": _EVENEMENTS,
    "aidants:evenement_past": _EVENEMENTS,
    "aidants:evenement_create": _EVENEMENTS,
    "aidants:evenement_invitations": _EVENEMENTS,
    "aidants:evenement": _EVENEMENTS,
    "aidants:evenement_edit": _EVENEMENTS,
    "aidants:evenement_cancel": _EVENEMENTS,
    "aidants:evenement_invite": _EVENEMENTS,
    "aidants:evenement_answer": _EVENEMENTS,
    "aidants:evenement_attendance": _EVENEMENTS,
    "aidants:evenement_close": _EVENEMENTS,
    "aidants:coordination_list": _COORDINATION,
    "aidants:coordination_create": _COORDINATION,
    "aidants:coordination_edit": _COORDINATION,
    "aidants:coordination_delete": _COORDINATION,
    # Structures and places back-office
    "structures:list": _STRUCTURES,
    "structures:create": _STRUCTURES,
    "structures:detail": _STRUCTURES,
    "structures:edit": _STRUCTURES,
    "structures:statut": _STRUCTURES,
    "structures:conventionnement": _STRUCTURES,
    "structures:membership_add": _STRUCTURES,
    "structures:membership_remove": _STRUCTURES,
    "structures:lieu_create": _STRUCTURES,
    "structures:lieux": _STRUCTURES,
    "structures:lieu_edit": _STRUCTURES,
    "structures:lieu_toggle": _STRUCTURES,
    "structures:arret_create": _STRUCTURES,
    "structures:arret_delete": _STRUCTURES,
    # Partner API credentials
    "partenaires:structure_clients": _PARTENAIRES,
    "partenaires:clients": f"staff only: {_PARTENAIRES}::test_territory_list_is_for_staff_only",
    "partenaires:client_detail": _PARTENAIRES,
    "partenaires:client_revoke": _PARTENAIRES,
    # Imports and the Coop synchronisation
    "imports:liste": _IMPORTS,
    "imports:nouveau": _IMPORTS,
    "imports:detail": _IMPORTS,
    "imports:progression": _IMPORTS,
    "imports:confirmer": _IMPORTS,
    "imports:abandonner": _IMPORTS,
    "imports:relancer": _IMPORTS,
    "imports:coop": _COOP,
    "imports:coop_connexion": _COOP,
    "imports:coop_tester": _COOP,
    "imports:coop_mediateurs_actualiser": _COOP,
    "imports:coop_mediateur_associer": _COOP,
    "imports:coop_synchroniser": _COOP,
    # Dashboards and reports
    "reporting:tableau": _TABLEAU,
    "reporting:tableau_csv": _TABLEAU,
    "reporting:tableau_xlsx": _TABLEAU,
    "reporting:rapports": _RAPPORTS,
    "reporting:rapport_demander": _RAPPORTS,
    "reporting:rapport": _RAPPORTS,
    "reporting:rapport_progression": _RAPPORTS,
    "reporting:rapport_relancer": _RAPPORTS,
    "reporting:rapport_pdf": _RAPPORTS,
    "reporting:rapport_xlsx": _RAPPORTS,
    # Reminders (staff only)
    "notifications:rappels": _RAPPELS,
    "notifications:rappel_edit": _RAPPELS,
    "notifications:rappel_preview": _RAPPELS,
    "notifications:rappel_preview_html": _RAPPELS,
    "notifications:rappel_run": _RAPPELS,
}


def _walk(resolver, namespace="", prefix=""):
    """(qualified name or None, route as written) of every pattern under ``resolver``, included ones too."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, prefix + str(pattern.pattern)


def named_routes():
    return {name for name, _route in _walk(get_resolver()) if name}


def _in_namespace(name):
    return name.split(":", 1)[0] in NAMESPACES and ":" in name


_SAMPLES = {"uuid": lambda: str(uuid.uuid4()), "code_insee": lambda: "31582"}


def api_routes():
    """The route names that the permission matrix calls: each operation of the OpenAPI schema, resolved."""
    names = set()
    for _method, path, _public, _needed in OPERATIONS:
        concrete = re.sub(r"\{(\w+)\}", lambda match: _SAMPLES[match.group(1)](), path)
        names.add(resolve(concrete).view_name)
    return names


def matrix_routes():
    return {route[0] for route in (*BACK_OFFICE_ROUTES, *ACTIVITES_ATELIERS_ROUTES)}


def test_every_named_route_is_accounted_for():
    accounted = matrix_routes() | api_routes() | set(ELSEWHERE)
    missing = sorted(name for name in named_routes() - accounted if not _in_namespace(name))
    assert missing == [], (
        f"Routes que ni une matrice d'accès ni ELSEWHERE (tests/test_route_inventory.py) ne couvrent : {missing}. "
        "Ajoutez-les à une matrice, ou à ELSEWHERE avec le test qui vérifie qui y accède."
    )


def test_the_inventory_lists_no_route_that_is_gone():
    routes = named_routes()
    assert sorted(set(ELSEWHERE) - routes) == []
    assert sorted(matrix_routes() - routes) == []


def test_the_matrices_and_the_inventory_do_not_overlap():
    """A route is either in a matrix or explained here, so that the reason given is the only one."""
    assert sorted(set(ELSEWHERE) & (matrix_routes() | api_routes())) == []
    assert [name for name in ELSEWHERE if _in_namespace(name)] == []


def test_the_api_matrix_covers_every_route_of_the_api_router():
    """The partner API's routes all come from the schema: a viewset hidden from it would escape its matrix."""
    api = {name for name, route in _walk(get_resolver()) if route.startswith("api/v1/")}
    assert None not in api
    assert sorted(api - api_routes()) == []


def test_unnamed_routes_are_only_the_admins():
    """Unnamed routes cannot be listed by name: only the admin's own (redirects, catch-all) are allowed."""
    unnamed = [route for name, route in _walk(get_resolver()) if not name and not route.startswith("admin/")]
    assert unnamed == []


def test_every_cited_test_exists():
    """The reasons name test modules (and tests): they must exist, or the reason is no longer true."""
    wrong = []
    for name, reason in {**ELSEWHERE, **NAMESPACES}.items():
        for module, test in re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", reason):
            path = ROOT_DIR / module
            if not path.is_file():
                wrong.append((name, module))
            elif test and not re.search(rf"^def {test}\(", path.read_text(encoding="utf-8"), re.MULTILINE):
                wrong.append((name, f"{module}::{test}"))
    assert wrong == []
