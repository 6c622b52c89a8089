"""The summary rows computed inside PostgreSQL: ``INSERT … SELECT … GROUP BY`` from the facts, with no row travelling
through Python. The same rows as ``reporting.resume.calculer`` (the test of the summaries compares both), in a
fraction of the time: the nightly rebuild of 10 million activities and the recomputation of marked slices both go
through here on PostgreSQL.

The live activities to count are copied once into a temporary table, with their grain (month, commune counted), their
accompaniments' counts and their thématiques; the three statements then aggregate it (joined to the thématique
rows for the summary by thématique, to the followed people for theirs).

- ``inserer(activites)`` writes the rows of whole slices (the caller deleted the ones they replace).
- ``ajouter(limit)`` adds the figures of the activities created since the last update (``ResumeAjout``) as rows of
  their own (a plain ``INSERT``), and to the rows by département (``INSERT … ON CONFLICT DO UPDATE`` adding each
  measure): a day of new activities costs what its own rows cost, not what their months hold.
- ``cumuler(mois, departements)`` recomputes the rows by département of a month from the summaries (plain SQL, for
  every database).
"""

import re

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL

from accompagnements import choices as c
from accompagnements.models import Accompagnement, Activite, ActiviteThematique
from structures.models import Commune

from .models import (
    COLONNES,
    MESURES_ACCOMPAGNEMENTS,
    MESURES_ACTIVITES,
    ResumeActivite,
    ResumeAjout,
    ResumeBeneficiaire,
    ResumeDepartement,
    ResumeDepartementThematique,
    ResumeThematique,
    avec,
    colonne,
)

FAITS = "resume_faits"
TOUTES = "toutes"  # the row of every commune's count and sum, when only the first are named
LOT = "resume_lot"
DEPARTEMENT = "coalesce(d.departement, '')"  # of a row joined to its commune ``d`` ('' without commune)
# The summaries a batch of new activities adds rows to, with the rows by département that sum them.
AJOUTS = ((ResumeActivite, ResumeDepartement, False), (ResumeThematique, ResumeDepartementThematique, True))
GRAIN = ("mois", "structure_id", "conseiller_id", "commune_id", "type")


def _code(value):
    """A code of the national vocabulary as an SQL literal (codes are plain lowercase identifiers)."""
    if not re.fullmatch(r"[a-z0-9_]+", value):
        raise ValueError(f"Code inattendu : {value!r}")
    return f"'{value}'"


def _mesures_activites():
    """{column: SQL aggregate over the facts table ``f``}."""
    mesures = {
        "activites": "count(*)",
        "participants_ateliers": f"coalesce(sum(f.participants) filter (where f.type = {_code(c.COLLECTIF)}), 0)",
        "duree": "coalesce(sum(f.duree), 0)",
    }
    for code, _label in c.TYPE_LIEU:
        mesures[f"lieu_{code}"] = f"count(*) filter (where f.type_lieu = {_code(code)})"
    for code, _label, low, high in c.TRANCHES_DUREE:
        condition = f"f.duree >= {int(low)}" + (f" and f.duree < {int(high)}" if high is not None else "")
        mesures[f"tranche_{code}"] = f"count(*) filter (where {condition})"
    return mesures


def _mesures_accompagnements():
    """{column: SQL aggregate over the accompaniments ``x``}."""
    mesures = {"accompagnements": "count(x.id)", "nouveaux": "count(x.id) filter (where x.premier_accompagnement)"}
    for attribut, vocabulary, _label in c.ATTRIBUTS_BENEFICIAIRE:
        for code, _code_label in vocabulary:
            mesures[colonne(attribut, code)] = f"count(x.id) filter (where x.{attribut} = {_code(code)})"
    return mesures


def _tables():
    return {
        model: model._meta.db_table
        for model in (
            ResumeActivite,
            ResumeThematique,
            ResumeBeneficiaire,
            ResumeDepartement,
            ResumeDepartementThematique,
            ResumeAjout,
            Accompagnement,
            ActiviteThematique,
            Commune,
        )
    }


def _contrainte(model):
    return model._meta.constraints[0].name


def _ajoutant(table, model, colonnes):
    """The ON CONFLICT clause adding the new figures to a summary row that exists."""
    ajouts = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in colonnes)
    return f" on conflict on constraint {_contrainte(model)} do update set {ajouts}"


def _agregat(*, par_thematique, par_departement=False):
    """(columns, measure columns, SELECT) of the summary rows of the facts table: the activities' measures
    aggregated by slice (and thématique), the accompaniments' added up from each fact's own counts.
    ``par_departement``: by month × département × type (× thématique), the rows by département."""
    if par_departement:
        cle = ["f.mois", DEPARTEMENT, "f.type"]
        colonnes = ["mois", "departement", "type"]
        jointure = f" left join {_tables()[Commune]} d on d.id = f.commune_id"
    else:
        cle = [f"f.{name}" for name in GRAIN]
        colonnes = list(GRAIN)
        jointure = ""
    if par_thematique:
        jointure += f" join {_tables()[ActiviteThematique]} t on t.activite_id = f.id"
        cle.append("t.thematique")
        colonnes.append("thematique")
    par_activite = _mesures_activites()
    activites = [name for name, _label in MESURES_ACTIVITES]
    accompagnements = [name for name, _label in MESURES_ACCOMPAGNEMENTS]
    valeurs = [*cle, *(par_activite[m] for m in activites), *(f"sum(f.p_{m})" for m in accompagnements)]
    mesures = [*activites, *accompagnements]
    # The activities of the row that addressed each thématique.
    for code, _label in c.THEMATIQUES:
        valeurs.append(f"sum(f.th_{code})")
        mesures.append(avec(code))
    select = f"select {', '.join(valeurs)} from {FAITS} f{jointure} group by {', '.join(cle)}"
    return [*colonnes, *mesures], mesures, select


def _mesures_par_tranche(table, *, par_thematique):
    """INSERT of the summary rows of the facts table into ``table``."""
    colonnes, _mesures, select = _agregat(par_thematique=par_thematique)
    return f"insert into {table} ({', '.join(colonnes)}) {select}"


def _beneficiaires(*, ajout=False):
    tables = _tables()
    grain = ", ".join(f"f.{name}" for name in GRAIN)
    # An activity without thématique rows still counts its people, under no thématique ('').
    return (
        f"insert into {tables[ResumeBeneficiaire]} ({', '.join(GRAIN)}, thematique, beneficiaire_id) "
        f"select distinct {grain}, coalesce(t.thematique, ''), x.beneficiaire_id from {FAITS} f "
        f"join {tables[Accompagnement]} x on x.activite_id = f.id and x.beneficiaire_id is not null "
        f"left join {tables[ActiviteThematique]} t on t.activite_id = f.id "
        "where f.suivis > 0"  # the few activities with a followed person (5 % at national scale)
        + (f" on conflict on constraint {_contrainte(ResumeBeneficiaire)} do nothing" if ajout else "")
    )


def _faits(activites):
    """The temporary table of the live ``activites`` at the summaries' grain, each with its accompaniments' counts
    (``p_<measure>``) and, for each thématique, whether it addressed it (``th_<code>``, 0 or 1: read once per
    activity, then summed by every aggregate), dropped at commit."""
    colonnes = ("id", "date", "structure_id", "conseiller_id", "commune_id", "type", "type_lieu", "participants")
    colonnes += ("duree",)
    sql, params = activites.filter(supprimee_le__isnull=True).order_by().values(*colonnes).query.sql_with_params()
    personnes = ", ".join(f"{expression} as p_{name}" for name, expression in _mesures_accompagnements().items())
    drapeaux = ", ".join(f"({_code(code)} = any(q.th))::int as th_{code}" for code, _label in c.THEMATIQUES)
    return (
        f"create temporary table {FAITS} on commit drop as select q.*, {drapeaux} from ("
        f"select s.id, date_trunc('month', s.date)::date as mois, s.structure_id, s.conseiller_id, "
        f"case when s.type_lieu = {_code(c.A_DISTANCE)} then null else s.commune_id end as commune_id, "
        f"s.type, s.type_lieu, s.participants, s.duree, {personnes}, count(x.beneficiaire_id) as suivis, "
        f"array(select t.thematique from {_tables()[ActiviteThematique]} t where t.activite_id = s.id) as th "
        f"from ({sql}) as s "
        f"left join {_tables()[Accompagnement]} x on x.activite_id = s.id "
        f"group by {', '.join(f's.{name}' for name in colonnes)}) as q",
        params,
    )


def _preparer(cursor):
    # The facts of a slice are a small part of the tables: they are joined to their accompaniments and thématiques
    # through the foreign-key indexes. A merge join would read those indexes from their start, a hash join whole
    # tables; the aggregates get the memory to stay off disk.
    cursor.execute("set local jit = off")
    cursor.execute("set local enable_mergejoin = off")
    cursor.execute("set local enable_hashjoin = off")
    cursor.execute(f"set local work_mem = '{int(settings.RESUMES_WORK_MEM_MO)}MB'")
    cursor.execute(f"drop table if exists {FAITS}")


def _terminer(cursor):
    cursor.execute(f"drop table {FAITS}")
    for parametre in ("jit", "enable_mergejoin", "enable_hashjoin", "work_mem"):
        cursor.execute(f"reset {parametre}")


def inserer(activites, *, analyser=False):
    """Insert the summary rows of the live ``activites`` (a queryset), in the current transaction; the caller has
    deleted the rows they replace. Returns the number of ``ResumeActivite`` rows written.

    The queued new activities among them (``ResumeAjout``) are counted here and leave the queue, except those whose
    queue row a change under way holds (``reporting.resume.en_file``): they are left out, and added with that
    change by a later run. ``analyser``: analyse the facts first (whole months: their plans depend on their size)."""
    tables = _tables()
    queue = tables[ResumeAjout]
    sql, params = activites.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        _preparer(cursor)
        cursor.execute(f"drop table if exists {LOT}")
        cursor.execute(
            f"create temporary table {LOT} on commit drop as select activite_id from {queue} "  # nosec B608
            f"where activite_id in ({sql}) for update skip locked",
            params,
        )
        # Constant table names and Django's own SQL: the queued activities held by a change under way.
        tenues = RawSQL(  # noqa: S611  # nosec B611
            f"select q.activite_id from {queue} q where q.activite_id in ({sql}) "
            f"and q.activite_id not in (select activite_id from {LOT})",
            params,
        )
        cursor.execute(*_faits(activites.exclude(pk__in=tenues)))
        if analyser:
            cursor.execute(f"analyze {FAITS}")
        cursor.execute(_mesures_par_tranche(tables[ResumeActivite], par_thematique=False))
        lignes = cursor.rowcount
        cursor.execute(_mesures_par_tranche(tables[ResumeThematique], par_thematique=True))
        cursor.execute(_beneficiaires())
        cursor.execute(f"delete from {queue} where activite_id in (select activite_id from {LOT})")  # nosec B608
        cursor.execute(f"drop table {LOT}")
        _terminer(cursor)
    return lignes


def _sommes_par_departement(source, cible, extra, condition):
    """INSERT of the rows by département (``cible``) summing the summary rows ``r`` of ``source`` (``extra``: the
    thématique) that meet ``condition``, the département read from each row's commune ``d``."""
    cle = ["r.mois", DEPARTEMENT, "r.type", *(f"r.{name}" for name in extra)]
    colonnes = ["mois", "departement", "type", *extra, *COLONNES]
    return (
        f"insert into {cible._meta.db_table} ({', '.join(colonnes)}) "
        f"select {', '.join(cle)}, {', '.join(f'sum(r.{name})' for name in COLONNES)} from {source} r "
        f"left join {_tables()[Commune]} d on d.id = r.commune_id where {condition} group by {', '.join(cle)}"
    )


def ajouter(limit):
    """Add to the summaries the figures of at most ``limit`` activities created since the last update (the oldest
    first), and take them off the queue, in the current transaction (the caller holds the update lock). Returns how
    many were taken (a deleted activity is taken and adds nothing).

    The batch's figures go into ``ResumeActivite`` and ``ResumeThematique`` as rows of their own, one per grain of
    the batch, next to the rows already there (the readings sum rows; recomputing a slice or the nightly rebuild
    folds them), and are added to the rows by département. The facts table is not analysed (a few tens of
    milliseconds for a day of activities): its plans are fixed by ``_preparer``."""
    tables = _tables()
    queue = tables[ResumeAjout]
    with connection.cursor() as cursor:
        cursor.execute(f"drop table if exists {LOT}")
        # Queue rows held by a change under way (``reporting.resume.en_file``) are left for a later run.
        cursor.execute(
            f"create temporary table {LOT} on commit drop as "  # nosec B608
            f"select activite_id from {queue} order by activite_id limit %s for update skip locked",
            [int(limit)],
        )
        cursor.execute(f"delete from {queue} where activite_id in (select activite_id from {LOT})")  # nosec B608
        n = cursor.rowcount
        if n:
            _preparer(cursor)
            # A constant table name, no input: the activities of the batch.
            lot = Activite.objects.filter(pk__in=RawSQL(f"select activite_id from {LOT}", []))  # noqa: S611  # nosec B611
            cursor.execute(*_faits(lot))
            for model, cible, par_thematique in AJOUTS:
                # Rows of their own (no row to find and rewrite: updating the rows of a day of activities, each with
                # its indexes, took twice as long as inserting them); added to the rows by département.
                colonnes, _mesures, select = _agregat(par_thematique=par_thematique)
                cursor.execute(f"insert into {tables[model]} ({', '.join(colonnes)}) {select}")
                colonnes, mesures, select = _agregat(par_thematique=par_thematique, par_departement=True)
                table = tables[cible]
                cursor.execute(
                    f"insert into {table} ({', '.join(colonnes)}) {select}" + _ajoutant(table, cible, mesures)
                )
            cursor.execute(_beneficiaires(ajout=True))
            _terminer(cursor)
        cursor.execute(f"drop table {LOT}")
    return n


def cumuler(mois, departements=None):
    """Recompute the rows by département (``ResumeDepartement``, ``ResumeDepartementThematique``) of the month
    ``mois`` from the summaries: all of them, or those of ``departements`` ('' for the activities without
    commune). Plain SQL, for every database; in the current transaction."""
    tables = _tables()
    for source, cible, extra in (
        (tables[ResumeActivite], ResumeDepartement, []),
        (tables[ResumeThematique], ResumeDepartementThematique, ["thematique"]),
    ):
        condition, params = "r.mois = %s", [mois]
        suppression, params_suppression = "mois = %s", [mois]
        if departements is not None:
            liste = ", ".join(["%s"] * len(departements))
            condition += f" and {DEPARTEMENT} in ({liste})"
            suppression += f" and departement in ({liste})"
            params += list(departements)
            params_suppression += list(departements)
        with connection.cursor() as cursor:
            cursor.execute(f"delete from {cible._meta.db_table} where {suppression}", params_suppression)  # nosec B608
            cursor.execute(_sommes_par_departement(source, cible, extra, condition), params)


def _cumuls(lignes_activites, lignes_thematiques):
    """[(target table, key columns, SELECT of the rows' sums by month × département × type (× thématique), params)]
    for the summary rows of the two querysets."""
    communes = _tables()[Commune]
    sommes = ", ".join(f"sum(r.{name}) as {name}" for name in COLONNES)
    cumuls = []
    for lignes, cible, extra in (
        (lignes_activites, ResumeDepartement, []),
        (lignes_thematiques, ResumeDepartementThematique, ["thematique"]),
    ):
        colonnes = lignes.order_by().values("mois", "type", *extra, *COLONNES, commune_pk=F("commune"))
        sql, params = colonnes.query.sql_with_params()
        cle = ["r.mois", f"{DEPARTEMENT} as departement", "r.type", *(f"r.{name}" for name in extra)]
        groupe = ["r.mois", DEPARTEMENT, "r.type", *(f"r.{name}" for name in extra)]
        select = (
            f"select {', '.join(cle)}, {sommes} from ({sql}) r left join {communes} d on d.id = r.commune_pk "
            f"group by {', '.join(groupe)}"
        )
        cumuls.append((cible, ["mois", "departement", "type", *extra], select, params))
    return cumuls


def retrancher(lignes_activites, lignes_thematiques):
    """Take the figures of these summary rows (about to be replaced) off the rows by département (PostgreSQL)."""
    with connection.cursor() as cursor:
        for cible, cle, select, params in _cumuls(lignes_activites, lignes_thematiques):
            table = cible._meta.db_table
            moins = ", ".join(f"{name} = t.{name} - s.{name}" for name in COLONNES)
            egal = " and ".join(f"t.{name} = s.{name}" for name in cle)
            cursor.execute(f"update {table} t set {moins} from ({select}) s where {egal}", params)  # nosec B608


def reporter(lignes_activites, lignes_thematiques, mois):
    """Add the figures of these summary rows (just written) to the rows by département, then drop the rows by
    département of the months ``mois`` left with no activity (PostgreSQL)."""
    with connection.cursor() as cursor:
        for cible, cle, select, params in _cumuls(lignes_activites, lignes_thematiques):
            table = cible._meta.db_table
            colonnes = ", ".join([*cle, *COLONNES])
            cursor.execute(
                f"insert into {table} ({colonnes}) select * from ({select}) s" + _ajoutant(table, cible, COLONNES),
                params,
            )
            liste = ", ".join(["%s"] * len(mois))
            cursor.execute(f"delete from {table} where mois in ({liste}) and activites = 0", list(mois))  # nosec B608


def nommer_communes(par_commune, premieres=None):
    """(code INSEE, name, n) of each row of ``par_commune`` (a queryset of summary rows as ``{commune_pk, n}``),
    named in the same query (None for the row without commune). With ``premieres``: only the communes with the
    most, then the others as one row ``("autres", how many, their sum)``."""
    try:
        sql, params = par_commune.query.sql_with_params()
    except EmptyResultSet:  # filtered on an empty list of communes
        return []
    communes = _tables()[Commune]
    if premieres is None:
        requete = f"select c.code_insee, c.nom, s.n from ({sql}) s left join {communes} c on c.id = s.commune_pk"
    else:
        # The first communes (a top-N sort), the row without commune, and the count and sum of all the communes:
        # the others are what the first leave of them.
        requete = (
            f"with s as ({sql}) "
            "select c.code_insee, c.nom, k.n from (select commune_pk, n from s where commune_pk is not null "
            f"order by n desc, commune_pk limit %s) k join {communes} c on c.id = k.commune_pk "
            "union all select null, null, n from s where commune_pk is null "
            "union all select %s, cast(count(*) as text), cast(sum(n) as bigint) from s where commune_pk is not null"
        )
        params = (*params, int(premieres), TOUTES)
    with connection.cursor() as cursor:
        cursor.execute(requete, params)
        lignes = cursor.fetchall()
    if premieres is None:
        return lignes
    (_code, nombre, total), *_rien = [ligne for ligne in lignes if ligne[0] == TOUTES]
    lignes = [ligne for ligne in lignes if ligne[0] != TOUTES]
    detaillees = [ligne for ligne in lignes if ligne[0] is not None]
    if int(nombre) > len(detaillees):
        reste = (total or 0) - sum(n for _code, _nom, n in detaillees)
        lignes.append(("autres", str(int(nombre) - len(detaillees)), reste))
    return lignes
