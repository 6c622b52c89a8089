"""Avenant requests on a structure's page: the section's content (``avenants_context``, used by the structure's
page) and the forms posted from it — a request by staff or the structure's référent, a decision by staff. A refused
form shows the structure's page again with its errors (status 400)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from conseillers import services
from conseillers.choices import StatutAvenant
from conseillers.forms import AvenantDecisionForm, AvenantForm
from conseillers.models import Avenant
from structures.forms import add_service_error
from structures.selectors import can_edit_structure, structures_visible_to

AVENANT_BADGES = {
    StatutAvenant.EN_COURS: "badge-warning",
    StatutAvenant.VALIDEE: "badge-success",
    StatutAvenant.REFUSEE: "badge-danger",
}


def avenants_context(user, structure, *, avenant_form=None, decision_form=None):
    """What the "Avenants" section of a structure's page shows to ``user``."""
    avenants = list(structure.avenants.order_by("-date_demande", "-pk"))
    for avenant in avenants:
        avenant.badge = AVENANT_BADGES.get(avenant.statut, "badge-neutral")
    context = {
        "avenants": avenants,
        "avenant_pending": next((a for a in avenants if a.statut == StatutAvenant.EN_COURS), None),
        "can_decide_avenants": user.is_staff,
        "decision_form": decision_form,
    }
    if user.is_staff or can_edit_structure(user, structure):
        context["avenant_form"] = avenant_form or AvenantForm()
    return context


def _section_url(structure):
    return reverse("structures:detail", args=[structure.uuid]) + "#avenants"


def _structure_page_with_errors(request, structure, **forms):
    # Imported here: the structures app renders this section, so it cannot be imported at module level both ways.
    from structures.views.backoffice import structure_page

    return structure_page(request, structure, status=400, **forms)


@login_required
@require_POST
def avenant_request(request, uuid):
    structure = get_object_or_404(structures_visible_to(request.user), uuid=uuid)
    form = AvenantForm(request.POST)
    if form.is_valid():
        try:
            services.avenant_request(
                structure=structure, date_demande=timezone.localdate(), by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "La demande d'avenant est enregistrée : elle est en cours d'instruction.")
            return redirect(_section_url(structure))
    return _structure_page_with_errors(request, structure, avenant_form=form)


@login_required
@require_POST
def avenant_decide(request, uuid):
    avenant = get_object_or_404(
        Avenant.objects.filter(structure__in=structures_visible_to(request.user)).select_related("structure"),
        uuid=uuid,
    )
    form = AvenantDecisionForm(request.POST)
    if form.is_valid():
        try:
            avenant = services.avenant_decide(
                avenant=avenant, statut=form.cleaned_data["statut"], date=timezone.localdate(), by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"La demande d'avenant est « {avenant.get_statut_display().lower()} ».")
            return redirect(_section_url(avenant.structure))
    return _structure_page_with_errors(request, avenant.structure, decision_form=form)
