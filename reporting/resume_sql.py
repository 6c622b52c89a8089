"""The summary rows computed inside PostgreSQL: ``INSERT … SELECT … GROUP BY`` from the facts, with no row travelling
through Python. The same rows as ``reporting.resume.calculer`` (the test of the summaries compares both), in a
fraction of the time: the nightly rebuild of 10 million activities and the recomputation of marked slices both go
through here on PostgreSQL.

The live activities to count are copied once into a temporary table, with their grain (month, commune counted), their
accompaniments' counts and their thématiques; the three statements then aggregate it (joined to the thématique
rows for the summary by thématique, to the followed people for theirs).
"""

import re

from django.conf import settings
from django.db import connection

from accompagnements import choices as c
from accompagnements.models import Accompagnement, ActiviteThematique

from .models import (
    MESURES_ACCOMPAGNEMENTS,
    MESURES_ACTIVITES,
    ResumeActivite,
    ResumeBeneficiaire,
    ResumeThematique,
    avec,
    colonne,
)

FAITS = "resume_faits"
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
            Accompagnement,
            ActiviteThematique,
        )
    }


def _mesures_par_tranche(table, *, par_thematique):
    """INSERT of the measures of every slice (and thématique): the activities' measures aggregated from the facts,
    the accompaniments' added up from each fact's own counts."""
    tables = _tables()
    cle = [f"f.{name}" for name in GRAIN]
    jointure = ""
    colonnes = list(GRAIN)
    if par_thematique:
        jointure = f" join {tables[ActiviteThematique]} t on t.activite_id = f.id"
        cle.append("t.thematique")
        colonnes.append("thematique")
    par_activite = _mesures_activites()
    activites = [name for name, _label in MESURES_ACTIVITES]
    accompagnements = [name for name, _label in MESURES_ACCOMPAGNEMENTS]
    valeurs = [*cle, *(par_activite[m] for m in activites), *(f"sum(f.p_{m})" for m in accompagnements)]
    mesures = [*activites, *accompagnements]
    # The activities of the row that addressed each thématique (``th``: the fact's thématiques).
    for code, _label in c.THEMATIQUES:
        valeurs.append(f"count(*) filter (where {_code(code)} = any(f.th))")
        mesures.append(avec(code))
    return (
        f"insert into {table} ({', '.join([*colonnes, *mesures])}) "
        f"select {', '.join(valeurs)} from {FAITS} f{jointure} group by {', '.join(cle)}"
    )


def _beneficiaires():
    tables = _tables()
    grain = ", ".join(f"f.{name}" for name in GRAIN)
    # An activity without thématique rows still counts its people, under no thématique ('').
    return (
        f"insert into {tables[ResumeBeneficiaire]} ({', '.join(GRAIN)}, thematique, beneficiaire_id) "
        f"select distinct {grain}, coalesce(t.thematique, ''), x.beneficiaire_id from {FAITS} f "
        f"join {tables[Accompagnement]} x on x.activite_id = f.id and x.beneficiaire_id is not null "
        f"left join {tables[ActiviteThematique]} t on t.activite_id = f.id "
        "where f.suivis > 0"  # the few activities with a followed person (5 % at national scale)
    )


def _faits(activites):
    """The temporary table of the live ``activites`` at the summaries' grain, each with its accompaniments' counts
    (``p_<measure>``), dropped at commit."""
    colonnes = ("id", "date", "structure_id", "conseiller_id", "commune_id", "type", "type_lieu", "participants")
    colonnes += ("duree",)
    sql, params = activites.filter(supprimee_le__isnull=True).order_by().values(*colonnes).query.sql_with_params()
    personnes = ", ".join(f"{expression} as p_{name}" for name, expression in _mesures_accompagnements().items())
    return (
        f"create temporary table {FAITS} on commit drop as "
        f"select s.id, date_trunc('month', s.date)::date as mois, s.structure_id, s.conseiller_id, "
        f"case when s.type_lieu = {_code(c.A_DISTANCE)} then null else s.commune_id end as commune_id, "
        f"s.type, s.type_lieu, s.participants, s.duree, {personnes}, count(x.beneficiaire_id) as suivis, "
        f"array(select t.thematique from {_tables()[ActiviteThematique]} t where t.activite_id = s.id) as th "
        f"from ({sql}) as s "
        f"left join {_tables()[Accompagnement]} x on x.activite_id = s.id "
        f"group by {', '.join(f's.{name}' for name in colonnes)}",
        params,
    )


def inserer(activites):
    """Insert the summary rows of the live ``activites`` (a queryset), in the current transaction; the caller has
    deleted the rows they replace. Returns the number of ``ResumeActivite`` rows written."""
    tables = _tables()
    with connection.cursor() as cursor:
        # The facts of a slice are a small part of the tables: they are joined to their accompaniments and
        # thématiques through the foreign-key indexes. A merge join would read those indexes from their start, a
        # hash join whole tables; the aggregates get the memory to stay off disk.
        cursor.execute("set local enable_mergejoin = off")
        cursor.execute("set local enable_hashjoin = off")
        cursor.execute(f"set local work_mem = '{int(settings.RESUMES_WORK_MEM_MO)}MB'")
        cursor.execute(f"drop table if exists {FAITS}")
        cursor.execute(*_faits(activites))
        cursor.execute(f"analyze {FAITS}")
        cursor.execute(_mesures_par_tranche(tables[ResumeActivite], par_thematique=False))
        lignes = cursor.rowcount
        cursor.execute(_mesures_par_tranche(tables[ResumeThematique], par_thematique=True))
        cursor.execute(_beneficiaires())
        cursor.execute(f"drop table {FAITS}")
        for parametre in ("enable_mergejoin", "enable_hashjoin", "work_mem"):
            cursor.execute(f"reset {parametre}")
    return lignes
