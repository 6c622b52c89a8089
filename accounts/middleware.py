from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from .policies import mfa_missing

# Paths a staff member without a second factor may still reach: setting it up, logging out, static files.
ALLOWED_PREFIXES = ("/comptes/2fa/", "/comptes/logout/", "/comptes/reauthenticate/", "/static/", "/healthz")


class StaffMfaRequiredMiddleware:
    """Sends a staff account without an authenticator to set one up before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not request.path.startswith(ALLOWED_PREFIXES) and mfa_missing(user):
            messages.warning(
                request,
                "Votre compte de l'équipe Sicoval doit être protégé par une double authentification : "
                "configurez une application d'authentification pour continuer.",
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
