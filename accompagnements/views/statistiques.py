"""Figures of the activity log: "Mes statistiques" for a conseiller, the team view of référents and staff (read-only),
and read-only share links that a conseiller creates for a period and revokes at any time.

The figures are computed by ``accompagnements.statistiques`` with a fixed number of queries; the page never holds
notes nor names of beneficiaries.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accompagnements import selectors, services
from accompagnements import statistiques as figures
from reporting import resume
from sicoval_numerique.forms import PeriodeMoisForm
from structures.forms import add_service_error

LIEN_CREE = "accompagnements:partage_cree"


class PeriodeForm(PeriodeMoisForm):
    conseiller = forms.UUIDField(
        label="Conseiller",
        required=False,
        widget=forms.Select,
        error_messages={"invalid": "Choisissez un conseiller de la liste."},
    )

    def __init__(self, data, *, conseillers=()):
        super().__init__(data)
        self.fields["conseiller"].widget.choices = [("", "Tous les conseillers")] + [
            (str(conseiller.uuid), f"{conseiller.nom} {conseiller.prenom}") for conseiller in conseillers
        ]


class PartageForm(PeriodeMoisForm):
    start_field, end_field = "date_debut", "date_fin"
    du = au = None
    date_debut = PeriodeMoisForm.base_fields["du"]
    date_fin = PeriodeMoisForm.base_fields["au"]
    libelle = forms.CharField(
        label="Destinataire",
        required=False,
        max_length=150,
        help_text="Pour vous souvenir à qui vous l'avez envoyé, par exemple « Mairie, bilan annuel ».",
    )


def _period_data(query):
    """The GET parameters with the default period filling what is missing or blank."""
    data = query.copy()
    start, end = selectors.default_period()
    if not data.get("du"):
        data["du"] = f"{start:%Y-%m}"
    if not data.get("au"):
        data["au"] = f"{end:%Y-%m}"
    return data


def _viewer(user):
    """(own conseiller profile or None, whether the user reads a team's figures); 403 for anyone else."""
    own = selectors.own_conseiller(user)
    team = selectors.sees_team(user)
    if own is None and not team:
        raise PermissionDenied(
            "Les statistiques d'activité sont celles des conseillers numériques : elles sont réservées aux "
            "conseillers, aux référents de leur structure et à l'équipe du Sicoval."
        )
    return own, team


def _chosen_conseiller(user, uuid, conseillers):
    """The conseiller asked for, among those whose activities the user reads (404 otherwise)."""
    if uuid is None:
        return None
    if conseillers is not None:
        for conseiller in conseillers:
            if conseiller.uuid == uuid:
                return conseiller
        raise Http404("Aucun conseiller de votre périmètre ne correspond.")
    return get_object_or_404(selectors.conseillers_of_activites_visible_to(user), uuid=uuid)


def _statistiques_page(request, *, partage_form=None, status=200):
    user = request.user
    own, team = _viewer(user)
    conseillers = list(selectors.conseillers_of_activites_visible_to(user)) if team else None
    form = PeriodeForm(_period_data(request.GET), conseillers=conseillers or ())
    context = {"form": form, "team": team, "own": own, "stats": None, "conseiller": None}
    if form.is_valid():
        conseiller = _chosen_conseiller(user, form.cleaned_data["conseiller"], conseillers)
        visibles = selectors.visibilite_activites(user)
        if conseiller is not None:
            visibles &= Q(conseiller=conseiller)
        elif not team:
            visibles &= Q(conseiller=own)
        du, au = form.cleaned_data["du"], form.cleaned_data["au"]
        stats = resume.statistiques(du, au, filtre=visibles)
        context.update(stats=stats, conseiller=conseiller, clamped=stats.start > resume.premier_jour(du))
    else:
        status = 400
    if own is not None:
        context.update(_partage_context(request, form, partage_form))
    own_view = not team or (own is not None and context["conseiller"] == own)
    context.update(own_view=own_view, titre="Mes statistiques" if own_view else "Statistiques des activités")
    return render(request, "accompagnements/statistiques.html", context, status=status)


def _partage_context(request, period_form, partage_form):
    """The conseiller's share links, the form to create one, and the link just created (shown once)."""
    partages = list(selectors.partages_of(request.user))
    if partage_form is None:
        initial = {}
        if period_form.is_valid():
            initial = {"date_debut": period_form.cleaned_data["du"], "date_fin": period_form.cleaned_data["au"]}
        partage_form = PartageForm(initial=initial, prefix="partage")
    created = request.session.pop(LIEN_CREE, None) if request.method == "GET" else None
    lien_cree = next((p for p in partages if str(p.uuid) == created and p.actif), None)
    return {
        "partages": partages,
        "partage_form": partage_form,
        "lien_cree": lien_cree,
        "lien_cree_url": _public_url(request, lien_cree) if lien_cree else "",
    }


def _public_url(request, partage):
    return request.build_absolute_uri(reverse("accompagnements:partage_public", args=[partage.token]))


def _back_to_sharing(anchor="partager"):
    return redirect(f"{reverse('accompagnements:statistiques')}#{anchor}")


@login_required
@require_safe
def statistiques(request):
    return _statistiques_page(request)


@login_required
@require_POST
def partage_create(request):
    if selectors.own_conseiller(request.user) is None:
        raise PermissionDenied("Seuls les conseillers numériques partagent leurs statistiques.")
    form = PartageForm(request.POST, prefix="partage")
    if form.is_valid():
        try:
            partage = services.partage_create(
                by=request.user,
                date_debut=form.cleaned_data["date_debut"],
                date_fin=form.cleaned_data["date_fin"],
                libelle=form.cleaned_data["libelle"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            request.session[LIEN_CREE] = str(partage.uuid)
            return _back_to_sharing("lien-cree")
    return _statistiques_page(request, partage_form=form, status=400)


@login_required
@require_POST
def partage_revoke(request, uuid):
    partage = get_object_or_404(selectors.partages_of(request.user).select_related("conseiller"), uuid=uuid)
    services.partage_revoke(partage=partage, by=request.user)
    messages.success(
        request,
        f"Le lien de partage du {partage.date_debut:%d/%m/%Y} au {partage.date_fin:%d/%m/%Y} est révoqué : "
        "il ne s'ouvre plus.",
    )
    return _back_to_sharing()


@require_safe
@never_cache
def partage_public(request, token):
    partage = selectors.partage_by_token(token)
    if partage is None:
        raise Http404("Ce lien de partage n'existe pas ou a été révoqué.")
    stats = resume.statistiques(partage.date_debut, partage.date_fin, conseillers=[partage.conseiller_id])
    figures.hide_small_counts(stats)
    response = render(
        request, "accompagnements/partage_public.html", {"partage": partage, "stats": stats, "public": True}
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
