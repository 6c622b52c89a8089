"""The aidants directory (search and filters, 50 per page, exports), an aidant's page, and the forms to record or
correct an aidant, add a training, link an account and (de)activate. Staff, référents, conseillers and aidants read
the network; staff and the structure's référents edit."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accompagnements.choices import THEMATIQUE_LABELS
from aidants import exports, selectors, services
from aidants.forms import AccountForm, ActifForm, AidantFilterForm, AidantForm, FormationAidantForm
from conseillers.views.common import posted, query_string
from structures.forms import add_service_error
from structures.selectors import structures_editable_by

PAGE_SIZE = 50
HISTORY_LENGTH = 30
NOT_ALLOWED = "L'annuaire des aidants est réservé à l'équipe Sicoval, aux référents, conseillers et aidants."


def _require_directory(user):
    if not selectors.can_see_directory(user):
        raise PermissionDenied(NOT_ALLOWED)


def _can_create(user):
    return user.is_staff or structures_editable_by(user).exists()


def _directory(request):
    user = request.user
    _require_directory(user)
    can_edit_any = _can_create(user)
    form = AidantFilterForm(
        request.GET or None, structures=selectors.directory_structures(user), with_inactive=can_edit_any
    )
    filters = form.filters() if form.is_bound else {}
    aidants = selectors.directory(user, **filters)
    return form, filters, aidants, can_edit_any


def _decorate(aidant):
    aidant.thematiques_labels = [THEMATIQUE_LABELS.get(code, code) for code in aidant.thematiques or []]
    return aidant


@login_required
@require_safe
def aidant_list(request):
    form, filters, aidants, can_create = _directory(request)
    page = Paginator(aidants, PAGE_SIZE).get_page(request.GET.get("page"))
    for aidant in page.object_list:
        _decorate(aidant)
    return render(
        request,
        "aidants/aidant_list.html",
        {
            "form": form,
            "page": page,
            "query": query_string(request),
            "filtered": bool(filters),
            "can_create": can_create,
        },
    )


def _export_filename(extension):
    return f"aidants-{timezone.localdate():%Y-%m-%d}.{extension}"


@login_required
@require_safe
def aidant_export_csv(request):
    _form, _filters, aidants, _can = _directory(request)
    return exports.csv_response(aidants, filename=_export_filename("csv"))


@login_required
@require_safe
def aidant_export_xlsx(request):
    _form, _filters, aidants, _can = _directory(request)
    return exports.xlsx_response(aidants, filename=_export_filename("xlsx"))


# --- An aidant's page -----------------------------------------------------------------------------------------------
def _visible_aidant(request, uuid):
    _require_directory(request.user)
    aidant = selectors.aidant_detail(selectors.aidants_visible_to(request.user), uuid)
    if aidant is None:
        raise Http404("Aidant introuvable.")
    return aidant


def _editable_aidant(request, uuid):
    return get_object_or_404(selectors.aidants_editable_by(request.user).select_related("structure"), uuid=uuid)


def _aidant_page(request, aidant, *, formation_form=None, account_form=None, status=200):
    user = request.user
    can_edit = selectors.aidants_editable_by(user).filter(pk=aidant.pk).exists()
    context = {
        "aidant": _decorate(aidant),
        "communes": list(aidant.communes.all()),
        "formations": list(aidant.formations.all()),
        "can_edit": can_edit,
    }
    if can_edit:
        context.update(
            formation_form=formation_form or FormationAidantForm(),
            account_form=account_form or AccountForm(aidant=aidant, initial={"user": aidant.user_id}),
            history=selectors.aidant_history(aidant, limit=HISTORY_LENGTH),
            history_length=HISTORY_LENGTH,
        )
    return render(request, "aidants/aidant_detail.html", context, status=status)


@login_required
@require_safe
def aidant_detail(request, uuid):
    return _aidant_page(request, _visible_aidant(request, uuid))


def _detail_url(aidant, anchor=""):
    return reverse("aidants:aidant", args=[aidant.uuid]) + (f"#{anchor}" if anchor else "")


@login_required
@require_POST
def formation_add(request, uuid):
    aidant = _editable_aidant(request, uuid)
    form = FormationAidantForm(request.POST)
    if form.is_valid():
        try:
            formation = services.formation_add(aidant=aidant, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"La formation « {formation.get_type_display()} » a été enregistrée.")
            return redirect(_detail_url(aidant, "formations"))
    return _aidant_page(request, _visible_aidant(request, uuid), formation_form=form, status=400)


@login_required
@require_POST
def account_link(request, uuid):
    aidant = _editable_aidant(request, uuid)
    form = AccountForm(request.POST, aidant=aidant)
    if form.is_valid():
        try:
            services.aidant_link_account(aidant=aidant, user=form.cleaned_data["user"], by=request.user)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Le compte de l'aidant a été mis à jour.")
            return redirect(_detail_url(aidant, "compte"))
    return _aidant_page(request, _visible_aidant(request, uuid), account_form=form, status=400)


@login_required
@require_POST
def aidant_activity(request, uuid):
    aidant = _editable_aidant(request, uuid)
    form = ActifForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choix invalide : l'aidant n'a pas été modifié.")
        return _aidant_page(request, _visible_aidant(request, uuid), status=400)
    aidant = services.aidant_set_active(aidant=aidant, actif=form.cleaned_data["actif"], by=request.user)
    messages.success(request, f"{aidant} est désormais {'actif' if aidant.actif else 'inactif'}.")
    return redirect(_detail_url(aidant))


# --- Recording and correcting an aidant -----------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def aidant_create(request):
    user = request.user
    if not _can_create(user):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de structure enregistrent des aidants.")
    form = AidantForm(posted(request), structures=structures_editable_by(user))
    if request.method == "POST" and form.is_valid():
        try:
            aidant = services.aidant_create(by=user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{aidant} a été enregistré(e).")
            return redirect(_detail_url(aidant))
    status = 400 if form.is_bound else 200
    return render(request, "aidants/aidant_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def aidant_edit(request, uuid):
    user = request.user
    aidant = _editable_aidant(request, uuid)
    # The form works on a copy, so that the page keeps the saved name when the input is refused.
    form = AidantForm(posted(request), instance=copy.copy(aidant), structures=structures_editable_by(user))
    if request.method == "POST" and form.is_valid():
        try:
            aidant = services.aidant_update(aidant=aidant, by=user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Les modifications ont été enregistrées.")
            return redirect(_detail_url(aidant))
    status = 400 if form.is_bound else 200
    return render(request, "aidants/aidant_form.html", {"form": form, "aidant": aidant}, status=status)
