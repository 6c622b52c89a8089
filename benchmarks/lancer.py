"""Run every scenario on the national dataset and write ``benchmarks/RESULTS.md``.

    python -m benchmarks.lancer                 # every scenario
    python -m benchmarks.lancer api export      # some of them

The dataset comes first (``python -m benchmarks.generer``). The figures depend on the machine: RESULTS.md says which
one, with the dataset's counts and the date. The before/after figures of the fixes the benchmarks led to are kept
by hand in ``benchmarks/avant_apres.md`` and copied into RESULTS.md.
"""

import datetime
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

ICI = Path(__file__).resolve().parent
SCENARIOS = ("tableaux", "api", "export", "inscriptions", "saisie")


def jeu_de_donnees():
    from django.db import connection

    tables = {
        "communes": "structures_commune",
        "EPCI": "structures_epci",
        "structures": "structures_structure",
        "conseillers": "conseillers_conseiller",
        "activités": "accompagnements_activite",
        "accompagnements": "accompagnements_accompagnement",
        "thématiques d'activités": "accompagnements_activitethematique",
        "bénéficiaires suivis": "accompagnements_beneficiaire",
        "séances d'ateliers": "ateliers_seance",
        "inscriptions": "ateliers_inscription",
        "lignes de résumé d'activité": "reporting_resumeactivite",
        "lignes de résumé par thématique": "reporting_resumethematique",
    }
    comptes = {}
    with connection.cursor() as cursor:
        for libelle, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            comptes[libelle] = cursor.fetchone()[0]
        cursor.execute("SELECT min(date), max(date) FROM accompagnements_activite")
        premier, dernier = cursor.fetchone()
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        taille = cursor.fetchone()[0]
    return comptes, (premier, dernier), taille


def _nombre(n):
    return f"{n:,}".replace(",", "\u202f")


def ecrire(resultats, duree):
    from benchmarks.outils import machine
    from benchmarks.postgresql import reglages as reglages_attendus

    info = machine()
    comptes, (premier, dernier), taille = jeu_de_donnees()
    lignes = [
        "# Bancs d'essai à l'échelle nationale",
        "",
        f"Mesuré le {datetime.date.today():%d/%m/%Y} en {duree / 60:.0f} min par `make bench` "
        "(`python -m benchmarks.lancer`), sur le jeu de données de `make bench-data` "
        "(`python -m benchmarks.generer`). Ce fichier est réécrit à chaque passage.",
        "",
        "## Machine",
        "",
        f"- Processeur : {info['processeur']}, {info['coeurs']} cœurs ; mémoire : {info['memoire_gio']} Gio",
        f"- Système : {info['systeme']} ; Python {info['python']}",
        f"- PostgreSQL {info['postgresql']} et Redis sur la même machine ; réglages "
        + (
            "de `docker/postgresql.conf` (ceux de la production, appliqués par `make bench-postgresql`) : "
            if all(reglages_attendus().get(nom) == valeur for nom, valeur in info["reglages_postgresql"].items())
            else "DIFFÉRENTS de `docker/postgresql.conf` (lancez `make bench-postgresql`) : "
        )
        + ", ".join(f"{nom} {valeur}" for nom, valeur in info["reglages_postgresql"].items())
        + f", max_parallel_workers_per_gather {info['max_parallel_workers_per_gather']}",
        "- Serveur mesuré : gunicorn, 3 workers synchrones, réglages de production (`benchmarks/settings.py`)",
        "",
        "## Jeu de données",
        "",
        f"Base de {taille}, activités du {premier:%d/%m/%Y} au {dernier:%d/%m/%Y}.",
        "",
        "| table | lignes |",
        "| --- | --- |",
        *(f"| {libelle} | {_nombre(n)} |" for libelle, n in comptes.items()),
        "",
        "## Résultats",
        "",
    ]
    for nom, resultat, erreur in resultats:
        if erreur:
            lignes += [f"### {nom}", "", "Le scénario a échoué :", "", "```", erreur.strip(), "```", ""]
        else:
            lignes.append(resultat.markdown())
    avant_apres = ICI / "avant_apres.md"
    if avant_apres.exists():
        lignes += ["", avant_apres.read_text("utf-8")]
    (ICI / "RESULTS.md").write_text("\n".join(lignes), "utf-8")
    print(f"\nÉcrit : {ICI / 'RESULTS.md'}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    choisis = [nom for nom in SCENARIOS if not argv or nom in argv]
    inconnus = set(argv) - set(SCENARIOS)
    if inconnus:
        sys.exit(f"Scénario inconnu : {', '.join(sorted(inconnus))} (au choix : {', '.join(SCENARIOS)}).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    debut = time.perf_counter()
    resultats = []
    for nom in choisis:
        print(f"\n== {nom} ==", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.scenarios.{nom}")
            resultats.append((nom, module.executer(), None))
        except Exception:
            resultats.append((nom, None, traceback.format_exc()))
            print(resultats[-1][2], file=sys.stderr)
    ecrire(resultats, time.perf_counter() - debut)
    manques = [nom for nom, resultat, erreur in resultats if erreur or not resultat.reussi]
    if manques:
        print(f"Cibles manquées ou scénarios en échec : {', '.join(manques)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
