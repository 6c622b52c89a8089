"""The reports' pages: the archive, asking for a report on any period, a report's page with its progress while it
is built, and the downloads. Staff do everything; funders read the ready reports and download them; anyone else
gets 403, and a report they may not see answers 404.

The progress is polled by htmx every 2 seconds on a fragment that answers 204 while nothing changed, and stops
polling once the report is ready or failed. The status text is a live region that stays in the page (only its text
is swapped), so that screen readers announce each step. Without JavaScript, an « Actualiser » link reloads the page
(no automatic reload: WCAG 2.2.1).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import rapports
from ..forms_rapports import RapportDemandeForm
from ..models import StatutRapport

PAGE_SIZE = 50
REFUS = "Les rapports sont réservés à l'équipe Sicoval et aux financeurs."
REFUS_DEMANDE = "La préparation des rapports est réservée à l'équipe Sicoval."
FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BADGES = {
    StatutRapport.EN_ATTENTE: "badge-neutral",
    StatutRapport.EN_COURS: "badge-warning",
    StatutRapport.PRET: "badge-success",
    StatutRapport.ECHEC: "badge-danger",
}


def _require_reader(user):
    if not rapports.peut_lire_rapports(user):
        raise PermissionDenied(REFUS)


def _require_staff(user):
    if not user.is_staff:
        raise PermissionDenied(REFUS_DEMANDE)


def _visible(request, uuid):
    _require_reader(request.user)
    rapport = get_object_or_404(rapports.rapports_visibles_par(request.user), uuid=uuid)
    rapport.badge = BADGES.get(rapport.statut, "badge-neutral")
    return rapport


def etat(rapport):
    """What the page shows, as a key the polling sends back (204 while it has not changed)."""
    return f"{rapport.statut}-{rapport.progression}"


def etat_texte(rapport):
    """The status sentence of the live region."""
    if rapport.statut == StatutRapport.PRET:
        return "Le rapport est prêt : vous pouvez le télécharger."
    if rapport.statut == StatutRapport.ECHEC:
        return "La préparation du rapport a échoué."
    if rapport.statut == StatutRapport.EN_ATTENTE:
        return "Préparation du rapport : en attente, elle va commencer."
    return f"Préparation du rapport : {rapport.etape or 'en cours'} ({rapport.progression} %)."


def duree_texte(duree):
    """How long a build took, as French write it: « moins d'une seconde », « 4 s », « 2 min 05 s »."""
    if duree is None:
        return ""
    seconds = duree.total_seconds()
    if seconds < 1:
        return "moins d'une seconde"
    if seconds < 60:
        return f"{round(seconds)}\u00a0s"
    return f"{int(seconds // 60)}\u00a0min\u00a0{int(seconds % 60):02d}\u00a0s"


def _progress_context(request, rapport):
    return {
        "rapport": rapport,
        "etat": etat(rapport),
        "etat_texte": etat_texte(rapport),
        "peut_relancer": request.user.is_staff and rapport.statut == StatutRapport.ECHEC,
        "nom_pdf": rapport.nom_fichier("pdf"),
        "nom_xlsx": rapport.nom_fichier("xlsx"),
        "duree": duree_texte(rapport.duree_construction),
    }


@login_required
@never_cache
@require_safe
def rapport_list(request):
    _require_reader(request.user)
    page = Paginator(rapports.rapports_visibles_par(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for rapport in rows:
        rapport.badge = BADGES.get(rapport.statut, "badge-neutral")
    return render(
        request,
        "reporting/rapports/liste.html",
        {"page": page, "rows": rows, "query": "", "staff": request.user.is_staff},
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def rapport_demander(request):
    _require_staff(request.user)
    form = RapportDemandeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                rapport = rapports.rapport_demander(
                    du=form.cleaned_data["du"], au=form.cleaned_data["au"], by=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"La préparation du rapport ({rapport.periode_libelle}) est lancée.")
                return redirect("reporting:rapport", uuid=rapport.uuid)
        return render(request, "reporting/rapports/demander.html", {"form": form}, status=400)
    return render(request, "reporting/rapports/demander.html", {"form": form})


@login_required
@never_cache
@require_safe
def rapport_detail(request, uuid):
    rapport = _visible(request, uuid)
    return render(request, "reporting/rapports/detail.html", _progress_context(request, rapport))


@login_required
@never_cache
@require_safe
def rapport_progression(request, uuid):
    """The progress fragment the detail page polls: 204 while nothing changed since ``vu``."""
    rapport = _visible(request, uuid)
    if request.GET.get("vu") == etat(rapport):
        return HttpResponse(status=204)
    return render(request, "reporting/rapports/_progression.html", {**_progress_context(request, rapport), "oob": True})


@login_required
@require_POST
def rapport_relancer(request, uuid):
    _require_staff(request.user)
    rapport = _visible(request, uuid)
    try:
        rapports.rapport_relancer(rapport=rapport, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return render(request, "reporting/rapports/detail.html", _progress_context(request, rapport), status=400)
    messages.success(request, "La préparation du rapport est relancée.")
    return redirect("reporting:rapport", uuid=rapport.uuid)


@login_required
@never_cache
@require_safe
def rapport_fichier(request, uuid, format):
    """The PDF or the XLSX of a ready report, as an attachment named after the territory and the period."""
    _require_reader(request.user)
    if format not in FORMATS:
        raise Http404("Format inconnu.")
    visibles = rapports.rapports_visibles_par(request.user).select_related(None).defer(None)
    rapport = get_object_or_404(visibles.only("uuid", "type", "du", "au", "statut", format), uuid=uuid)
    data = getattr(rapport, format)
    if rapport.statut != StatutRapport.PRET or data is None:
        raise Http404("Ce rapport n'est pas encore prêt.")
    response = HttpResponse(bytes(data), content_type=FORMATS[format])
    response["Content-Disposition"] = content_disposition_header(True, rapport.nom_fichier(format))
    response["X-Content-Type-Options"] = "nosniff"
    return response
