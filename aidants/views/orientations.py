"""Referrals (orientations) in the browser: 'Orienter une personne' (an aidant, or staff on behalf of one), 'Mes
orientations' (the aidant: status and outcome), 'Orientations reçues' (the conseiller: take in charge, close with the
activity, redirect), a referral's page with its status history, and staff's follow-up with the late ones (still new
after 3 working days). Views are thin: selectors scope every read, services do every write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accompagnements.choices import THEMATIQUE_LABELS
from aidants import selectors_orientations as sel
from aidants import services_orientations as services
from aidants.forms_orientations import ClotureForm, OrientationForm, ReorientationForm, StatutFilterForm
from aidants.models import StatutOrientation
from structures.forms import add_service_error

PAGE_SIZE = 50
BADGES = {
    StatutOrientation.NOUVELLE: "badge-warning",
    StatutOrientation.ACCEPTEE: "",
    StatutOrientation.REALISEE: "badge-success",
    StatutOrientation.REORIENTEE: "badge-neutral",
    StatutOrientation.ANNULEE: "badge-neutral",
}


def _decorate(orientation, cutoff=None):
    orientation.thematiques_labels = [THEMATIQUE_LABELS.get(t, t) for t in orientation.thematiques or []]
    orientation.badge = BADGES.get(orientation.statut, "badge-neutral")
    if cutoff is not None:
        orientation.late = sel.is_late(orientation, cutoff=cutoff)
    return orientation


def _filtered(request, qs):
    form = StatutFilterForm(request.GET or None)
    statut = form.statut_value() if form.is_bound else ""
    if statut == "ouvertes":
        qs = qs.filter(statut__in=sel.OPEN_STATUSES)
    elif statut:
        qs = qs.filter(statut=statut)
    return form, qs


def _page(request, qs, cutoff=None):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for orientation in page.object_list:
        _decorate(orientation, cutoff)
    return page


def _query(request):
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- Sending ------------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def orientation_create(request):
    user = request.user
    own = sel.aidant_of(user)
    if own is None and not user.is_staff:
        raise PermissionDenied(
            "Seuls les aidants dont le compte est relié à leur fiche d'aidant orientent une personne."
        )
    with_aidant = own is None
    if request.method == "POST":
        form = OrientationForm(request.POST, with_aidant=with_aidant)
        if form.is_valid():
            try:
                orientation = services.orientation_create(by=user, **form.service_kwargs())
            except ValidationError as error:
                add_service_error(form, error)
            else:
                if orientation.conseiller_id:
                    who = f"{orientation.conseiller.prenom} {orientation.conseiller.nom}"
                    messages.success(request, f"L'orientation a été envoyée à {who}, conseiller numérique.")
                else:
                    messages.success(request, "L'orientation a été envoyée : l'équipe Sicoval la suit.")
                return redirect(reverse("aidants:orientation_detail", args=[orientation.uuid]))
        status = 400
    else:
        form = OrientationForm(with_aidant=with_aidant)
        status = 200
    return render(request, "aidants/orientations/orientation_form.html", {"form": form}, status=status)


# --- Lists --------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def orientation_list(request):
    """'Mes orientations': the aidant's own referrals, status and outcome only."""
    if sel.aidant_of(request.user) is None and not sel.orientations_sent_by(request.user).exists():
        raise PermissionDenied("Cette page est celle des aidants qui orientent des personnes.")
    form, qs = _filtered(request, sel.orientations_sent_by(request.user))
    page = _page(request, qs)
    return render(
        request,
        "aidants/orientations/orientation_list.html",
        {"form": form, "page": page, "query": _query(request), "can_create": sel.aidant_of(request.user) is not None},
    )


@login_required
@require_safe
def orientation_recues(request):
    """'Orientations reçues': the referrals addressed to the conseiller, open ones first."""
    if sel.conseiller_of_user(request.user) is None:
        raise PermissionDenied("Cette page est celle des conseillers numériques.")
    form, qs = _filtered(request, sel.orientations_received_by(request.user))
    page = _page(request, qs)
    return render(
        request, "aidants/orientations/orientation_recues.html", {"form": form, "page": page, "query": _query(request)}
    )


@login_required
@require_safe
def orientation_suivi(request):
    """Staff's follow-up: the late ones (still new after 3 working days), then every referral (no personal data)."""
    if not request.user.is_staff:
        raise PermissionDenied("Le suivi des orientations est réservé à l'équipe Sicoval.")
    now = timezone.now()
    cutoff = sel.working_days_cutoff(now)
    late = [_decorate(o, cutoff) for o in sel.orientations_en_retard(now)]
    for orientation in late:
        orientation.jours_ouvres = sel.working_days_between(orientation.created_at, now)
    form, qs = _filtered(request, sel.orientations_visible_to(request.user))
    page = _page(request, qs, cutoff)
    return render(
        request,
        "aidants/orientations/orientation_suivi.html",
        {"form": form, "page": page, "query": _query(request), "late": late, "delai": sel.LATE_WORKING_DAYS},
    )


# --- One referral -------------------------------------------------------------------------------------------------
def _visible(request, uuid):
    return get_object_or_404(sel.orientations_visible_to(request.user), uuid=uuid)


def _own_structures(user):
    from structures.models import Structure

    return lambda: Structure.objects.filter(memberships__user=user).values_list("pk", flat=True)


def _detail(request, orientation, *, cloture=None, reorientation=None, status=200):
    user = request.user
    _decorate(orientation)
    assigned = orientation.conseiller_id is not None and orientation.conseiller.user_id == user.pk
    is_author = orientation.aidant.user_id == user.pk
    statut = orientation.statut
    context = {
        "orientation": orientation,
        "sees_person": sel.sees_person(user, orientation),
        "assigned": assigned,
        "is_author": is_author,
        "history": sel.status_history(orientation),
        "late": sel.is_late(orientation),
        "retention_until": services.orientation_retention_until(orientation),
        "can_accept": assigned and statut == StatutOrientation.NOUVELLE,
        "can_close": assigned and statut == StatutOrientation.ACCEPTEE,
        "can_redirect": (assigned or user.is_staff) and statut in sel.OPEN_STATUSES,
        "can_cancel": (is_author or user.is_staff) and statut == StatutOrientation.NOUVELLE,
    }
    if context["can_close"]:
        context["cloture"] = cloture or ClotureForm(
            initial={"type_lieu": "lieu_activite"}, own_structures=_own_structures(user), prefix="cloture"
        )
    if context["can_redirect"]:
        context["reorientation"] = reorientation or ReorientationForm(prefix="reorientation")
    return render(request, "aidants/orientations/orientation_detail.html", context, status=status)


@login_required
@require_safe
def orientation_detail(request, uuid):
    return _detail(request, _visible(request, uuid))


def _done(request, orientation, message):
    messages.success(request, message)
    return redirect(reverse("aidants:orientation_detail", args=[orientation.uuid]))


def _refused(request, orientation, error):
    """A transition the service refused (already moved by someone else): said above the page, 400."""
    messages.error(request, " ".join(error.messages))
    orientation.refresh_from_db()
    return _detail(request, orientation, status=400)


@login_required
@require_POST
def orientation_accept(request, uuid):
    orientation = _visible(request, uuid)
    try:
        services.orientation_accept(orientation=orientation, by=request.user)
    except ValidationError as error:
        return _refused(request, orientation, error)
    return _done(request, orientation, "Vous avez pris en charge l'orientation : contactez la personne.")


@login_required
@require_POST
def orientation_close(request, uuid):
    orientation = _visible(request, uuid)
    form = ClotureForm(request.POST, own_structures=_own_structures(request.user), prefix="cloture")
    if form.is_valid():
        try:
            services.orientation_close_done(orientation=orientation, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return _done(
                request, orientation, "L'orientation est close : l'accompagnement est enregistré dans votre journal."
            )
    if not (orientation.conseiller_id and orientation.conseiller.user_id == request.user.pk):
        raise PermissionDenied("Seul le conseiller à qui l'orientation est adressée peut la traiter.")
    orientation.refresh_from_db()
    if orientation.statut != StatutOrientation.ACCEPTEE:
        messages.error(request, "Cette orientation n'est pas (ou plus) prise en charge : elle ne peut pas être close.")
    return _detail(request, orientation, cloture=form, status=400)


@login_required
@require_POST
def orientation_redirect(request, uuid):
    orientation = _visible(request, uuid)
    form = ReorientationForm(request.POST, prefix="reorientation")
    if form.is_valid():
        try:
            services.orientation_redirect(orientation=orientation, by=request.user, motif=form.cleaned_data["motif"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return _done(request, orientation, "L'orientation est close comme réorientée : l'aidant en est informé.")
    assigned = orientation.conseiller_id and orientation.conseiller.user_id == request.user.pk
    if not (assigned or request.user.is_staff):
        raise PermissionDenied(services.NOT_REDIRECTOR)
    orientation.refresh_from_db()
    if orientation.statut not in sel.OPEN_STATUSES:
        messages.error(request, "Cette orientation est déjà close.")
    return _detail(request, orientation, reorientation=form, status=400)


@login_required
@require_POST
def orientation_cancel(request, uuid):
    orientation = _visible(request, uuid)
    try:
        services.orientation_cancel(orientation=orientation, by=request.user)
    except ValidationError as error:
        return _refused(request, orientation, error)
    return _done(request, orientation, "L'orientation est annulée.")
