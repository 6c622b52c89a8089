"""The structures' Aidants Connect habilitation requests: the open requests (staff: every structure; a référent:
their structures), and a structure's page with its requests, a new request and each request's next steps."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from aidants import selectors, services
from aidants.forms import DemandeForm, DemandeTransitionForm
from aidants.models import StatutHabilitation
from structures.forms import add_service_error
from structures.selectors import structures_editable_by

BADGES = {
    StatutHabilitation.BROUILLON: "badge-neutral",
    StatutHabilitation.EN_ATTENTE: "badge-warning",
    StatutHabilitation.VALIDEE: "badge-success",
    StatutHabilitation.REFUSEE: "badge-danger",
    StatutHabilitation.CLOTUREE: "badge-neutral",
}


def _require_editor_somewhere(user):
    if not user.is_staff and not structures_editable_by(user).exists():
        raise PermissionDenied(
            "Les demandes d'habilitation sont suivies par l'équipe Sicoval et les référents de structure."
        )


@login_required
@require_safe
def demande_list(request):
    user = request.user
    _require_editor_somewhere(user)
    demandes = list(selectors.demandes_ouvertes(user))
    for demande in demandes:
        demande.badge = BADGES[demande.statut]
    structures = [] if user.is_staff else list(structures_editable_by(user).order_by("nom"))
    return render(request, "aidants/demande_list.html", {"demandes": demandes, "structures": structures})


def _transition_form(demande, user, data=None):
    return DemandeTransitionForm(data, current=demande.statut, user=user, prefix=f"d-{demande.uuid.hex[:12]}")


def _structure_page(request, structure, *, form=None, failed=None, status=200):
    user = request.user
    demandes = list(selectors.demandes_of_structure(structure))
    has_open = False
    for demande in demandes:
        demande.badge = BADGES[demande.statut]
        has_open = has_open or demande.statut in selectors.OPEN_STATUSES
        demande.form = failed if failed is not None and failed.demande_pk == demande.pk else None
        if demande.form is None:
            demande.form = _transition_form(demande, user)
    context = {"structure": structure, "demandes": demandes, "has_open": has_open}
    if form is not None or (not has_open and not structure.habilitee_aidants_connect):
        context["form"] = form or DemandeForm(structure=structure)
    return render(request, "aidants/demande_structure.html", context, status=status)


def _editable_structure(request, uuid):
    return get_object_or_404(structures_editable_by(request.user).select_related("commune"), uuid=uuid)


def _structure_url(structure):
    return reverse("aidants:habilitations_structure", args=[structure.uuid])


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def demande_structure(request, uuid):
    structure = _editable_structure(request, uuid)
    if request.method != "POST":
        return _structure_page(request, structure)
    form = DemandeForm(request.POST, structure=structure)
    if form.is_valid():
        try:
            services.demande_create(structure=structure, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "La demande d'habilitation a été créée (brouillon).")
            return redirect(_structure_url(structure))
    return _structure_page(request, structure, form=form, status=400)


@login_required
@require_POST
def demande_transition(request, uuid):
    demande = get_object_or_404(selectors.demandes_visible_to(request.user).select_related("structure"), uuid=uuid)
    form = _transition_form(demande, request.user, request.POST)
    if form.is_valid():
        try:
            services.demande_transition(
                demande=demande,
                by=request.user,
                statut=form.cleaned_data["statut"],
                motif=form.cleaned_data["motif"],
                date=form.cleaned_data["date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            demande.refresh_from_db()
            messages.success(request, f"La demande est désormais « {demande.get_statut_display()} ».")
            return redirect(_structure_url(demande.structure))
    form.demande_pk = demande.pk
    structure = demande.structure
    structure.refresh_from_db()
    return _structure_page(request, structure, failed=form, status=400)
