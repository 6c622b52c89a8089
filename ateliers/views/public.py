"""Public pages of the workshops, without an account: the agenda (and its iCal feed), a session's page, registration
(rate limited per IP, with a honeypot), the registration's confirmation page and its signed cancellation link.

Registrations and cancellations go through ``ateliers.services`` (seats under a lock, e-mails in the outbox). The
confirmation and cancellation pages are reached only through the signed token of a registration: they are never
cached nor indexed, and a tampered token is a 404.
"""

import logging
import time

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accompagnements.choices import THEMATIQUE_LABELS

from .. import ics, services
from ..forms_public import AgendaFilterForm, InscriptionForm
from ..models import Public, StatutInscription, StatutSeance
from ..selectors import position_attente, seance_of_inscription, seances_du_flux, seances_publiques, seances_visibles

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
# Registration POSTs per IP address: at most RATE_LIMIT in a window of RATE_WINDOW seconds.
RATE_LIMIT = 10
RATE_WINDOW = 600
PUBLIC_LABELS = dict(Public.choices)
PRIVATE_HEADERS = {"X-Robots-Tag": "noindex, nofollow"}


# --- helpers -------------------------------------------------------------------------------------------------------
def telephone_fr(value):
    """+33561000000 as French read it: 05 61 00 00 00 (other numbers as stored)."""
    if value and len(value) == 12 and value.startswith("+33") and value[1:].isdigit():
        national = "0" + value[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return value or ""


def _decorate(seance):
    """What the templates show of a session, computed once (labels, commune, duration, open for registration)."""
    atelier = seance.atelier
    seance.publics_fr = [PUBLIC_LABELS.get(code, code) for code in atelier.publics]
    seance.thematiques_fr = [THEMATIQUE_LABELS.get(code, code) for code in atelier.thematiques]
    seance.commune = seance.lieu.commune if seance.lieu_id else seance.arret.commune
    seance.accueil = seance.lieu if seance.lieu_id else seance.arret.lieu  # who welcomes: the place or the bus
    seance.accueil_telephone = telephone_fr(seance.accueil.telephone)
    seance.duree_minutes = int((seance.fin - seance.debut).total_seconds() // 60)
    seance.passee = seance.debut <= timezone.now()
    seance.ouverte = seance.statut == StatutSeance.PLANIFIEE and not seance.passee
    seance.complete = seance.nb_places_restantes <= 0
    return seance


def _client_ip(request):
    """The client's address as allauth sees it for its own rate limits (same proxy settings)."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return "inconnue"


def _throttle(request):
    """Counts a registration POST of this IP; returns the seconds to wait when over the limit, else None.

    A fixed window per IP, counted with the cache's atomic increment (shared by every process with Redis). If the
    cache is unreachable, the registration goes on: a lost seat matters more than a missed throttle."""
    now = time.time()
    window = int(now // RATE_WINDOW)
    key = f"ateliers:inscription:ip:{_client_ip(request)}:{window}"
    try:
        cache.add(key, 0, timeout=RATE_WINDOW + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=RATE_WINDOW + 5)
            count = 1
    except Exception:  # the cache is down: do not refuse people
        logger.warning("Limitation des inscriptions indisponible : cache injoignable.")
        return None
    if count > RATE_LIMIT:
        return max(1, int((window + 1) * RATE_WINDOW - now) + 1)
    return None


def _too_many(request, retry_after):
    minutes = max(1, -(-retry_after // 60))
    response = render(request, "ateliers/public/trop_de_demandes.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _invalid_link(request):
    return render(request, "ateliers/public/lien_invalide.html", status=404)


def _private(response):
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


def _service_errors(form, error):
    """A refusal of the registration service shown on the form (the session closed meanwhile, already
    registered…)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- agenda --------------------------------------------------------------------------------------------------------
@require_safe
def agenda(request):
    form = AgendaFilterForm(request.GET or None)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "query": query.urlencode(), "filtered": False, "page": None, "show_reset": True}
    if form.is_bound and not form.is_valid():
        return render(request, "ateliers/public/agenda.html", context, status=400)
    filters = form.filters() if form.is_bound else {}
    page = Paginator(seances_publiques(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [_decorate(seance) for seance in page.object_list]
    context.update(page=page, filtered=any(filters.values()), show_reset=any(filters.values()))
    feed = reverse("ateliers:agenda_ics")
    context["feed_url"] = f"{feed}?{context['query']}" if context["query"] else feed
    return render(request, "ateliers/public/agenda.html", context)


@require_safe
def agenda_ics(request):
    """The agenda over the next six months as an iCal feed, with the page's filters (a calendar app subscribes)."""
    form = AgendaFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        errors = [f"{form[name].label} : {' '.join(form[name].errors)}" for name in form.fields if form[name].errors]
        body = "Filtre invalide. " + " ".join(errors + list(form.non_field_errors())) + "\n"
        return HttpResponse(body, status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters() if form.is_bound else {}
    base = request.build_absolute_uri("/").rstrip("/")
    events = [
        ics.event_lines(seance, url=base + reverse("ateliers:seance_publique", args=[seance.uuid]))
        for seance in seances_du_flux(**filters)
    ]
    response = HttpResponse(
        ics.calendar(events, name="Ateliers numériques du Sicoval"), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="ateliers.ics"'
    return response


# --- a session and its registration -------------------------------------------------------------------------------
def _seance_page(request, seance, form, *, template="ateliers/public/seance.html", status=200):
    return render(
        request,
        template,
        {"seance": seance, "atelier": seance.atelier, "lieu": seance.lieu, "arret": seance.arret, "form": form},
        status=status,
    )


@require_safe
def seance_publique(request, uuid):
    seance = _decorate(get_object_or_404(seances_visibles(), uuid=uuid))
    return _seance_page(request, seance, InscriptionForm() if seance.ouverte else None)


@require_http_methods(["GET", "HEAD", "POST"])
def inscription(request, uuid):
    seance = _decorate(get_object_or_404(seances_visibles(), uuid=uuid))
    template = "ateliers/public/inscription.html"
    if request.method != "POST":
        return _seance_page(request, seance, InscriptionForm() if seance.ouverte else None, template=template)
    retry_after = _throttle(request)
    if retry_after:
        return _too_many(request, retry_after)
    form = InscriptionForm(request.POST)
    if form.is_valid():
        try:
            created = services.inscription_create(seance=seance, data=form.service_data())
        except ValidationError as error:
            _service_errors(form, error)
        else:
            return redirect("ateliers:confirmation", token=services.cancel_token(created))
    # Sent back with its errors; a session that closed meanwhile says so (and the form goes away).
    seance = _decorate(seances_visibles().get(pk=seance.pk))
    return _seance_page(request, seance, form, template=template, status=400)


# --- the registration's own pages (signed link) --------------------------------------------------------------------
def _registration(token):
    inscription = services.inscription_from_token(token)
    if inscription is None:
        return None, None
    seance = _decorate(seance_of_inscription(inscription))
    inscription.seance = seance
    inscription.telephone_fr = telephone_fr(inscription.telephone)
    return inscription, seance


@never_cache
@require_safe
def confirmation(request, token):
    inscription, seance = _registration(token)
    if inscription is None:
        return _invalid_link(request)
    context = {
        "inscription": inscription,
        "seance": seance,
        "atelier": seance.atelier,
        "lieu": seance.lieu,
        "arret": seance.arret,
        "token": token,
        "position": position_attente(inscription),
    }
    return _private(render(request, "ateliers/public/confirmation.html", context))


@never_cache
@require_safe
def inscription_ics(request, token):
    """The session of a registration as a calendar entry to download."""
    inscription, seance = _registration(token)
    if inscription is None:
        return _invalid_link(request)
    url = request.build_absolute_uri(reverse("ateliers:seance_publique", args=[seance.uuid])) if seance.publique else ""
    body = ics.calendar([ics.event_lines(seance, url=url)])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="atelier.ics"'
    return _private(response)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def annuler(request, token):
    inscription, seance = _registration(token)
    if inscription is None:
        return _invalid_link(request)
    error = None
    if request.method == "POST" and inscription.statut != StatutInscription.ANNULEE:
        was_confirmed = inscription.statut == StatutInscription.CONFIRMEE
        try:
            services.inscription_cancel(inscription=inscription, by=None)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(
                request,
                "Votre place a été libérée. Merci : elle est proposée à la prochaine personne en attente."
                if was_confirmed
                else "Vous avez quitté la liste d'attente.",
            )
            return redirect("ateliers:annuler", token=token)
    context = {
        "inscription": inscription,
        "seance": seance,
        "atelier": seance.atelier,
        "lieu": seance.lieu,
        "arret": seance.arret,
        "token": token,
        "error": error,
        "position": position_attente(inscription),
    }
    return _private(render(request, "ateliers/public/annulation.html", context, status=400 if error else 200))
