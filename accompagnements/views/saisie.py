"""Recording an activity: the "Nouvelle activité" form (also to correct or duplicate one), an activity's page and its
deletion. Only conseillers record; an activity is corrected or deleted by its author alone; notes show to the
author alone."""

import uuid as uuid_lib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accompagnements import choices as c
from accompagnements import selectors, services
from accompagnements.forms import ActiviteForm, initial_from
from accompagnements.models import Activite
from sicoval_numerique.history import HistorySource, history_entries
from structures.forms import add_service_error
from structures.models import Structure

HISTORY_LENGTH = 20
# The answers that change which fields apply: a change re-renders the form's sections (htmx).
CONTROLLING_FIELDS = ("type", "type_lieu", "thematiques", "duree_choix", "oriente", "beneficiaire")


def _own_structure_ids(user):
    return set(Structure.objects.filter(memberships__user=user).values_list("pk", flat=True))


def _form(request, conseiller, *, initial, refresh_url):
    form = ActiviteForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        user=request.user,
        conseiller=conseiller,
        own_structures=lambda: _own_structure_ids(request.user),
    )
    for name in CONTROLLING_FIELDS:
        form.fields[name].widget.attrs.update({"hx-post": refresh_url, "hx-trigger": "change"})
    return form


def _new_initial(request, conseiller):
    initial = {
        "type": c.COLLECTIF if request.GET.get("type") == c.COLLECTIF else c.INDIVIDUEL,
        "date": timezone.localdate(),
        "type_lieu": c.LIEU_ACTIVITE,
        **selectors.usual_place(conseiller),
    }
    if (beneficiaire := request.GET.get("beneficiaire")) and _is_uuid(beneficiaire):
        found = selectors.beneficiaires_of(request.user).filter(uuid=beneficiaire).values_list("pk", flat=True).first()
        if found:
            initial["beneficiaire"] = found
    return initial


def _is_uuid(value):
    try:
        uuid_lib.UUID(str(value))
    except ValueError:
        return False
    return True


def _render_form(request, form, *, activite=None, duplicate_of=None, status=200):
    refresh = request.method == "POST" and "_refresh" in request.GET
    if refresh:
        # Re-render the sections for the answers so far, without errors: the person has not submitted yet.
        form._errors = {}
    draft_key = f"activite:{activite.uuid}" if activite else "activite:nouvelle"
    return render(
        request,
        "accompagnements/activite_form.html",
        {
            "form": form,
            "sections": form.sections(),
            "activite": activite,
            "duplicate_of": duplicate_of,
            "draft_key": draft_key,
            "show_errors": not refresh,
            "beneficiaire_create_url": reverse("accompagnements:beneficiaire_create"),
        },
        status=status,
    )


DRAFT_CLEAR_COOKIE = "brouillon_enregistre"


def _clear_draft(response, key):
    """Tell the next page that the draft ``key`` was saved, so that the browser forgets it (a short-lived cookie
    rather than the session: one write less on every activity recorded)."""
    response.set_cookie(
        DRAFT_CLEAR_COOKIE,
        key,
        max_age=120,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


def _save(request, form, save):
    """Call the service; on a rule broken, put its message on the form. Returns the activity or None."""
    try:
        return save()
    except ValidationError as error:
        add_service_error(form, error)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def activite_create(request):
    conseiller = services.conseiller_of(request.user)
    refresh_url = f"{reverse('accompagnements:create')}?_refresh=1"
    duplicate_of = None
    if depuis := request.GET.get("depuis"):
        if not _is_uuid(depuis):
            raise Http404("Activité introuvable.")
        duplicate_of = get_object_or_404(
            selectors.activites_visible_to(request.user).filter(conseiller=conseiller), uuid=depuis
        )
        initial = initial_from(duplicate_of, services.participants_of(duplicate_of), duplicate=True)
    elif request.method == "POST":
        initial = {}  # what was typed is in the data; the defaults serve the empty form only
    else:
        initial = _new_initial(request, conseiller)
    form = _form(request, conseiller, initial=initial, refresh_url=refresh_url)
    if request.method == "POST" and "_refresh" not in request.GET:
        if form.is_valid():
            activite = _save(
                request,
                form,
                lambda: services.activite_create(
                    by=request.user,
                    data=form.activite_data(),
                    participants=form.participants(),
                    conseiller=conseiller,
                ),
            )
            if activite is not None:
                messages.success(request, f"Activité du {activite.date:%d/%m/%Y} enregistrée.")
                response = redirect(f"{reverse('accompagnements:list')}#activite-{activite.uuid}")
                return _clear_draft(response, "activite:nouvelle")
        return _render_form(request, form, duplicate_of=duplicate_of, status=400)
    return _render_form(request, form, duplicate_of=duplicate_of)


def _own_activite(request, uuid):
    """An activity its author may change: another person's or an unknown one is 404; an imported one 403."""
    activite = get_object_or_404(
        selectors.activites_visible_to(request.user).select_related("conseiller").filter(conseiller__user=request.user),
        uuid=uuid,
    )
    if activite.importee:
        raise PermissionDenied("Cette activité vient de l'outil national : modifiez-la là-bas.")
    return activite


@login_required
@require_http_methods(["GET", "POST"])
def activite_edit(request, uuid):
    activite = _own_activite(request, uuid)
    refresh_url = f"{reverse('accompagnements:edit', args=[activite.uuid])}?_refresh=1"
    initial = initial_from(activite, services.participants_of(activite))
    form = _form(request, activite.conseiller, initial=initial, refresh_url=refresh_url)
    if request.method == "POST" and "_refresh" not in request.GET:
        if form.is_valid():
            saved = _save(
                request,
                form,
                lambda: services.activite_update(
                    activite=activite, by=request.user, data=form.activite_data(), participants=form.participants()
                ),
            )
            if saved is not None:
                messages.success(request, "Activité modifiée.")
                return _clear_draft(redirect("accompagnements:detail", uuid=activite.uuid), f"activite:{activite.uuid}")
        return _render_form(request, form, activite=activite, status=400)
    return _render_form(request, form, activite=activite)


@login_required
@require_POST
def activite_delete(request, uuid):
    activite = _own_activite(request, uuid)
    services.activite_delete(activite=activite, by=request.user)
    messages.success(request, f"Activité du {activite.date:%d/%m/%Y} supprimée.")
    return redirect("accompagnements:list")


def activite_history(activite, *, author):
    sources = [HistorySource(Activite.history.filter(id=activite.pk), "Activité", exclude=("conseiller",))]
    if author:
        # Who took part shows only in the author's view.
        from accompagnements.models import Accompagnement

        sources.append(
            HistorySource(
                Accompagnement.history.filter(activite_id=activite.pk),
                lambda record, label_of: f"Participant {record.rang}",
                exclude=("activite", "rang"),
            )
        )
    return history_entries(sources, limit=HISTORY_LENGTH)


@login_required
@require_safe
def activite_detail(request, uuid):
    activite = get_object_or_404(
        selectors.activites_visible_to(request.user).select_related(
            "conseiller", "structure", "lieu", "lieu__commune", "commune"
        ),
        uuid=uuid,
    )
    author = selectors.is_author(request.user, activite)
    accompagnements = list(activite.accompagnements.select_related("beneficiaire", "commune_residence"))
    return render(
        request,
        "accompagnements/activite_detail.html",
        {
            "activite": activite,
            "author": author,
            "can_change": author and not activite.importee,
            "accompagnements": accompagnements,
            "identified": [a for a in accompagnements if a.beneficiaire_id] if author else [],
            "history": activite_history(activite, author=author),
            "history_length": HISTORY_LENGTH,
            "etoiles": c.ETOILES,
        },
    )
