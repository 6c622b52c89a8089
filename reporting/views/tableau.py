"""The dashboard of the territory (``/gestion/pilotage/``) for staff, référents and funders, each on their own scope
(``reporting.tableau.perimetre_pour``; anyone else gets 403), and its CSV and XLSX exports with the same filters.

The filters are a GET form that works without JavaScript; with htmx the results are refreshed in place when a
filter changes. Bad input answers 400 with a French error summary and nothing computed, except to htmx, which swaps
only 2xx answers: it gets the same summary with 200 so that the person sees it.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from structures.models import Structure

from .. import exports, rapports
from ..forms import TableauForm
from ..tableau import perimetre_pour, tableau_de_bord


def _structures_au_choix(perimetre):
    if perimetre.structures is None:
        return Structure.objects.all()
    return Structure.objects.filter(pk__in=perimetre.structures)


def _filtres(request):
    """(the user's scope narrowed by the filters, or None when they are invalid; the form). 403 for a user without
    a dashboard, 404 for a structure outside the scope."""
    perimetre = perimetre_pour(request.user)
    form = TableauForm(request.GET, structures=_structures_au_choix(perimetre))
    if not form.is_valid():
        return None, form
    data = form.cleaned_data
    perimetre = perimetre.restreint(
        structure=data["structure"], commune=data["commune"], departement=data.get("departement") or None
    )
    return perimetre, form


def _partial(request):
    """An htmx refresh of the results (a history restore wants the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


@login_required
@require_safe
@never_cache
def tableau(request):
    perimetre, form = _filtres(request)
    context = {"form": form, "tableau": None, "rapports": rapports.peut_lire_rapports(request.user)}
    if perimetre is not None:
        data = form.cleaned_data
        context.update(
            tableau=tableau_de_bord(data["du"], data["au"], perimetre),
            query=urlencode(form.query_string()),
        )
    if _partial(request):
        return render(request, "reporting/tableau/_resultats.html", {**context, "rafraichi": True})
    return render(request, "reporting/tableau/index.html", context, status=200 if perimetre is not None else 400)


def _export(request, extension, build, content_type):
    perimetre, form = _filtres(request)
    if perimetre is None:
        return HttpResponseBadRequest(
            "Filtres invalides : l'export n'a pas été produit.\n" + form.error_text(),
            content_type="text/plain; charset=utf-8",
        )
    data = form.cleaned_data
    tableau = tableau_de_bord(data["du"], data["au"], perimetre)
    response = HttpResponse(build(tableau), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{exports.nom_de_fichier(tableau, extension)}"'
    return response


@login_required
@require_safe
@never_cache
def export_csv(request):
    return _export(request, "csv", exports.tableau_csv, exports.CSV_CONTENT_TYPE)


@login_required
@require_safe
@never_cache
def export_xlsx(request):
    return _export(request, "xlsx", exports.tableau_xlsx, exports.XLSX_CONTENT_TYPE)
