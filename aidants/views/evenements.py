"""Pages of the network's events: the upcoming events and the past ones (with who came), an event's page (details,
your answer; for staff the invitations, answers and attendance), the event form, cancelling, inviting, the attendance
sheet made for a phone and its closing, and « my invitations ». Staff manage; aidants and conseillers see the events
of their audience and answer their own invitation; others get 403, and an event out of their sight 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from aidants import selectors_evenements as selectors
from aidants import services_evenements as services
from aidants.forms_evenements import EvenementForm, PresencesForm, ReponseForm
from aidants.models import StatutParticipation
from conseillers.views.common import posted
from structures.forms import add_service_error

PAGE_SIZE = 30
NOT_ALLOWED = "Les événements du réseau sont réservés à l'équipe Sicoval, aux aidants et aux conseillers numériques."
STAFF_ONLY = "Seule l'équipe Sicoval organise les événements du réseau."
CLOSE = "cloturer"


def _require_events(user):
    if not selectors.can_see_events(user):
        raise PermissionDenied(NOT_ALLOWED)


def _require_staff(user):
    if not user.is_staff:
        raise PermissionDenied(STAFF_ONLY)


def _visible(request, uuid):
    _require_events(request.user)
    evenement = selectors.evenement_detail(request.user, uuid)
    if evenement is None:
        raise Http404("Événement introuvable.")
    return evenement


def _managed(request, uuid):
    _require_staff(request.user)
    return _visible(request, uuid)


def _url(evenement, anchor=""):
    return reverse("aidants:evenement", args=[evenement.uuid]) + (f"#{anchor}" if anchor else "")


def _error_text(error):
    return " ".join(error.messages)


# --- Lists ---------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def evenement_list(request):
    user = request.user
    _require_events(user)
    page = Paginator(selectors.evenements_a_venir(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "aidants/evenements/evenement_list.html",
        {"page": page, "can_manage": user.is_staff, "has_invitations": selectors.own_participations(user).exists()},
    )


@login_required
@require_safe
def evenement_past(request):
    user = request.user
    _require_events(user)
    page = Paginator(selectors.evenements_passes(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "aidants/evenements/evenement_past.html", {"page": page, "can_manage": user.is_staff})


@login_required
@require_safe
def evenement_invitations(request):
    user = request.user
    _require_events(user)
    invitations = list(selectors.mes_invitations(user))
    positions = selectors.waiting_positions(invitations)
    for participation in invitations:
        participation.position = positions.get(participation.pk)
        participation.can_answer = _answer_open(participation.evenement)
    return render(request, "aidants/evenements/invitations.html", {"invitations": invitations})


# --- An event's page -----------------------------------------------------------------------------------------------
def _answer_open(evenement):
    return not evenement.annule and not evenement.appel_clos_le and evenement.debut > timezone.now()


def _page(request, evenement, *, reponse_form=None, status=200):
    user = request.user
    participation = services.participation_of(evenement, user)
    context = {
        "evenement": evenement,
        "participation": participation,
        "position": selectors.waiting_position(participation) if participation else None,
        "answer_open": _answer_open(evenement),
        "reponse_form": reponse_form or ReponseForm(),
        "can_manage": user.is_staff,
        "passe": evenement.fin < timezone.now(),
    }
    if user.is_staff:
        context.update(
            participations=selectors.participations_of(evenement),
            counts=selectors.answer_counts(evenement),
            attendance_open=services.attendance_open(evenement),
            can_invite=not evenement.annule and not evenement.appel_clos_le and evenement.debut > timezone.now(),
            can_edit=not evenement.annule and not evenement.appel_clos_le,
        )
    return render(request, "aidants/evenements/evenement_detail.html", context, status=status)


@login_required
@require_safe
def evenement_detail(request, uuid):
    return _page(request, _visible(request, uuid))


@login_required
@require_POST
def evenement_answer(request, uuid):
    evenement = _visible(request, uuid)
    form = ReponseForm(request.POST)
    if form.is_valid():
        try:
            participation = services.participation_answer(
                evenement=evenement, by=request.user, reponse=form.cleaned_data["reponse"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if participation.statut == StatutParticipation.INSCRIT:
                messages.success(request, "Votre inscription est enregistrée : à bientôt !")
            elif participation.statut == StatutParticipation.ATTENTE:
                messages.success(request, "L'événement est complet : vous êtes sur la liste d'attente.")
            else:
                messages.success(request, "Votre réponse est enregistrée : vous ne venez pas.")
            if request.POST.get("depuis") == "invitations":
                return redirect("aidants:evenement_invitations")
            return redirect(_url(evenement, "reponse"))
    return _page(request, evenement, reponse_form=form, status=400)


# --- Creating and correcting (staff) -------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evenement_create(request):
    _require_staff(request.user)
    form = EvenementForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            evenement = services.evenement_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"L'événement « {evenement.titre} » est créé : invitez maintenant son public.")
            return redirect(_url(evenement))
    status = 400 if form.is_bound else 200
    return render(request, "aidants/evenements/evenement_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evenement_edit(request, uuid):
    evenement = _managed(request, uuid)
    form = EvenementForm(posted(request), evenement=evenement)
    if request.method == "POST" and form.is_valid():
        try:
            evenement = services.evenement_update(evenement=evenement, by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Les modifications de l'événement sont enregistrées.")
            return redirect(_url(evenement))
    status = 400 if form.is_bound else 200
    return render(
        request, "aidants/evenements/evenement_form.html", {"form": form, "evenement": evenement}, status=status
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evenement_cancel(request, uuid):
    evenement = _managed(request, uuid)
    error = None
    if request.method == "POST":
        try:
            services.evenement_cancel(evenement=evenement, by=request.user)
        except ValidationError as refused:
            error = _error_text(refused)
        else:
            messages.success(request, "L'événement est annulé : les personnes inscrites sont prévenues par e-mail.")
            return redirect(_url(evenement))
    return render(
        request,
        "aidants/evenements/evenement_cancel.html",
        {"evenement": evenement, "error": error},
        status=400 if error else 200,
    )


@login_required
@require_POST
def evenement_invite(request, uuid):
    evenement = _managed(request, uuid)
    try:
        count = services.evenement_invite(evenement=evenement, by=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(_url(evenement, "invitations"))
    if count:
        messages.success(request, f"{count} invitation{'s' if count > 1 else ''} envoyée{'s' if count > 1 else ''}.")
    else:
        messages.info(request, "Tout le public de l'événement est déjà invité : aucune nouvelle invitation.")
    return redirect(_url(evenement, "invitations"))


# --- Attendance (staff) --------------------------------------------------------------------------------------------
def _sheet(request, evenement, *, form=None, status=200):
    participations = [
        p for p in selectors.participations_of(evenement) if p.statut != StatutParticipation.DECLINE or p.present
    ]
    if form is None:
        form = PresencesForm(participations=participations)
    rows = form.bound_rows()
    return render(
        request,
        "aidants/evenements/presences.html",
        {
            "evenement": evenement,
            "form": form,
            "registered": [(p, f) for p, f in rows if p.statut == StatutParticipation.INSCRIT],
            "others": [(p, f) for p, f in rows if p.statut != StatutParticipation.INSCRIT],
            "open": services.attendance_open(evenement),
            "presents": sum(1 for p, _f in rows if p.present),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evenement_attendance(request, uuid):
    evenement = _managed(request, uuid)
    if request.method != "POST":
        return _sheet(request, evenement)
    participations = [
        p for p in selectors.participations_of(evenement) if p.statut != StatutParticipation.DECLINE or p.present
    ]
    form = PresencesForm(request.POST, participations=participations)
    if form.is_valid():
        try:
            services.attendance_record(evenement=evenement, by=request.user, presences=form.presences())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if request.POST.get("action") == CLOSE:
                return redirect("aidants:evenement_close", uuid=evenement.uuid)
            messages.success(request, "Présences enregistrées.")
            return redirect("aidants:evenement_attendance", uuid=evenement.uuid)
    return _sheet(request, evenement, form=form, status=400)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def evenement_close(request, uuid):
    evenement = _managed(request, uuid)
    error = None
    if request.method == "POST":
        already = evenement.appel_clos_le is not None
        try:
            added = services.attendance_close(evenement=evenement, by=request.user)
        except ValidationError as refused:
            error = _error_text(refused)
        else:
            if already:
                messages.info(request, "Les présences étaient déjà closes.")
            elif evenement.formation:
                messages.success(
                    request,
                    f"Présences closes : la formation est ajoutée au dossier de {len(added)} aidant"
                    f"{'s' if len(added) > 1 else ''}.",
                )
            else:
                messages.success(request, "Présences closes.")
            return redirect(_url(evenement))
    presents = [p for p in selectors.participations_of(evenement) if p.present]
    return render(
        request,
        "aidants/evenements/presences_close.html",
        {
            "evenement": evenement,
            "presents": presents,
            "aidants_presents": sum(1 for p in presents if p.aidant_id),
            "open": services.attendance_open(evenement),
            "error": error,
        },
        status=400 if error else 200,
    )
