"""Exports of the activity log in the national tool's format (CSV and XLSX), with the history page's filters.

Each user exports what they may read (``selectors.activites_visible_to``): a conseiller their own activities with
their notes, a référent their structures' activities, staff every activity; team exports never carry notes.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.http import require_safe

from accompagnements import exports, selectors
from accompagnements.filters import filter_activites

from .historique import require_activity_reader


def _export(request, extension, respond):
    user = request.user
    _conseiller, team = require_activity_reader(user)
    activites, form = filter_activites(selectors.activites_visible_to(user), request.GET, user, team=team)
    if form.errors:
        return HttpResponseBadRequest(
            "Filtres invalides, l'export n'a pas été produit.\n" + form.error_text(),
            content_type="text/plain; charset=utf-8",
        )
    filename = f"activites-{timezone.localdate():%Y-%m-%d}.{extension}"
    return respond(exports.accompagnements_of(activites), team=team, filename=filename)


@login_required
@require_safe
def export_csv(request):
    return _export(request, "csv", exports.csv_response)


@login_required
@require_safe
def export_xlsx(request):
    return _export(request, "xlsx", exports.xlsx_response)
