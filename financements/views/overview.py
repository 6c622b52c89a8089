"""The funding overview: agreed, paid, remaining and overdue at a date, per funder and per structure, the overdue
instalments, and the employer's remaining cost over a period. A fixed number of queries whatever the number of
agreements: every figure is grouped in SQL by the selectors."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.models import Role
from financements import selectors
from financements.forms import OverviewForm
from financements.models import Financeur
from structures.models import Structure

from .common import require_reader

OVERDUE_SHOWN = 100


def _rows(figures_by_key, objects):
    """[(object, Figures)] ordered by the object's name."""
    rows = [(objects[key], figures) for key, figures in figures_by_key.items() if key in objects]
    return sorted(rows, key=lambda row: row[0].nom.lower())


def _employer_structures(user):
    """The structures whose employer cost the user may read: every employer for staff, a référent's own
    structures; None for funders (an employer's costs are not theirs to read)."""
    if user.is_staff:
        return (
            Structure.objects.filter(Q(postes__isnull=False) | Q(conventions__isnull=False)).distinct().order_by("nom")
        )
    referent_of = Structure.objects.filter(memberships__user=user, memberships__role=Role.REFERENT).order_by("nom")
    return referent_of if referent_of.exists() else None


@login_required
@require_safe
def overview(request):
    user = request.user
    require_reader(user)
    employers = _employer_structures(user)
    form = OverviewForm(request.GET or None, structures=employers, territory_choice=user.is_staff)
    on_date, start, end, employer = form.values()
    if employer is None and employers is not None and not user.is_staff:
        employer = employers.first()

    lignes = selectors.lignes_visible_to(user)
    by_financeur = selectors.figures_by_financeur(lignes_queryset=lignes, on_date=on_date)
    by_structure = selectors.figures_by_structure(lignes_queryset=lignes, on_date=on_date)
    financeur_rows = _rows(by_financeur, Financeur.objects.in_bulk(list(by_financeur)))
    structure_rows = _rows(by_structure, Structure.objects.in_bulk(list(by_structure)))
    # Every line falls in exactly one funder's group: their sum is the total, without three more queries.
    totals = sum((figures for _, figures in financeur_rows), selectors.Figures())
    overdue = list(selectors.versements_overdue(on_date=on_date, user=user)[: OVERDUE_SHOWN + 1])

    context = {
        "form": form,
        "on_date": on_date,
        "totals": totals,
        "totals_title": "Territoire" if user.is_staff else "Vos financements",
        "financeur_rows": financeur_rows,
        "structure_rows": structure_rows,
        "overdue": overdue[:OVERDUE_SHOWN],
        "overdue_truncated": len(overdue) > OVERDUE_SHOWN,
        "overdue_shown": OVERDUE_SHOWN,
        "employer_block": employers is not None,
    }
    if employers is not None:
        context.update(
            {
                "cost": selectors.employer_remaining_cost(start=start, end=end, structure=employer),
                "cost_structure": employer,
                "cost_start": start,
                "cost_end": end,
            }
        )
    return render(request, "financements/overview.html", context)
