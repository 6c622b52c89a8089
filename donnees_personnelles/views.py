"""The staff's page for a person's rights (RGPD): find everything the platform holds about a person, hand it over
as a file (JSON or CSV), or erase it (after a confirmation page); and the journal of these requests. Staff only
(403 for everyone else).

The person's address, number or name are sent by POST, never in a URL: they stay out of the server's logs and the
browser's history. The pages are never cached."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from notifications.services import mask_email

from . import selectors, services
from .forms import EffacementForm, ExportForm, RechercheForm
from .models import Demande, TypeDemande

PAGE_SIZE = 50
CONTENT_TYPES = {
    TypeDemande.EXPORT_JSON: ("application/json; charset=utf-8", "json"),
    TypeDemande.EXPORT_CSV: ("text/csv; charset=utf-8", "csv"),
}


def require_staff(user):
    if not user.is_staff:
        raise PermissionDenied("Les demandes sur les données personnelles sont traitées par l'équipe Sicoval.")


def _shown(dossier):
    """Recipients masked, as on the outbox's pages: an e-mail about a referral goes to a conseiller."""
    for email in dossier.emails:
        email.destinataire_masque = mask_email(email.destinataire)
    return dossier


def _search_page(request, form, *, dossier=None, status=200):
    context = {"form": form, "dossier": dossier}
    if dossier is not None:
        context.update(dossier=_shown(dossier), critere=dossier.critere.params())
    return render(request, "donnees_personnelles/recherche.html", context, status=status)


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def recherche(request):
    require_staff(request.user)
    if request.method != "POST":
        return _search_page(request, RechercheForm())
    form = RechercheForm(request.POST)
    if not form.is_valid():
        return _search_page(request, form, status=400)
    return _search_page(request, form, dossier=selectors.dossier_of(form.cleaned_data["critere"]))


@login_required
@never_cache
@require_POST
def export(request):
    require_staff(request.user)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _search_page(request, form, status=400)
    type = form.cleaned_data["format"]
    _demande, content = services.demande_export(by=request.user, critere=form.cleaned_data["critere"], type=type)
    content_type, extension = CONTENT_TYPES[type]
    response = HttpResponse(content, content_type=content_type)
    filename = f"donnees-personnelles-{timezone.localtime():%Y%m%d-%H%M}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _confirm_page(request, form, dossier, *, status=200):
    return render(
        request,
        "donnees_personnelles/effacement.html",
        {"form": form, "dossier": _shown(dossier), "critere": dossier.critere.params()},
        status=status,
    )


@login_required
@never_cache
@require_POST
def effacement(request):
    """Without ``confirme``: the confirmation page, listing what will be erased. With it: the erasure."""
    require_staff(request.user)
    form = EffacementForm(request.POST)
    if not form.is_valid():
        return _search_page(request, form, status=400)
    critere = form.cleaned_data["critere"]
    if not form.cleaned_data["confirme"]:
        return _confirm_page(request, form, selectors.dossier_of(critere))
    try:
        demande = services.demande_effacement(by=request.user, critere=critere, attendu=form.cleaned_data["attendu"])
    except ValidationError as error:
        form.add_error(None, error)
        return _confirm_page(request, form, selectors.dossier_of(critere), status=400)
    n = demande.nombre_enregistrements
    messages.success(request, f"{n} enregistrement{'s' if n > 1 else ''} effacé{'s' if n > 1 else ''}.")
    return redirect("donnees_personnelles:demandes")


@login_required
@never_cache
@require_safe
def demande_list(request):
    require_staff(request.user)
    demandes = Demande.objects.select_related("par").order_by("-le", "-pk")
    page = Paginator(demandes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "donnees_personnelles/demande_list.html", {"page": page, "query": ""})
