"""The "Accès à l'API" pages: a structure's partner API clients, created and revoked by Sicoval staff and the
structure's référents; every client of the territory for staff.

A structure or client the user cannot see answers 404; one they see without the right to manage it, 403. The
secret of a new client is in the response to the creation form only: never in a redirect, a message, the session
or a log, and that response is not cached."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_safe

from structures import selectors as structure_selectors

from . import selectors, services
from .forms import ClientCreateForm, ClientFilterForm

logger = logging.getLogger("partenaires.web")

PAGE_SIZE = 25
HISTORY_LENGTH = 30
# Form displays already used to create a client, kept in the session (their ids, never the secret).
USED_FORMS_KEY = "partenaires_formulaires_utilises"
USED_FORMS_KEPT = 20
REFUSED = "Seuls l'équipe Sicoval et les référents de la structure gèrent ses accès à l'API."


def _structure_url(structure):
    return reverse("partenaires:structure_clients", args=[structure.uuid])


def _managed_structure(request, uuid):
    """The structure if the user may manage its clients; 404 if they cannot see it, 403 if they only see it."""
    qs = structure_selectors.structures_visible_to(request.user).select_related("commune")
    structure = get_object_or_404(qs, uuid=uuid)
    if not services.can_manage_clients(request.user, structure):
        raise PermissionDenied(REFUSED)
    return structure


def _managed_client(request, uuid):
    client = get_object_or_404(selectors.clients_visible_to(request.user), uuid=uuid)
    if not services.can_manage_clients(request.user, client.structure):
        raise PermissionDenied(REFUSED)
    return client


def _structure_page(request, structure, form, *, status=200):
    return render(
        request,
        "partenaires/structure_clients.html",
        {"structure": structure, "clients": selectors.clients_of_structure(structure), "form": form},
        status=status,
    )


def _form_already_used(request, form):
    marker = form.cleaned_data.get("formulaire")
    return bool(marker) and marker in request.session.get(USED_FORMS_KEY, [])


def _remember_form(request, form):
    marker = form.cleaned_data.get("formulaire")
    if marker:
        used = [*request.session.get(USED_FORMS_KEY, []), marker]
        request.session[USED_FORMS_KEY] = used[-USED_FORMS_KEPT:]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables()  # an error report shows no variable of this view (nor of the templates it renders)
def structure_clients(request, uuid):
    """The structure's clients and the form creating one; a created client's page shows its secret, once."""
    structure = _managed_structure(request, uuid)
    if request.method != "POST":
        return _structure_page(request, structure, ClientCreateForm(user=request.user))
    form = ClientCreateForm(request.POST, user=request.user)
    if form.is_valid():
        if _form_already_used(request, form):
            # The page showing the secret was reloaded: the client exists, its secret is not shown again.
            messages.info(request, "Ce client a déjà été créé ; son secret ne peut plus être affiché.")
            return redirect(_structure_url(structure))
        try:
            client, secret = services.client_create(
                structure=structure,
                nom=form.cleaned_data["nom"],
                scopes_list=form.cleaned_data["scopes"],
                by=request.user,
                statistiques_detaillees=form.cleaned_data["statistiques_detaillees"],
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            _remember_form(request, form)
            logger.info("client d'API %s créé pour la structure %s", client.uuid, structure.uuid)
            response = render(
                request,
                "partenaires/client_created.html",
                {
                    "structure": structure,
                    "client": client,
                    "secret": secret,
                    "token_url": settings.SITE_URL.rstrip("/") + reverse("oauth2_provider:token"),
                },
            )
            add_never_cache_headers(response)
            return response
    return _structure_page(request, structure, form, status=400)


@login_required
@require_safe
def client_detail(request, uuid):
    client = _managed_client(request, uuid)
    return render(
        request,
        "partenaires/client_detail.html",
        {
            "client": client,
            "structure": client.structure,
            "history": selectors.client_history(client, limit=HISTORY_LENGTH),
            "history_length": HISTORY_LENGTH,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_revoke(request, uuid):
    """GET: the confirmation page; POST: the revocation, then back to the structure's clients."""
    client = _managed_client(request, uuid)
    if not client.actif:
        messages.info(request, f"Le client « {client.nom} » est déjà révoqué.")
        return redirect(_structure_url(client.structure))
    if request.method != "POST":
        return render(request, "partenaires/client_revoke.html", {"client": client, "structure": client.structure})
    try:
        services.client_revoke(client=client, by=request.user)
    except ValidationError:
        messages.info(request, f"Le client « {client.nom} » est déjà révoqué.")
    else:
        logger.info("client d'API %s révoqué", client.uuid)
        messages.success(
            request, f"Le client « {client.nom} » est révoqué : ses jetons ne sont plus acceptés par l'API."
        )
    if request.POST.get("retour") == "territoire" and request.user.is_staff:
        return redirect("partenaires:clients")
    return redirect(_structure_url(client.structure))


@login_required
@require_safe
def client_list(request):
    """Every client of the territory, for staff."""
    if not request.user.is_staff:
        raise PermissionDenied("Seule l'équipe Sicoval voit les clients de l'API de toutes les structures.")
    form = ClientFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    page = Paginator(selectors.client_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "partenaires/client_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": bool(filters)},
    )
