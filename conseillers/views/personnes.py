"""Back-office pages of conseillers: the list (search, structure, training status), a conseiller's profile with
contracts, trainings (status of each year), posts held and coordination, and the forms to record or correct a
person and add a training. Staff edit everyone, a référent the conseillers of their structure."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conseillers import selectors, services
from conseillers.forms import ConseillerFilterForm, ConseillerForm, FormationForm
from conseillers.models import Affectation, Conseiller
from structures.forms import add_service_error
from structures.selectors import structures_editable_by, structures_visible_to

from .common import TRAINING_BADGES, posted, query_string
from .recrutements import statut_badge

PAGE_SIZE = 50


def _training_label(status):
    return selectors.TrainingStatus.LABELS.get(status, "Hors programme")


# --- The list ---------------------------------------------------------------------------------------------------
@login_required
@require_safe
def conseiller_list(request):
    user = request.user
    today = timezone.localdate()
    form = ConseillerFilterForm(request.GET or None, structures=structures_visible_to(user))
    filters = form.filters() if form.is_bound else {}
    current = Affectation.objects.filter(conseiller=OuterRef("pk"), date_fin__isnull=True)
    conseillers = (
        selectors.with_training_status(selectors.conseillers_visible_to(user), today.year, today=today)
        .select_related("coordinateur")
        .annotate(
            structure_actuelle=Subquery(current.values("poste__structure__nom")[:1]),
            poste_actuel=Subquery(current.values("poste__uuid")[:1]),
        )
    )
    if q := filters.get("q"):
        conseillers = conseillers.filter(Q(nom__icontains=q) | Q(prenom__icontains=q) | Q(email__icontains=q))
    if structure := filters.get("structure"):
        conseillers = conseillers.filter(pk__in=selectors.conseillers_of_structures([structure.pk]).values("pk"))
    if formation := filters.get("formation"):
        if formation == "aucune":
            conseillers = conseillers.filter(training_status__isnull=True)
        else:
            conseillers = conseillers.filter(training_status=formation)
    page = Paginator(conseillers.order_by("nom", "prenom", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    for conseiller in page.object_list:
        conseiller.formation_badge = TRAINING_BADGES.get(conseiller.training_status, "badge-neutral")
        conseiller.formation_label = _training_label(conseiller.training_status)
    return render(
        request,
        "conseillers/conseiller_list.html",
        {
            "form": form,
            "page": page,
            "query": query_string(request),
            "filtered": bool(filters),
            "year": today.year,
            "can_create": _can_create(user),
        },
    )


def _can_create(user):
    return user.is_staff or structures_editable_by(user).exists()


# --- A conseiller's page ----------------------------------------------------------------------------------------
def _visible_conseiller(request, uuid):
    return get_object_or_404(selectors.conseillers_visible_to(request.user), uuid=uuid)


def training_years(conseiller, *, today):
    """The continuing-training rule for each year since the person's first contract (one query per year)."""
    years = []
    first = min((contrat.date_debut for contrat in conseiller.contrats.all()), default=None)
    if first is None:
        return years
    for year in range(today.year, first.year - 1, -1):
        row = (
            selectors.with_training_status(Conseiller.objects.filter(pk=conseiller.pk), year, today=today)
            .values("modules_faits", "modules_requis", "training_status")
            .get()
        )
        row.update(
            year=year,
            label=_training_label(row["training_status"]),
            badge=TRAINING_BADGES.get(row["training_status"], "badge-neutral"),
        )
        years.append(row)
    return years


def _recrutements(user, conseiller):
    records = list(
        selectors.mises_en_relation_visible_to(user).filter(conseiller=conseiller).order_by("structure__nom", "pk")
    )
    for record in records:
        record.badge = statut_badge(record.statut)
    return records


def _conseiller_page(request, conseiller, *, formation_form=None, status=200):
    user = request.user
    today = timezone.localdate()
    conseiller = selectors.conseiller_detail(conseiller)
    can_edit = selectors.conseillers_editable_by(user).filter(pk=conseiller.pk).exists()
    context = {
        "conseiller": conseiller,
        "contrats": sorted(conseiller.contrats.all(), key=lambda c: c.date_debut, reverse=True),
        "formations": list(conseiller.formations.all()),
        "affectations": list(conseiller.affectations.all()),
        "training_years": training_years(conseiller, today=today),
        "coordonnes": (
            selectors.conseillers_visible_to(user).filter(coordinateur=conseiller).order_by("nom", "prenom")
            if conseiller.est_coordinateur
            else []
        ),
        "can_edit": can_edit,
        "recrutements": _recrutements(user, conseiller),
        "can_follow_recrutements": user.is_staff or structures_editable_by(user).exists(),
    }
    if can_edit:
        context["formation_form"] = formation_form or FormationForm()
    return render(request, "conseillers/conseiller_detail.html", context, status=status)


@login_required
@require_safe
def conseiller_detail(request, uuid):
    return _conseiller_page(request, _visible_conseiller(request, uuid))


@login_required
@require_POST
def formation_add(request, uuid):
    conseiller = _visible_conseiller(request, uuid)
    form = FormationForm(request.POST)
    if form.is_valid():
        try:
            formation = services.formation_add(conseiller=conseiller, by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"La formation « {formation.intitule} » a été enregistrée.")
            return redirect(reverse("conseillers:conseiller", args=[conseiller.uuid]) + "#formations")
    return _conseiller_page(request, conseiller, formation_form=form, status=400)


# --- Recording and correcting a person --------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def conseiller_create(request):
    user = request.user
    if not _can_create(user):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de structure enregistrent des conseillers.")
    form = ConseillerForm(
        posted(request),
        user=user,
        coordinateurs=selectors.conseillers_visible_to(user),
        structures=structures_editable_by(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            conseiller = services.conseiller_create(
                by=user, structure=form.cleaned_data.get("structure"), **form.service_fields()
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{conseiller} a été enregistré(e).")
            return redirect("conseillers:conseiller", uuid=conseiller.uuid)
    status = 400 if form.is_bound else 200
    return render(request, "conseillers/conseiller_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def conseiller_edit(request, uuid):
    user = request.user
    conseiller = get_object_or_404(selectors.conseillers_editable_by(user).select_related("coordinateur"), uuid=uuid)
    # The form works on a copy, so that the page keeps the saved name when the input is refused.
    form = ConseillerForm(
        posted(request),
        instance=copy.copy(conseiller),
        user=user,
        coordinateurs=selectors.conseillers_visible_to(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            conseiller = services.conseiller_update(conseiller=conseiller, by=user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Les modifications ont été enregistrées.")
            return redirect("conseillers:conseiller", uuid=conseiller.uuid)
    status = 400 if form.is_bound else 200
    return render(request, "conseillers/conseiller_form.html", {"form": form, "conseiller": conseiller}, status=status)
