"""The attendance sheet of a session, made for a phone: one large « présent / absent » choice per person, a form to
add someone who came without registering, and closing the sheet (on a confirmation page, without script), which
records the workshop in the facilitator's activity log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ateliers import selectors_gestion as selectors
from ateliers import services
from ateliers.forms import AppelForm, SurPlaceForm
from ateliers.models import Inscription, StatutInscription
from ateliers.services.appel import jour_de_la_seance

from .gestion import _visible_seance, add_errors

CLOSE = "cloturer"


def _rows(seance):
    """Registrations on the sheet: confirmed people (walk-ins last), then the waiting list in order."""
    rows = list(Inscription.objects.filter(seance=seance).exclude(statut=StatutInscription.ANNULEE).order_by("rang"))
    return sorted(rows, key=lambda row: row.statut == StatutInscription.ATTENTE)


def _sheet(request, seance, *, form=None, sur_place_form=None, status=200):
    services.require_seance_manager(request.user, seance)
    if form is None:
        form = AppelForm(inscriptions=_rows(seance))
    confirmed, waiting = form.groups()
    return render(
        request,
        "ateliers/gestion/appel.html",
        {
            "seance": seance,
            "atelier": seance.atelier,
            "form": form,
            "confirmed": confirmed,
            "waiting": waiting,
            "sur_place_form": sur_place_form or SurPlaceForm(),
            "ouvert": services.appel_ouvert(seance),
            "jour": jour_de_la_seance(seance),
            "resume": selectors.appel_resume(seance),
        },
        status=status,
    )


def _sheet_url(seance, anchor=""):
    return reverse("ateliers:gestion_appel", args=[seance.uuid]) + (f"#{anchor}" if anchor else "")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appel(request, uuid):
    seance = _visible_seance(request, uuid)
    if request.method != "POST":
        return _sheet(request, seance)
    services.require_seance_manager(request.user, seance)
    form = AppelForm(request.POST, inscriptions=_rows(seance))
    if form.is_valid():
        try:
            services.appel_enregistrer(seance=seance, presences=form.presences(), by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            if request.POST.get("action") == CLOSE:
                return redirect("ateliers:gestion_appel_cloturer", uuid=seance.uuid)
            resume = selectors.appel_resume(seance)
            messages.success(
                request,
                f"Appel enregistré : {resume['presents']} présent(s), {resume['absents']} absent(s).",
            )
            return redirect(_sheet_url(seance))
    return _sheet(request, seance, form=form, status=400)


@login_required
@require_POST
def sur_place(request, uuid):
    seance = _visible_seance(request, uuid)
    services.require_seance_manager(request.user, seance)
    form = SurPlaceForm(request.POST)
    if form.is_valid():
        try:
            inscription = services.participant_sur_place_add(seance=seance, data=form.person_data(), by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{inscription.prenom} {inscription.nom} est ajouté(e), présent(e).")
            return redirect(_sheet_url(seance, f"presence-{inscription.uuid}"))
    return _sheet(request, seance, sur_place_form=form, status=400)


def _closed_message(seance, activite):
    if activite is not None:
        conseiller = activite.conseiller
        return (
            f"Appel clos : l'atelier est enregistré dans le journal d'activité de {conseiller.prenom} "
            f"{conseiller.nom}, avec {activite.participants} participant(s)."
        )
    if seance.animateur_id is None:
        return "Appel clos. La séance n'a pas d'animateur : aucune activité n'est ajoutée à un journal d'activité."
    if services.animateur_conseiller(seance) is None:
        return (
            f"Appel clos. {seance.animateur} n'a pas de profil de conseiller numérique : aucune activité n'est "
            "ajoutée à un journal d'activité."
        )
    return "Appel clos : personne n'était présent, aucune activité n'est enregistrée."


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appel_cloturer(request, uuid):
    user = request.user
    seance = _visible_seance(request, uuid)
    services.require_seance_manager(user, seance)
    error = None
    if request.method == "POST":
        already = seance.appel_cloture_le is not None
        try:
            activite = services.appel_cloturer(seance=seance, by=user)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            seance.refresh_from_db()
            message = "L'appel était déjà clos." if already else _closed_message(seance, activite)
            messages.success(request, message)
            return redirect("ateliers:gestion_seance", uuid=seance.uuid)
    conseiller = services.animateur_conseiller(seance)
    return render(
        request,
        "ateliers/gestion/appel_cloturer.html",
        {
            "seance": seance,
            "atelier": seance.atelier,
            "resume": selectors.appel_resume(seance),
            "conseiller": conseiller,
            "ouvert": services.appel_ouvert(seance),
            "jour": jour_de_la_seance(seance),
            "error": error,
        },
        status=400 if error else 200,
    )
