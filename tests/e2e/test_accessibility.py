"""RGAA 4.1 / WCAG 2.1 AA: 0 axe-core violation (wcag2a, wcag2aa, wcag21a, wcag21aa) on every key page and state,
the public pages at desktop and phone widths."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from sicoval_numerique.demo import DEMO_PASSWORD

from .conftest import check_axe, goto, log_in_as, login, submit

BAZIEGE = "31048"  # one place, which does not help with administrative procedures, and no bus stop
AUREVILLE = "31025"  # no place, a bus stop


def _lieu(demo, nom):
    return next(lieu for lieu in demo["lieux"] if lieu.nom == nom)


def _user(demo, prefix):
    return next(user for user in demo["users"] if user.email.startswith(f"{prefix}@"))


# --- Public pages: each a function of (page, demo) that opens the page and returns (response, expected status) ---
def _login_with_error(page, demo):
    goto(page, reverse("account_login"))
    page.get_by_label("Courriel").fill("referent@sicoval-numerique.example")
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    response = submit(page, page.get_by_role("button", name="Se connecter", exact=True))
    assert page.get_by_role("alert").is_visible()
    assert page.title().startswith("Erreur"), page.title()  # RGAA 11.10: the title says the form was refused
    return response, 200


PUBLIC_PAGES = {
    "accueil": lambda page, demo: (goto(page, "/"), 200),
    "lieux": lambda page, demo: (goto(page, reverse("lieux_public")), 200),
    "lieux-sans-resultat": lambda page, demo: (
        goto(page, f"{reverse('lieux_public')}?commune={BAZIEGE}&service=Aide+aux+d%C3%A9marches+administratives"),
        200,
    ),
    "lieux-avec-resultats": lambda page, demo: (goto(page, f"{reverse('lieux_public')}?commune={AUREVILLE}"), 200),
    "lieu-fixe": lambda page, demo: (
        goto(page, reverse("lieu_public", args=[_lieu(demo, "Espace numérique de la mairie de Ramonville").uuid])),
        200,
    ),
    "lieu-itinerant": lambda page, demo: (
        goto(page, reverse("lieu_public", args=[_lieu(demo, "Bus numérique du Sicoval").uuid])),
        200,
    ),
    "declaration-accessibilite": lambda page, demo: (goto(page, reverse("accessibilite")), 200),
    "connexion": lambda page, demo: (goto(page, reverse("account_login")), 200),
    "connexion-erreur": _login_with_error,
    "mot-de-passe-oublie": lambda page, demo: (goto(page, reverse("account_reset_password")), 200),
}


@pytest.mark.parametrize("device", ["page", "phone_page"], ids=["bureau", "telephone"])
@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page(request, demo, device, name):
    page = request.getfixturevalue(device)
    response, status = PUBLIC_PAGES[name](page, demo)
    check_axe(page, response, status=status)
    if name.startswith("lieux-sans"):
        assert page.get_by_text("Aucun lieu ne correspond à cette recherche").is_visible()


# --- Pages behind a login ---------------------------------------------------------------------------------------
def _with_totp(user):
    TOTP.activate(user, generate_totp_secret())
    return user


def test_totp_activation_page(page, live_server, demo):
    """The page staff land on after their first login (reached after re-entering the password)."""
    log_in_as(page, live_server, _user(demo, "coordination"))
    goto(page, reverse("account_reauthenticate"))
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    response = submit(page, page.get_by_role("button", name="Confirmer"))
    assert response.status in (200, 302)
    response = goto(page, reverse("mfa_activate_totp"))
    check_axe(page, response)
    # … and sent back with a wrong code.
    page.get_by_label("Code de l'authentificateur").fill("123")
    response = submit(page, page.get_by_role("button", name="Activer"))
    assert page.get_by_role("alert").is_visible()
    check_axe(page, response)


def test_reauthentication_page(page, live_server, demo):
    log_in_as(page, live_server, _user(demo, "coordination"))
    response = goto(page, reverse("account_reauthenticate"))
    check_axe(page, response)


@pytest.mark.parametrize("role", ["coordination", "referent", "conseiller", "aidant", "financeur"])
def test_dashboard(page, live_server, demo, role):
    user = _user(demo, role)
    if user.is_staff:
        _with_totp(user)
    log_in_as(page, live_server, user)
    check_axe(page, goto(page, reverse("dashboard")))


def _staff(page, live_server, demo):
    log_in_as(page, live_server, _with_totp(_user(demo, "coordination")))


def _structures_filtered_empty(page, demo):
    return goto(page, reverse("structures:list") + "?q=aucune-structure-de-ce-nom"), 200


def _lieu_form_with_errors(page, demo):
    goto(page, reverse("structures:lieu_edit", args=[_lieu(demo, "Bus numérique du Sicoval").uuid]))
    page.get_by_label("Horaires").first.fill("Lundi 9h-12h")
    page.get_by_label("Nom", exact=False).first.fill("")
    response = submit(page, page.get_by_role("button", name="Enregistrer le lieu"))
    assert page.get_by_role("alert").is_visible()
    return response, 400


def _recrutement(demo):
    return demo["postes"][0].structure.mises_en_relation.order_by("pk").first()


def _recrutement_statut_with_errors(page, demo):
    goto(page, reverse("conseillers:recrutement", args=[_recrutement(demo).uuid]))
    response = submit(page, page.get_by_role("button", name="Changer le statut"))
    assert page.get_by_role("alert").is_visible()
    return response, 400


def _avenant_request_with_errors(page, demo):
    goto(page, reverse("structures:detail", args=[demo["structures"]["sicoval"].uuid]))
    response = submit(page, page.get_by_role("button", name="Envoyer la demande"))
    assert page.get_by_role("alert").is_visible()
    return response, 400


def _structure_create_with_errors(page, demo):
    goto(page, reverse("structures:create"))
    response = submit(page, page.get_by_role("button", name="Créer la structure"))
    assert page.get_by_role("alert").is_visible()
    return response, 400


def _an_aidant():
    from aidants.models import Aidant

    return Aidant.objects.filter(habilite_aidants_connect=True).order_by("pk").first()


def _personal_data_found(page, demo):
    """What the team finds about a person who registered to a workshop, with the export and erasure buttons."""
    from ateliers.models import Inscription

    inscription = Inscription.objects.exclude(email="").order_by("pk").first()
    goto(page, reverse("donnees_personnelles:recherche"))
    page.get_by_label("Adresse e-mail").fill(inscription.email)
    response = submit(page, page.get_by_role("button", name="Rechercher"))
    assert page.get_by_role("button", name="Exporter (JSON)").first.is_visible()
    return response, 200


BACK_OFFICE_PAGES = {
    "structures": lambda page, demo: (goto(page, reverse("structures:list")), 200),
    "structures-sans-resultat": _structures_filtered_empty,
    "structure-detail": lambda page, demo: (
        goto(page, reverse("structures:detail", args=[demo["structures"]["sicoval"].uuid])),
        200,
    ),
    "structure-creation": lambda page, demo: (goto(page, reverse("structures:create")), 200),
    "structure-creation-erreurs": _structure_create_with_errors,
    "lieux": lambda page, demo: (goto(page, reverse("structures:lieux")), 200),
    "lieu-fixe-modification": lambda page, demo: (
        goto(
            page,
            reverse("structures:lieu_edit", args=[_lieu(demo, "Espace numérique de la mairie de Ramonville").uuid]),
        ),
        200,
    ),
    "lieu-itinerant-modification": lambda page, demo: (
        goto(page, reverse("structures:lieu_edit", args=[_lieu(demo, "Bus numérique du Sicoval").uuid])),
        200,
    ),
    "lieu-modification-erreurs": _lieu_form_with_errors,
    "double-authentification": lambda page, demo: (goto(page, reverse("mfa_index")), 200),
    "postes": lambda page, demo: (goto(page, reverse("conseillers:postes")), 200),
    "poste": lambda page, demo: (goto(page, reverse("conseillers:poste", args=[demo["postes"][2].uuid])), 200),
    "poste-creation": lambda page, demo: (goto(page, reverse("conseillers:poste_create")), 200),
    "conseillers": lambda page, demo: (goto(page, reverse("conseillers:conseillers")), 200),
    "conseiller": lambda page, demo: (
        goto(page, reverse("conseillers:conseiller", args=[demo["postes"][0].affectations.first().conseiller.uuid])),
        200,
    ),
    "financements": lambda page, demo: (goto(page, reverse("financements:overview")), 200),
    "conventions": lambda page, demo: (goto(page, reverse("financements:conventions")), 200),
    "convention": lambda page, demo: (
        goto(
            page,
            reverse(
                "financements:convention_detail", args=[demo["postes"][0].lignes_financement.first().convention.uuid]
            ),
        ),
        200,
    ),
    "financeurs": lambda page, demo: (goto(page, reverse("financements:financeurs")), 200),
    "recrutements": lambda page, demo: (goto(page, reverse("conseillers:recrutements")), 200),
    "recrutement": lambda page, demo: (
        goto(page, reverse("conseillers:recrutement", args=[_recrutement(demo).uuid])),
        200,
    ),
    "recrutement-statut-erreurs": _recrutement_statut_with_errors,
    "avenant-demande-erreurs": _avenant_request_with_errors,
    "contrat-modification": lambda page, demo: (
        goto(page, reverse("conseillers:contrat_edit", args=[demo["postes"][0].contrats.order_by("pk").first().uuid])),
        200,
    ),
    "activites": lambda page, demo: (goto(page, reverse("accompagnements:list")), 200),
    "ateliers": lambda page, demo: (goto(page, reverse("ateliers:gestion_ateliers")), 200),
    "atelier": lambda page, demo: (
        goto(page, reverse("ateliers:gestion_atelier", args=[demo["seances"][0].atelier.uuid])),
        200,
    ),
    # The demo's first session is full, with a waiting list.
    "seance-complete": lambda page, demo: (
        goto(page, reverse("ateliers:gestion_seance", args=[demo["seances"][0].uuid])),
        200,
    ),
    "seance-creation": lambda page, demo: (
        goto(page, reverse("ateliers:gestion_seance_create", args=[demo["seances"][0].atelier.uuid])),
        200,
    ),
    # The demo's last session took place yesterday: its attendance is to take.
    "feuille-appel": lambda page, demo: (
        goto(page, reverse("ateliers:gestion_appel", args=[demo["seances"][-1].uuid])),
        200,
    ),
    "pass-stock": lambda page, demo: (goto(page, reverse("ateliers:pass_stock")), 200),
    "aidants": lambda page, demo: (goto(page, reverse("aidants:annuaire")), 200),
    "aidant": lambda page, demo: (goto(page, reverse("aidants:aidant", args=[_an_aidant().uuid])), 200),
    "aidant-modification": lambda page, demo: (
        goto(page, reverse("aidants:aidant_edit", args=[_an_aidant().uuid])),
        200,
    ),
    "habilitations": lambda page, demo: (goto(page, reverse("aidants:habilitations")), 200),
    "evenements": lambda page, demo: (goto(page, reverse("aidants:evenement_list")), 200),
    "evenement-creation": lambda page, demo: (goto(page, reverse("aidants:evenement_create")), 200),
    "coordination": lambda page, demo: (goto(page, reverse("aidants:coordination_list")), 200),
    "maillage": lambda page, demo: (goto(page, reverse("aidants:maillage")), 200),
    "habilitations-structure": lambda page, demo: (
        goto(page, reverse("aidants:habilitations_structure", args=[_an_aidant().structure.uuid])),
        200,
    ),
    "emails": lambda page, demo: (goto(page, reverse("notifications:list")), 200),
    "imports": lambda page, demo: (goto(page, reverse("imports:liste")), 200),
    "import-activites": lambda page, demo: (goto(page, reverse("imports:nouveau", args=["activites"])), 200),
    "import-lieux": lambda page, demo: (goto(page, reverse("imports:nouveau", args=["lieux"])), 200),
    "synchronisation-coop": lambda page, demo: (goto(page, reverse("imports:coop")), 200),
    "donnees-personnelles": lambda page, demo: (goto(page, reverse("donnees_personnelles:recherche")), 200),
    "donnees-personnelles-resultats": _personal_data_found,
    "donnees-personnelles-demandes": lambda page, demo: (goto(page, reverse("donnees_personnelles:demandes")), 200),
}


@pytest.mark.parametrize("name", list(BACK_OFFICE_PAGES))
def test_back_office_page(page, live_server, demo, name):
    _staff(page, live_server, demo)
    response, status = BACK_OFFICE_PAGES[name](page, demo)
    check_axe(page, response, status=status)


def test_back_office_phone(phone_page, live_server, demo):
    """Conseillers and référents often work from a phone: the place form, the structures list, the dashboard and
    the reports fit there too."""
    page = phone_page
    _staff(page, live_server, demo)
    for path in (
        reverse("structures:list"),
        reverse("structures:lieu_edit", args=[_lieu(demo, "Bus numérique du Sicoval").uuid]),
        reverse("conseillers:postes"),
        reverse("financements:overview"),
        reverse("ateliers:gestion_ateliers"),
        reverse("ateliers:gestion_appel", args=[demo["seances"][-1].uuid]),
        reverse("aidants:annuaire"),
        reverse("reporting:tableau"),
        reverse("reporting:rapports"),
        reverse("reporting:rapport_demander"),
        reverse("notifications:rappels"),
        reverse("statistiques_publiques:index"),
        reverse("imports:liste"),
        reverse("imports:nouveau", args=["lieux"]),
        reverse("imports:coop"),
    ):
        check_axe(page, goto(page, path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} déborde horizontalement ({width} px pour 375 px)"


def test_content_security_policy_is_understood_by_the_browser(page):
    """The policy is enforced, and Chromium understands every source of it (an unknown source is ignored)."""
    response = goto(page, "/")
    policy = response.headers["content-security-policy"]
    for directive in ("script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "style-src 'self'"):
        assert directive in policy, policy
    assert "unsafe-inline" not in policy
    ignored = [m for m in page.watch.console_errors if "Content Security Policy" in m]
    assert not ignored, ignored


# --- The second factor at login, the followed people, a shared statistics link -----------------------------------
def test_mfa_code_prompt_at_login(page, live_server, demo):
    """The page asking staff for their code after the password, then the same page sent back with a wrong code."""
    _with_totp(_user(demo, "coordination"))
    response = login(page, _user(demo, "coordination").email)
    assert "/comptes/2fa/authenticate/" in page.url, page.url
    check_axe(page, response)
    page.get_by_label(re.compile("^Code")).fill("000000")
    response = submit(page, page.get_by_role("button", name=re.compile("^(Se connecter|Connexion|Valider|Vérifier)")))
    assert page.get_by_role("alert").first.is_visible()
    check_axe(page, response)


def _ines():
    from accounts.models import User

    return User.objects.get(email="conseiller@sicoval-numerique.example")


def _followed_person():
    from accompagnements import services

    return services.beneficiaire_create(
        by=_ines(), data={"prenom": "Léa", "nom": "Martin", "consentement": True, "genre": "feminin"}
    )


def _beneficiaires(page, demo):
    _followed_person()
    return goto(page, reverse("accompagnements:beneficiaires")), 200


def _beneficiaire_create_with_errors(page, demo):
    goto(page, reverse("accompagnements:beneficiaire_create"))
    response = submit(page, page.get_by_role("button", name=re.compile("^(Enregistrer|Créer|Suivre)")))
    assert page.get_by_role("alert").first.is_visible()
    return response, 400


CONSEILLER_PAGES = {
    "beneficiaires": _beneficiaires,
    "beneficiaire-creation": lambda page, demo: (goto(page, reverse("accompagnements:beneficiaire_create")), 200),
    "beneficiaire-creation-erreurs": _beneficiaire_create_with_errors,
    "beneficiaire": lambda page, demo: (
        goto(page, reverse("accompagnements:beneficiaire", args=[_followed_person().uuid])),
        200,
    ),
    "beneficiaire-modification": lambda page, demo: (
        goto(page, reverse("accompagnements:beneficiaire_edit", args=[_followed_person().uuid])),
        200,
    ),
    "partages": lambda page, demo: (goto(page, reverse("accompagnements:statistiques")), 200),
}


@pytest.mark.parametrize("name", list(CONSEILLER_PAGES))
def test_conseiller_page(page, live_server, demo, name):
    log_in_as(page, live_server, _ines())
    response, status = CONSEILLER_PAGES[name](page, demo)
    check_axe(page, response, status=status)


def test_shared_statistics_link(page, live_server, demo):
    """What a conseiller's shared link shows to whoever opens it, without an account."""
    import datetime

    from django.utils import timezone

    from accompagnements.services.partages import partage_create

    today = timezone.localdate()
    partage = partage_create(by=_ines(), date_debut=today - datetime.timedelta(days=90), date_fin=today)
    check_axe(page, goto(page, reverse("accompagnements:partage_public", args=[partage.token])))
