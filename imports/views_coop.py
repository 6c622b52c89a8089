"""The staff page of the synchronisation with the Coop (``/imports/coop/``): the connection (address, client id,
secret — typed, never shown again), its test, the mediators of the Coop with the conseiller each one is (suggested,
confirmed by staff), running a synchronisation now, and the last runs with their counts, error and rejected
activities. Plain forms, one per action, that work without JavaScript. Others get 403."""

import datetime
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from conseillers.models import Conseiller
from sicoval_numerique.kicker import publier

from . import synchro
from .chiffrement import date_chiffrement
from .models import MediateurCoop, StatutSynchro, SynchroCoop
from .tasks_coop import coop_synchroniser as coop_synchroniser_tache
from .tasks_coop import resultat_mediateurs

RUNS = 20
RECHERCHE_MAX = 50
BADGES = {
    StatutSynchro.EN_COURS: "badge-warning",
    StatutSynchro.REUSSIE: "badge-success",
    StatutSynchro.ECHEC: "badge-danger",
}
TACHE = "imports.tasks_coop.coop_synchroniser"
TACHE_MEDIATEURS = "imports.tasks.coop_mediateurs_actualiser"


def require_staff(user):
    if not user.is_staff:
        raise PermissionDenied(synchro.REFUS)


class ConnexionForm(forms.Form):
    url = forms.CharField(
        label="Adresse de l'API",
        max_length=200,
        widget=forms.URLInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
        help_text="Celle de la Coop en production : https://coop-numerique.anct.gouv.fr/api/v1",
        error_messages={"required": "Indiquez l'adresse de l'API."},
    )
    client_id = forms.CharField(
        label="Identifiant client",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Fourni par l'équipe de la Coop avec le secret.",
        error_messages={"required": "Indiquez l'identifiant client."},
    )
    secret = forms.CharField(
        label="Secret client",
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    active = forms.BooleanField(
        label="Synchronisation nocturne active",
        required=False,
        help_text="Chaque nuit à 3 h 30. Vous pouvez aussi lancer une synchronisation à tout moment.",
    )

    def __init__(self, *args, secret_le=None, **kwargs):
        super().__init__(*args, **kwargs)
        if secret_le is not None:
            self.fields["secret"].help_text = (
                f"Un secret est enregistré (le {secret_le:%d/%m/%Y à %H:%M}) : laissez vide pour le garder, ou tapez "
                "le nouveau pour le remplacer."
            )
        else:
            self.fields["secret"].help_text = "Fourni par l'équipe de la Coop avec l'identifiant client."


def _date_affichee(valeur):
    try:
        return f"{datetime.date.fromisoformat(str(valeur)[:10]):%d/%m/%Y}"
    except ValueError:
        return ""


def _decorer(run):
    run.badge = BADGES.get(run.statut, "badge-neutral")
    run.nombre_rejetees = sum(1 for r in run.rejetees or [] if r.get("id"))
    for rejet in run.rejetees or []:
        rejet["date_affichee"] = _date_affichee(rejet.get("date"))
    return run


def _mediateurs(q):
    """The mediators the page lists: those associated, those a conseiller is suggested for, and those matching the
    search ``q`` (every word in the first name, last name or e-mail; ``RECHERCHE_MAX`` at most). The Coop lists every
    mediator of France: the others are only counted."""
    non_associes = MediateurCoop.objects.filter(conseiller__isnull=True).only("pk", "prenom", "nom", "email")
    suggestions = synchro.suggestions(non_associes.iterator())
    montres = Q(conseiller__isnull=False) | Q(pk__in=list(suggestions))
    trouves = []
    if q:
        recherche = MediateurCoop.objects.all()
        for mot in q.split():
            recherche = recherche.filter(Q(nom__icontains=mot) | Q(prenom__icontains=mot) | Q(email__icontains=mot))
        trouves = list(recherche.order_by("nom", "prenom", "pk").values_list("pk", flat=True)[:RECHERCHE_MAX])
        montres |= Q(pk__in=trouves)
    lignes = []
    for mediateur in MediateurCoop.objects.filter(montres).select_related("conseiller").order_by("nom", "prenom", "pk"):
        suggestion = suggestions.get(mediateur.pk)
        choisi = mediateur.conseiller or (suggestion.conseiller if suggestion else None)
        lignes.append({"mediateur": mediateur, "suggestion": suggestion, "choisi": choisi.uuid if choisi else None})
    return {
        "lignes": lignes,
        "total_mediateurs": MediateurCoop.objects.count(),
        "associes": MediateurCoop.objects.filter(conseiller__isnull=False).count(),
        "trouves": len(trouves),
    }


def _contexte(request, form=None):
    conn = synchro.connexion()
    secret_le = date_chiffrement(conn.secret_chiffre) if conn and conn.secret_chiffre else None
    if form is None:
        initial = {"url": conn.url, "client_id": conn.client_id, "active": conn.active} if conn else {"active": True}
        if conn is None:
            initial["url"] = "https://coop-numerique.anct.gouv.fr/api/v1"
        form = ConnexionForm(initial=initial, secret_le=secret_le)
    q = " ".join((request.GET.get("q") or "").split())[:100]
    runs = [_decorer(run) for run in SynchroCoop.objects.select_related("lancee_par")[:RUNS]]
    nombre_en_attente, en_attente = synchro.en_attente()
    for activite in en_attente:
        activite.date_affichee = _date_affichee(((activite.donnees or {}).get("attributes") or {}).get("date"))
    return {
        "connexion": conn,
        "secret_le": secret_le,
        "form": form,
        "q": q,
        **_mediateurs(q),
        "conseillers": Conseiller.objects.order_by("nom", "prenom", "pk").only("uuid", "prenom", "nom", "email"),
        "runs": runs,
        "nombre_en_attente": nombre_en_attente,
        "en_attente": en_attente,
        "en_attente_max": synchro.EN_ATTENTE_MONTREES,
        "en_cours": synchro.synchro_en_cours(),
    }


@login_required
@never_cache
@require_safe
def coop(request):
    require_staff(request.user)
    resultat = resultat_mediateurs(request.user.pk)  # a refresh done by a worker since
    if resultat is not None:
        _message_mediateurs(request, resultat)
    return render(request, "imports/coop/page.html", _contexte(request))


@login_required
@never_cache
@require_POST
def coop_connexion(request):
    require_staff(request.user)
    conn = synchro.connexion()
    secret_le = date_chiffrement(conn.secret_chiffre) if conn and conn.secret_chiffre else None
    form = ConnexionForm(request.POST, secret_le=secret_le)
    if form.is_valid():
        data = form.cleaned_data
        try:
            synchro.connexion_enregistrer(
                by=request.user,
                url=data["url"],
                client_id=data["client_id"],
                secret=data["secret"],
                active=data["active"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(
                request, "La connexion à la Coop est enregistrée. Testez-la pour vérifier les identifiants."
            )
            return redirect("imports:coop")
    return render(request, "imports/coop/page.html", _contexte(request, form), status=400)


@login_required
@never_cache
@require_POST
def coop_tester(request):
    require_staff(request.user)
    reussi, message = synchro.connexion_tester()
    (messages.success if reussi else messages.error)(request, message)
    return redirect("imports:coop")


def _message_mediateurs(request, resultat):
    if resultat["statut"] != "reussie":
        messages.error(request, f"Les médiateurs n'ont pas pu être lus dans la Coop : {resultat['erreur']}")
        return
    n, gardes, nouveaux = resultat["mediateurs"], resultat["gardes"], resultat["nouveaux"]
    messages.success(
        request,
        f"{n} médiateur{'s' if n > 1 else ''} lu{'s' if n > 1 else ''} dans la Coop : {gardes} "
        f"gardé{'s' if gardes > 1 else ''} (associés ou avec un conseiller proposé), dont {nouveaux} "
        f"nouveau{'x' if nouveaux > 1 else ''}. Vérifiez les conseillers proposés, puis confirmez-les.",
    )


@login_required
@never_cache
@require_POST
def coop_mediateurs_actualiser(request):
    require_staff(request.user)
    if synchro.connexion() is None:
        messages.error(request, "Enregistrez d'abord la connexion à la Coop.")
        return redirect(reverse("imports:coop") + "#mediateurs")
    resultat_mediateurs(request.user.pk)  # a stale outcome is not this one's
    publier(TACHE_MEDIATEURS, request.user.pk, label="Actualisation des médiateurs de la Coop")
    if coop_synchroniser_tache.app.conf.task_always_eager:  # it ran inline: say how it went
        resultat = resultat_mediateurs(request.user.pk)
        if resultat is not None:
            _message_mediateurs(request, resultat)
    else:
        messages.success(
            request, "L'actualisation des médiateurs est lancée : la liste sera à jour dans quelques instants."
        )
    return redirect(reverse("imports:coop") + "#mediateurs")


@login_required
@never_cache
@require_POST
def coop_mediateur_associer(request, pk):
    require_staff(request.user)
    mediateur = get_object_or_404(MediateurCoop, pk=pk)
    valeur = (request.POST.get("conseiller") or "").strip()
    conseiller = None
    if valeur:
        conseiller = Conseiller.objects.filter(uuid=valeur).first() if _est_uuid(valeur) else None
        if conseiller is None:
            messages.error(request, "Choisissez un conseiller de la liste.")
            return render(request, "imports/coop/page.html", _contexte(request), status=400)
    try:
        synchro.mediateur_associer(mediateur=mediateur, conseiller=conseiller, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return render(request, "imports/coop/page.html", _contexte(request), status=400)
    if conseiller is None:
        messages.success(request, f"{mediateur} n'est plus associé(e) à un conseiller du territoire.")
    else:
        messages.success(
            request,
            f"{mediateur} est associé(e) à {conseiller.prenom} {conseiller.nom}. La prochaine synchronisation relira "
            "tout l'historique de la Coop pour importer ses activités passées.",
        )
    return redirect(reverse("imports:coop") + "#mediateurs")


def _est_uuid(valeur):
    try:
        uuid.UUID(valeur)
    except ValueError:
        return False
    return True


def _pluriel(nombre, singulier, pluriel=None):
    return f"{nombre} {singulier if nombre < 2 else (pluriel or singulier + 's')}"


def _resume(run):
    if run.statut == StatutSynchro.ECHEC:
        return f"La synchronisation a échoué : {run.erreur} Rien n'a été enregistré."
    parties = [
        _pluriel(run.recues, "activité lue", "activités lues"),
        _pluriel(run.creees, "créée"),
        _pluriel(run.mises_a_jour, "mise à jour", "mises à jour"),
        _pluriel(run.supprimees, "supprimée"),
        _pluriel(run.inchangees, "inchangée"),
        _pluriel(run.ignorees, "ignorée"),
    ]
    texte = "Synchronisation terminée : " + ", ".join(parties)
    rejetees = sum(1 for r in run.rejetees or [] if r.get("id"))
    if rejetees:
        return f"{texte} et {_pluriel(rejetees, 'rejetée')} (voir la liste ci-dessous)."
    return texte + "."


@login_required
@never_cache
@require_POST
def coop_synchroniser(request):
    require_staff(request.user)
    if synchro.connexion() is None:
        messages.error(request, "Enregistrez d'abord la connexion à la Coop.")
        return redirect("imports:coop")
    if synchro.synchro_en_cours():
        messages.info(request, "Une synchronisation est déjà en cours : ses résultats apparaîtront ci-dessous.")
        return redirect(reverse("imports:coop") + "#synchronisations")
    avant = SynchroCoop.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    publier(TACHE, request.user.pk, label="Synchronisation avec la Coop")
    if coop_synchroniser_tache.app.conf.task_always_eager:  # it ran inline: say how it went
        run = SynchroCoop.objects.filter(pk__gt=avant, lancee_par=request.user).order_by("-pk").first()
        if run is not None:
            (messages.error if run.statut == StatutSynchro.ECHEC else messages.success)(request, _resume(run))
    else:
        messages.success(
            request, "La synchronisation est lancée : ses résultats apparaîtront ci-dessous dans quelques minutes."
        )
    return redirect(reverse("imports:coop") + "#synchronisations")
