"""The history of activities: "Mes activités" for a conseiller; the activities of their structures' conseillers
for a référent, of everyone for staff (read-only, never notes). Filters by period, type, thématique, place type,
commune (and conseiller for team views), 50 per page, a fixed number of queries whatever the count."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accompagnements import selectors
from accompagnements.filters import filter_activites
from conseillers.views.common import query_string

from .saisie import DRAFT_CLEAR_COOKIE

PAGE_SIZE = 50


def require_activity_reader(user):
    """(own conseiller profile or None, team view?) of a user who reads activities; PermissionDenied for the others
    (aidants, funders): the history and its exports share this rule."""
    conseiller = selectors.own_conseiller(user)
    team = selectors.sees_team(user)
    if conseiller is None and not team:
        raise PermissionDenied(
            "Seuls les conseillers, les référents et l'équipe du territoire consultent les activités."
        )
    return conseiller, team


@login_required
@require_safe
def activite_list(request):
    user = request.user
    conseiller, team = require_activity_reader(user)
    activites, form = filter_activites(selectors.activites_visible_to(user), request.GET, user)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    activites = activites.select_related("conseiller", "lieu", "commune").order_by("-date", "-created_at", "-pk")
    page = Paginator(activites, PAGE_SIZE).get_page(request.GET.get("page"))
    draft_clear = request.COOKIES.get(DRAFT_CLEAR_COOKIE, "")
    response = render(
        request,
        "accompagnements/activite_list.html",
        {
            "form": form,
            "page": page,
            "query": query_string(request),
            "filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
            "conseiller": conseiller,
            "team": team,
            "draft_clear": draft_clear,
            "title": "Mes activités" if conseiller and not team else "Activités",
        },
        status=status,
    )
    if draft_clear:
        response.delete_cookie(DRAFT_CLEAR_COOKIE, samesite="Lax")
    return response
