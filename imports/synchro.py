"""The nightly synchronisation with the Coop's API v1: a run, its lock and watermark, and staff told of failures.

The connection is ``imports.coop_connexion``, the mediators ``imports.coop_mediateurs``, the conversion of the API's
activities ``imports.coop_conversion`` and what a run reads and writes ``imports.coop_lecture``; this module keeps
their public names (``synchro.connexion_enregistrer``…) for the views, the tasks and the tests.

- ``synchroniser`` reads ``/activites`` modified since the watermark (minus ``CHEVAUCHEMENT``: the watermark is our
  clock at the previous run's start, the Coop's clock may differ a little), turns each into an ``ActiviteExterne``
  and writes through ``accompagnements.services.externes`` (``planifier`` then ``appliquer``, page by page), then
  tries again the activities rejected earlier and kept waiting, all of it in ONE transaction: any error (HTTP,
  timeout, malformed page, a bug) rolls the whole run back, the run is then recorded as failed with its French
  reason, and the watermark does not move. A successful run moves the watermark to its own start.
- One run at a time: a PostgreSQL advisory lock (``pg_try_advisory_xact_lock``), held by the run's transaction; a
  run that cannot take it stops without doing anything. The connection's row is never locked during the HTTP
  calls, so staff may save the connection or associate a mediator meanwhile. The new watermark is written only if
  nobody changed it during the run (an association sends it back to the beginning: that wins, and the next run
  reads everything again), and not at all when a mediator was associated during the run.
- An activity deleted upstream (``suppression``) is soft-deleted here, even if its mediator is no longer associated.

On a failure, staff are told by e-mail once per failure streak (the outbox's key is the streak's first failed run),
and not while a retry of the same run is still planned (``reessai_possible``).
"""

import datetime
import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.rappels.base import staff_emails
from notifications.services import email_enqueue

from .chiffrement import ChiffrementErreur
from .coop_api import CoopErreur
from .coop_connexion import (  # noqa: F401  (the public names of the synchronisation)
    HOTES_LOCAUX,
    REFUS,
    RESAISIE_EXIGEE,
    _require_staff,
    client_de,
    connexion,
    connexion_enregistrer,
    connexion_tester,
    texte_erreur,
)
from .coop_conversion import Communes, Lieux, Rejet, externe_depuis_api  # noqa: F401
from .coop_lecture import REJETEES_MAX, Lecture  # noqa: F401
from .coop_mediateurs import Suggestion, mediateur_associer, mediateurs_actualiser, suggestions  # noqa: F401
from .models import ActiviteCoopEnAttente, ConnexionCoop, MediateurCoop, StatutSynchro, SynchroCoop

logger = logging.getLogger(__name__)

# The next run asks for what changed since the watermark minus this (clocks of two servers).
CHEVAUCHEMENT = datetime.timedelta(minutes=5)
EMAIL_TYPE = "synchro_coop_echec"
EMAIL_TEMPLATE = "imports/emails/synchro_coop_echec"
# The key of the PostgreSQL advisory lock of the runs (any fixed 64-bit number, unique to this use).
VERROU = 0x5_1C0_C00B
EN_ATTENTE_MONTREES = 50


class _DejaEnCours(Exception):
    pass


def _verrouiller():
    """Take the runs' advisory lock for the current transaction (PostgreSQL); False when another run holds it.
    SQLite serialises writers anyway."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [VERROU])
        return bool(cursor.fetchone()[0])


def _associes():
    return set(MediateurCoop.objects.filter(conseiller__isnull=False).values_list("mediateur_id", "conseiller_id"))


def avancer_repere(conn_pk, *, lu, nouveau, associes):
    """Move the watermark from ``lu`` (read at the run's start) to ``nouveau``, unless it changed meanwhile or a
    mediator was associated since the run started (``associes``: the (mediator, conseiller) pairs then); the update
    comes first so that an association committed later waits for the run's commit and then wins. True if moved."""
    if not ConnexionCoop.objects.filter(pk=conn_pk, depuis=lu).update(depuis=nouveau):
        return False
    if _associes() - associes:
        ConnexionCoop.objects.filter(pk=conn_pk).update(depuis=None)
        return False
    return True


def synchroniser(*, by=None, tentative=1, reessai_possible=False):
    """One run (see the module's docstring). Returns the ``SynchroCoop`` (its ``reessayable`` attribute says whether
    a failure may pass on a later try), or None without a connection. Never raises for a failure: it is recorded."""
    conn = connexion()
    if conn is None:
        return None
    by = by if by is not None and by.is_authenticated else None
    debut = timezone.now()  # before anything is read: the next run asks again for what changes from now on
    run = SynchroCoop.objects.create(depuis=conn.depuis, tentative=tentative, lancee_par=by)
    run.reessayable = False
    lecture = None
    try:
        with client_de(conn) as client, transaction.atomic():
            if not _verrouiller():
                raise _DejaEnCours
            lu = ConnexionCoop.objects.filter(pk=conn.pk).values_list("depuis", flat=True).first()
            associes = _associes()
            run.depuis = lu
            lecture = Lecture(client, by=by)
            for data in client.activites(depuis=lu - CHEVAUCHEMENT if lu else None):
                lecture.page(data)
            lecture.reprendre()
            lecture.enregistrer_attente()
            avancer_repere(conn.pk, lu=lu, nouveau=debut, associes=associes)
            lecture.remplir(run)
            run.statut = StatutSynchro.REUSSIE
            run.termine_le = timezone.now()
            run.save()
    except _DejaEnCours:
        _echec(run, "Une autre synchronisation était en cours : celle-ci s'est arrêtée sans rien faire.", alerter=False)
    except CoopErreur as error:
        _echec(run, error.texte, lecture=lecture, reessayable=error.reessayable, reessai_possible=reessai_possible)
    except ChiffrementErreur as error:
        _echec(run, str(error), lecture=lecture)
    except SoftTimeLimitExceeded:
        _echec(run, "La synchronisation a dépassé sa durée maximale et a été interrompue.", lecture=lecture)
    except Exception as error:
        logger.exception("Synchronisation avec la Coop %s : erreur inattendue.", run.pk)
        _echec(
            run,
            f"Erreur inattendue pendant la synchronisation ({type(error).__name__}) : le détail est dans les journaux "
            "du serveur.",
            lecture=lecture,
        )
    return run


def en_attente(limite=EN_ATTENTE_MONTREES):
    """The activities waiting: (their number, the ``limite`` most recently modified upstream)."""
    return ActiviteCoopEnAttente.objects.count(), list(
        ActiviteCoopEnAttente.objects.order_by("-modification", "pk")[:limite]
    )


def _echec(run, message, *, lecture=None, reessayable=False, reessai_possible=False, alerter=True):
    """Record a failed run (outside its rolled-back transaction): nothing of it was written, the watermark did not
    move. Staff are told, once per failure streak, unless a retry of this run is planned."""
    run.statut = StatutSynchro.ECHEC
    run.erreur = message
    run.termine_le = timezone.now()
    run.pages = lecture.pages if lecture else 0
    run.recues = lecture.recues if lecture else 0
    run.creees = run.mises_a_jour = run.supprimees = run.inchangees = run.ignorees = 0
    run.rejetees = []
    run.reessayable = reessayable
    logger.warning("Synchronisation avec la Coop %s en échec (tentative %s) : %s", run.pk, run.tentative, message)
    with transaction.atomic():
        run.save()
        if alerter and not (reessayable and reessai_possible):
            alerter_equipe(run)


def debut_de_serie(run):
    """The first failed run of the failure streak ``run`` belongs to (since the last successful run)."""
    derniere_reussie = (
        SynchroCoop.objects.filter(statut=StatutSynchro.REUSSIE, pk__lt=run.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return (
        SynchroCoop.objects.filter(statut=StatutSynchro.ECHEC, pk__gt=derniere_reussie or 0, pk__lte=run.pk)
        .order_by("pk")
        .first()
        or run
    )


def alerter_equipe(run):
    """E-mail the staff about a failed run, once per failure streak (the outbox keeps one e-mail per recipient and
    streak). Returns the number of e-mails written."""
    premiere = debut_de_serie(run)
    echecs = SynchroCoop.objects.filter(statut=StatutSynchro.ECHEC, pk__gte=premiere.pk, pk__lte=run.pk).count()
    context = {
        "synchro": run,
        "premiere": premiere,
        "echecs": echecs,
        "erreur": run.erreur,
        "lien": settings.SITE_URL.rstrip("/") + reverse("imports:coop"),
        "platform_name": settings.PLATFORM_NAME,
        "territoire_nom": settings.TERRITOIRE_NOM,
    }
    ecrits = 0
    for adresse in staff_emails():
        ecrits += email_enqueue(
            destinataire=adresse,
            type=EMAIL_TYPE,
            objet=f"synchro_coop:{premiere.pk}",
            template=EMAIL_TEMPLATE,
            context=context,
        )
    return ecrits


def synchro_en_cours(maintenant=None):
    """A run started less than an hour ago and not finished (a run killed meanwhile no longer counts after that)."""
    maintenant = maintenant or timezone.now()
    return SynchroCoop.objects.filter(
        statut=StatutSynchro.EN_COURS, commence_le__gt=maintenant - datetime.timedelta(hours=1)
    ).exists()
