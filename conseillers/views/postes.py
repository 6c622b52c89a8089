"""Back-office pages of posts: the board (with its counts at a date and its exports), a post's page with its
timeline, funding and history, and the staff actions on it. Reads go through ``conseillers.selectors`` (another
structure's post answers 404), writes through ``conseillers.services`` (a role without the right gets 403)."""

import copy
import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conseillers import exports, selectors, services
from conseillers.choices import EtatPoste
from conseillers.forms import (
    ENDING_WITHIN_DAYS,
    AssignForm,
    ContratForm,
    MoveForm,
    PosteFilterForm,
    PosteForm,
    ReleaseForm,
    ReturnForm,
    RuptureForm,
)
from conseillers.models import Affectation, Contrat, Poste, Rattachement
from financements.selectors import figures_by_poste, lignes_visible_to
from sicoval_numerique.history import HistorySource, history_entries
from structures.forms import add_service_error
from structures.models import Structure

from .common import ETAT_BADGES, TRAINING_BADGES, posted, query_string, require_staff

PAGE_SIZE = 50
HISTORY_LENGTH = 30
ALERTS_SHOWN = 50


# --- The board --------------------------------------------------------------------------------------------------
def _board(request):
    """The filter form, the filtered posts and the figures' date, shared by the page and its exports."""
    user = request.user
    today = timezone.localdate()
    form = PosteFilterForm(request.GET or None, postes=selectors.postes_visible_to(user))
    filters = form.filters() if form.is_bound else {}
    on_date = filters.pop("date", today)
    if filters.pop("fin_contrat", False):
        filters["fin_contrat"] = ENDING_WITHIN_DAYS
    postes = selectors.postes_board(user, today=today, **filters)
    return form, filters, postes, on_date, today


def _counts_scope(user, filters):
    """The structures the counts are about: the chosen structure or commune, within what the user sees."""
    scope = selectors.postes_scope_structures(user)
    if "structure" in filters:
        scope = Structure.objects.filter(pk=filters["structure"].pk)
    if "commune" in filters:
        scope = (scope if scope is not None else Structure.objects.all()).filter(commune=filters["commune"])
    return scope


def _funding(user, postes, on_date):
    lignes = lignes_visible_to(user).filter(poste__in=postes)
    return figures_by_poste(lignes_queryset=lignes, on_date=on_date)


@login_required
@require_safe
def poste_list(request):
    user = request.user
    form, filters, postes, on_date, today = _board(request)
    page = Paginator(postes, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    funding = _funding(user, [poste.pk for poste in rows], today)
    for poste in rows:
        poste.funding = funding.get(poste.pk)
        poste.etat_badge = ETAT_BADGES.get(poste.etat, "badge-neutral")
        poste.formation_badge = TRAINING_BADGES.get(poste.formation_statut, "badge-neutral")
        poste.formation_label = selectors.TrainingStatus.LABELS.get(poste.formation_statut, "")
    scope = _counts_scope(user, filters)
    counts = selectors.postes_counts_at(on_date, structures=scope)
    rate = counts["occupancy_rate"]
    query = query_string(request)
    return render(
        request,
        "conseillers/poste_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "export_query": f"?{query}" if query else "",
            "filtered": bool(filters),
            "counts": counts,
            "occupancy_percent": None if rate is None else rate * 100,
            "counts_scoped": scope is not None,
            "year": today.year,
            "ending_days": ENDING_WITHIN_DAYS,
            "ending": list(
                selectors.contrats_ending_between(
                    today, today + datetime.timedelta(days=ENDING_WITHIN_DAYS), user=user
                )[: ALERTS_SHOWN + 1]
            ),
            "vacant_too_long": list(selectors.postes_vacant_too_long(today=today, user=user)[: ALERTS_SHOWN + 1]),
            "alerts_shown": ALERTS_SHOWN,
            "vacance_max_mois": settings.POSTE_VACANCE_MAX_MOIS,
            "can_create": user.is_staff,
        },
    )


def _export_filename(extension):
    return f"postes-{timezone.localdate():%Y-%m-%d}.{extension}"


@login_required
@require_safe
def poste_export_csv(request):
    _form, _filters, postes, _on_date, today = _board(request)
    funding = _funding(request.user, postes.values("pk"), today)
    return exports.csv_response(postes, funding, filename=_export_filename("csv"))


@login_required
@require_safe
def poste_export_xlsx(request):
    _form, _filters, postes, _on_date, today = _board(request)
    funding = _funding(request.user, postes.values("pk"), today)
    return exports.xlsx_response(postes, funding, filename=_export_filename("xlsx"))


# --- Creating a post --------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def poste_create(request):
    require_staff(request.user, "Seule l'équipe Sicoval attribue des postes.")
    form = PosteForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            poste = services.poste_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Le poste a été attribué à {poste.structure.nom}.")
            return redirect("conseillers:poste", uuid=poste.uuid)
    status = 400 if form.is_bound else 200
    return render(request, "conseillers/poste_form.html", {"form": form}, status=status)


# --- A post's page ----------------------------------------------------------------------------------------------
def _visible_poste(request, uuid):
    return get_object_or_404(selectors.postes_visible_to(request.user).select_related("structure"), uuid=uuid)


def _poste_url(poste, anchor=""):
    return reverse("conseillers:poste", args=[poste.uuid]) + (f"#{anchor}" if anchor else "")


def poste_history(poste, *, limit):
    """The last changes of the post, its attachments, occupants and contracts, with who made them."""

    def person(record, label_of):
        return label_of("conseiller", record.conseiller_id)

    return history_entries(
        [
            HistorySource(Poste.history.filter(id=poste.pk), "Poste"),
            HistorySource(
                Rattachement.history.filter(poste_id=poste.pk),
                lambda r, label_of: f"Rattachement à {label_of('structure', r.structure_id)}",
                exclude=("poste",),
            ),
            HistorySource(
                Affectation.history.filter(poste_id=poste.pk),
                lambda r, label_of: f"Affectation de {person(r, label_of)}",
                exclude=("poste",),
            ),
            HistorySource(
                Contrat.history.filter(poste_id=poste.pk),
                lambda r, label_of: f"Contrat {label_of('type', r.type)} de {person(r, label_of)}",
                exclude=("poste",),
            ),
        ],
        limit=limit,
    )


def _poste_page(request, poste, *, status=200, **bound_forms):
    user = request.user
    today = timezone.localdate()
    timeline = selectors.poste_timeline(poste)
    occupant = next((a.conseiller for a in timeline.affectations if a.date_fin is None), None)
    lignes = lignes_visible_to(user).filter(poste=poste)
    can_edit_contracts = (
        poste.etat != EtatPoste.RENDU and selectors.postes_editable_by(user).filter(pk=poste.pk).exists()
    )
    context = {
        "poste": poste,
        "etat_badge": ETAT_BADGES.get(poste.etat, "badge-neutral"),
        "timeline": timeline,
        "occupant": occupant,
        "contrats": [
            (contrat, contrat.date_fin_effective) for contrat in sorted(timeline.contrats, key=lambda c: c.date_debut)
        ],
        "funding": figures_by_poste(lignes_queryset=lignes, on_date=today).get(poste.pk),
        "lignes": lignes.select_related("convention__financeur").order_by("convention__date_debut", "pk"),
        "vacant_days": selectors.vacant_since(poste, today=today),
        "history": poste_history(poste, limit=HISTORY_LENGTH),
        "history_length": HISTORY_LENGTH,
        "is_staff": user.is_staff,
        "can_edit_contracts": can_edit_contracts,
    }
    offered = {}
    if user.is_staff and poste.etat != EtatPoste.RENDU:
        if occupant is None:
            offered["assign_form"] = AssignForm
            offered["return_form"] = ReturnForm
        else:
            offered["release_form"] = ReleaseForm
        offered["move_form"] = lambda: MoveForm(poste=poste)
    if can_edit_contracts:
        if occupant is not None:
            offered["contrat_form"] = ContratForm
        if poste.contrats.filter(date_rupture__isnull=True).exists():
            offered["rupture_form"] = lambda: RuptureForm(poste=poste)
    for name, make in offered.items():
        context[name] = make()
    # A refused form shows again with its errors, even if the post's state no longer offers it.
    context.update(bound_forms)
    return render(request, "conseillers/poste_detail.html", context, status=status)


@login_required
@require_safe
def poste_detail(request, uuid):
    return _poste_page(request, _visible_poste(request, uuid))


def _poste_action(request, uuid, *, form_class, form_name, anchor, act):
    """A form posted from the post's page: validated, handed to a service by ``act(poste, cleaned_data)`` which
    returns the success message, then back to the page (or the page again with the errors, status 400)."""
    poste = _visible_poste(request, uuid)
    kwargs = {"poste": poste} if form_class in (MoveForm, RuptureForm) else {}
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        try:
            message = act(poste, form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, message)
            return redirect(_poste_url(poste, anchor))
    return _poste_page(request, poste, status=400, **{form_name: form})


def _fmt(date):
    return f"{date:%d/%m/%Y}"


@login_required
@require_POST
def poste_assign(request, uuid):
    def act(poste, data):
        services.poste_assign(poste=poste, conseiller=data["conseiller"], date=data["date"], by=request.user)
        return f"{data['conseiller']} occupe le poste depuis le {_fmt(data['date'])}."

    return _poste_action(request, uuid, form_class=AssignForm, form_name="assign_form", anchor="occupation", act=act)


@login_required
@require_POST
def poste_release(request, uuid):
    def act(poste, data):
        affectation = services.poste_release(poste=poste, date=data["date"], by=request.user)
        return f"{affectation.conseiller} a quitté le poste le {_fmt(data['date'])} : le poste est vacant."

    return _poste_action(request, uuid, form_class=ReleaseForm, form_name="release_form", anchor="occupation", act=act)


@login_required
@require_POST
def poste_move(request, uuid):
    def act(poste, data):
        services.poste_move(poste=poste, structure=data["structure"], date=data["date"], by=request.user)
        return f"Le poste est rattaché à {data['structure'].nom} depuis le {_fmt(data['date'])}."

    return _poste_action(request, uuid, form_class=MoveForm, form_name="move_form", anchor="occupation", act=act)


@login_required
@require_POST
def poste_return(request, uuid):
    def act(poste, data):
        services.poste_return(poste=poste, date=data["date"], by=request.user)
        return f"Le poste est rendu depuis le {_fmt(data['date'])}."

    return _poste_action(request, uuid, form_class=ReturnForm, form_name="return_form", anchor="occupation", act=act)


@login_required
@require_POST
def contrat_create(request, uuid):
    def act(poste, data):
        occupant = poste.affectations.filter(date_fin__isnull=True).select_related("conseiller").first()
        if occupant is None:
            raise ValidationError("Ce poste n'a pas d'occupant : affectez d'abord une personne au poste.")
        contrat = services.contrat_create(conseiller=occupant.conseiller, poste=poste, by=request.user, **data)
        return f"Le contrat « {contrat.get_type_display()} » de {contrat.conseiller} a été enregistré."

    return _poste_action(request, uuid, form_class=ContratForm, form_name="contrat_form", anchor="contrats", act=act)


@login_required
@require_POST
def contrat_rupture(request, uuid):
    def act(poste, data):
        contrat = services.contrat_rupture(
            contrat=data["contrat"], date=data["date_rupture"], motif=data["motif_rupture"], by=request.user
        )
        return f"La rupture du contrat de {contrat.conseiller} au {_fmt(contrat.date_rupture)} est enregistrée."

    return _poste_action(request, uuid, form_class=RuptureForm, form_name="rupture_form", anchor="contrats", act=act)


# --- Correcting a contract --------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def contrat_edit(request, uuid):
    """Correct a contract's type, dates or pay: who may record a contract on the post may correct it."""
    user = request.user
    contrat = get_object_or_404(
        Contrat.objects.filter(poste__in=selectors.postes_visible_to(user).values("pk")).select_related(
            "conseiller", "poste__structure"
        ),
        uuid=uuid,
    )
    poste = contrat.poste
    if poste.etat == EtatPoste.RENDU or not selectors.postes_editable_by(user).filter(pk=poste.pk).exists():
        raise PermissionDenied("Vous ne pouvez modifier que les contrats des postes de votre structure.")
    # The form works on a copy, so that the page keeps the saved contract when the input is refused.
    form = ContratForm(posted(request), instance=copy.copy(contrat))
    if request.method == "POST" and form.is_valid():
        try:
            contrat = services.contrat_update(contrat=contrat, by=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"Le contrat « {contrat.get_type_display()} » de {contrat.conseiller} est modifié."
            )
            return redirect(_poste_url(poste, "contrats"))
    status = 400 if form.is_bound else 200
    return render(request, "conseillers/contrat_form.html", {"form": form, "contrat": contrat}, status=status)
