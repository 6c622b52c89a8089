"""Back-office pages of recruitment (mises en relation): the list of the records a user follows (staff all, a
référent those of their structures) with its filters and the form to open one, and a record's page offering only
the statuses of the national workflow reachable from the current one. Writes go through ``conseillers.services``,
which refuses a hire beyond the posts granted to the structure."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from conseillers import selectors, services
from conseillers.choices import StatutMiseEnRelation
from conseillers.forms import MiseEnRelationFilterForm, MiseEnRelationForm, MiseEnRelationStatutForm
from structures.forms import add_service_error
from structures.selectors import structures_editable_by

from .common import query_string

PAGE_SIZE = 50

S = StatutMiseEnRelation
STATUT_BADGES = {
    S.NOUVELLE: "badge-warning",
    S.INTERESSEE: "badge-warning",
    S.RECRUTEE: "badge-success",
    S.FINALISEE: "badge-success",
    S.RENOUVELLEMENT_INITIEE: "badge-success",
    S.NOUVELLE_RUPTURE: "badge-danger",
    S.FINALISEE_RUPTURE: "badge-danger",
}


def statut_badge(statut):
    return STATUT_BADGES.get(statut, "badge-neutral")


def _can_open(user):
    return user.is_staff or structures_editable_by(user).exists()


def _creation_form(user, data=None):
    return MiseEnRelationForm(
        data,
        conseillers=selectors.conseillers_visible_to(user),
        structures=structures_editable_by(user),
    )


# --- The list ---------------------------------------------------------------------------------------------------
def _list_page(request, *, creation_form=None, status=200):
    user = request.user
    visible = selectors.mises_en_relation_visible_to(user)
    form = MiseEnRelationFilterForm(
        request.GET or None,
        structures=structures_editable_by(user),
        conseillers=selectors.conseillers_visible_to(user),
    )
    filters = form.filters() if form.is_bound else {}
    records = visible.filter(**filters).order_by("structure__nom", "conseiller__nom", "conseiller__prenom", "pk")
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    for record in page.object_list:
        record.badge = statut_badge(record.statut)
    context = {
        "form": form,
        "page": page,
        "query": query_string(request),
        "filtered": bool(filters),
    }
    if _can_open(user):
        context["creation_form"] = creation_form or _creation_form(user)
    return render(request, "conseillers/recrutement_list.html", context, status=status)


@login_required
@require_safe
def recrutement_list(request):
    return _list_page(request)


@login_required
@require_POST
def recrutement_create(request):
    user = request.user
    if not _can_open(user):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de structure ouvrent des recrutements.")
    form = _creation_form(user, request.POST)
    if form.is_valid():
        try:
            record = services.mise_en_relation_create(by=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"La candidature de {record.conseiller} auprès de {record.structure} est ouverte."
            )
            return redirect("conseillers:recrutement", uuid=record.uuid)
    return _list_page(request, creation_form=form, status=400)


# --- A record's page --------------------------------------------------------------------------------------------
def _visible_record(request, uuid):
    return get_object_or_404(selectors.mises_en_relation_visible_to(request.user), uuid=uuid)


def _record_page(request, record, *, statut_form=None, status=200):
    return render(
        request,
        "conseillers/recrutement_detail.html",
        {
            "record": record,
            "badge": statut_badge(record.statut),
            "statut_form": statut_form or MiseEnRelationStatutForm(current=record.statut),
        },
        status=status,
    )


@login_required
@require_safe
def recrutement_detail(request, uuid):
    return _record_page(request, _visible_record(request, uuid))


@login_required
@require_POST
def recrutement_statut(request, uuid):
    record = _visible_record(request, uuid)
    form = MiseEnRelationStatutForm(request.POST, current=record.statut)
    if form.is_valid():
        try:
            record = services.mise_en_relation_transition(
                mise_en_relation=record,
                statut=form.cleaned_data["statut"],
                date=form.cleaned_data["date"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Candidature de {record.conseiller} : « {record.get_statut_display()} ».")
            return redirect("conseillers:recrutement", uuid=record.uuid)
    return _record_page(request, record, statut_form=form, status=400)
