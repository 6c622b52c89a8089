from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from .policies import mfa_required


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are opened by the Sicoval (invitations), never by public sign-up."""

    def is_open_for_signup(self, request):
        return False


class MFAAdapter(DefaultMFAAdapter):
    """Staff and coordinators cannot remove their TOTP: MFA is mandatory for them (``policies.mfa_required``)."""

    def can_delete_authenticator(self, authenticator):
        if authenticator.type == Authenticator.Type.TOTP and mfa_required(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)
