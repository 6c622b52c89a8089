"""The engine of file imports: upload, analysis into a preview, import on confirmation, sweeping.

- ``import_deposer`` checks who may import what, the file's size and format (a file that cannot be imported at all
  is refused at once with the importer's French message, nothing written), stores it and starts the analysis.
- The analysis (``import_traiter`` on an import « analyse ») reads the file, decides batch by batch what each line
  would do, and stores the preview: counts per action, every invalid line with its reason, the lines to create and
  update, the reasons lines are ignored. Nothing else is written.
- ``import_confirmer`` starts the import (``import_traiter`` on an import « application »): the lines are decided
  again (what changed since the preview is taken into account) and each batch's creations and updates are written
  in one transaction. Both steps report their progress on the row, polled by the page.
- Claims: a step is taken by one worker with a conditional UPDATE; a claim older than ``CLAIM_TIMEOUT`` belongs to a
  dead worker and is taken again by the sweeper (``imports_relancer``, every few minutes). An import stopped midway
  keeps what its finished batches wrote (each is whole) and can be relaunched: nothing is imported twice.
- The file (which may hold private notes) is dropped from the database when the import is done or abandoned, and
  previews left unconfirmed for ``APERCU_DUREE`` are abandoned.
"""

import datetime
import logging
from collections import Counter
from pathlib import PurePath

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accompagnements.models import Activite
from conseillers.models import Conseiller
from sicoval_numerique.kicker import publier

from .base import ACTION_LABELS, Action, Decision, FichierInvalide
from .models import Import, StatutImport, TypeImport

logger = logging.getLogger(__name__)

IMPORTEURS = {
    TypeImport.ACTIVITES_COOP: "imports.activites_coop.ImporteurActivitesCoop",
    TypeImport.LIEUX: "imports.lieux.ImporteurLieux",
}
TAILLE_LOT = 200
# Lines listed in a preview (the counts are always whole): every invalid line first, then the changes.
APERCU_MAX = 1000
CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
ATTENTE_MAX = datetime.timedelta(minutes=2)
APERCU_DUREE = datetime.timedelta(days=7)
ERREUR_INATTENDUE = "Une erreur inattendue a interrompu le traitement ; l'équipe technique a été prévenue."
CONFLIT = "ces lignes ont été modifiées entre-temps (un autre import du même fichier, peut-être)."
TROP_LONG = (
    "L'analyse de ce fichier a dépassé le temps permis : découpez-le (par période, par conseiller) et déposez les "
    "morceaux l'un après l'autre."
)


class PriseEnCharge(Exception):
    """Another worker took the import over (this one ran past ``CLAIM_TIMEOUT``): this one stops writing."""


def taille_max():
    return getattr(settings, "IMPORT_TAILLE_MAX", 20 * 1024 * 1024)


def importeur(type):
    return import_string(IMPORTEURS[type])()


# --- Who may do what -----------------------------------------------------------------------------------------------
def conseiller_de(user):
    return Conseiller.objects.filter(user=user).first() if user.is_authenticated else None


def types_permis(user):
    """The imports a user may start: staff every kind (activities of the whole team, places); a conseiller their
    own activities."""
    if not user.is_authenticated:
        return []
    if user.is_staff:
        return [TypeImport.ACTIVITES_COOP, TypeImport.LIEUX]
    return [TypeImport.ACTIVITES_COOP] if conseiller_de(user) else []


def imports_visibles_par(user):
    if not user.is_authenticated:
        return Import.objects.none()
    if user.is_staff:
        return Import.objects.all()
    return Import.objects.filter(demande_par=user)


def _require_owner(import_, by):
    if not (by.is_staff or import_.demande_par_id == by.pk):
        raise PermissionDenied("Seule la personne qui a déposé le fichier, ou l'équipe Sicoval, peut le traiter.")


# --- Upload --------------------------------------------------------------------------------------------------------
def import_deposer(*, by, type, fichier, conseiller=None, options=None):
    """Store an uploaded file and start its analysis. A conseiller imports their own activities (``conseiller`` is
    then theirs whatever is passed); staff import the team's activities (rows attributed by mediator) or places."""
    if type not in types_permis(by):
        raise PermissionDenied("Vous ne pouvez pas faire ce type d'import.")
    if type == TypeImport.ACTIVITES_COOP and not by.is_staff:
        conseiller = conseiller_de(by)
    if type == TypeImport.LIEUX:
        conseiller = None
    imp = importeur(type)
    nom = PurePath(fichier.name or "fichier").name[:255]
    if PurePath(nom).suffix.lower() not in imp.extensions:
        raise ValidationError(
            {"fichier": f"Ce fichier n'est pas au bon format : déposez un fichier {' ou '.join(imp.extensions)}."}
        )
    if fichier.size > taille_max():
        raise ValidationError(
            {"fichier": f"Ce fichier dépasse la taille maximale de {taille_max() // (1024 * 1024)} Mo."}
        )
    contenu = fichier.read()
    if not contenu:
        raise ValidationError({"fichier": "Ce fichier est vide."})
    options = dict(options or {})
    try:
        imp.verifier(contenu, nom, options)
    except FichierInvalide as error:
        raise ValidationError({"fichier": str(error)}) from None
    with transaction.atomic():
        import_ = Import.objects.create(
            type=type,
            nom_fichier=nom,
            taille=len(contenu),
            fichier=contenu,
            options=options,
            conseiller=conseiller,
            demande_par=by,
            statut=StatutImport.ANALYSE,
            etape="En attente d'analyse",
        )
        _publier_apres_commit(import_)
    return import_


def _publier_apres_commit(import_):
    uuid = str(import_.uuid)
    transaction.on_commit(lambda: publier_traitement(uuid), robust=True)


def publier_traitement(uuid):
    return publier("imports.tasks.import_traiter", uuid, label=f"Traitement de l'import {uuid}")


def import_confirmer(*, import_, by):
    """Start the import of a previewed file."""
    _require_owner(import_, by)
    with transaction.atomic():
        started = Import.objects.filter(pk=import_.pk, statut=StatutImport.APERCU).update(
            statut=StatutImport.APPLICATION, progression=0, etape="En attente", commence_le=None, erreur=""
        )
        if not started:
            raise ValidationError("Cet import n'attend plus de confirmation.")
        _publier_apres_commit(import_)
    import_.refresh_from_db()
    return import_


def import_relancer(*, import_, by):
    """Take up a failed step again (the analysis, or the import, which goes on where it stopped)."""
    _require_owner(import_, by)
    statut = StatutImport.APPLICATION if import_.resultat.get("commence") else StatutImport.ANALYSE
    with transaction.atomic():
        relance = Import.objects.filter(pk=import_.pk, statut=StatutImport.ECHEC, fichier__isnull=False).update(
            statut=statut, progression=0, etape="En attente", commence_le=None, erreur=""
        )
        if not relance:
            raise ValidationError("Seul un import en échec dont le fichier est encore là peut être relancé.")
        _publier_apres_commit(import_)
    import_.refresh_from_db()
    return import_


def import_abandonner(*, import_, by):
    """Drop a previewed file without importing it."""
    _require_owner(import_, by)
    abandonne = Import.objects.filter(pk=import_.pk, statut__in=[StatutImport.APERCU, StatutImport.ECHEC]).update(
        statut=StatutImport.ABANDONNE, fichier=None, termine_le=timezone.now(), etape=""
    )
    if not abandonne:
        raise ValidationError("Cet import ne peut plus être abandonné.")
    import_.refresh_from_db()
    return import_


# --- Processing (Celery) -------------------------------------------------------------------------------------------
def _claim(import_):
    now = timezone.now()
    taken = Import.objects.filter(
        Q(commence_le__isnull=True) | Q(commence_le__lt=now - CLAIM_TIMEOUT),
        pk=import_.pk,
        statut__in=[StatutImport.ANALYSE, StatutImport.APPLICATION],
    ).update(commence_le=now, progression=0)
    return now if taken else None


def _en_cours(import_):
    """The import while this worker still holds it (whatever its last renewal)."""
    return Import.objects.filter(pk=import_.pk, statut=import_.statut, commence_le__isnull=False)


def _ours(import_, claim):
    return Import.objects.filter(pk=import_.pk, commence_le=claim, statut=import_.statut)


def _renouveler(import_, claim, **fields):
    """Record the progress and renew the claim (a long import is not taken for a dead one); stop when another
    worker has taken the import over."""
    now = timezone.now()
    if not _ours(import_, claim).update(commence_le=now, **fields):
        raise PriseEnCharge
    return now


def _lots(lignes):
    for start in range(0, len(lignes), TAILLE_LOT):
        yield start, lignes[start : start + TAILLE_LOT]


def _decider(imp, lot, import_):
    """Decisions for a batch: unreadable lines are invalid with their reason; the importer decides the others."""
    lisibles = [ligne for ligne in lot if not ligne.erreur]
    decisions = iter(imp.decider(lisibles, import_) if lisibles else [])
    out = []
    for ligne in lot:
        out.append(Decision(ligne, Action.INVALIDE, ligne.erreur) if ligne.erreur else next(decisions))
    return out


def _sans_nul(text):
    """A text the preview can store (PostgreSQL's JSON refuses the NUL character a file may hold)."""
    return str(text or "").replace("\x00", "")


def _entree(decision):
    ligne = decision.ligne
    return {
        "numero": _sans_nul(ligne.numero),
        "cle": _sans_nul(ligne.cle),
        "libelle": _sans_nul(ligne.libelle),
        "action": str(decision.action),
        "raison": _sans_nul(decision.raison),
        "changements": [_sans_nul(label) for label in decision.changements or []],
    }


def _pourcentage(fait, total):
    return min(99, int(100 * fait / total)) if total else 99


def import_traiter(import_):
    """Run the step the import is at (analysis or import), once: returns False when another worker has it or
    there is nothing to do."""
    claim = _claim(import_)
    if claim is None:
        return False
    import_.refresh_from_db()
    try:
        if import_.statut == StatutImport.ANALYSE:
            _analyser(import_, claim)
        else:
            _appliquer(import_, claim)
    except FichierInvalide as error:
        _en_cours(import_).update(statut=StatutImport.ECHEC, erreur=str(error), termine_le=timezone.now())
    except PriseEnCharge:
        logger.warning("Import %s repris par un autre worker : celui-ci s'arrête.", import_.uuid)
    except SoftTimeLimitExceeded:
        if import_.statut == StatutImport.ANALYSE:
            _en_cours(import_).update(statut=StatutImport.ECHEC, erreur=TROP_LONG, termine_le=timezone.now())
        else:  # the finished batches are written: the import goes on from there, in a new run of the task
            _en_cours(import_).update(commence_le=None)
            publier_traitement(str(import_.uuid))
    except Exception:
        # The traceback names no person: lines are never put in exception messages by the importers.
        logger.exception("Import %s interrompu (%s).", import_.uuid, import_.get_type_display())
        _en_cours(import_).update(statut=StatutImport.ECHEC, erreur=ERREUR_INATTENDUE, termine_le=timezone.now())
    import_.refresh_from_db()
    return True


def _analyser(import_, claim):
    imp = importeur(import_.type)
    _ours(import_, claim).update(etape="Lecture du fichier")
    lignes = imp.lire(bytes(import_.fichier), import_.nom_fichier, import_.options)
    compte, ignorees, entrees = Counter(), Counter(), {"invalide": [], "changement": []}
    for start, lot in _lots(lignes):
        for decision in _decider(imp, lot, import_):
            compte[decision.action] += 1
            if decision.action == Action.IGNORE:
                ignorees[decision.raison] += 1
            elif decision.action == Action.INVALIDE:
                entrees["invalide"].append(_entree(decision))
            elif decision.action in (Action.CREER, Action.METTRE_A_JOUR):
                entrees["changement"].append(_entree(decision))
        fait = start + len(lot)
        claim = _renouveler(
            import_, claim, progression=_pourcentage(fait, len(lignes)), etape=f"Analyse : {fait} sur {len(lignes)}"
        )
    listees = (entrees["invalide"] + entrees["changement"])[:APERCU_MAX]
    apercu = {
        "total": len(lignes),
        "compte": {str(action): compte.get(action, 0) for action in ACTION_LABELS},
        "lignes": listees,
        "non_listees": len(entrees["invalide"]) + len(entrees["changement"]) - len(listees),
        "ignorees": [{"raison": raison, "nombre": n} for raison, n in ignorees.most_common()],
    }
    _ours(import_, claim).update(
        statut=StatutImport.APERCU,
        progression=100,
        etape="Aperçu prêt",
        apercu=apercu,
        lignes=len(lignes),
        commence_le=None,
    )


def _appliquer(import_, claim):
    imp = importeur(import_.type)
    _ours(import_, claim).update(etape="Lecture du fichier", resultat={"commence": True})
    lignes = imp.lire(bytes(import_.fichier), import_.nom_fichier, import_.options)
    faits = Counter()
    for start, lot in _lots(lignes):
        decisions = _decider(imp, lot, import_)
        ecrites = [d for d in decisions if d.action in (Action.CREER, Action.METTRE_A_JOUR)]
        if ecrites:
            try:
                with transaction.atomic():
                    imp.appliquer(ecrites, import_)
            except (ValidationError, IntegrityError, DataError) as error:
                # The data changed since the decision (a concurrent edit, the same file imported twice at once): said
                # plainly, without the database's own words (they may quote a line's content).
                raison = " ".join(error.messages) if isinstance(error, ValidationError) else CONFLIT
                premiere, derniere = lot[0].numero, lot[-1].numero
                raise FichierInvalide(
                    f"L'import s'est arrêté sur les lignes {premiere} à {derniere} : {raison} Les lignes d'avant sont "
                    "importées ; relancez l'import pour terminer (rien ne sera importé deux fois)."
                ) from None
        faits.update(decision.action for decision in decisions)
        fait = start + len(lot)
        claim = _renouveler(
            import_,
            claim,
            progression=_pourcentage(fait, len(lignes)),
            etape=f"Import : {fait} sur {len(lignes)}",
            resultat={"commence": True, "compte": {str(a): faits.get(a, 0) for a in ACTION_LABELS}},
        )
    imp.apres(import_)
    _ours(import_, claim).update(
        statut=StatutImport.TERMINE,
        progression=100,
        etape="Terminé",
        resultat={"commence": True, "compte": {str(a): faits.get(a, 0) for a in ACTION_LABELS}},
        fichier=None,
        termine_le=timezone.now(),
    )
    logger.info("Import %s terminé : %s.", import_.uuid, {str(action): n for action, n in faits.items()})


def imports_relancer(now=None):
    """The sweeper: steps left waiting (their publication was lost) or claimed by a dead worker run again; previews
    left unconfirmed too long are abandoned and their file dropped. Returns the number of steps relaunched."""
    now = now or timezone.now()
    Import.objects.filter(statut=StatutImport.APERCU, created_at__lt=now - APERCU_DUREE).update(
        statut=StatutImport.ABANDONNE, fichier=None, termine_le=now, etape="Aperçu expiré"
    )
    # A failed import can be relaunched for a week; then its file (private notes, perhaps) goes too.
    Import.objects.filter(statut=StatutImport.ECHEC, termine_le__lt=now - APERCU_DUREE, fichier__isnull=False).update(
        fichier=None
    )
    en_plan = Import.objects.filter(statut__in=[StatutImport.ANALYSE, StatutImport.APPLICATION]).filter(
        Q(commence_le__isnull=True, created_at__lt=now - ATTENTE_MAX) | Q(commence_le__lt=now - CLAIM_TIMEOUT)
    )
    relances = 0
    for uuid in en_plan.values_list("uuid", flat=True):
        publier_traitement(str(uuid))
        relances += 1
    return relances


# --- Reading -------------------------------------------------------------------------------------------------------
def activites_importees(conseiller):
    """How many live activities of a conseiller came from the national tool (for the import page)."""
    return Activite.objects.actives().filter(conseiller=conseiller).exclude(id_externe="").count()
