"""The outbox for Sicoval staff: which e-mails left, which wait for a retry, which failed and why; an e-mail's text
and HTML; sending a failed one again, and running the relay now. Recipients are shown masked: staff check delivery,
they do not collect addresses. Other users get 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from . import selectors, services
from .forms import EmailFilterForm
from .models import Email, StatutEmail
from .rappels import FAMILLES

PAGE_SIZE = 50
# The relay run from a page stops claiming after this: the request answers, beat sends the rest within a minute.
RELAY_IN_REQUEST_LIMIT = 50
RELAY_IN_REQUEST_SECONDS = 15

STATUT_BADGES = {
    StatutEmail.A_ENVOYER: "badge-warning",
    StatutEmail.EN_COURS: "",
    StatutEmail.ENVOYE: "badge-success",
    StatutEmail.ECHEC: "badge-danger",
    StatutEmail.ANNULE: "badge-neutral",
    StatutEmail.MANQUE: "badge-warning",
}

# The HTML of an e-mail is shown alone, in a sandbox: no script, no form, no request to anywhere, no framing.
HTML_PREVIEW_POLICY = (
    "sandbox; default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def require_staff(user):
    if not user.is_staff:
        raise PermissionDenied("Le suivi des e-mails est réservé à l'équipe Sicoval.")


def _query_string(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _decorate(email):
    email.badge = STATUT_BADGES.get(email.statut, "badge-neutral")
    # A failed e-mail past its send-by moment (a reminder) is not offered again: it would leave late.
    email.renvoyable = email.statut == StatutEmail.ECHEC and (
        email.envoyer_avant is None or email.envoyer_avant > timezone.now()
    )
    email.destinataire_masque = services.mask_email(email.destinataire)
    return email


def _types():
    """The kinds in the outbox, and those of the reminders (linked from their page before any has left)."""
    return sorted(set(selectors.email_types()) | {famille.type_email for famille in FAMILLES.values()})


@login_required
@never_cache
@require_safe
def email_list(request):
    require_staff(request.user)
    form = EmailFilterForm(request.GET or None, types=_types())
    counts = selectors.counts_by_statut()
    context = {
        "form": form,
        "counts": [(label, counts[value]) for value, label in StatutEmail.choices],
        "here": request.get_full_path(),
    }
    if form.is_bound and not form.is_valid():
        return render(
            request, "notifications/email_list.html", {**context, "invalid": True, "show_reset": True}, status=400
        )
    filters = form.filters() if form.is_bound else {}
    page = Paginator(selectors.emails_for_staff(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_decorate(email) for email in page.object_list]
    return render(
        request,
        "notifications/email_list.html",
        {
            **context,
            "page": page,
            "rows": rows,
            "filtered": bool(filters),
            "show_reset": bool(filters),
            "query": _query_string(request),
        },
    )


def _visible_email(request, uuid):
    require_staff(request.user)
    return _decorate(get_object_or_404(Email, uuid=uuid))


def _email_page(request, email, status=200):
    return render(
        request,
        "notifications/email_detail.html",
        {
            "email": email,
            "retour": _safe_next(request, default=""),
            "back_url": _safe_next(request, default=reverse("notifications:list")),
        },
        status=status,
    )


@login_required
@never_cache
@require_safe
def email_detail(request, uuid):
    return _email_page(request, _visible_email(request, uuid))


@login_required
@never_cache
@require_safe
def email_html(request, uuid):
    """The HTML version alone, under a sandboxing policy (a frame would need a laxer policy on every page)."""
    email = _visible_email(request, uuid)
    if not email.html:
        raise Http404("Cet e-mail n'a pas de version HTML.")
    response = HttpResponse(email.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = HTML_PREVIEW_POLICY
    response["X-Robots-Tag"] = "noindex"
    return response


def _safe_next(request, *, default):
    """Where to go back after an action: a page of the outbox on this site, or ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    prefix = reverse("notifications:list")
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        return target
    return default


@login_required
@require_POST
def email_resend(request, uuid):
    email = _visible_email(request, uuid)
    try:
        services.email_resend(email=email, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        email.refresh_from_db()
        return _email_page(request, _decorate(email), status=400)
    messages.success(request, f"L'e-mail « {email.sujet} » est remis dans la file d'envoi.")
    return redirect(_safe_next(request, default=reverse("notifications:detail", args=[email.uuid])))


@login_required
@require_POST
def relay_now(request):
    require_staff(request.user)
    sent, failed = services.relay(limit=RELAY_IN_REQUEST_LIMIT, max_seconds=RELAY_IN_REQUEST_SECONDS)
    if not sent and not failed:
        messages.info(request, "Aucun e-mail n'était à envoyer.")
    else:
        text = f"Envoi relancé : {sent} e-mail{'s' if sent > 1 else ''} envoyé{'s' if sent > 1 else ''}"
        if failed:
            text += f", {failed} non envoyé{'s' if failed > 1 else ''} (nouvel essai plus tard ou échec définitif)"
        messages.success(request, text + ".")
    return redirect(_safe_next(request, default=reverse("notifications:list")))
