"""« Mes bénéficiaires suivis »: the people a conseiller follows by name, with their consent. Only that conseiller sees
them (a référent or staff never read identities here): the list, a person's page with their accompaniments, and the
forms to record (likely duplicates proposed first) or correct a person.

The record form can be opened from the activity form with ``?next=<its URL>``: once the person is recorded (or an
existing one chosen), the conseiller goes back there with ``beneficiaire=<uuid>`` added to that URL.
"""

import copy
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_safe

from accompagnements import selectors, services
from accompagnements.forms_beneficiaires import BeneficiaireCreateForm, BeneficiaireForm, BeneficiaireSearchForm
from accompagnements.models import Accompagnement
from conseillers.views.common import posted, query_string
from structures.forms import add_service_error

PAGE_SIZE = 50
DOUBLON = "doublon"


# --- Going back to the activity form ----------------------------------------------------------------------------
def safe_next(request):
    """The ``next`` URL when it stays on this site, else None (an external URL is ignored)."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def with_beneficiaire(url, beneficiaire):
    """``url`` with ``beneficiaire=<uuid>`` in its query string (replacing any previous one)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "beneficiaire"]
    query.append(("beneficiaire", str(beneficiaire.uuid)))
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- The list ---------------------------------------------------------------------------------------------------
@login_required
@require_safe
def beneficiaire_list(request):
    services.conseiller_of(request.user)  # only conseillers follow people (403 for anyone else)
    form = BeneficiaireSearchForm(request.GET or None)
    words = form.search()
    beneficiaires = selectors.beneficiaires_of(request.user).select_related("commune_residence")
    for word in words:
        beneficiaires = beneficiaires.filter(Q(prenom__icontains=word) | Q(nom__icontains=word))
    beneficiaires = beneficiaires.annotate(
        nb_accompagnements=Count("accompagnements", filter=Q(accompagnements__activite__supprimee_le=None))
    ).order_by("nom", "prenom", "pk")
    page = Paginator(beneficiaires, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accompagnements/beneficiaire_list.html",
        {"form": form, "page": page, "query": query_string(request), "filtered": bool(words)},
    )


# --- A person's page --------------------------------------------------------------------------------------------
def _own_beneficiaire(request, uuid):
    """A person the user follows; 404 for anyone else's (whoever asks)."""
    queryset = selectors.beneficiaires_of(request.user).select_related("conseiller", "commune_residence")
    return get_object_or_404(queryset, uuid=uuid)


@login_required
@require_safe
def beneficiaire_detail(request, uuid):
    beneficiaire = _own_beneficiaire(request, uuid)
    accompagnements = (
        Accompagnement.objects.filter(beneficiaire=beneficiaire, activite__supprimee_le=None)
        .select_related("activite")
        .order_by("-activite__date", "-activite__created_at")
    )
    return render(
        request,
        "accompagnements/beneficiaire_detail.html",
        {"beneficiaire": beneficiaire, "accompagnements": accompagnements},
    )


# --- Recording and correcting a person --------------------------------------------------------------------------
def _doublons(conseiller, data):
    return list(
        selectors.similar_beneficiaires(
            conseiller,
            prenom=data.get("prenom"),
            nom=data.get("nom"),
            annee_naissance=data.get("annee_naissance"),
            telephone=data.get("telephone") or "",
        ).select_related("commune_residence")
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def beneficiaire_create(request):
    user = request.user
    conseiller = services.conseiller_of(user)
    next_url = safe_next(request)
    form = BeneficiaireCreateForm(posted(request))
    doublons = []
    if request.method == "POST" and form.is_valid():
        try:
            beneficiaire = services.beneficiaire_create(
                by=user, data=form.service_data(), confirme_doublon=form.cleaned_data["confirme_doublon"]
            )
        except ValidationError as error:
            if getattr(error, "code", None) == DOUBLON:
                doublons = _doublons(conseiller, form.cleaned_data)
            add_service_error(form, error)
        else:
            messages.success(request, f"{beneficiaire} fait désormais partie des personnes que vous suivez.")
            if next_url:
                return redirect(with_beneficiaire(next_url, beneficiaire))
            return redirect("accompagnements:beneficiaire", uuid=beneficiaire.uuid)
    status = 400 if form.is_bound else 200
    context = {
        "form": form,
        "doublons": [(b, with_beneficiaire(next_url, b) if next_url else None) for b in doublons],
        "next": next_url,
        "cancel_url": next_url or reverse("accompagnements:beneficiaires"),
    }
    return render(request, "accompagnements/beneficiaire_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def beneficiaire_edit(request, uuid):
    user = request.user
    beneficiaire = _own_beneficiaire(request, uuid)
    initial = {
        "prenom": beneficiaire.prenom,
        "nom": beneficiaire.nom,
        "annee_naissance": beneficiaire.annee_naissance,
        "telephone": beneficiaire.telephone,
        "email": beneficiaire.email,
        "commune_residence": beneficiaire.commune_residence,
        "genre": beneficiaire.genre,
        "tranche_age": beneficiaire.tranche_age,
        "statut_social": beneficiaire.statut_social,
    }
    form = BeneficiaireForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            # The service works on a copy, so that the page keeps the saved name when the input is refused.
            services.beneficiaire_update(beneficiaire=copy.copy(beneficiaire), by=user, data=form.service_data())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Les modifications ont été enregistrées.")
            return redirect("accompagnements:beneficiaire", uuid=beneficiaire.uuid)
    status = 400 if form.is_bound else 200
    context = {
        "form": form,
        "beneficiaire": beneficiaire,
        "cancel_url": reverse("accompagnements:beneficiaire", args=[beneficiaire.uuid]),
    }
    return render(request, "accompagnements/beneficiaire_form.html", context, status=status)
