"""Back-office pages of structures and places: Sicoval staff edit everything, a référent their own structures and
places, funders read every structure. Reads go through the scoped selectors (another structure's object answers
404), writes through the services; a role without the right gets 403."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conseillers.views.avenants import avenants_context
from structures import choices, selectors, services
from structures.forms import (
    ArretForm,
    ConventionnementForm,
    LieuFilterForm,
    LieuForm,
    MembershipForm,
    StatutForm,
    StructureFilterForm,
    StructureForm,
    add_service_error,
)

PAGE_SIZE = 25
HISTORY_LENGTH = 30
PAST_STOPS_SHOWN = 20

STATUT_BADGES = {
    choices.StatutCandidature.CREEE: "badge-warning",
    choices.StatutCandidature.EXAMEN_COMPLEMENTAIRE_COSELEC: "badge-warning",
    choices.StatutCandidature.VALIDATION_COSELEC: "badge-success",
    choices.StatutCandidature.REFUS_COSELEC: "badge-danger",
    choices.StatutCandidature.REFUS_COORDINATEUR: "badge-danger",
}


def _query_string(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _detail_url(structure, anchor=""):
    return reverse("structures:detail", args=[structure.uuid]) + (f"#{anchor}" if anchor else "")


def _posted(request):
    """The submitted data of a POST (even an empty one, so that its errors show), None for a GET."""
    return request.POST if request.method == "POST" else None


def _require_staff(user, message):
    if not user.is_staff:
        raise PermissionDenied(message)


# --- Structures -------------------------------------------------------------------------------------------------
@login_required
@require_safe
def structure_list(request):
    user = request.user
    form = StructureFilterForm(request.GET or None, structures=selectors.structures_visible_to(user))
    filters = form.filters() if form.is_bound else {}
    structures = selectors.structure_list(user, **filters)
    page = Paginator(structures, PAGE_SIZE).get_page(request.GET.get("page"))
    for structure in page.object_list:
        structure.statut_badge = STATUT_BADGES.get(structure.statut, "badge-neutral")
    return render(
        request,
        "structures/backoffice/structure_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_string(request),
            "filtered": bool(filters),
            "can_create": user.is_staff,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def structure_create(request):
    _require_staff(request.user, "Seule l'équipe Sicoval crée des structures.")
    form = StructureForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            structure = services.structure_create(
                by=request.user,
                confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
                **form.service_fields(),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"La structure « {structure.nom} » a été créée.")
            return redirect(_detail_url(structure))
    status = 400 if form.is_bound else 200
    return render(request, "structures/backoffice/structure_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def structure_edit(request, uuid):
    structure = get_object_or_404(selectors.structures_editable_by(request.user).select_related("commune"), uuid=uuid)
    # The form works on a copy, so that the page keeps showing the saved name when the input is refused.
    form = StructureForm(_posted(request), instance=copy.copy(structure), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            structure = services.structure_update(
                structure=structure,
                by=request.user,
                confirm_not_duplicate=form.cleaned_data["confirm_not_duplicate"],
                **form.service_fields(),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Les modifications ont été enregistrées.")
            return redirect(_detail_url(structure))
    status = 400 if form.is_bound else 200
    return render(
        request, "structures/backoffice/structure_form.html", {"form": form, "structure": structure}, status=status
    )


def structure_page(request, structure, *, status=200, **bound_forms):
    """The detail page, also re-rendered with a refused status or member form (and its errors)."""
    user = request.user
    can_edit = selectors.can_edit_structure(user, structure)
    context = {
        "structure": structure,
        "statut_badge": STATUT_BADGES.get(structure.statut, "badge-neutral"),
        "can_edit": can_edit,
        # The rule of partenaires.services.can_manage_clients (staff, or a référent of the structure), without
        # querying it again.
        "can_manage_clients": can_edit,
        "can_change_statuses": user.is_staff,
        "lieux": structure.lieux.select_related("commune").order_by("nom"),
        "members": selectors.structure_members(structure),
        "history": selectors.structure_history(structure, limit=HISTORY_LENGTH),
        "history_length": HISTORY_LENGTH,
    }
    if user.is_staff:
        context["statut_form"] = bound_forms.get("statut_form") or StatutForm(current=structure.statut)
        context["conventionnement_form"] = bound_forms.get("conventionnement_form") or ConventionnementForm(
            current=structure.conventionnement
        )
    if can_edit:
        context["membership_form"] = bound_forms.get("membership_form") or MembershipForm(
            roles=services.grantable_roles(user)
        )
        context["grantable_roles"] = services.grantable_roles(user)
    context.update(
        avenants_context(
            user,
            structure,
            avenant_form=bound_forms.get("avenant_form"),
            decision_form=bound_forms.get("decision_form"),
        )
    )
    return render(request, "structures/backoffice/structure_detail.html", context, status=status)


def _visible_structure(request, uuid):
    return get_object_or_404(selectors.structures_visible_to(request.user).select_related("commune"), uuid=uuid)


@login_required
@require_safe
def structure_detail(request, uuid):
    return structure_page(request, _visible_structure(request, uuid))


def _change_status(request, uuid, *, form_class, field, service, label, refused):
    """A status change posted from the structure's page: staff only, through its service, back to the page."""
    structure = _visible_structure(request, uuid)
    _require_staff(request.user, refused)
    form = form_class(request.POST, current=getattr(structure, field))
    if form.is_valid():
        try:
            structure = service(structure=structure, by=request.user, **{field: form.cleaned_data[field]})
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{label} : « {getattr(structure, f'get_{field}_display')()} ».")
            return redirect(_detail_url(structure, "statuts"))
    return structure_page(request, structure, status=400, **{f"{field}_form": form})


@login_required
@require_POST
def structure_statut(request, uuid):
    return _change_status(
        request,
        uuid,
        form_class=StatutForm,
        field="statut",
        service=services.structure_change_statut,
        label="Statut de la candidature",
        refused="Seule l'équipe Sicoval change le statut d'une candidature.",
    )


@login_required
@require_POST
def structure_conventionnement(request, uuid):
    return _change_status(
        request,
        uuid,
        form_class=ConventionnementForm,
        field="conventionnement",
        service=services.structure_change_conventionnement,
        label="Conventionnement",
        refused="Seule l'équipe Sicoval change le conventionnement d'une structure.",
    )


# --- Members ----------------------------------------------------------------------------------------------------
@login_required
@require_POST
def membership_add(request, uuid):
    structure = get_object_or_404(selectors.structures_editable_by(request.user).select_related("commune"), uuid=uuid)
    form = MembershipForm(request.POST, roles=services.grantable_roles(request.user))
    if form.is_valid():
        try:
            membership = services.membership_add(
                structure=structure, user=form.user, role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"{membership.user} a le rôle « {membership.get_role_display()} » dans la structure."
            )
            return redirect(_detail_url(structure, "membres"))
    return structure_page(request, structure, membership_form=form, status=400)


@login_required
@require_POST
def membership_remove(request, pk):
    user = request.user
    memberships = selectors.memberships_editable_by(user)
    membership = get_object_or_404(memberships.select_related("structure", "user"), pk=pk)
    if membership.role not in services.grantable_roles(user):
        raise PermissionDenied("Seule l'équipe Sicoval retire ce rôle.")
    structure = membership.structure
    services.membership_remove(membership=membership, by=user)
    messages.success(request, f"{membership.user} n'a plus le rôle « {membership.get_role_display()} ».")
    return redirect(_detail_url(structure, "membres"))


# --- Places -----------------------------------------------------------------------------------------------------
@login_required
@require_safe
def lieu_list(request):
    form = LieuFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    lieux = selectors.lieux_visible_to(request.user)
    if filters.get("q"):
        q = filters["q"]
        lieux = lieux.filter(models.Q(nom__icontains=q) | models.Q(structure__nom__icontains=q))
    if filters.get("publication"):
        lieux = lieux.filter(is_active=filters["publication"] == "publie")
    if filters.get("itinerance"):
        lieux = lieux.filter(itinerance=filters["itinerance"])
    page = Paginator(lieux.order_by("commune__nom", "nom", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "structures/backoffice/lieu_list.html",
        {"form": form, "page": page, "query": _query_string(request), "filtered": bool(filters)},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def lieu_create(request, uuid):
    structure = get_object_or_404(selectors.structures_editable_by(request.user).select_related("commune"), uuid=uuid)
    initial = {"commune": structure.commune, "code_postal": structure.code_postal, "adresse": structure.adresse}
    form = LieuForm(_posted(request), initial=initial)
    form.instance.structure = structure
    if request.method == "POST" and form.is_valid():
        try:
            lieu = services.lieu_create(structure=structure, by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Le lieu « {lieu.nom} » a été créé.")
            return redirect("structures:lieu_edit", uuid=lieu.uuid)
    status = 400 if form.is_bound else 200
    return render(
        request, "structures/backoffice/lieu_form.html", {"form": form, "structure": structure}, status=status
    )


def _lieu_page(request, lieu, *, form=None, arret_form=None, status=200):
    context = {"lieu": lieu, "structure": lieu.structure, "form": form or LieuForm(instance=copy.copy(lieu))}
    if lieu.is_itinerant or arret_form is not None:
        today = timezone.localdate()
        arrets = lieu.arrets.select_related("commune")
        context.update(
            {
                "arrets_a_venir": arrets.filter(date__gte=today).order_by("date", "heure_debut"),
                "arrets_passes": arrets.filter(date__lt=today).order_by("-date", "-heure_debut")[:PAST_STOPS_SHOWN],
                "past_stops_caption": f"Arrêts passés (les {PAST_STOPS_SHOWN} derniers au plus)",
                "arret_form": arret_form or ArretForm(initial={"commune": lieu.commune}),
            }
        )
    return render(request, "structures/backoffice/lieu_form.html", context, status=status)


def _visible_lieu(request, uuid):
    return get_object_or_404(selectors.lieux_visible_to(request.user), uuid=uuid)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def lieu_edit(request, uuid):
    lieu = _visible_lieu(request, uuid)
    if request.method != "POST":
        return _lieu_page(request, lieu)
    form = LieuForm(request.POST, instance=copy.copy(lieu))
    if form.is_valid():
        try:
            lieu = services.lieu_update(lieu=lieu, by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Le lieu « {lieu.nom} » a été enregistré.")
            return redirect("structures:lieu_edit", uuid=lieu.uuid)
    return _lieu_page(request, lieu, form=form, status=400)


@login_required
@require_POST
def lieu_toggle(request, uuid):
    lieu = _visible_lieu(request, uuid)
    action = request.POST.get("action")
    if action not in {"publier", "retirer"}:
        messages.error(request, "Action inconnue : choisissez de publier ou de retirer le lieu.")
        return redirect("structures:lieu_edit", uuid=lieu.uuid)
    lieu = services.lieu_set_active(lieu=lieu, is_active=action == "publier", by=request.user)
    if lieu.is_active:
        messages.success(request, f"Le lieu « {lieu.nom} » est publié.")
    else:
        messages.success(request, f"Le lieu « {lieu.nom} » est retiré de la publication.")
    if request.POST.get("next") == "list":
        return redirect("structures:lieux")
    return redirect("structures:lieu_edit", uuid=lieu.uuid)


@login_required
@require_POST
def arret_create(request, uuid):
    lieu = _visible_lieu(request, uuid)
    form = ArretForm(request.POST)
    form.instance.lieu = lieu
    if form.is_valid():
        try:
            arret = services.arret_create(lieu=lieu, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Arrêt ajouté : {arret.commune.nom}, le {arret.date:%d/%m/%Y}.")
            return redirect(reverse("structures:lieu_edit", args=[lieu.uuid]) + "#arrets")
    return _lieu_page(request, lieu, arret_form=form, status=400)


@login_required
@require_POST
def arret_delete(request, uuid):
    arrets = selectors.arrets_editable_by(request.user)
    arret = get_object_or_404(arrets.select_related("lieu", "commune"), uuid=uuid)
    lieu = arret.lieu
    services.arret_delete(arret=arret, by=request.user)
    messages.success(request, f"L'arrêt de {arret.commune.nom} du {arret.date:%d/%m/%Y} a été supprimé.")
    return redirect(reverse("structures:lieu_edit", args=[lieu.uuid]) + "#arrets")
