import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from .policies import idle_timeout, mfa_missing

# Paths an account without its mandatory second factor may still reach: setting it up, logging out, static files.
ALLOWED_PREFIXES = ("/comptes/2fa/", "/comptes/logout/", "/comptes/reauthenticate/", "/static/", "/healthz")

# The time of the last request (Unix seconds), kept in the session of the accounts with an idle timeout.
LAST_ACTIVITY_SESSION_KEY = "derniere_activite"
# The stored time is refreshed at most once a minute: a session write on every request would cost a database write
# per page. The timeout is therefore counted from a time up to a minute before the last request.
LAST_ACTIVITY_WRITE_INTERVAL = 60


def stamp_activity_at_login(sender, request, user, **kwargs):
    """Receiver of ``user_logged_in``, the one moment common to every login (allauth's, the test client's): logging in
    is activity, and stamping the session now, while login writes it anyway, spares the first page a session
    write."""
    if request is not None and hasattr(request, "session") and idle_timeout(user):
        request.session[LAST_ACTIVITY_SESSION_KEY] = int(time.time())


class StaffMfaRequiredMiddleware:
    """Sends an account that must use MFA (staff, coordinators) and has no authenticator yet to set one up before
    anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not request.path.startswith(ALLOWED_PREFIXES) and mfa_missing(user):
            messages.warning(
                request,
                "Votre compte (équipe Sicoval ou coordination de conseillers) doit être protégé par une double "
                "authentification : configurez une application d'authentification pour continuer.",
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """Logs out the accounts with an idle timeout (``policies.idle_timeout``: staff and coordinators) after that long
    without a request, and sends them to the login page with a message and ``?next=`` back to where they were. The
    other accounts keep the default session age (``SESSION_COOKIE_AGE``).

    Placed after the authentication and messages middlewares, and before the MFA one: an idle session ends before
    anything else is asked of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        timeout = idle_timeout(user) if user is not None else None
        if timeout:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            if last is not None and now - last >= timeout:
                return self._logged_out(request, timeout)
            if last is None or now - last >= LAST_ACTIVITY_WRITE_INTERVAL:
                request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)

    def _logged_out(self, request, timeout):
        next_path = request.get_full_path()
        logout(request)
        messages.info(
            request,
            f"Votre session a été fermée après {timeout // 60} minutes d'inactivité, pour protéger les données "
            "qu'elle donne à voir. Reconnectez-vous pour continuer.",
        )
        response = redirect_to_login(next_path)
        if getattr(request, "htmx", False):
            # An htmx request would swap the login page into a fragment of the old one: reload the whole page.
            return HttpResponseClientRedirect(response["Location"])
        return response


class NoStoreForAccountsMiddleware:
    """Every answer to a logged-in account is ``Cache-Control: no-store, private`` (``add_never_cache_headers``):
    pages, exports and fragments show people's data, and neither a shared cache nor the browser's back button after
    logout may keep them. Answers to visitors are left as their views set them (the public agenda, the places, the
    calendar feeds may be cached). A request without a session cookie cannot be logged in: its session is not read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return response
        # The API sets ``request.user`` to None for a request it did not authenticate (UNAUTHENTICATED_USER).
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
