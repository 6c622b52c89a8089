"""Back-office of the workshops: the list of workshops and sessions, a workshop's page, planning (one session or a
weekly cycle), a session's page with its confirmed people, waiting list and cancellations, registration by phone,
moving and cancelling a registration, cancelling a session.

Reads go through ``ateliers.selectors_gestion`` (outside one's scope: 404), writes through ``ateliers.services``
(without the right: 403). A refused input shows the page again with French errors and status 400.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accompagnements.choices import THEMATIQUE_LABELS
from ateliers import selectors_gestion as selectors
from ateliers import services
from ateliers.forms import (
    AtelierForm,
    GestionFilterForm,
    InscriptionTelephoneForm,
    MoveForm,
    SeanceCancelForm,
    SeanceForm,
    seance_label,
)
from ateliers.models import Atelier, Inscription, Public, SourceInscription, StatutInscription, StatutSeance
from sicoval_numerique.history import HistorySource, history_entries

PAGE_SIZE = 30
HISTORY_LENGTH = 20
PUBLIC_LABELS = dict(Public.choices)
GET_POST = require_http_methods(["GET", "HEAD", "POST"])
# Service errors on session fields shown on the form's own fields.
SEANCE_ALIASES = {"debut": "date", "fin": "heure_fin"}


def add_errors(form, error, aliases=None):
    """Put a service's ValidationError on the form: on its field when the form has it, else above the form."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _query_without(request, *names):
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _fmt(moment):
    return f"{timezone.localtime(moment):%d/%m/%Y à %H:%M}"


def person_name(inscription):
    return f"{inscription.prenom} {inscription.nom}"


# --- The list ------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def atelier_list(request):
    user = request.user
    form = GestionFilterForm(request.GET or None, user=user)
    filters = form.filters() if form.is_bound else {"periode": selectors.Periode.A_VENIR}
    seances = Paginator(selectors.seance_list(user, **filters), PAGE_SIZE).get_page(request.GET.get("page"))
    ateliers = Paginator(selectors.atelier_list(user, **filters), PAGE_SIZE).get_page(request.GET.get("page_ateliers"))
    shown = {key for key in filters if key != "periode"} | (
        {"periode"} if filters["periode"] != selectors.Periode.A_VENIR else set()
    )
    return render(
        request,
        "ateliers/gestion/atelier_list.html",
        {
            "form": form,
            "page": seances,
            "seances": list(seances.object_list),
            "ateliers_page": ateliers,
            "ateliers": list(ateliers.object_list),
            "query": _query_without(request, "page"),
            "query_ateliers": _query_without(request, "page_ateliers"),
            "filtered": bool(shown),
            "periode": filters["periode"],
            "can_create": selectors.can_create_atelier(user),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --- A workshop ----------------------------------------------------------------------------------------------------
def _visible_atelier(request, uuid):
    return get_object_or_404(selectors.ateliers_visible_to(request.user).select_related("structure"), uuid=uuid)


@login_required
@require_safe
def atelier_detail(request, uuid):
    user = request.user
    atelier = _visible_atelier(request, uuid)
    page = Paginator(selectors.seances_of_atelier(user, atelier), PAGE_SIZE).get_page(request.GET.get("page"))
    can_manage = services.can_manage_atelier(user, atelier)
    return render(
        request,
        "ateliers/gestion/atelier_detail.html",
        {
            "atelier": atelier,
            "thematiques": [THEMATIQUE_LABELS.get(code, code) for code in atelier.thematiques],
            "publics": [PUBLIC_LABELS.get(code, code) for code in atelier.publics],
            "page": page,
            "seances": list(page.object_list),
            "query": "",
            "now": timezone.now(),
            "can_manage": can_manage,
            "history": history_entries(
                [HistorySource(Atelier.history.filter(id=atelier.pk), "Atelier")], limit=HISTORY_LENGTH
            )
            if can_manage
            else None,
            "history_length": HISTORY_LENGTH,
        },
    )


def _render_atelier_form(request, form, atelier=None, status=200):
    return render(request, "ateliers/gestion/atelier_form.html", {"form": form, "atelier": atelier}, status=status)


@login_required
@GET_POST
def atelier_create(request):
    user = request.user
    if not selectors.can_create_atelier(user):
        raise PermissionDenied("Seuls l'équipe du territoire et les référents de structure créent des ateliers.")
    form = AtelierForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST":
        if form.is_valid():
            try:
                atelier = services.atelier_create(
                    by=user, structure=form.cleaned_data["structure"], data=form.atelier_data()
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Atelier « {atelier.titre} » créé : planifiez ses séances.")
                return redirect("ateliers:gestion_atelier", uuid=atelier.uuid)
        return _render_atelier_form(request, form, status=400)
    return _render_atelier_form(request, form)


@login_required
@GET_POST
def atelier_edit(request, uuid):
    user = request.user
    atelier = _visible_atelier(request, uuid)
    services.require_atelier_manager(user, atelier)
    form = AtelierForm(request.POST if request.method == "POST" else None, user=user, atelier=atelier)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.atelier_update(atelier=atelier, by=user, data=form.atelier_data())
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, "Atelier modifié.")
                return redirect("ateliers:gestion_atelier", uuid=atelier.uuid)
        return _render_atelier_form(request, form, atelier, status=400)
    return _render_atelier_form(request, form, atelier)


# --- Planning ------------------------------------------------------------------------------------------------------
def _render_seance_form(request, form, *, atelier, seance=None, status=200, editable=True):
    return render(
        request,
        "ateliers/gestion/seance_form.html",
        {"form": form, "atelier": atelier, "seance": seance, "editable": editable},
        status=status,
    )


@login_required
@GET_POST
def seance_create(request, uuid):
    user = request.user
    atelier = _visible_atelier(request, uuid)
    services.require_atelier_manager(user, atelier)
    form = SeanceForm(
        request.POST if request.method == "POST" else None,
        user=user,
        atelier=atelier,
        initial=None if request.method == "POST" else {"nombre": 1, "capacite": 10, "publique": True},
    )
    if request.method == "POST":
        if form.is_valid():
            nombre = form.cleaned_data["nombre"]
            try:
                if nombre == 1:
                    created = [services.seance_create(atelier=atelier, by=user, data=form.seance_data())]
                else:
                    created = services.seances_create_serie(
                        atelier=atelier, by=user, data=form.seance_data(), nombre=nombre
                    )
            except ValidationError as error:
                add_errors(form, error, SEANCE_ALIASES)
            else:
                if len(created) == 1:
                    messages.success(request, f"Séance du {_fmt(created[0].debut)} planifiée.")
                    return redirect("ateliers:gestion_seance", uuid=created[0].uuid)
                messages.success(
                    request,
                    f"{len(created)} séances planifiées, chaque semaine du {_fmt(created[0].debut)} "
                    f"au {_fmt(created[-1].debut)}.",
                )
                return redirect("ateliers:gestion_atelier", uuid=atelier.uuid)
        return _render_seance_form(request, form, atelier=atelier, status=400)
    return _render_seance_form(request, form, atelier=atelier, editable=atelier.actif)


def _visible_seance(request, uuid):
    return get_object_or_404(selectors.seance_for_page(request.user), uuid=uuid)


@login_required
@GET_POST
def seance_edit(request, uuid):
    user = request.user
    seance = _visible_seance(request, uuid)
    editable = seance.statut == StatutSeance.PLANIFIEE and seance.appel_cloture_le is None
    form = SeanceForm(
        request.POST if request.method == "POST" else None,
        user=user,
        atelier=seance.atelier,
        seance=seance,
        can_change_animateur=services.can_manage_atelier(user, seance.atelier),
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                seance, promoted = services.seance_update(seance=seance, by=user, data=form.seance_data())
            except ValidationError as error:
                add_errors(form, error, SEANCE_ALIASES)
            else:
                message = "Séance modifiée."
                if promoted:
                    names = ", ".join(person_name(i) for i in promoted)
                    message += f" Place confirmée pour {names} (liste d'attente), prévenu(e)s par e-mail."
                messages.success(request, message)
                return redirect("ateliers:gestion_seance", uuid=seance.uuid)
        return _render_seance_form(request, form, atelier=seance.atelier, seance=seance, status=400, editable=editable)
    return _render_seance_form(request, form, atelier=seance.atelier, seance=seance, editable=editable)


# --- A session's page ----------------------------------------------------------------------------------------------
def _seance_page(request, seance, *, status=200, action_error=None):
    user = request.user
    groups = selectors.inscriptions_by_statut(seance)
    open_ = seance.statut == StatutSeance.PLANIFIEE and seance.appel_cloture_le is None
    destinations = list(selectors.seances_destination(user, seance)) if open_ else []
    for destination in destinations:
        destination.label = seance_label(destination)
    confirmed = groups[StatutInscription.CONFIRMEE]
    holding = [i for i in confirmed if i.source != SourceInscription.SUR_PLACE]
    return render(
        request,
        "ateliers/gestion/seance_detail.html",
        {
            "seance": seance,
            "atelier": seance.atelier,
            "confirmees": holding,
            "sur_place": [i for i in confirmed if i.source == SourceInscription.SUR_PLACE],
            "attente": groups[StatutInscription.ATTENTE],
            "annulees": groups[StatutInscription.ANNULEE],
            "places_libres": max(seance.capacite - len(holding), 0),
            "destinations": destinations,
            "open": open_,
            "started": seance.debut <= timezone.now(),
            "appel_ouvert": services.appel_ouvert(seance),
            "can_manage_atelier": services.can_manage_atelier(user, seance.atelier),
            "action_error": action_error,
        },
        status=status,
    )


@login_required
@require_safe
def seance_detail(request, uuid):
    return _seance_page(request, _visible_seance(request, uuid))


@login_required
@GET_POST
def seance_cancel(request, uuid):
    user = request.user
    seance = _visible_seance(request, uuid)
    services.require_seance_manager(user, seance)
    form = SeanceCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                seance = services.seance_cancel(seance=seance, motif=form.cleaned_data["motif"], by=user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                concerned = Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE)
                to_call = concerned.filter(email="").count()
                message = "Séance annulée : les personnes inscrites avec un e-mail sont prévenues."
                if to_call:
                    message += f" {to_call} personne{'s' if to_call > 1 else ''} sans e-mail à prévenir par téléphone."
                messages.success(request, message)
                return redirect("ateliers:gestion_seance", uuid=seance.uuid)
        status = 400
    else:
        status = 200
    concerned = Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE)
    return render(
        request,
        "ateliers/gestion/seance_cancel.html",
        {
            "form": form,
            "seance": seance,
            "atelier": seance.atelier,
            "nb_concernees": concerned.count(),
            "nb_sans_email": concerned.filter(email="").count(),
        },
        status=status,
    )


# --- Registrations -------------------------------------------------------------------------------------------------
@login_required
@GET_POST
def inscrire(request, uuid):
    user = request.user
    seance = _visible_seance(request, uuid)
    form = InscriptionTelephoneForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                inscription = services.inscription_create(
                    seance=seance, data=form.person_data(), by=user, source=SourceInscription.TELEPHONE
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                if inscription.statut == StatutInscription.CONFIRMEE:
                    messages.success(request, f"{person_name(inscription)} est inscrit(e) : place confirmée.")
                else:
                    position = Inscription.objects.filter(
                        seance=seance, statut=StatutInscription.ATTENTE, rang__lte=inscription.rang
                    ).count()
                    messages.success(
                        request,
                        f"La séance est complète : {person_name(inscription)} est sur la liste d'attente "
                        f"(position {position}).",
                    )
                return redirect(f"{reverse('ateliers:gestion_seance', args=[seance.uuid])}#inscrits")
        status = 400
    else:
        status = 200
    return render(
        request,
        "ateliers/gestion/inscription_form.html",
        {
            "form": form,
            "seance": seance,
            "atelier": seance.atelier,
            "ouverte": seance.statut == StatutSeance.PLANIFIEE and seance.debut > timezone.now(),
        },
        status=status,
    )


def _visible_inscription(request, uuid):
    return get_object_or_404(
        Inscription.objects.filter(seance__in=selectors.seances_visible_to(request.user).values("pk")).select_related(
            "seance"
        ),
        uuid=uuid,
    )


def _seance_of(request, inscription):
    return get_object_or_404(selectors.seance_for_page(request.user), pk=inscription.seance_id)


def _registrations_frozen(seance):
    """Why a session's registrations no longer change (a cancelled session, a closed sheet), or None."""
    if seance.statut == StatutSeance.ANNULEE:
        return "La séance est annulée : ses inscriptions ne changent plus."
    if seance.appel_cloture_le is not None:
        return "L'appel est clos : les inscriptions de la séance ne changent plus."
    return None


@login_required
@require_POST
def inscription_cancel(request, uuid):
    user = request.user
    inscription = _visible_inscription(request, uuid)
    seance = _seance_of(request, inscription)
    if refused := _registrations_frozen(seance):
        return _seance_page(request, seance, status=400, action_error=refused)
    try:
        inscription, promoted = services.inscription_cancel(inscription=inscription, by=user)
    except ValidationError as error:
        return _seance_page(request, seance, status=400, action_error=" ".join(error.messages))
    message = f"Inscription de {person_name(inscription)} annulée."
    if promoted is not None:
        message += f" {person_name(promoted)} passe de la liste d'attente à une place confirmée."
    messages.success(request, message)
    return redirect(f"{reverse('ateliers:gestion_seance', args=[seance.uuid])}#inscrits")


@login_required
@require_POST
def inscription_move(request, uuid):
    user = request.user
    inscription = _visible_inscription(request, uuid)
    seance = _seance_of(request, inscription)
    form = MoveForm(request.POST, destinations=selectors.seances_destination(user, seance))
    if not form.is_valid():
        errors = " ".join(" ".join(texts) for texts in form.errors.values())
        return _seance_page(request, seance, status=400, action_error=errors)
    if refused := _registrations_frozen(seance):
        return _seance_page(request, seance, status=400, action_error=refused)
    if inscription.statut == StatutInscription.ANNULEE:
        return _seance_page(request, seance, status=400, action_error="Cette inscription est annulée.")
    target = form.cleaned_data["seance"]
    try:
        moved = services.inscription_move(inscription=inscription, seance=target, by=user)
    except ValidationError as error:
        return _seance_page(request, seance, status=400, action_error=" ".join(error.messages))
    where = "place confirmée" if moved.statut == StatutInscription.CONFIRMEE else "liste d'attente"
    messages.success(request, f"{person_name(moved)} est déplacé(e) vers la séance du {_fmt(target.debut)} ({where}).")
    return redirect(f"{reverse('ateliers:gestion_seance', args=[seance.uuid])}#inscrits")
