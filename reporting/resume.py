"""The summary tables of the activity log (``reporting.models``): computing them from the facts, keeping them current,
and reading the figures from them.

Keeping them current:

- ``ajouter(activite_id)`` is called (by the signals of ``reporting.signals``) in the transaction that creates an
  activity, ``marquer(conseiller_id, date)`` in that of every other change to an activity or an accompaniment: the
  first queues the new activity, the second records its (month, conseiller) slice as to recompute. After commit both
  start ``mettre_a_jour``: inline without a broker (quick start, tests), otherwise as a Celery task published from a
  background thread, so that a broker that is down never holds a request. Beat also runs it every minute.
- ``mettre_a_jour()`` recomputes the marked slices from the facts, each slice as a whole (delete its rows, insert
  the new ones), then adds the figures of the queued new activities as rows of their own (on PostgreSQL; elsewhere
  their slices are recomputed), in one transaction under one lock, so that an activity is counted once: a slice
  recomputed takes its queued activities off the queue. A mark is removed only if it was not set again meanwhile.
  A grain may thus hold several rows until its slice is recomputed or the nightly rebuild folds them: every reading
  sums rows.
- ``reconstruire(du, au)`` recomputes whole months (every night the last months, every week the whole history, or
  any period on demand with ``manage.py resumes_reconstruire``), one month per transaction.
- The rows by département (``ResumeDepartement``…) follow: added to with the new activities; for the slices
  recomputed, by difference on PostgreSQL (their old figures off, their new ones on), recomputed for the départements
  concerned elsewhere; recomputed from the month's summaries by a rebuild.

Reading: ``statistiques(du, au, …)`` returns the same ``accompagnements.statistiques.Statistiques`` as
``accompagnements.statistiques.compute`` on the facts, with three queries whatever the number of activities. The
summary grain is the month: periods are whole months (``du`` is taken back to the first day of its month, ``au`` to
the last day of its own).
"""

import calendar
import datetime
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accompagnements import choices as c
from accompagnements import statistiques as figures
from accompagnements.models import Accompagnement, Activite, ActiviteThematique
from accompagnements.selectors import clamp_period, month_starts
from sicoval_numerique.kicker import TaskKicker

from . import resume_sql
from .models import (
    MESURES,
    MESURES_ACCOMPAGNEMENTS,
    ResumeActivite,
    ResumeAjout,
    ResumeAMettreAJour,
    ResumeBeneficiaire,
    ResumeDepartement,
    ResumeDepartementThematique,
    ResumeThematique,
    avec,
    colonne,
)

logger = logging.getLogger(__name__)

GRAIN = ("mois", "structure_id", "conseiller_id", "commune_id", "type")
# A run of the update task stops taking slices after this many, and beat starts the next one within a minute.
TRANCHES_PAR_PASSAGE = 500
# … and adds at most this many new activities.
AJOUTS_PAR_PASSAGE = 50_000
KICK_EXPIRES = 300
# The code of the row of the other communes, when a reading details only the first ones.
AUTRES = "autres"
# The PostgreSQL advisory lock every update and rebuild of the summaries holds (one writer at a time: an activity's
# figures are then added once, or counted by the recomputation of its slice, never both).
VERROU = 7_246_001


# --- Periods ------------------------------------------------------------------------------------------------------
def premier_jour(date):
    return date.replace(day=1)


def dernier_jour(date):
    return date.replace(day=calendar.monthrange(date.year, date.month)[1])


def debut_des_derniers_mois(n, today=None):
    """The first day of the ``n`` last months, the current one included."""
    mois = (today or timezone.localdate()).replace(day=1)
    for _ in range(n - 1):
        mois = (mois - datetime.timedelta(days=1)).replace(day=1)
    return mois


def mois_entiers(du, au):
    """The period the summaries answer for: from the first day of ``du``'s month to the last day of ``au``'s
    (at most ten years, as every statistics period)."""
    du, au = clamp_period(premier_jour(du), dernier_jour(au))
    return premier_jour(du), au


# --- Computing slices from the facts ------------------------------------------------------------------------------
def _commune_comptee():
    """The commune an activity is counted in: none for a remote activity, as the statistics count them."""
    return Case(When(type_lieu=c.A_DISTANCE, then=None), default=F("commune_id"), output_field=IntegerField())


def _band(low, high, prefix=""):
    condition = Q(**{f"{prefix}duree__gte": low})
    return condition & Q(**{f"{prefix}duree__lt": high}) if high is not None else condition


def _mesures_activites():
    return {
        "activites": Count("pk"),
        "participants_ateliers": Coalesce(Sum("participants", filter=Q(type=c.COLLECTIF)), 0),
        "duree": Coalesce(Sum("duree"), 0),
        **{f"lieu_{code}": Count("pk", filter=Q(type_lieu=code)) for code, _label in c.TYPE_LIEU},
        **{f"tranche_{code}": Count("pk", filter=_band(low, high)) for code, _label, low, high in c.TRANCHES_DUREE},
    }


def _mesures_accompagnements():
    return {
        "accompagnements": Count("pk"),
        "nouveaux": Count("pk", filter=Q(premier_accompagnement=True)),
        **{
            colonne(attribut, code): Count("pk", filter=Q(**{attribut: code}))
            for attribut, vocabulary, _label in c.ATTRIBUTS_BENEFICIAIRE
            for code, _code_label in vocabulary
        },
    }


def _grain_activites(extra=()):
    return {
        "mois_": TruncMonth("date"),
        "commune_": _commune_comptee(),
        **{name: F(path) for name, path in extra},
    }


def _grain_accompagnements(extra=()):
    remote = When(activite__type_lieu=c.A_DISTANCE, then=None)
    return {
        "mois_": TruncMonth("activite__date"),
        "commune_": Case(remote, default=F("activite__commune_id"), output_field=IntegerField()),
        "structure_": F("activite__structure_id"),
        "conseiller_": F("activite__conseiller_id"),
        "type_": F("activite__type"),
        **{name: F(path) for name, path in extra},
    }


def _key(row, names):
    return tuple(row[name] for name in names)


def _mesures_par_tranche(activites, *, par_thematique=False):
    """{grain key (+ thématique): {measure: value}} for the live ``activites``: two GROUP BY queries."""
    extra_a = [("thematique_", "thematiques_rows__thematique")] if par_thematique else []
    extra_p = [("thematique_", "activite__thematiques_rows__thematique")] if par_thematique else []
    keys_a = ["mois_", "structure_id", "conseiller_id", "commune_", "type"] + [n for n, _p in extra_a]
    keys_p = ["mois_", "structure_", "conseiller_", "commune_", "type_"] + [n for n, _p in extra_p]
    rows = defaultdict(lambda: dict.fromkeys(MESURES, 0))
    # Measures are annotated as m_<name>: "duree" is also a field of the activity.
    mesures = {f"m_{name}": expression for name, expression in _mesures_activites().items()}
    for row in activites.order_by().annotate(**_grain_activites(extra_a)).values(*keys_a).annotate(**mesures):
        rows[_key(row, keys_a)].update({name[2:]: row[name] for name in mesures})
    accompagnements = Accompagnement.objects.filter(activite__in=activites.values("pk")).order_by()
    for row in (
        accompagnements.annotate(**_grain_accompagnements(extra_p))
        .values(*keys_p)
        .annotate(**_mesures_accompagnements())
    ):
        rows[_key(row, keys_p)].update({name: row[name] for name, _label in MESURES_ACCOMPAGNEMENTS})
    return rows


def _tranche(key):
    mois, structure_id, conseiller_id, commune_id, type_ = key[:5]
    return {
        "mois": mois,
        "structure_id": structure_id,
        "conseiller_id": conseiller_id,
        "commune_id": commune_id,
        "type": type_,
    }


def _cle_tranche(ligne):
    return (ligne.mois, ligne.structure_id, ligne.conseiller_id, ligne.commune_id, ligne.type)


def calculer(activites):
    """The summary rows of ``activites`` (live ones only), not saved: {model: [rows]}. Six queries."""
    activites = activites.filter(supprimee_le__isnull=True)
    lignes = {
        ResumeActivite: [
            ResumeActivite(**_tranche(key), **mesures) for key, mesures in _mesures_par_tranche(activites).items()
        ],
        ResumeThematique: [
            ResumeThematique(**_tranche(key), thematique=key[5], **mesures)
            for key, mesures in _mesures_par_tranche(activites, par_thematique=True).items()
            if key[5] is not None  # an activity without thématique rows (written in bulk) counts under none
        ],
    }
    par_cle = {(*_cle_tranche(ligne), ligne.thematique): ligne for ligne in lignes[ResumeThematique]}
    pairs = (
        ActiviteThematique.objects.filter(activite__in=activites.values("pk"))
        .order_by()
        .annotate(**_grain_accompagnements([("autre_", "activite__thematiques_rows__thematique")]))
        .values("mois_", "structure_", "conseiller_", "commune_", "type_", "thematique", "autre_")
        .annotate(n=Count("pk"))
    )
    par_tranche = {_cle_tranche(ligne): ligne for ligne in lignes[ResumeActivite]}
    for row in pairs:
        tranche = _key(row, ("mois_", "structure_", "conseiller_", "commune_", "type_"))
        setattr(par_cle[(*tranche, row["thematique"])], avec(row["autre_"]), row["n"])
        if row["thematique"] == row["autre_"]:  # the diagonal: the slice's activities that addressed it
            setattr(par_tranche[tranche], avec(row["autre_"]), row["n"])
    suivis = (
        Accompagnement.objects.filter(activite__in=activites.values("pk"), beneficiaire__isnull=False)
        .order_by()
        .annotate(**_grain_accompagnements([("thematique_", "activite__thematiques_rows__thematique")]))
        .values("mois_", "structure_", "conseiller_", "commune_", "type_", "thematique_", "beneficiaire_id")
        .distinct()
    )
    lignes[ResumeBeneficiaire] = [
        ResumeBeneficiaire(
            **_tranche(_key(row, ("mois_", "structure_", "conseiller_", "commune_", "type_"))),
            # An activity without thématique rows (written in bulk) still counts its people, under no thématique.
            thematique=row["thematique_"] or "",
            beneficiaire_id=row["beneficiaire_id"],
        )
        for row in suivis
    ]
    return lignes


MODELES = (ResumeActivite, ResumeThematique, ResumeBeneficiaire)
CUMULS = (ResumeDepartement, ResumeDepartementThematique)


def _departements(perimetre):
    """The (month, département) pairs of the summary rows matching ``perimetre`` ('' for no commune)."""
    return set(
        ResumeActivite.objects.filter(perimetre)
        .order_by()
        .values_list("mois", Coalesce("commune__departement", Value("")))
        .distinct()
    )


def _remplacer(perimetre, activites, *, mois, entier=False):
    """Replace the summary rows matching ``perimetre`` (a Q on the grain, within the months ``mois``) by those
    computed from ``activites``: inside PostgreSQL (``reporting.resume_sql``), through Python elsewhere (SQLite,
    the quick start). The queued new activities counted here leave the queue.

    The rows by département follow: for whole months (``entier``), recomputed from the new rows; for slices, on
    PostgreSQL by difference (the slices' old figures off, their new ones on: what a few slices cost does not depend
    on their month's size), elsewhere recomputed for the départements the rows were or are in."""
    lignes_activites = ResumeActivite.objects.filter(perimetre)
    lignes_thematiques = ResumeThematique.objects.filter(perimetre)
    postgresql = connection.vendor == "postgresql"
    touches = set()
    if postgresql and not entier:
        resume_sql.retrancher(lignes_activites, lignes_thematiques)
    elif not entier:
        touches = _departements(perimetre)
    for model in MODELES:
        model.objects.filter(perimetre).delete()
    if postgresql:
        lignes = resume_sql.inserer(activites, analyser=entier)
    else:
        calcul = calculer(activites)
        for model in MODELES:
            model.objects.bulk_create(calcul[model], batch_size=2000)
        ResumeAjout.objects.filter(activite__in=activites.values("pk")).delete()
        lignes = len(calcul[ResumeActivite])
    if entier:
        for debut in sorted(mois):
            resume_sql.cumuler(debut)
    elif postgresql:
        resume_sql.reporter(lignes_activites, lignes_thematiques, sorted(mois))
    else:
        par_mois = defaultdict(set)
        for debut, departement in touches | _departements(perimetre):
            par_mois[debut].add(departement)
        for debut, departements in sorted(par_mois.items()):
            resume_sql.cumuler(debut, sorted(departements))
    return lignes


def _reconstruire_mois(mois, *, jusqu_au=None):
    """Recompute every summary row of one month and its rows by département from the facts (those up to the day
    before ``jusqu_au`` only: the benchmarks' month without its last day), in the current transaction."""
    _verrouiller()
    activites = Activite.objects.filter(date__gte=mois, date__lte=dernier_jour(mois))
    if jusqu_au is not None:
        activites = activites.filter(date__lt=jusqu_au)
    return _remplacer(Q(mois=mois), activites, mois=[mois], entier=True)


# --- Keeping them current -----------------------------------------------------------------------------------------
def _kick_after_commit():
    if not any(callback is kick for _sids, callback, _robust in connection.run_on_commit):
        transaction.on_commit(kick, robust=True)


def marquer(conseiller_id, date):
    """Record, in the current transaction, that the (month of ``date``, conseiller) slice must be recomputed, and
    start the update after commit."""
    if conseiller_id is None or date is None:
        return
    ResumeAMettreAJour.objects.bulk_create(
        [ResumeAMettreAJour(mois=premier_jour(date), conseiller_id=conseiller_id)],
        update_conflicts=True,
        unique_fields=["mois", "conseiller"],
        update_fields=["marque_le"],
    )
    _kick_after_commit()


def ajouter(activite_id):
    """Queue, in the transaction that creates it, a new activity whose figures the update adds to the summaries,
    and start the update after commit."""
    ResumeAjout.objects.bulk_create([ResumeAjout(activite_id=activite_id)], ignore_conflicts=True)
    _kick_after_commit()


def en_file(activite_id):
    """Whether the activity waits in the queue of additions, its queue row then held until the end of the current
    transaction: its figures are not in the summaries yet, and the run that adds it, after this transaction, reads
    it as this transaction leaves it; a change to it needs no slice recomputed. A queue row a run is taking (or
    another change holds) is not waited for: the change then marks its slice, as for an activity already added.
    The runs leave held rows for later (``FOR UPDATE SKIP LOCKED`` on both sides: neither waits for the other).
    Outside a transaction (the change already committed, nothing to hold the row with), always False."""
    if not connection.in_atomic_block:
        return False
    return ResumeAjout.objects.select_for_update(skip_locked=True).filter(activite_id=activite_id).exists()


def _verrouiller():
    """Hold the summaries' update lock until the end of the current transaction (PostgreSQL; SQLite writes one
    transaction at a time anyway).

    The transaction then commits without waiting for its WAL to reach the disk (``synchronous_commit = off``): its
    rows are derived from the facts, and a crash in the instant after the commit loses the whole update, queue and
    marks included, which the next run does again; it never loses half of it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(%s)", [VERROU])
            cursor.execute("set local synchronous_commit = off")


def _marquer_les_ajouts():
    """Without PostgreSQL, the queued new activities have their slices recomputed by the run under way (marked
    without starting another run)."""
    ajouts = Activite.objects.filter(pk__in=ResumeAjout.objects.values("activite_id"))
    tranches = {(premier_jour(date), pk) for pk, date in ajouts.order_by().values_list("conseiller_id", "date")}
    ResumeAMettreAJour.objects.bulk_create(
        [ResumeAMettreAJour(mois=mois, conseiller_id=pk) for mois, pk in sorted(tranches)],
        update_conflicts=True,
        unique_fields=["mois", "conseiller"],
        update_fields=["marque_le"],
    )
    ResumeAjout.objects.all().delete()


def _tranches_a_traiter(limit):
    rows = ResumeAMettreAJour.objects.order_by("marque_le", "pk")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return list(rows[:limit])


def mettre_a_jour(limit=TRANCHES_PAR_PASSAGE, ajouts=AJOUTS_PAR_PASSAGE):
    """Recompute the slices marked to update (at most ``limit``), then add the queued new activities (at most
    ``ajouts``); returns how many slices and new activities were taken."""
    with transaction.atomic():
        _verrouiller()
        if connection.vendor != "postgresql":
            _marquer_les_ajouts()
        marques = _tranches_a_traiter(limit)
        if marques:
            par_conseiller = defaultdict(list)
            for marque in marques:
                par_conseiller[marque.conseiller_id].append(marque.mois)
            perimetre = Q()
            faits = Q()
            for conseiller_id, mois in par_conseiller.items():
                perimetre |= Q(conseiller_id=conseiller_id, mois__in=mois)
                for debut in mois:
                    faits |= Q(conseiller_id=conseiller_id, date__gte=debut, date__lte=dernier_jour(debut))
            _remplacer(perimetre, Activite.objects.filter(faits), mois={marque.mois for marque in marques})
            # A mark set again since we read it (a change committed meanwhile) stays for the next run.
            lues = Q()
            for marque in marques:
                lues |= Q(pk=marque.pk, marque_le=marque.marque_le)
            ResumeAMettreAJour.objects.filter(lues).delete()
        nouvelles = resume_sql.ajouter(ajouts) if connection.vendor == "postgresql" else 0
    if marques or nouvelles:
        logger.info(
            "Résumés d'activité : %s tranche(s) recalculée(s), %s activité(s) ajoutée(s).", len(marques), nouvelles
        )
    return len(marques) + nouvelles


def reconstruire(du=None, au=None):
    """Recompute every summary row of the months from ``du`` to ``au`` (by default, every month with activities or
    summary rows), one month per transaction. Returns (months, summary rows)."""
    bornes = Activite.objects.aggregate(premier=Min("date"), dernier=Max("date"))
    anciens = ResumeActivite.objects.aggregate(premier=Min("mois"), dernier=Max("mois"))
    dates = [d for d in (bornes["premier"], anciens["premier"]) if d]
    du = du or (min(dates) if dates else None)
    dates = [d for d in (bornes["dernier"], anciens["dernier"]) if d]
    au = au or (max(dates) if dates else None)
    if du is None or au is None:
        return 0, 0
    mois = premier_jour(du)
    total_mois = total_lignes = 0
    while mois <= au:
        fin = dernier_jour(mois)
        with transaction.atomic():
            total_lignes += _reconstruire_mois(mois)
            ResumeAMettreAJour.objects.filter(mois=mois).delete()
        total_mois += 1
        mois = fin + datetime.timedelta(days=1)
    logger.info("Résumés d'activité reconstruits : %s mois, %s lignes.", total_mois, total_lignes)
    return total_mois, total_lignes


def entretenir():
    """After a rebuild, on PostgreSQL and outside a transaction: ``VACUUM (ANALYZE)`` of the summary tables, so that
    the pages just written are marked all-visible (the readings of communes are index-only scans, which otherwise
    read the rows again) and the planner knows the new rows. Returns the tables vacuumed."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return []
    tables = [model._meta.db_table for model in (*MODELES, *CUMULS)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"vacuum (analyze) {connection.ops.quote_name(table)}")
    return tables


# --- Starting the update right after commit -----------------------------------------------------------------------
_kicker = TaskKicker(
    "reporting.tasks.resumes_mettre_a_jour",
    expires=KICK_EXPIRES,
    label="Mise à jour des résumés d'activité",
    thread_name="reporting-kick-resumes",
)


def kick():
    """Update the marked slices now: inline without a broker; otherwise through the task (returns its thread)."""
    return _kicker.run()


# --- Reading the figures ------------------------------------------------------------------------------------------
def _mois(du, au):
    """The months of a reading as a list (``mois IN (…)``), not a range: an index that starts with the month is then
    searched month by month for the columns that follow it (the thématique, the conseiller), instead of being read
    over the whole range."""
    return Q(mois__in=list(month_starts(du, au)))


def _filtre(du, au, *, filtre=None, conseillers=None, structures=None, communes=None, departement=None, type=None):
    condition = _mois(du, au)
    if filtre is not None:
        condition &= filtre
    if conseillers is not None:
        condition &= Q(conseiller__in=conseillers)
    if structures is not None:
        condition &= Q(structure__in=structures)
    if communes is not None:
        condition &= Q(commune__in=communes)
    if departement is not None:
        condition &= Q(commune__departement=departement)
    if type:
        condition &= Q(type=type)
    return condition


def _somme(name, **kwargs):
    return Coalesce(Sum(name, **kwargs), 0)


def _lignes(du, au, *, thematique=None, departement=None, type=None, **filtres):
    """The summary rows of a reading: by département (a few hundred a month) when no conseiller, structure or
    commune narrows it, the detailed ones otherwise."""
    par_departement = all(filtres.get(name) is None for name in ("filtre", "conseillers", "structures", "communes"))
    if par_departement:
        modele = ResumeDepartementThematique if thematique else ResumeDepartement
        condition = _mois(du, au)
        if departement is not None:
            condition &= Q(departement=departement)
        if type:
            condition &= Q(type=type)
    else:
        modele = ResumeThematique if thematique else ResumeActivite
        condition = _filtre(du, au, departement=departement, type=type, **filtres)
    return modele.objects.filter(condition, **({"thematique": thematique} if thematique else {})).order_by()


def _communes(du, au, *, thematique=None, premieres=None, **filtres):
    """{(code INSEE, name): accompaniments} of a reading, in one query: summed by commune from the summary's index,
    then named; with ``premieres``, only the communes with the most, the others under ``("autres", label)``."""
    modele = ResumeThematique if thematique else ResumeActivite
    lignes = modele.objects.filter(_filtre(du, au, **filtres), **({"thematique": thematique} if thematique else {}))
    par_commune = lignes.order_by().values(commune_pk=F("commune")).annotate(n=Sum("accompagnements"))
    communes_counts = defaultdict(int)
    for code, nom, n in resume_sql.nommer_communes(par_commune, premieres):
        if code == AUTRES:
            communes_counts[(AUTRES, f"Autres communes ({nom})")] += n
        else:
            communes_counts[(code or "", nom or figures.SANS_COMMUNE)] += n
    return dict(communes_counts)


def statistiques(
    du,
    au,
    *,
    filtre=None,
    conseillers=None,
    structures=None,
    communes=None,
    departement=None,
    thematique=None,
    type=None,
    communes_detaillees=None,
):
    """The figures of the live activities of the whole months from ``du`` to ``au``, read from the summary tables
    (three queries): the same as ``accompagnements.statistiques.compute`` on the facts.

    Optional filters: ``filtre`` a Q on the grain (``conseiller``, ``structure``, ``commune``, ``type``: the
    visibility rules of ``accompagnements.selectors`` apply unchanged, e.g. ``Q(conseiller__user=user)``),
    ``conseillers``, ``structures`` and ``communes`` (pks or querysets; a remote activity has no commune), one
    ``departement`` (the activities held in its communes), one ``thematique`` code (the activities that addressed
    it) and one activity ``type``. Without conseillers, structures or communes, the totals come from the rows by
    département. ``communes_detaillees``: the breakdown by commune gives that many communes (those with the most),
    the others in one row of code ``AUTRES``."""
    du, au = mois_entiers(du, au)
    filtres = {
        "filtre": filtre,
        "conseillers": conseillers,
        "structures": structures,
        "communes": communes,
        "departement": departement,
        "type": type,
    }
    lignes = _lignes(du, au, thematique=thematique, **filtres)
    # Aliased s_<name>: an aggregate named as a column would shadow it for the next ones.
    sommes = lignes.aggregate(
        **{f"s_{name}": _somme(name) for name in MESURES},
        **{f"s_{avec(code)}": _somme(avec(code)) for code, _label in c.THEMATIQUES},
        s_individuels=_somme("activites", filter=Q(type=c.INDIVIDUEL)),
        s_collectifs=_somme("activites", filter=Q(type=c.COLLECTIF)),
    )
    # The thématique breakdown (with a thématique: of the activities that addressed it).
    par_thematique = {code: n for code, _label in c.THEMATIQUES if (n := sommes.pop(f"s_{avec(code)}"))}
    sommes = {name[2:]: value for name, value in sommes.items()}
    totals = {
        **sommes,
        "duree_totale": sommes["duree"],
    }
    people = {
        "accompagnements": sommes["accompagnements"],
        "nouveaux": sommes["nouveaux"],
        **{
            f"{attribut}__{code}": sommes[colonne(attribut, code)]
            for attribut, vocabulary, _label in c.ATTRIBUTS_BENEFICIAIRE
            for code, _code_label in vocabulary
        },
    }
    months = {
        row["mois"]: {"n_activites": row["n_activites"], "n_accompagnements": row["n_accompagnements"]}
        for row in lignes.values("mois").annotate(
            n_activites=Sum("activites"), n_accompagnements=Sum("accompagnements")
        )
    }
    return figures.build(
        du,
        au,
        totals=totals,
        people=people,
        months=months,
        thematiques=par_thematique,
        communes=_communes(du, au, thematique=thematique, premieres=communes_detaillees, **filtres),
    )


def beneficiaires_suivis(du, au, *, thematique=None, **filtres):
    """Distinct followed beneficiaries (by consent) accompanied in the whole months from ``du`` to ``au``: one
    query on the summary of followed people."""
    du, au = mois_entiers(du, au)
    lignes = ResumeBeneficiaire.objects.filter(_filtre(du, au, **filtres))
    if thematique:
        lignes = lignes.filter(thematique=thematique)
    return lignes.order_by().aggregate(n=Count("beneficiaire", distinct=True))["n"]
