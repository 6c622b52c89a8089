"""Running a family of reminders, staff's settings of a family, and the preview of its e-mails.

A run looks at every reminder whose moment fell in the last days (the window plus ``HORIZON``, so that a beat or a
worker down for a while is caught up on), and for each recipient not already in the outbox:
- its window still open: the e-mail is put in the outbox with the window's end as its send-by limit;
- its window closed: the e-mail is recorded as missed (``MANQUE``), and will never be sent.
Reminders are written in batches, each in its own transaction: a run killed half-way leaves whole batches, and the
next run does the rest. Running twice, or two runs at once, writes each reminder once (the outbox's unique constraint).
Logs carry counts and uuids, never an address or a name.
"""

import datetime
import itertools
import logging
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.models import Declenchement, Email, ExecutionRappel, ReglageRappel, StatutExecution
from notifications.services import email_enqueue, email_record_missed, mask_email, render_email

from . import famille as famille_of

logger = logging.getLogger(__name__)

# A reminder whose window closed more than this long ago is not even recorded as missed (it is not sent either): a
# run catches up on a beat or a worker down for a week, without writing a missed row for every object of the past
# when a family is first switched on.
HORIZON = datetime.timedelta(days=7)
LOT = 100
# Runs older than this are deleted by the next run of their family.
CONSERVATION_EXECUTIONS = datetime.timedelta(days=90)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


# --- Settings ----------------------------------------------------------------------------------------------------
def reglage_of(code):
    """The settings row of a family (created with its defaults if the migration did not: a family added since)."""
    famille = famille_of(code)
    reglage, _ = ReglageRappel.objects.get_or_create(famille=code, defaults={"parametres": famille.defauts()})
    return reglage


def parametres_of(famille, reglage):
    """The family's delays: the stored ones (else the defaults), brought within their bounds (a bound read from the
    settings may have moved since staff saved them)."""
    stored = reglage.parametres if reglage is not None and isinstance(reglage.parametres, dict) else {}
    values = {}
    for parametre in famille.parametres:
        value = stored.get(parametre.nom)
        if isinstance(value, bool) or not isinstance(value, int):
            value = parametre.defaut
        values[parametre.nom] = min(max(value, parametre.minimum), parametre.borne_max)
    return values


def parametres_valides(famille, data):
    """``data`` checked against the family's parameters (integers within bounds, and its checks across them);
    returns the clean values or raises ValidationError {name: French message}."""
    errors, values = {}, {}
    for parametre in famille.parametres:
        value = data.get(parametre.nom)
        if isinstance(value, bool) or not isinstance(value, int):
            errors[parametre.nom] = "Saisissez un nombre entier."
        elif not parametre.minimum <= value <= parametre.borne_max:
            errors[parametre.nom] = f"Saisissez un nombre entre {parametre.minimum} et {parametre.borne_max}."
        else:
            values[parametre.nom] = value
    if not errors:
        errors = famille.verifier(values)
    if errors:
        raise ValidationError(errors)
    return values


def reglage_update(*, code, actif, parametres, by):
    """Staff switch a family on or off and change its delays; the history keeps who and when."""
    if not (by and by.is_staff):
        raise PermissionDenied("Seule l'équipe Sicoval règle les rappels.")
    famille = famille_of(code)
    values = parametres_valides(famille, parametres)
    with transaction.atomic():
        reglage, _ = ReglageRappel.objects.select_for_update().get_or_create(
            famille=code, defaults={"parametres": famille.defauts()}
        )
        if reglage.actif == bool(actif) and reglage.parametres == values:
            return reglage
        reglage.actif = bool(actif)
        reglage.parametres = values
        reglage._history_user = by
        reglage.save()
    logger.info("Rappels %s : réglage modifié par l'utilisateur %s.", code, by.pk)
    return reglage


# --- Runs --------------------------------------------------------------------------------------------------------
@dataclass
class Bilan:
    envoyes: int = 0
    deja_traites: int = 0
    manques: int = 0
    erreurs: int = 0
    premiere_erreur: str = ""


def _describe(error):
    """An error for staff, without addresses."""
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), f"{type(error).__name__}: {error}")[:1000]


def _write(famille, rappel, destinataire, bilan):
    template = famille.genres[rappel.genre].template
    common = {
        "destinataire": destinataire,
        "type": famille.type_email,
        "objet": rappel.objet,
        "template": template,
        "context": rappel.context,
    }
    try:
        with transaction.atomic():
            if timezone.now() < rappel.limite:
                written, counter = email_enqueue(**common, envoyer_avant=rappel.limite), "envoyes"
            else:
                written, counter = email_record_missed(**common, envoyer_avant=rappel.limite), "manques"
    except Exception as error:  # one object's e-mail failing (bad data, template) does not stop the others
        bilan.erreurs += 1
        bilan.premiere_erreur = bilan.premiere_erreur or _describe(error)
        logger.warning(
            "Rappels %s : rappel « %s » de l'objet %s non écrit (%s).",
            famille.code,
            rappel.genre,
            rappel.reference,
            type(error).__name__,
        )
        return
    if written:
        setattr(bilan, counter, getattr(bilan, counter) + 1)
    else:
        bilan.deja_traites += 1


def _run_batch(famille, rappels, bilan):
    # What the outbox already holds is read first, so that a reminder already handled costs no rendering.
    known = set(
        Email.objects.filter(type=famille.type_email, objet__in={r.objet for r in rappels}).values_list(
            "destinataire", "objet"
        )
    )
    with transaction.atomic():
        for rappel in rappels:
            for destinataire in rappel.destinataires:
                if (destinataire, rappel.objet) in known:
                    bilan.deja_traites += 1
                else:
                    _write(famille, rappel, destinataire, bilan)


def _process(famille, params, now):
    bilan = Bilan()
    rappels = famille.rappels(now=now, params=params, depuis=now - famille.fenetre - HORIZON)
    while batch := list(itertools.islice(rappels, LOT)):
        _run_batch(famille, batch, bilan)
    return bilan


def famille_run(code, *, by=None, now=None):
    """Run a family of reminders now (beat, or staff with ``by``); returns its ``ExecutionRappel``. Idempotent."""
    if by is not None and not by.is_staff:
        raise PermissionDenied("Seule l'équipe Sicoval lance les rappels.")
    famille = famille_of(code)
    now = now or timezone.now()
    reglage = reglage_of(code)
    run = ExecutionRappel.objects.create(
        famille=code,
        declenchement=Declenchement.MANUEL if by is not None else Declenchement.AUTOMATIQUE,
        lance_par=by,
        debut=now,
    )
    if not reglage.actif:
        bilan, statut = Bilan(), StatutExecution.INACTIVE
    else:
        try:
            bilan = _process(famille, parametres_of(famille, reglage), now)
        except Exception as error:  # recorded for staff, then the next run tries again
            logger.error("Rappels %s : exécution %s en échec (%s).", code, run.uuid, type(error).__name__)
            bilan = Bilan(premiere_erreur=_describe(error))
            statut = StatutExecution.ECHEC
        else:
            statut = StatutExecution.ERREURS if bilan.erreurs else StatutExecution.REUSSIE
    run.fin = timezone.now()
    run.statut = statut
    run.envoyes, run.deja_traites, run.manques, run.erreurs = (
        bilan.envoyes,
        bilan.deja_traites,
        bilan.manques,
        bilan.erreurs,
    )
    run.message = bilan.premiere_erreur
    run.save(update_fields=["fin", "statut", "envoyes", "deja_traites", "manques", "erreurs", "message"])
    ExecutionRappel.objects.filter(famille=code, debut__lt=now - CONSERVATION_EXECUTIONS).delete()
    logger.info(
        "Rappels %s : exécution %s %s — %s mis en file, %s déjà traités, %s manqués, %s erreurs.",
        code,
        run.uuid,
        statut,
        run.envoyes,
        run.deja_traites,
        run.manques,
        run.erreurs,
    )
    return run


# --- Preview -----------------------------------------------------------------------------------------------------
@dataclass
class Apercu:
    """A kind of e-mail of a family, rendered for a real object when the database has one (``rappel`` None: not)."""

    genre: str
    libelle: str
    destinataires: str
    rappel: object = None
    sujet: str = ""
    texte: str = ""
    html: str = ""

    @property
    def destinataires_masques(self):
        return [mask_email(address) for address in self.rappel.destinataires] if self.rappel else []


def apercus(code, *, now=None):
    """Each kind of e-mail of a family, rendered with a real object of the database (the first one to come), or
    without one when there is none: never with made-up people."""
    famille = famille_of(code)
    now = now or timezone.now()
    params = parametres_of(famille, ReglageRappel.objects.filter(famille=code).first())
    exemples = famille.exemples(now=now, params=params)
    found = []
    for genre, definition in famille.genres.items():
        apercu = Apercu(genre=genre, libelle=definition.libelle, destinataires=definition.destinataires)
        rappel = exemples.get(genre)
        if rappel is not None:
            apercu.rappel = rappel
            apercu.sujet, apercu.texte, apercu.html = render_email(definition.template, rappel.context)
        found.append(apercu)
    return found
