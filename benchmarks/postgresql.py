"""``python -m benchmarks.postgresql`` (``make bench-postgresql``): give the local PostgreSQL server the production
tuning of ``docker/postgresql.conf`` (``ALTER SYSTEM``, every setting but ``listen_addresses``), then restart it with
``pg_ctlcluster`` when the machine has it (Debian), otherwise say how. The benchmarks are measured with these settings,
which ``benchmarks/RESULTS.md`` lists."""

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

RACINE = Path(__file__).resolve().parent.parent
FICHIER = RACINE / "docker" / "postgresql.conf"
GARDES = {"listen_addresses"}  # the local server keeps its own


def reglages(fichier=FICHIER):
    """{setting: value} of a postgresql.conf (comments and blank lines skipped, quotes removed)."""
    valeurs = {}
    for ligne in fichier.read_text().splitlines():
        ligne = ligne.split("#", 1)[0].strip()
        if ligne:
            cle, valeur = (part.strip() for part in ligne.split("=", 1))
            valeurs[cle] = valeur.strip("'")
    return valeurs


def appliquer(url):
    """ALTER SYSTEM every tuned setting on the server of ``url``; returns them."""
    valeurs = {cle: valeur for cle, valeur in reglages().items() if cle not in GARDES}
    with psycopg.connect(url, autocommit=True) as connexion:
        for cle, valeur in valeurs.items():
            connexion.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(cle), sql.Literal(valeur)))
        version = connexion.execute("SHOW server_version_num").fetchone()[0]
    return valeurs, int(version) // 10000


def main():
    from benchmarks.generer import _base_maintenance, dsn

    valeurs, version = appliquer(_base_maintenance(dsn()))
    print("Réglages écrits (ALTER SYSTEM) : " + ", ".join(f"{cle} = {valeur}" for cle, valeur in valeurs.items()))
    if shutil.which("pg_ctlcluster"):
        commande = ["pg_ctlcluster", "--skip-systemctl-redirect", str(version), "main", "restart"]
        subprocess.run(commande, check=True)  # noqa: S603
        print("PostgreSQL redémarré : " + " ".join(commande))
    else:
        print("Redémarrez PostgreSQL pour appliquer shared_buffers (pg_ctl restart, ou le service du système).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
