"""Who must use a second factor, and whose session ends after a short idle time. allauth has no switch for "MFA
mandatory": we enforce it here, for Sicoval staff and for the coordinators of conseillers, who see a whole team's
data."""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist


def is_coordinator(user):
    """Whether the user's conseiller profile coordinates other conseillers. Read through the reverse one-to-one
    ``user.conseiller``, which Django caches on the user: at most one query per request, shared with the pages that
    read the profile anyway (the dashboard, the activity log)."""
    try:
        conseiller = user.conseiller
    except ObjectDoesNotExist:
        return False
    return conseiller is not None and conseiller.est_coordinateur


def mfa_required(user):
    """Sicoval staff (territory coordination) and coordinators must log in with TOTP. Cached on the user object,
    which lives for one request: the middlewares and the navigation ask several times."""
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_mfa_required_cache"):
        user._mfa_required_cache = bool(user.is_staff or is_coordinator(user))
    return user._mfa_required_cache


def mfa_missing(user):
    return mfa_required(user) and not is_mfa_enabled(user, [Authenticator.Type.TOTP])


def idle_timeout(user):
    """Seconds of inactivity after which the user's session ends, or None for the default session age. The accounts
    that must use MFA (they reach every structure's or a whole team's data) are also the ones with a short idle
    timeout."""
    if mfa_required(user):
        return settings.DELAI_INACTIVITE_EQUIPE
    return None
