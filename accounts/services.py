"""Writes on accounts. Deactivating an account goes through ``user_deactivate`` whatever the door (the admin's form
or its action, a command): the account can no longer log in, and the sessions it has open end at once."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .models import User, UserSession


@transaction.atomic
def user_deactivate(*, user, by):
    """Close ``user``'s account (kept for history, never deleted) and end every session it has open. Idempotent: an
    account already saved as inactive (the admin's form saves the field itself) only has its sessions ended."""
    if not (by.is_active and by.is_staff):
        raise PermissionDenied("Seule l'équipe Sicoval peut désactiver un compte.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user._history_user = by
        user.save(update_fields=["is_active"])
    user_sessions_end(user=user)
    return user


def user_sessions_end(*, user):
    """Delete every session of ``user``: each of their browsers is logged out at its next request, and stays logged
    out even if the account is reactivated later (the session rows are gone, not merely refused while the account is
    inactive). Returns how many sessions were ended."""
    deleted, _ = UserSession.objects.filter(user=user).delete()
    return deleted
