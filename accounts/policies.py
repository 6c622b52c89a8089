"""Who must use a second factor. allauth has no switch for "MFA mandatory": we enforce it here."""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled


def mfa_required(user):
    """Sicoval staff (territory coordination) must log in with TOTP."""
    return bool(user.is_authenticated and user.is_staff)


def mfa_missing(user):
    return mfa_required(user) and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
