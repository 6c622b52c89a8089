"""The navigation a user sees depends on their role: staff, référent, conseiller, aidant, funder, or the public."""

from django.urls import reverse

from .models import Role
from .policies import mfa_missing


def user_roles(user):
    """The set of roles a user holds (``"staff"`` for Sicoval staff), cached on the user for the request."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_roles_cache"):
        roles = set(user.memberships.values_list("role", flat=True))
        if user.is_staff:
            roles.add("staff")
        user._roles_cache = frozenset(roles)
    return user._roles_cache


def navigation_for(request):
    user = getattr(request, "user", None)
    items = [("home", "Accueil"), ("lieux_public", "Trouver un lieu"), ("ateliers:agenda", "Agenda des ateliers")]
    if user is None or not user.is_authenticated:
        return [(reverse(name), label) for name, label in items]
    items.append(("dashboard", "Mon espace"))
    if mfa_missing(user):
        # Until staff have set up their second factor, every other page sends them back to it.
        return [(reverse(name), label) for name, label in items]
    roles = user_roles(user)
    if roles & {"staff", Role.REFERENT, Role.CONSEILLER}:
        items.append(("accompagnements:list", "Mes activités" if roles == {Role.CONSEILLER} else "Activités"))
    if roles & {"staff", Role.REFERENT, Role.CONSEILLER} or (
        Role.AIDANT in roles and user.seances_animees.exists()  # an aidant who facilitates workshops
    ):
        items.append(("ateliers:gestion_ateliers", "Ateliers"))
    if roles & {"staff", Role.REFERENT, Role.CONSEILLER, Role.AIDANT}:
        items.append(("aidants:annuaire", "Aidants"))
    if roles & {"staff", Role.REFERENT, Role.FINANCEUR}:
        items.append(("structures:list", "Structures"))
    if roles & {"staff", Role.REFERENT}:
        items.append(("structures:lieux", "Lieux"))
    if roles & {"staff", Role.REFERENT, Role.FINANCEUR}:
        items.append(("conseillers:postes", "Postes"))
    if roles & {"staff", Role.REFERENT}:
        items.append(("conseillers:conseillers", "Conseillers"))
        items.append(("conseillers:recrutements", "Recrutements"))
    if roles & {"staff", Role.REFERENT, Role.FINANCEUR}:
        items.append(("financements:overview", "Financements"))
        items.append(("reporting:tableau", "Pilotage"))
    if "staff" in roles:
        items.append(("imports:liste", "Imports"))
        items.append(("admin:index", "Administration"))
    return [(reverse(name), label) for name, label in items]
