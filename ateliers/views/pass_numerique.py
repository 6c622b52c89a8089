"""Back-office pages of the Pass numérique (under /gestion/pass/): the stock, an order with its booklets, and the forms
that record an order, entrust booklets to a distributor, hand a booklet out, record a use, reimburse a place's month
and cancel a pass.

Everyone reads through ``ateliers.selectors_pass`` (an order or a booklet out of reach answers 404; a user with no
part in the Pass numérique gets 403 on every page) and writes through the services. A refused form answers 400 with
its French messages, and nothing is written."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from ateliers import selectors_pass as selectors
from ateliers.forms_pass import (
    AnnulationForm,
    AttributionForm,
    CommandeForm,
    RemboursementForm,
    RemiseForm,
    UtilisationForm,
)
from ateliers.services import pass_numerique as services
from financements.services import euros
from structures.forms import add_service_error

CARNETS_PAR_PAGE = 50
GET_POST = ["GET", "HEAD", "POST"]


def _posted(request):
    return request.POST if request.method == "POST" else None


def _scope(request):
    scope = selectors.pass_scope(request.user)
    if not scope.any:
        raise PermissionDenied(
            "Les Pass numériques sont gérés par l'équipe Sicoval, les structures distributrices et les lieux qualifiés."
        )
    return scope


def _require_staff(request, what):
    if not request.user.is_staff:
        raise PermissionDenied(f"Seule l'équipe Sicoval {what}.")


def _form_page(request, *, form, title, submit, back, summary=(), intro="", status=None):
    """A small form of the Pass numérique: 200 on display, 400 when it comes back with errors."""
    if status is None:
        status = 400 if form.is_bound else 200
    return render(
        request,
        "ateliers/pass/form.html",
        {"form": form, "title": title, "submit": submit, "back": back, "summary": summary, "intro": intro},
        status=status,
    )


def _stock_url(anchor=""):
    return reverse("ateliers:pass_stock") + (f"#{anchor}" if anchor else "")


def _commande_url(commande, anchor=""):
    return reverse("ateliers:pass_commande", args=[commande.uuid]) + (f"#{anchor}" if anchor else "")


def _commande_label(commande):
    label = f"{commande.financeur.nom} — {commande.date_commande:%d/%m/%Y}"
    return f"{label} ({commande.reference})" if commande.reference else label


# --- Stock ---------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def stock(request):
    scope = _scope(request)
    user = request.user
    context = {
        "scope": scope,
        "stock": selectors.stock(user),
        "today": timezone.localdate(),
    }
    if scope.staff or scope.lieux_qualifies:
        context["a_rembourser"] = selectors.a_rembourser_par_lieu(user)
    if scope.distributeurs and not scope.staff:
        carnets = selectors.carnets_with_counts(selectors.carnets_visible_to(user))
        page = Paginator(carnets, CARNETS_PAR_PAGE).get_page(request.GET.get("page"))
        for carnet in page.object_list:
            carnet.can_hand_out = scope.can_hand_out(carnet) and carnet.nb_en_stock > 0
        context["carnets"] = page
    if scope.lieux_qualifies and not scope.staff:
        context["passes_utilises"] = list(selectors.passes_utilises(user))
        context["passes_limit"] = selectors.RECENT_PASSES
    return render(request, "ateliers/pass/stock.html", context)


# --- Orders --------------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(GET_POST)
def commande_create(request):
    _require_staff(request, "enregistre les commandes de Pass numériques")
    form = CommandeForm(_posted(request), initial={"date_commande": timezone.localdate(), "taille_carnet": 10})
    if request.method == "POST" and form.is_valid():
        try:
            commande = services.commande_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            carnets = commande.carnets.count()
            messages.success(
                request,
                f"Commande enregistrée : {commande.nombre} pass de {euros(commande.valeur_faciale)} en {carnets} "
                f"carnet{'s' if carnets > 1 else ''}, valables jusqu'au {commande.valide_jusqu_au:%d/%m/%Y} "
                f"(acceptés jusqu'au {commande.tolerance_jusqu_au:%d/%m/%Y}).",
            )
            return redirect(_commande_url(commande))
    return _form_page(
        request,
        form=form,
        title="Enregistrer une commande de Pass numériques",
        submit="Enregistrer la commande",
        back=(_stock_url(), "Retour au stock"),
        intro="Les carnets et les pass sont numérotés à l'enregistrement, tous à l'état « émis ».",
    )


@login_required
@require_safe
def commande_detail(request, uuid):
    scope = _scope(request)
    user = request.user
    commande = get_object_or_404(selectors.commandes_visible_to(user).select_related("financeur"), uuid=uuid)
    carnets = selectors.carnets_with_counts(selectors.carnets_visible_to(user).filter(commande=commande))
    page = Paginator(carnets, CARNETS_PAR_PAGE).get_page(request.GET.get("page"))
    for carnet in page.object_list:
        carnet.can_hand_out = scope.can_hand_out(carnet) and carnet.nb_en_stock > 0
    lignes = selectors.stock(user, commande=commande).lignes
    return render(
        request,
        "ateliers/pass/commande.html",
        {
            "scope": scope,
            "commande": commande,
            "commande_label": _commande_label(commande),
            "figures": lignes[0].figures if lignes else selectors.StockFigures(valeur_faciale=commande.valeur_faciale),
            "carnets": page,
        },
    )


@login_required
@require_http_methods(GET_POST)
def carnets_attribuer(request, uuid):
    commande = get_object_or_404(selectors.commandes_visible_to(request.user).select_related("financeur"), uuid=uuid)
    _require_staff(request, "confie les carnets aux structures distributrices")
    form = AttributionForm(
        _posted(request),
        distributeurs=selectors.distributeurs(),
        carnets=selectors.carnets_attribuables(commande),
    )
    if request.method == "POST" and form.is_valid():
        try:
            carnets = services.carnets_attribuer(
                carnets=form.cleaned_data["carnets"], distributeur=form.cleaned_data["distributeur"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"{len(carnets)} carnet{'s' if len(carnets) > 1 else ''} confié{'s' if len(carnets) > 1 else ''} "
                f"à {form.cleaned_data['distributeur'].nom}.",
            )
            return redirect(_commande_url(commande, "carnets"))
    return _form_page(
        request,
        form=form,
        title="Confier des carnets à une structure distributrice",
        submit="Confier les carnets",
        back=(_commande_url(commande), "Retour à la commande"),
        summary=[("Commande", _commande_label(commande))],
        intro="Seuls les carnets pas encore remis sont proposés ; leurs référents pourront ensuite les remettre.",
    )


# --- Booklets ------------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(GET_POST)
def carnet_remettre(request, uuid):
    scope = _scope(request)
    user = request.user
    carnet = get_object_or_404(
        selectors.carnets_visible_to(user).select_related("commande__financeur", "distributeur"), uuid=uuid
    )
    commande = carnet.commande
    back = (_commande_url(commande, "carnets"), "Retour à la commande")
    if not scope.can_hand_out(carnet):
        messages.info(request, f"Le carnet {carnet.numero} a déjà été remis le {carnet.remis_le:%d/%m/%Y}.")
        return redirect(back[0])
    distributeurs = selectors.distributeurs() if scope.staff else None
    initial = {"date": timezone.localdate()}
    if carnet.distributeur_id:
        initial["distributeur"] = carnet.distributeur.uuid
    form = RemiseForm(_posted(request), distributeurs=distributeurs, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            carnet = services.carnet_remettre(
                carnet=carnet,
                distributeur=data.get("distributeur"),
                categorie=data["categorie"],
                date=data["date"],
                by=user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Carnet {carnet.numero} remis le {carnet.remis_le:%d/%m/%Y} "
                f"({carnet.get_categorie_display().lower()}).",
            )
            return redirect(back[0])
    summary = [("Carnet", carnet.numero), ("Commande", _commande_label(commande))]
    if carnet.distributeur_id:
        summary.append(("Confié à", carnet.distributeur.nom))
    summary.append(
        (
            "Validité",
            f"jusqu'au {commande.valide_jusqu_au:%d/%m/%Y}, acceptés jusqu'au {commande.tolerance_jusqu_au:%d/%m/%Y}",
        )
    )
    return _form_page(
        request,
        form=form,
        title=f"Remettre le carnet {carnet.numero}",
        submit="Enregistrer la remise",
        back=back,
        summary=summary,
        intro="Le carnet est remis à une personne éligible (demandeur d'emploi ou senior) : ses pass deviennent "
        "« remis ».",
    )


# --- Passes --------------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(GET_POST)
def pass_utiliser(request):
    scope = _scope(request)
    if not scope.can_use:
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents des lieux qualifiés enregistrent un pass.")
    today = timezone.localdate()
    form = UtilisationForm(
        _posted(request), inscriptions=selectors.inscriptions_pour_pass(request.user, today), initial={"date": today}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            utilise = services.pass_utiliser(
                pass_numerique=form.pass_numerique, inscription=data["inscription"], date=data["date"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Pass {utilise.numero} enregistré pour {utilise.inscription.prenom} {utilise.inscription.nom} "
                f"le {utilise.utilise_le:%d/%m/%Y} à {utilise.lieu.nom}.",
            )
            return redirect(_stock_url("a-rembourser"))
    return _form_page(
        request,
        form=form,
        title="Enregistrer un Pass numérique",
        submit="Enregistrer le pass",
        back=(_stock_url(), "Retour au stock"),
        intro="Un pass remis, encore valable, règle une inscription à une formation payable en Pass numérique, "
        "au lieu qualifié où elle a lieu ; une inscription n'est réglée que par un pass.",
    )


@login_required
@require_http_methods(GET_POST)
def pass_rembourser(request):
    _scope(request)
    _require_staff(request, "enregistre les remboursements des Pass numériques")
    lieux = selectors.lieux_a_rembourser()
    initial = {"date": timezone.localdate()}
    if request.method != "POST" and request.GET:
        # Pre-filled from a line of the stock page; a wrong value is simply left out.
        prefill = RemboursementForm(request.GET, lieux=lieux)
        prefill.is_valid()
        initial.update({name: prefill.cleaned_data[name] for name in ("lieu", "mois") if name in prefill.cleaned_data})
    form = RemboursementForm(_posted(request), lieux=lieux, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            remboursement = services.pass_rembourser(
                lieu=data["lieu"], mois=data["mois"], date=data["date"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            nombre = remboursement.nombre
            messages.success(
                request,
                f"{data['lieu'].nom}, {services.mois_label(data['mois'])} : {nombre} pass remboursé"
                f"{'s' if nombre > 1 else ''}, {euros(remboursement.montant)}.",
            )
            return redirect(_stock_url("a-rembourser"))
    return _form_page(
        request,
        form=form,
        title="Rembourser un lieu qualifié",
        submit="Enregistrer le remboursement",
        back=(_stock_url("a-rembourser"), "Retour au stock"),
        intro="Tous les pass utilisés au lieu pendant le mois et pas encore remboursés passent à l'état « remboursé ».",
    )


@login_required
@require_http_methods(GET_POST)
def pass_annuler(request):
    _scope(request)
    _require_staff(request, "annule les Pass numériques")
    form = AnnulationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            annule = services.pass_annuler(
                pass_numerique=form.pass_numerique, motif=form.cleaned_data["motif"], by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Pass {annule.numero} annulé.")
            return redirect(_stock_url())
    return _form_page(
        request,
        form=form,
        title="Annuler un Pass numérique",
        submit="Annuler le pass",
        back=(_stock_url(), "Retour au stock"),
        intro="Seul un pass émis ou remis, pas encore utilisé, peut être annulé (carnet perdu, pass abîmé…).",
    )
