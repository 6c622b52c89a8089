from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import render
from django.views.decorators.http import require_safe

from structures.selectors import memberships_of

from .navigation import user_roles


@login_required
@require_safe
def dashboard(request):
    """The logged-in home: who I am, my roles and structures, and where to go next."""
    return render(
        request,
        "accounts/dashboard.html",
        {
            "memberships": memberships_of(request.user),
            "is_staff_member": "staff" in user_roles(request.user),
            "is_conseiller": _is_conseiller(request.user),
            "sees_pass": _sees_pass(request.user),
            "in_network": bool(user_roles(request.user) & {"staff", "referent", "conseiller", "aidant"}),
            "is_aidant": "aidant" in user_roles(request.user),
        },
    )


def _is_conseiller(user):
    """Whether the user has a conseiller profile (they record activities)."""
    try:
        return user.conseiller is not None
    except ObjectDoesNotExist:
        return False


def _sees_pass(user):
    """Whether the user has a part in the Pass numérique (staff, distributor or qualified place)."""
    from ateliers.selectors_pass import pass_scope

    return pass_scope(user).any
