"""What the funding pages share: who may read them, the agreement in reach of the user, posted data."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.navigation import user_roles
from financements import choices, selectors

READERS = {"staff", Role.REFERENT, Role.FINANCEUR}


def require_reader(user):
    """Staff, référents and funders read the funding; the other roles have nothing to see here."""
    if not user_roles(user) & READERS:
        raise PermissionDenied("Les financements sont réservés à l'équipe Sicoval, aux référents et aux financeurs.")


def require_staff(user, what):
    if not user.is_staff:
        raise PermissionDenied(f"Seule l'équipe Sicoval {what}.")


def posted(request):
    """The submitted data of a POST (even an empty one, so that its errors show), None for a GET."""
    return request.POST if request.method == "POST" else None


def visible_convention(request, uuid, *related):
    conventions = selectors.conventions_visible_to(request.user).select_related("financeur", "structure", *related)
    return get_object_or_404(conventions, uuid=uuid)


def visible_ligne(request, uuid):
    lignes = selectors.lignes_visible_to(request.user).select_related(
        "poste", "convention__financeur", "convention__structure"
    )
    return get_object_or_404(lignes, uuid=uuid)


def convention_url(convention, anchor=""):
    return reverse("financements:convention_detail", args=[convention.uuid]) + (f"#{anchor}" if anchor else "")


def poste_label(poste):
    return f"{poste.get_typologie_display()} — poste {str(poste.uuid)[:8]}"


STATUT_BADGES = {
    choices.StatutConvention.EN_PREPARATION: "badge-warning",
    choices.StatutConvention.SIGNEE: "badge-success",
    choices.StatutConvention.SOLDEE: "badge-neutral",
    choices.StatutConvention.RESILIEE: "badge-danger",
}


def today():
    return timezone.localdate()
