"""The file imports' pages (namespace ``imports``): the list of imports, an upload page per kind of file, and an
import's page, which follows the analysis, shows the preview (counts, every invalid line with its reason, the
changes) with « Importer » and « Abandonner », then follows the import and shows its result.

Progress is polled by htmx every 2 seconds on a fragment that answers 204 while nothing changed; when the step
ends, the fragment asks htmx to reload the page (``HX-Refresh``), which then shows the preview or the result. The
status sentence (a live region) changes only with the step, not with each percentage, so that it is not read out
every 2 seconds. Without JavaScript, an « Actualiser » link reloads the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import services
from .base import ACTION_FAITE, ACTION_LABELS, Action
from .forms import ImportActivitesForm, ImportLieuxForm
from .models import Import, StatutImport, TypeImport

PAGE_SIZE = 30
REFUS = "Les imports sont réservés aux conseillers (leurs activités) et à l'équipe Sicoval."
BADGES = {
    StatutImport.ANALYSE: "badge-warning",
    StatutImport.APERCU: "badge-neutral",
    StatutImport.APPLICATION: "badge-warning",
    StatutImport.TERMINE: "badge-success",
    StatutImport.ECHEC: "badge-danger",
    StatutImport.ABANDONNE: "badge-neutral",
}
FORMULAIRES = {TypeImport.ACTIVITES_COOP: ImportActivitesForm, TypeImport.LIEUX: ImportLieuxForm}
SLUGS = {"activites": TypeImport.ACTIVITES_COOP, "lieux": TypeImport.LIEUX}


def _require_importer(user):
    if not services.types_permis(user):
        raise PermissionDenied(REFUS)


def _visible(request, uuid):
    _require_importer(request.user)
    qs = services.imports_visibles_par(request.user).select_related("demande_par", "conseiller").defer("fichier")
    import_ = get_object_or_404(qs, uuid=uuid)
    import_.badge = BADGES.get(import_.statut, "badge-neutral")
    return import_


def etat(import_):
    return f"{import_.statut}-{import_.progression}"


def etat_texte(import_):
    # While a step runs the sentence stays the same (the bar below moves): a live region is not read out every 2 s.
    if import_.statut == StatutImport.ANALYSE:
        return "Analyse du fichier en cours : son avancement est affiché ci-dessous."
    if import_.statut == StatutImport.APPLICATION:
        return "Import en cours : son avancement est affiché ci-dessous."
    if import_.statut == StatutImport.APERCU:
        return "L'aperçu est prêt : vérifiez-le, puis lancez l'import."
    if import_.statut == StatutImport.TERMINE:
        return "L'import est terminé."
    if import_.statut == StatutImport.ECHEC:
        return "Le traitement du fichier a échoué."
    if (import_.resultat or {}).get("commence"):
        return "Cet import a été abandonné en cours de route : les lignes déjà importées le restent."
    return "Cet import a été abandonné : rien n'a été importé."


def _comptes(compte, labels):
    return [
        {"action": str(action), "label": label, "nombre": (compte or {}).get(str(action), 0)}
        for action, label in labels.items()
    ]


def _context(request, import_):
    apercu = import_.apercu or {}
    lignes = apercu.get("lignes", [])
    return {
        "import": import_,
        "etat": etat(import_),
        "etat_texte": etat_texte(import_),
        "comptes": _comptes(apercu.get("compte"), ACTION_LABELS),
        "resultat": _comptes((import_.resultat or {}).get("compte"), ACTION_FAITE),
        "invalides": [ligne for ligne in lignes if ligne["action"] == Action.INVALIDE],
        "changements": [ligne for ligne in lignes if ligne["action"] != Action.INVALIDE],
        "a_ecrire": sum((apercu.get("compte") or {}).get(str(a), 0) for a in (Action.CREER, Action.METTRE_A_JOUR)),
        "peut_agir": request.user.is_staff or import_.demande_par_id == request.user.pk,
        # Only a failed import whose file is still there can be relaunched (the file itself is never loaded here).
        "a_fichier": import_.statut == StatutImport.ECHEC
        and Import.objects.filter(pk=import_.pk, fichier__isnull=False).exists(),
    }


@login_required
@never_cache
@require_safe
def import_list(request):
    _require_importer(request.user)
    qs = services.imports_visibles_par(request.user).select_related("demande_par", "conseiller").defer("fichier")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for import_ in rows:
        import_.badge = BADGES.get(import_.statut, "badge-neutral")
    return render(
        request,
        "imports/liste.html",
        {"page": page, "rows": rows, "types": services.types_permis(request.user), "query": ""},
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def import_nouveau(request, slug):
    type = SLUGS.get(slug)
    if type is None:
        raise Http404("Type d'import inconnu.")
    if type not in services.types_permis(request.user):
        _require_importer(request.user)
        raise PermissionDenied("Vous ne pouvez pas faire ce type d'import.")
    form_class = FORMULAIRES[type]
    form = form_class(*((request.POST, request.FILES) if request.method == "POST" else ()))
    equipe = type == TypeImport.ACTIVITES_COOP and request.user.is_staff
    context = {"form": form, "type": type, "slug": slug, "equipe": equipe}
    if request.method == "POST":
        if form.is_valid():
            structure = form.cleaned_data.get("structure")
            try:
                import_ = services.import_deposer(
                    by=request.user,
                    type=type,
                    fichier=form.cleaned_data["fichier"],
                    options={"structure": str(structure.uuid)} if structure else {},
                )
            except ValidationError as error:
                form.add_error("fichier", error.message_dict.get("fichier") if hasattr(error, "error_dict") else error)
            else:
                messages.success(request, f"Le fichier « {import_.nom_fichier} » est déposé : son analyse commence.")
                return redirect("imports:detail", uuid=import_.uuid)
        return render(request, "imports/nouveau.html", context, status=400)
    return render(request, "imports/nouveau.html", context)


@login_required
@never_cache
@require_safe
def import_detail(request, uuid):
    import_ = _visible(request, uuid)
    return render(request, "imports/detail.html", _context(request, import_))


@login_required
@never_cache
@require_safe
def import_progression(request, uuid):
    """The progress fragment: 204 while nothing changed since ``vu``; once the step is over, htmx reloads the page."""
    import_ = _visible(request, uuid)
    if request.GET.get("vu") == etat(import_):
        return HttpResponse(status=204)
    if not import_.en_cours:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/_progression.html", _context(request, import_))


def _action(request, uuid, service, succes):
    import_ = _visible(request, uuid)
    try:
        service(import_=import_, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return render(request, "imports/detail.html", _context(request, import_), status=400)
    messages.success(request, succes)
    return redirect("imports:detail", uuid=import_.uuid)


@login_required
@require_POST
def import_confirmer(request, uuid):
    return _action(request, uuid, services.import_confirmer, "L'import est lancé.")


@login_required
@require_POST
def import_abandonner(request, uuid):
    return _action(request, uuid, services.import_abandonner, "L'import est abandonné et son fichier effacé.")


@login_required
@require_POST
def import_relancer(request, uuid):
    return _action(request, uuid, services.import_relancer, "Le traitement est relancé.")
