"""The Celery tasks of the synchronisation with the Coop (registered with the imports' tasks, ``imports.tasks``).

``coop_mediateurs_actualiser``: staff's refresh of the mediators (it pages through every user of the Coop, so not
in a web request); its outcome is kept a while in the cache for the page (``resultat_mediateurs``).

``coop_synchroniser``: every night (beat) and on staff's request. A failure the Coop may get over (timeout,
connection, 429, 5xx) is tried again after 5, 15 then 45 minutes, each try recorded as its own run with its number
(``tentative``); refused credentials, a malformed page or a bug are not retried. Staff's own runs are never
retried: they see the result.
"""

import logging

from celery import shared_task
from django.core.cache import cache
from django.core.exceptions import ValidationError

from accounts.models import User

from . import synchro
from .chiffrement import ChiffrementErreur
from .coop_api import CoopErreur

__all__ = ["coop_mediateurs_actualiser", "coop_synchroniser", "delai_avant_reessai", "resultat_mediateurs"]

logger = logging.getLogger(__name__)
# How long the outcome of a refresh of the mediators stays for the page (seconds).
RESULTAT_DUREE = 60 * 60

# Seconds before each retry of a nightly run.
REESSAIS = (5 * 60, 15 * 60, 45 * 60)
# A run reads the Coop's whole history the first time (hundreds of pages): more time than the default tasks, and
# less than the broker's visibility timeout (an hour), after which Redis would hand the task to another worker.
DUREE_MAX = 50 * 60


def delai_avant_reessai(run, deja_reessaye):
    """Seconds before trying again after the run ``run``, or None: it succeeded, its error is not one a later try
    may get over, or every retry was used (``deja_reessaye``: the retries already made)."""
    if run is None or run.statut != synchro.StatutSynchro.ECHEC or not getattr(run, "reessayable", False):
        return None
    if deja_reessaye >= len(REESSAIS):
        return None
    return REESSAIS[deja_reessaye]


@shared_task(
    name="imports.tasks.coop_synchroniser",
    bind=True,
    ignore_result=True,
    soft_time_limit=DUREE_MAX - 60,
    time_limit=DUREE_MAX,
)
def coop_synchroniser(self, lancee_par=None):
    """Synchronise with the Coop. ``lancee_par``: the pk of the staff member who asked (None: the nightly run, skipped
    while staff have switched it off)."""
    conn = synchro.connexion()
    if conn is None:
        return {"statut": "sans_connexion"}
    by = User.objects.filter(pk=lancee_par, is_staff=True, is_active=True).first() if lancee_par else None
    if lancee_par is None and not conn.active:
        return {"statut": "desactivee"}
    automatique = lancee_par is None
    deja = self.request.retries or 0
    run = synchro.synchroniser(by=by, tentative=deja + 1, reessai_possible=automatique and deja < len(REESSAIS))
    if run is None:
        return {"statut": "sans_connexion"}
    delai = delai_avant_reessai(run, deja) if automatique else None
    if delai is not None:
        raise self.retry(countdown=delai, max_retries=len(REESSAIS))
    return {"statut": run.statut, "synchro": run.pk}


def _cle_resultat(user_pk):
    return f"imports:coop_mediateurs:{user_pk}"


def resultat_mediateurs(user_pk, *, effacer=True):
    """The outcome of the last refresh ``user_pk`` asked for ({"statut": "reussie", …counts} or {"statut": "echec",
    "erreur": French}), or None."""
    cle = _cle_resultat(user_pk)
    resultat = cache.get(cle)
    if resultat is not None and effacer:
        cache.delete(cle)
    return resultat


@shared_task(name="imports.tasks.coop_mediateurs_actualiser", ignore_result=True, soft_time_limit=15 * 60)
def coop_mediateurs_actualiser(user_pk):
    """Refresh the mediators from the Coop for the staff member ``user_pk`` (``synchro.mediateurs_actualiser``)."""
    by = User.objects.filter(pk=user_pk, is_staff=True, is_active=True).first()
    if by is None:
        return {"statut": "refuse"}
    try:
        resultat = {"statut": "reussie", **synchro.mediateurs_actualiser(by=by)}
    except (CoopErreur, ChiffrementErreur) as error:
        resultat = {"statut": "echec", "erreur": synchro.texte_erreur(error)}
    except ValidationError as error:
        resultat = {"statut": "echec", "erreur": " ".join(error.messages)}
    if resultat["statut"] == "echec":
        logger.warning("Actualisation des médiateurs de la Coop en échec : %s", resultat["erreur"])
    cache.set(_cle_resultat(user_pk), resultat, RESULTAT_DUREE)
    return resultat
