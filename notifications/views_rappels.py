"""The reminders for Sicoval staff: each family with its recipients, its timing, on or off, and its last run; a
family's settings (with their history and its last runs), the preview of its e-mails on real objects, and running it
now. Other users get 403; an unknown family, 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import rappels, selectors
from .forms import ReglageRappelForm
from .models import ReglageRappel, StatutExecution
from .rappels import services
from .views import HTML_PREVIEW_POLICY, require_staff

RESULTAT_BADGES = {
    StatutExecution.EN_COURS: "",
    StatutExecution.REUSSIE: "badge-success",
    StatutExecution.ERREURS: "badge-warning",
    StatutExecution.ECHEC: "badge-danger",
    StatutExecution.INACTIVE: "badge-neutral",
}


def _famille(request, code):
    require_staff(request.user)
    try:
        return rappels.famille(code)
    except KeyError:
        raise Http404("Cette famille de rappels n'existe pas.") from None


def _decorate(execution):
    if execution is not None:
        execution.badge = RESULTAT_BADGES.get(execution.statut, "badge-neutral")
    return execution


def _rows():
    reglages, runs = selectors.reglages_with_last_run()
    rows = []
    for famille in rappels.FAMILLES.values():
        reglage = reglages.get(famille.code)
        run = runs.get(reglage.derniere_execution_id) if reglage is not None else None
        rows.append(
            {
                "famille": famille,
                "actif": reglage.actif if reglage is not None else True,
                "echeancier": famille.echeancier(services.parametres_of(famille, reglage)),
                "execution": _decorate(run),
            }
        )
    return rows


@login_required
@never_cache
@require_safe
def rappel_list(request):
    require_staff(request.user)
    return render(request, "notifications/rappels/list.html", {"rows": _rows()})


def _edit_page(request, famille, reglage, form, status=200):
    return render(
        request,
        "notifications/rappels/edit.html",
        {
            "famille": famille,
            "actif": reglage.actif if reglage is not None else True,
            "echeancier": famille.echeancier(services.parametres_of(famille, reglage)),
            "form": form,
            "executions": [_decorate(run) for run in selectors.executions_of(famille.code)],
            "history": selectors.reglage_history(famille, reglage),
            "history_length": 20,
        },
        status=status,
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def rappel_edit(request, code):
    famille = _famille(request, code)
    reglage = ReglageRappel.objects.filter(famille=code).first()  # none yet: its defaults (written on saving)
    if request.method != "POST":
        initial = {"actif": reglage.actif if reglage is not None else True, **services.parametres_of(famille, reglage)}
        return _edit_page(request, famille, reglage, ReglageRappelForm(initial=initial, famille=famille))
    form = ReglageRappelForm(request.POST, famille=famille)
    if form.is_valid():
        try:
            services.reglage_update(
                code=code, actif=form.cleaned_data["actif"], parametres=form.parametres(), by=request.user
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"Le rappel « {famille.libelle} » est enregistré.")
            return redirect("notifications:rappels")
    return _edit_page(request, famille, reglage, form, status=400)


@login_required
@never_cache
@require_safe
def rappel_preview(request, code):
    famille = _famille(request, code)
    return render(
        request,
        "notifications/rappels/preview.html",
        {"famille": famille, "apercus": services.apercus(code)},
    )


@login_required
@never_cache
@require_safe
def rappel_preview_html(request, code, genre):
    """The HTML version of a preview alone, under the same sandboxing policy as the outbox's e-mails."""
    famille = _famille(request, code)
    if genre not in famille.genres:
        raise Http404("Ce rappel n'a pas ce type d'e-mail.")
    apercu = next(a for a in services.apercus(code) if a.genre == genre)
    if apercu.rappel is None:
        raise Http404("Aucun objet de la base ne permet encore cet aperçu.")
    response = HttpResponse(apercu.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = HTML_PREVIEW_POLICY
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def rappel_run(request, code):
    famille = _famille(request, code)
    run = services.famille_run(code, by=request.user)
    if run.statut == StatutExecution.INACTIVE:
        messages.info(request, f"Le rappel « {famille.libelle} » est désactivé : rien n'a été envoyé.")
    elif run.statut == StatutExecution.ECHEC:
        messages.error(request, f"Le rappel « {famille.libelle} » a échoué : {run.message}")
    else:
        text = (
            f"Rappel « {famille.libelle} » lancé le {timezone.localtime(run.debut):%d/%m/%Y à %H:%M} : "
            f"{run.envoyes} mis en file d'envoi, {run.deja_traites} déjà traité{'s' if run.deja_traites > 1 else ''}, "
            f"{run.manques} manqué{'s' if run.manques > 1 else ''} (trop tard)"
        )
        if run.erreurs:
            messages.warning(request, f"{text}, {run.erreurs} en erreur : {run.message}")
        else:
            messages.success(request, text + ".")
    return redirect(reverse("notifications:rappels"))
