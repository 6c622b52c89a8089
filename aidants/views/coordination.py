"""The coordination log of Sicoval staff: the list with filters (type, period, the whole team or yourself) and its
totals per type, the form to record or correct one of your activities, and removing one (kept, no longer counted).
Staff only: others get 403; another member's activity cannot be changed (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from aidants import selectors_evenements as selectors
from aidants import services_coordination as services
from aidants.forms_evenements import CoordinationFilterForm, CoordinationForm
from conseillers.views.common import posted, query_string
from structures.forms import add_service_error

PAGE_SIZE = 50
STAFF_ONLY = "Le journal de coordination est réservé à l'équipe Sicoval."


def _require_staff(user):
    if not user.is_staff:
        raise PermissionDenied(STAFF_ONLY)


def _own(request, uuid):
    _require_staff(request.user)
    queryset = selectors.coordinations_visible_to(request.user).filter(auteur=request.user)
    return get_object_or_404(queryset.prefetch_related("structures_partenaires"), uuid=uuid)


@login_required
@require_safe
def coordination_list(request):
    user = request.user
    _require_staff(user)
    form = CoordinationFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    tous = filters.pop("tous", False)
    activites = selectors.coordination_list(user, auteur=None if tous else user, **filters)
    page = Paginator(activites, PAGE_SIZE).get_page(request.GET.get("page"))
    totaux = selectors.totals_of(activites)
    return render(
        request,
        "aidants/coordination/coordination_list.html",
        {
            "form": form,
            "page": page,
            "query": query_string(request),
            "filtered": bool(filters) or tous,
            "tous": tous,
            "totaux": [totaux[key] for key in ("animation", "evenement", "partenariat", "total")],
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def coordination_create(request):
    _require_staff(request.user)
    form = CoordinationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            activite = services.coordination_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"L'activité « {activite.intitule} » est enregistrée.")
            return redirect("aidants:coordination_list")
    status = 400 if form.is_bound else 200
    return render(request, "aidants/coordination/coordination_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def coordination_edit(request, uuid):
    activite = _own(request, uuid)
    form = CoordinationForm(posted(request), activite=activite)
    if request.method == "POST" and form.is_valid():
        try:
            services.coordination_update(activite=activite, by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Les modifications de l'activité sont enregistrées.")
            return redirect("aidants:coordination_list")
    status = 400 if form.is_bound else 200
    return render(
        request, "aidants/coordination/coordination_form.html", {"form": form, "activite": activite}, status=status
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def coordination_delete(request, uuid):
    activite = _own(request, uuid)
    if request.method == "POST":
        services.coordination_delete(activite=activite, by=request.user)
        messages.success(request, f"L'activité « {activite.intitule} » est supprimée.")
        return redirect("aidants:coordination_list")
    return render(request, "aidants/coordination/coordination_delete.html", {"activite": activite})
