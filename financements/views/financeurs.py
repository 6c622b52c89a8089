"""The funders: their list with what each agreed and paid, and the form that records a new one (staff)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from financements import selectors, services
from financements.forms import FinanceurForm
from financements.models import Financeur
from financements.selectors import Figures
from structures.forms import add_service_error

from .common import posted, require_staff, today


@login_required
@require_safe
def financeur_list(request):
    require_staff(request.user, "gère les financeurs")
    on_date = today()
    financeurs = list(
        Financeur.objects.select_related("structure").annotate(nb_conventions=Count("conventions")).order_by("nom")
    )
    by_financeur = selectors.figures_by_financeur(
        lignes_queryset=selectors.lignes_visible_to(request.user), on_date=on_date
    )
    for financeur in financeurs:
        financeur.figures = by_financeur.get(financeur.pk, Figures())
    return render(request, "financements/financeur_list.html", {"financeurs": financeurs, "on_date": on_date})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def financeur_create(request):
    require_staff(request.user, "enregistre les financeurs")
    form = FinanceurForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            financeur = services.financeur_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Le financeur « {financeur.nom} » est enregistré.")
            return redirect("financements:financeurs")
    status = 400 if form.is_bound else 200
    return render(request, "financements/financeur_form.html", {"form": form}, status=status)
