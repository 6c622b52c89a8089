"""The national dataset's generator (``benchmarks/generer.py``), on a tiny scale: what it loads with COPY is what the
services would have written (employer on the day, one accompaniment per participant, one thématique row per
thématique), the indexes and constraints it drops come back, and the summaries built on it give the facts' figures."""

import datetime
import json

import pytest
from django.db import connection

from accompagnements import statistiques as figures
from accompagnements.models import Accompagnement, Activite, ActiviteThematique
from benchmarks import generer
from conseillers.selectors import structure_employeuse
from reporting import resume
from structures.models import Commune

pytestmark = pytest.mark.django_db(transaction=True)


def _decoupage(dossier):
    """Four communes of two départements, three of them in one EPCI, in the npm package's format."""
    communes = [
        {"code": "31254", "nom": "Labège", "departement": "31", "type": "commune-actuelle", "population": 4300},
        {
            "code": "31113",
            "nom": "Castanet-Tolosan",
            "departement": "31",
            "type": "commune-actuelle",
            "population": 14000,
        },
        {"code": "31588", "nom": "Vigoulet-Auzil", "departement": "31", "type": "commune-actuelle", "population": 1000},
        {"code": "81004", "nom": "Albi", "departement": "81", "type": "commune-actuelle", "population": 49000},
        {"code": "31999", "nom": "Déléguée", "departement": "31", "type": "commune-deleguee", "population": 10},
    ]
    epci = [
        {
            "code": "243100633",
            "nom": "CA du Sicoval",
            "type": "CA",
            "populationTotale": 19300,
            "membres": [{"code": c} for c in ("31254", "31113", "31588")],
        }
    ]
    dossier.mkdir()
    (dossier / "communes.json").write_text(json.dumps(communes), "utf-8")
    (dossier / "epci.json").write_text(json.dumps(epci), "utf-8")
    return dossier


def _contraintes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)",
            [list(generer.TABLES_MASSIVES)],
        )
        contraintes = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = ANY(%s)", [list(generer.TABLES_MASSIVES)])
        return contraintes, cursor.fetchone()[0]


def test_the_generator_loads_what_the_services_would_have_written(services, tmp_path):
    avant = _contraintes()
    fin = datetime.date(2026, 10, 31)
    bilan = generer.charger(conseillers=7, activites=700, seances=15, fin=fin, decoupage=_decoupage(tmp_path / "d"))

    assert _contraintes() == avant  # every index and constraint dropped for the load is back
    assert Commune.objects.count() == 4 and Commune.objects.get(code_insee="31254").epci.siren == "243100633"
    assert bilan["conseillers"] == 7 and Activite.objects.count() == 700
    assert (
        Activite.objects.filter(date__gt=fin).count() == 0 and bilan["debut"] <= Activite.objects.earliest("date").date
    )
    for activite in Activite.objects.all()[:50]:
        assert activite.structure == structure_employeuse(activite.conseiller, activite.date)
        assert activite.accompagnements.count() == activite.participants
        assert sorted(activite.thematiques_rows.values_list("thematique", flat=True)) == sorted(activite.thematiques)
        assert activite.uuid is not None
    assert Accompagnement.objects.count() == sum(Activite.objects.values_list("participants", flat=True))
    assert ActiviteThematique.objects.count() == sum(
        len(t) for t in Activite.objects.values_list("thematiques", flat=True)
    )
    assert bilan["seances"] == 15 and bilan["inscriptions"] > 0

    # The summaries built by the generator give the figures of the facts.
    du, au = bilan["debut"], fin
    assert bilan["lignes_resumes"] > 0
    attendu = figures.compute(Activite.objects.actives(), du, au)
    assert resume.statistiques(du, au).chiffres == attendu.chiffres

    # New rows written by the application after the load take the next ids.
    with connection.cursor() as cursor:
        for table in generer.TABLES_MASSIVES:
            cursor.execute(f"SELECT last_value >= (SELECT max(id) FROM {table}) FROM {table}_id_seq")  # noqa: S608
            assert cursor.fetchone()[0], table
