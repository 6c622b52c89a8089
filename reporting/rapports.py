"""The territorial reports: who may read them, asking for one, building it, and the automatic ones.

- ``rapport_demander``: staff ask for a report on any period of whole months; the row is written at once and the
  build is published after commit (from a background thread, so that a broker that is down or hung never holds the
  request: the row stays « en attente » and ``rapports_relancer`` builds it).
- ``rapport_construire``: claims the row with a conditional UPDATE (two workers never build the same report), then
  records its progress step by step (figures, charts, PDF, XLSX), each step committed at once so that the page
  polling it sees it. The PDF and the XLSX are written with the final status in one UPDATE: a report is either
  ready with both files, or without any. A claim whose worker died is taken again after ``CLAIM_TIMEOUT``.
- ``rapport_mensuel_automatique`` / ``rapport_annuel_automatique``: the previous month's (on the 1st) or year's (on
  1 January) report, made once thanks to the unique constraint on automatic reports, then e-mailed through the
  outbox once per recipient (every active staff user and funder). The e-mail carries a link to the report's page
  (login required), not the files: the outbox stores attachments as text.
- ``rapports_relancer``: what beat runs every few minutes: builds reports left waiting (broker down when they were
  asked for, worker killed), and catches up on an automatic report whose beat run was missed.

Logs carry the report's uuid only.
"""

import datetime
import logging

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from notifications.services import email_enqueue
from sicoval_numerique.kicker import publier

from . import rapports_documents as documents
from .models import Rapport, StatutRapport, TypeRapport

logger = logging.getLogger(__name__)

# Longer than the task's hard time limit: a claim this old belongs to a worker that died.
CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
# A report still waiting after this was not published (broker down) or its message was lost: build it.
ATTENTE_MAX = datetime.timedelta(minutes=2)
# An automatic report whose build failed is tried again after this, during the catch-up days.
ECHEC_NOUVEL_ESSAI = datetime.timedelta(hours=1)
# The automatic reports are made at 06:00 (monthly) and 06:30 (annual) on their day; if beat missed the run, the
# sweeper makes them later that day or in the next two days.
RATTRAPAGE_JOURS = 3
RATTRAPAGE_HEURE = datetime.time(6, 45)
MAX_MOIS = 120
# The update of the summaries before a build takes 500 slices a pass: this bounds it (the update task does the rest).
RESUMES_PASSAGES_MAX = 20

ETAPES = {
    "donnees": (10, "Calcul des chiffres"),
    "graphiques": (35, "Dessin des graphiques"),
    "pdf": (55, "Mise en page du PDF"),
    "xlsx": (85, "Préparation du classeur XLSX"),
}
ETAPE_EN_ATTENTE = "En attente d'un processus de préparation"
ETAPE_DEBUT = "Démarrage de la préparation"
ETAPE_PRET = "Rapport prêt"
ERREUR_GENERIQUE = (
    "La préparation du rapport a échoué à l'étape « {etape} ». Relancez-la ; si l'échec se répète, signalez-le à "
    "l'équipe technique en donnant l'identifiant du rapport ({uuid})."
)
ERREUR_MISE_EN_PAGE = (
    "Le PDF n'a pas pu être mis en page : les bibliothèques de mise en page (Pango) ne sont pas installées sur le "
    "serveur. Signalez-le à l'équipe technique ; relancez la préparation une fois l'installation faite."
)
EMAIL_TYPES = {TypeRapport.MENSUEL: "rapport_mensuel", TypeRapport.ANNUEL: "rapport_annuel"}
EMAIL_TEMPLATE = "reporting/emails/rapport"


# --- Reading -----------------------------------------------------------------------------------------------------
def est_financeur(user):
    return user.is_authenticated and user.memberships.filter(role=Role.FINANCEUR).exists()


def peut_lire_rapports(user):
    """Staff read every report; funders read the ready ones."""
    return user.is_authenticated and (user.is_staff or est_financeur(user))


def rapports_visibles_par(user):
    """The reports ``user`` may see, without their files (loaded only to download them)."""
    rapports = Rapport.objects.defer("pdf", "xlsx").select_related("demande_par")
    if user.is_authenticated and user.is_staff:
        return rapports
    if est_financeur(user):
        return rapports.filter(statut=StatutRapport.PRET)
    return rapports.none()


# --- Asking for a report -----------------------------------------------------------------------------------------
def _fin_de_mois(day):
    return day.replace(day=1) + relativedelta(months=1, days=-1)


def periode_valider(du, au, *, today=None):
    """A report covers whole months, from ``du`` to ``au``, not after the current month, ten years at most."""
    today = today or timezone.localdate()
    errors = {}
    if du.day != 1:
        errors["du"] = "La période commence le premier jour d'un mois."
    if au != _fin_de_mois(au):
        errors["au"] = "La période finit le dernier jour d'un mois."
    if errors:
        raise ValidationError(errors)
    if au < du:
        raise ValidationError({"au": "Le dernier mois doit être le même que le premier ou le suivre."})
    if au > _fin_de_mois(today):
        raise ValidationError({"au": f"La période ne peut pas dépasser le mois en cours ({today:%m/%Y})."})
    months = (au.year - du.year) * 12 + au.month - du.month + 1
    if months > MAX_MOIS:
        message = f"La période ne peut pas dépasser dix ans ({MAX_MOIS} mois) : elle en compte {months}."
        raise ValidationError({"du": message})


def _require_staff(user):
    if not (user and user.is_authenticated and user.is_staff):
        raise PermissionDenied("La préparation des rapports est réservée à l'équipe Sicoval.")


def rapport_demander(*, du, au, by, type=TypeRapport.PERIODE, today=None):
    """Ask for a report on ``du``–``au`` (whole months); its build starts after commit. A report of the same kind
    and period already waiting or being built is returned rather than asked for twice (a double click); an
    automatic kind (monthly, annual) is made once per period and returned when it exists."""
    _require_staff(by)
    periode_valider(du, au, today=today)
    if type == TypeRapport.MENSUEL and (du.year, du.month) != (au.year, au.month):
        raise ValidationError({"au": "Un rapport mensuel couvre un seul mois."})
    if type == TypeRapport.ANNUEL and (du.month, au.month, du.year) != (1, 12, au.year):
        raise ValidationError({"au": "Un rapport annuel couvre une année civile, de janvier à décembre."})
    with transaction.atomic():
        if type == TypeRapport.PERIODE:
            en_preparation = [StatutRapport.EN_ATTENTE, StatutRapport.EN_COURS]
            rapport = (
                Rapport.objects.filter(type=type, du=du, au=au, statut__in=en_preparation).defer("pdf", "xlsx").first()
            )
            if rapport is None:
                rapport = Rapport.objects.create(type=type, du=du, au=au, demande_par=by, etape=ETAPE_EN_ATTENTE)
        else:
            rapport, _created = Rapport.objects.get_or_create(
                type=type, du=du, au=au, defaults={"demande_par": by, "etape": ETAPE_EN_ATTENTE}
            )
        if rapport.statut == StatutRapport.EN_ATTENTE:
            uuid = str(rapport.uuid)
            transaction.on_commit(lambda: publier_construction(uuid), robust=True)
    logger.info("Rapport %s demandé (%s).", rapport.uuid, rapport.type)
    return rapport


def rapport_relancer(*, rapport, by):
    """Build a failed report again."""
    _require_staff(by)
    with transaction.atomic():
        relance = Rapport.objects.filter(pk=rapport.pk, statut=StatutRapport.ECHEC).update(
            statut=StatutRapport.EN_ATTENTE, progression=0, etape=ETAPE_EN_ATTENTE, erreur="", termine_le=None
        )
        if not relance:
            raise ValidationError("Seul un rapport en échec peut être relancé.")
        uuid = str(rapport.uuid)
        transaction.on_commit(lambda: publier_construction(uuid), robust=True)
    rapport.refresh_from_db(fields=["statut", "progression", "etape", "erreur", "termine_le"])
    return rapport


def publier_construction(uuid):
    """Start the build of report ``uuid`` (see ``kicker.publier``); the sweeper builds reports left waiting."""
    return publier("reporting.tasks.rapport_construire", uuid, label=f"Préparation du rapport {uuid}")


# --- Building ----------------------------------------------------------------------------------------------------
def _claimable(now):
    return Q(statut__in=[StatutRapport.EN_ATTENTE, StatutRapport.ECHEC]) | Q(
        statut=StatutRapport.EN_COURS, commence_le__lt=now - CLAIM_TIMEOUT
    )


def _claim(rapport):
    """Take the report for this worker, or return None when another one has it (or it is ready)."""
    now = timezone.now()
    taken = Rapport.objects.filter(_claimable(now), pk=rapport.pk).update(
        statut=StatutRapport.EN_COURS, commence_le=now, termine_le=None, progression=0, erreur="", etape=ETAPE_DEBUT
    )
    return now if taken else None


def _ours(rapport, claim):
    return Rapport.objects.filter(pk=rapport.pk, statut=StatutRapport.EN_COURS, commence_le=claim)


def _etape(rapport, claim, key):
    progression, etape = ETAPES[key]
    _ours(rapport, claim).update(progression=progression, etape=etape)
    rapport.progression, rapport.etape = progression, etape
    return etape


def _resumes_a_jour(resume):
    """Recompute the summary slices changed since the last update task, so that the report reads the facts as they
    are now (a change made a minute before the 1st counts)."""
    for _ in range(RESUMES_PASSAGES_MAX):
        if resume.mettre_a_jour() < resume.TRANCHES_PAR_PASSAGE:
            return


def rapport_construire(rapport):
    """Build ``rapport``'s PDF and XLSX; returns whether this call built it (False when another worker has it or
    it is ready). Must run outside a transaction: each step commits, for the page that shows the progress."""
    claim = _claim(rapport)
    if claim is None:
        logger.info("Rapport %s déjà pris en charge ou prêt : rien à faire.", rapport.uuid)
        return False
    etape = ETAPE_DEBUT
    try:
        from . import resume

        etape = _etape(rapport, claim, "donnees")
        _resumes_a_jour(resume)
        contenu = documents.contenu(rapport)
        etape = _etape(rapport, claim, "graphiques")
        document_html = documents.html(contenu)
        etape = _etape(rapport, claim, "pdf")
        pdf = documents.pdf(document_html)
        etape = _etape(rapport, claim, "xlsx")
        xlsx = documents.xlsx(contenu)
    except Exception as error:
        logger.exception("Échec de la préparation du rapport %s à l'étape « %s ».", rapport.uuid, etape)
        if isinstance(error, documents.MiseEnPageIndisponible):
            message = ERREUR_MISE_EN_PAGE
        else:
            message = ERREUR_GENERIQUE.format(etape=etape, uuid=rapport.uuid)
        _ours(rapport, claim).update(
            statut=StatutRapport.ECHEC, erreur=message, termine_le=timezone.now(), pdf=None, xlsx=None
        )
        rapport.refresh_from_db(fields=["statut", "erreur", "termine_le", "progression", "etape"])
        return True
    written = _ours(rapport, claim).update(
        statut=StatutRapport.PRET, progression=100, etape=ETAPE_PRET, pdf=pdf, xlsx=xlsx, termine_le=timezone.now()
    )
    if not written:  # our claim was taken over (we ran past CLAIM_TIMEOUT): the other build records its own
        logger.warning("Rapport %s : la prise en charge a expiré, le résultat est abandonné.", rapport.uuid)
        return False
    rapport.refresh_from_db(fields=["statut", "progression", "etape", "termine_le", "commence_le"])
    logger.info("Rapport %s prêt en %.1f s.", rapport.uuid, (rapport.termine_le - claim).total_seconds())
    return True


# --- Automatic reports -------------------------------------------------------------------------------------------
def mois_precedent(today):
    du = today.replace(day=1) - relativedelta(months=1)
    return du, _fin_de_mois(du)


def annee_precedente(today):
    return datetime.date(today.year - 1, 1, 1), datetime.date(today.year - 1, 12, 31)


def destinataires():
    """Every active staff user and every active funder (a funder's role in any structure), each once."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_staff=True) | Q(memberships__role=Role.FINANCEUR))
        .distinct()
        .order_by("pk")
    )


def _automatique(type, du, au):
    rapport, created = Rapport.objects.defer("pdf", "xlsx").get_or_create(
        type=type, du=du, au=au, defaults={"etape": ETAPE_EN_ATTENTE}
    )
    if created:
        logger.info("Rapport automatique %s créé (%s).", rapport.uuid, type)
    if rapport.statut != StatutRapport.PRET:
        rapport_construire(rapport)
    if rapport.statut == StatutRapport.PRET and rapport.envoye_le is None:
        rapport_envoyer(rapport)
    return rapport


def rapport_mensuel_automatique(today):
    """The previous month's report, made, built and e-mailed once however many times this runs."""
    return _automatique(TypeRapport.MENSUEL, *mois_precedent(today))


def rapport_annuel_automatique(today):
    """The previous year's report for the State and the Département, made, built and e-mailed once."""
    return _automatique(TypeRapport.ANNUEL, *annee_precedente(today))


def _chiffres_cles(rapport):
    """The key numbers the e-mail quotes, read from the summaries (the same figures as the report's)."""
    from . import resume

    chiffres = resume.statistiques(rapport.du, rapport.au).chiffres
    return [
        (chiffres["accompagnements"], "accompagnement" if chiffres["accompagnements"] < 2 else "accompagnements"),
        (chiffres["activites"], "activité" if chiffres["activites"] < 2 else "activités"),
        (chiffres["collectifs"], "atelier collectif" if chiffres["collectifs"] < 2 else "ateliers collectifs"),
    ]


def rapport_envoyer(rapport):
    """E-mail the ready ``rapport`` to every recipient through the outbox: once per (recipient, report), even when
    two runs get here together (the outbox's unique constraint), then mark it sent."""
    lien = settings.SITE_URL.rstrip("/") + reverse("reporting:rapport", args=[rapport.uuid])
    context = {
        "rapport": rapport,
        "titre": f"{rapport.get_type_display()} — {rapport.periode_libelle}",
        "periode": rapport.periode_libelle,
        "chiffres": _chiffres_cles(rapport),
        "lien": lien,
        "platform_name": settings.PLATFORM_NAME,
        "territoire_nom": settings.TERRITOIRE_NOM,
    }
    written = 0
    with transaction.atomic():
        locked = Rapport.objects.select_for_update().defer("pdf", "xlsx").get(pk=rapport.pk)
        if locked.envoye_le is not None:
            return 0
        for user in destinataires():
            written += email_enqueue(
                destinataire=user.email,
                type=EMAIL_TYPES.get(rapport.type, "rapport"),
                objet=f"rapport:{rapport.uuid}",
                template=EMAIL_TEMPLATE,
                context={**context, "salutation": f"Bonjour {user.get_short_name()}"},
            )
        rapport.envoye_le = timezone.now()
        Rapport.objects.filter(pk=rapport.pk).update(envoye_le=rapport.envoye_le)
    logger.info("Rapport %s : %s e-mail(s) mis en file.", rapport.uuid, written)
    return written


# --- The sweeper -------------------------------------------------------------------------------------------------
def _automatique_a_rattraper(type, du, au, now):
    rapport = Rapport.objects.defer("pdf", "xlsx").filter(type=type, du=du, au=au).first()
    if rapport is None:
        return True
    if rapport.statut == StatutRapport.ECHEC:
        return rapport.termine_le is None or rapport.termine_le < now - ECHEC_NOUVEL_ESSAI
    return rapport.statut == StatutRapport.PRET and rapport.envoye_le is None


def rapports_relancer(now=None):
    """Build the reports left waiting or whose worker died, and make an automatic report whose beat run was missed
    (in its first days, after its hour). Returns the number of reports built."""
    now = now or timezone.now()
    built = 0
    stale = Rapport.objects.defer("pdf", "xlsx").filter(
        Q(statut=StatutRapport.EN_ATTENTE, created_at__lt=now - ATTENTE_MAX)
        | Q(statut=StatutRapport.EN_COURS, commence_le__lt=now - CLAIM_TIMEOUT)
    )
    for rapport in stale.order_by("created_at")[:10]:
        built += rapport_construire(rapport)
    local = timezone.localtime(now)
    today = local.date()
    if today.day <= RATTRAPAGE_JOURS and local.time() >= RATTRAPAGE_HEURE:
        if _automatique_a_rattraper(TypeRapport.MENSUEL, *mois_precedent(today), now):
            rapport_mensuel_automatique(today)
            built += 1
        if today.month == 1 and _automatique_a_rattraper(TypeRapport.ANNUEL, *annee_precedente(today), now):
            rapport_annuel_automatique(today)
            built += 1
    return built
