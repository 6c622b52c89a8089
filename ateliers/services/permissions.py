"""Who manages a workshop and its sessions: Sicoval staff, the référents of the organising structure (or its partner
API client), and a session's facilitator (for that session). Who registers people besides the public's online form:
the managers, and for a session reserved to a structure, that structure's référents and API client."""

from django.core.exceptions import PermissionDenied

from partenaires.actor import is_api
from structures.selectors import structures_editable_by


def can_manage_atelier(user, atelier):
    if user is None or not user.is_authenticated:
        return False
    if is_api(user):
        return user.structure.pk == atelier.structure_id
    return user.is_staff or structures_editable_by(user).filter(pk=atelier.structure_id).exists()


def can_manage_seance(user, seance):
    if user is None or not user.is_authenticated:
        return False
    if is_api(user):  # no user behind it: never the facilitator (an API actor's pk is None, like an empty FK)
        return can_manage_atelier(user, seance.atelier)
    return seance.animateur_id == user.pk or can_manage_atelier(user, seance.atelier)


def can_register_to(user, seance):
    """Managers register people to any session; a structure a session is reserved to registers its own public."""
    if can_manage_seance(user, seance):
        return True
    if user is None or not user.is_authenticated or seance.publique or seance.reservee_a_id is None:
        return False
    if is_api(user):
        return user.structure.pk == seance.reservee_a_id
    return structures_editable_by(user).filter(pk=seance.reservee_a_id).exists()


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


def require_registrar(user, seance):
    if not can_register_to(user, seance):
        raise PermissionDenied(
            "Seuls l'équipe, les référents de la structure organisatrice, l'animateur et la structure à laquelle la "
            "séance est réservée gèrent ses inscriptions."
        )
