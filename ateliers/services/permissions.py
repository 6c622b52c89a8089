"""Who manages a workshop and its sessions: Sicoval staff, the référents of the organising structure, and a
session's facilitator (for that session)."""

from django.core.exceptions import PermissionDenied

from structures.selectors import structures_editable_by


def can_manage_atelier(user, atelier):
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or structures_editable_by(user).filter(pk=atelier.structure_id).exists()


def can_manage_seance(user, seance):
    if user is None or not user.is_authenticated:
        return False
    return seance.animateur_id == user.pk or can_manage_atelier(user, seance.atelier)


def require_atelier_manager(user, atelier):
    if not can_manage_atelier(user, atelier):
        raise PermissionDenied(
            "Seuls l'équipe du territoire et les référents de la structure organisatrice gèrent cet atelier."
        )


def require_seance_manager(user, seance):
    if not can_manage_seance(user, seance):
        raise PermissionDenied(
            "Seuls l'équipe, les référents de la structure organisatrice et l'animateur gèrent cette séance."
        )
