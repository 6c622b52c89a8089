"""Agreements: the filtered list, an agreement's page (its lines with their figures, instalments, repayments and
history) and the staff forms that record them. Every form posts, redirects on success and answers 400 with the
form and its French messages when the input or a money rule is refused, with nothing written."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conseillers.selectors import postes_visible_to
from financements import choices, selectors, services
from financements.forms import (
    AvoirForm,
    ConventionFilterForm,
    ConventionForm,
    LigneForm,
    SignatureForm,
    StatutForm,
    VersementPlanForm,
    VersementRecordForm,
)
from financements.history import convention_history
from financements.models import Avoir
from financements.selectors import Figures
from structures.forms import add_service_error

from .common import (
    STATUT_BADGES,
    convention_url,
    poste_label,
    posted,
    require_reader,
    require_staff,
    today,
    visible_convention,
    visible_ligne,
)

PAGE_SIZE = 25
HISTORY_LENGTH = 30
Statut = choices.StatutConvention


def _query_string(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- List ----------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def convention_list(request):
    user = request.user
    require_reader(user)
    conventions = selectors.conventions_visible_to(user)
    form = ConventionFilterForm(request.GET or None, conventions=conventions)
    filters = form.filters() if form.is_bound else {}
    listed = conventions.filter(**filters).select_related("financeur", "structure").order_by("-date_debut", "pk")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    on_date = today()
    lignes = selectors.lignes_visible_to(user).filter(convention__in=[c.pk for c in page.object_list])
    by_convention = selectors.figures_by_convention(lignes_queryset=lignes, on_date=on_date)
    for convention in page.object_list:
        convention.figures = by_convention.get(convention.pk, Figures())
        convention.statut_badge = STATUT_BADGES.get(convention.statut, "badge-neutral")
    return render(
        request,
        "financements/convention_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_string(request),
            "filtered": bool(filters),
            "on_date": on_date,
            "can_create": user.is_staff,
        },
    )


# --- An agreement's page -------------------------------------------------------------------------------------------
def _instalment_state(versement, convention, on_date):
    if versement.date_versement is not None and versement.date_versement <= on_date:
        return "badge-success", "Versé"
    if versement.date_prevue < on_date and convention.statut == Statut.SIGNEE:
        return "badge-danger", "En retard"
    return "badge-neutral", "Prévu"


def _convention_page(request, convention, *, status=200, signature_form=None, statut_form=None, action_error=None):
    """The agreement's page, also re-rendered with a refused signature, status change or schedule (and its
    errors)."""
    user = request.user
    on_date = today()
    lignes = list(convention.lignes.select_related("poste").order_by("poste__date_attribution", "poste__pk"))
    by_poste = selectors.figures_by_poste(lignes_queryset=convention.lignes.all(), on_date=on_date)
    versements = list(
        selectors.versements_visible_to(user).filter(ligne__convention=convention).order_by("ligne", "numero")
    )
    avoirs = list(Avoir.objects.filter(ligne__convention=convention).order_by("-date", "-pk"))
    labels = {ligne.pk: poste_label(ligne.poste) for ligne in lignes}
    by_ligne = {ligne.pk: ligne for ligne in lignes}
    for ligne in lignes:
        ligne.label = labels[ligne.pk]
        ligne.figures = by_poste.get(ligne.poste_id, Figures())
        ligne.instalments = []
    for versement in versements:
        versement.badge, versement.state = _instalment_state(versement, convention, on_date)
        by_ligne[versement.ligne_id].instalments.append(versement)
    for avoir in avoirs:
        avoir.ligne_label = labels[avoir.ligne_id]
    is_open = convention.statut not in services.CLOSED
    can_write = user.is_staff
    for ligne in lignes:
        ligne.can_plan_v2 = (
            can_write and is_open and convention.enveloppe == choices.Enveloppe.V2 and not ligne.instalments
        )
    context = {
        "convention": convention,
        "statut_badge": STATUT_BADGES.get(convention.statut, "badge-neutral"),
        "on_date": on_date,
        "totals": sum((ligne.figures for ligne in lignes), Figures()),
        "lignes": lignes,
        "avoirs": avoirs,
        "history": convention_history(convention, ligne_labels=labels, limit=HISTORY_LENGTH),
        "history_length": HISTORY_LENGTH,
        "can_write": can_write,
        "can_edit": can_write and is_open,
        "can_pay": can_write and convention.statut in services.PAYABLE,
        "action_error": action_error,
    }
    if can_write:
        if convention.statut == Statut.EN_PREPARATION:
            context["signature_form"] = signature_form or SignatureForm()
        context["statut_form"] = statut_form or StatutForm(current=convention.statut)
    return render(request, "financements/convention_detail.html", context, status=status)


@login_required
@require_safe
def convention_detail(request, uuid):
    return _convention_page(request, visible_convention(request, uuid))


@login_required
@require_POST
def convention_sign(request, uuid):
    convention = visible_convention(request, uuid)
    require_staff(request.user, "enregistre la signature d'une convention")
    form = SignatureForm(request.POST)
    if form.is_valid():
        try:
            services.convention_sign(
                convention=convention, date_signature=form.cleaned_data["date_signature"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "La signature de la convention est enregistrée.")
            return redirect(convention_url(convention, "statut"))
    return _convention_page(request, convention, status=400, signature_form=form)


@login_required
@require_POST
def convention_statut(request, uuid):
    convention = visible_convention(request, uuid)
    require_staff(request.user, "change le statut d'une convention")
    form = StatutForm(request.POST, current=convention.statut)
    if form.is_valid():
        try:
            convention = services.convention_change_statut(
                convention=convention, statut=form.cleaned_data["statut"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"La convention est désormais « {convention.get_statut_display()} ».")
            return redirect(convention_url(convention, "statut"))
    return _convention_page(request, convention, status=400, statut_form=form)


# --- Creating and editing an agreement -----------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def convention_create(request):
    require_staff(request.user, "enregistre les conventions")
    form = ConventionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            convention = services.convention_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "La convention est enregistrée, en préparation jusqu'à sa signature.")
            return redirect(convention_url(convention))
    status = 400 if form.is_bound else 200
    return render(request, "financements/convention_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def convention_edit(request, uuid):
    convention = visible_convention(request, uuid)
    require_staff(request.user, "modifie les conventions")
    form = ConventionForm(posted(request), initial=ConventionForm.initial_from(convention))
    if request.method == "POST" and form.is_valid():
        try:
            convention = services.convention_update(convention=convention, by=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Les modifications de la convention sont enregistrées.")
            return redirect(convention_url(convention))
    status = 400 if form.is_bound else 200
    return render(request, "financements/convention_form.html", {"form": form, "convention": convention}, status=status)


# --- Lines, instalments and repayments -----------------------------------------------------------------------------
def _action_page(request, *, convention, form, title, submit, summary=(), intro="", status=200):
    """A small staff form about an agreement (a line, an instalment, a payment, a repayment)."""
    return render(
        request,
        "financements/action_form.html",
        {
            "convention": convention,
            "form": form,
            "title": title,
            "submit": submit,
            "summary": summary,
            "intro": intro,
        },
        status=status,
    )


def _ligne_summary(ligne):
    return [
        ("Convention", str(ligne.convention)),
        ("Poste", poste_label(ligne.poste)),
        ("Montant accordé", services.euros(ligne.montant_total)),
    ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def ligne_create(request, uuid):
    convention = visible_convention(request, uuid, "structure__commune")
    user = request.user
    require_staff(user, "enregistre les lignes de financement")
    form = LigneForm(posted(request), convention=convention, postes=postes_visible_to(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ligne = services.ligne_create(
                convention=convention,
                poste=data["poste"],
                bareme=data.get("bareme"),
                montant_base=data["montant_base"],
                bonus_qpv_zrr=data["bonus_qpv_zrr"],
                by=user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Ligne enregistrée : {services.euros(ligne.montant_total)} accordés pour {poste_label(ligne.poste)}.",
            )
            return redirect(convention_url(convention, "lignes"))
    return _action_page(
        request,
        convention=convention,
        form=form,
        title="Ajouter une ligne de financement",
        submit="Enregistrer la ligne",
        summary=[("Convention", str(convention)), ("Structure bénéficiaire", convention.structure.nom)],
        intro="Un poste peut être cofinancé par plusieurs conventions ; il n'a qu'une ligne par convention.",
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def versement_plan(request, uuid):
    ligne = visible_ligne(request, uuid)
    require_staff(request.user, "prévoit les versements")
    next_numero = (ligne.versements.aggregate(last=Max("numero"))["last"] or 0) + 1
    form = VersementPlanForm(posted(request), initial={"numero": next_numero})
    if request.method == "POST" and form.is_valid():
        try:
            versement = services.versement_plan(ligne=ligne, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Échéance n° {versement.numero} prévue le {versement.date_prevue:%d/%m/%Y} : "
                f"{services.euros(versement.montant_prevu)}.",
            )
            return redirect(convention_url(ligne.convention, "lignes"))
    convention = ligne.convention
    return _action_page(
        request,
        convention=convention,
        form=form,
        title="Prévoir une échéance",
        submit="Prévoir l'échéance",
        summary=[
            *_ligne_summary(ligne),
            (
                "Période de financement",
                f"du {convention.date_debut_financement:%d/%m/%Y} au {convention.date_fin_financement:%d/%m/%Y}",
            ),
        ],
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def versements_plan_v2(request, uuid):
    ligne = visible_ligne(request, uuid)
    require_staff(request.user, "prévoit les versements")
    try:
        planned = services.versements_plan_v2(ligne=ligne, by=request.user)
    except ValidationError as error:
        return _convention_page(request, ligne.convention, status=400, action_error=" ".join(error.messages))
    total = sum(versement.montant_prevu for versement in planned)
    messages.success(
        request, f"Les {len(planned)} échéances annuelles V2 sont prévues ({services.euros(total)} au total)."
    )
    return redirect(convention_url(ligne.convention, "lignes"))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def versement_record(request, uuid):
    versements = selectors.versements_visible_to(request.user).select_related(
        "ligne__poste", "ligne__convention__financeur", "ligne__convention__structure"
    )
    versement = get_object_or_404(versements, uuid=uuid)
    require_staff(request.user, "enregistre les versements")
    ligne = versement.ligne
    initial = {
        "date_versement": versement.date_versement or today(),
        "montant_verse": versement.montant_verse if versement.montant_verse is not None else versement.montant_prevu,
    }
    form = VersementRecordForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            versement = services.versement_record(versement=versement, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Versement de l'échéance n° {versement.numero} enregistré : {services.euros(versement.montant_verse)} "
                f"le {versement.date_versement:%d/%m/%Y}.",
            )
            return redirect(convention_url(ligne.convention, "lignes"))
    return _action_page(
        request,
        convention=ligne.convention,
        form=form,
        title=f"Enregistrer le versement de l'échéance n° {versement.numero}",
        submit="Enregistrer le versement",
        summary=[
            *_ligne_summary(ligne),
            ("Échéance prévue", f"{services.euros(versement.montant_prevu)} le {versement.date_prevue:%d/%m/%Y}"),
        ],
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def avoir_record(request, uuid):
    ligne = visible_ligne(request, uuid)
    require_staff(request.user, "enregistre les avoirs")
    form = AvoirForm(posted(request), initial={"date": today()})
    if request.method == "POST" and form.is_valid():
        try:
            avoir = services.avoir_record(ligne=ligne, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Avoir de {services.euros(avoir.montant)} enregistré.")
            return redirect(convention_url(ligne.convention, "avoirs"))
    return _action_page(
        request,
        convention=ligne.convention,
        form=form,
        title="Enregistrer un avoir (reversement au financeur)",
        submit="Enregistrer l'avoir",
        summary=_ligne_summary(ligne),
        status=400 if form.is_bound else 200,
    )
