"""What every scenario shares: the server under test (gunicorn on loopback), latency percentiles, query counts and
the description of the machine."""

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ICI = Path(__file__).resolve().parent
RACINE = ICI.parent
PORT = int(os.environ.get("BENCH_PORT", "8765"))


def environnement():
    """The environment of the processes under test: the benchmarks' settings on the national dataset."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    env["PYTHONPATH"] = str(RACINE)
    return env


@contextlib.contextmanager
def gunicorn(workers=3, port=PORT, timeout=60):
    """gunicorn serving the project with the benchmarks' settings on 127.0.0.1:``port`` (sync workers, as on a
    2-core production host); yields the base URL, stops it on exit."""
    binaire = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(  # noqa: S603
        [
            str(binaire),
            "sicoval_numerique.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=RACINE,
        env=environnement(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        limite = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{base}/_banc/json", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > limite:
                raise RuntimeError("gunicorn n'a pas démarré.")
            time.sleep(0.3)
        # Every worker opens its connections and fills its caches before anything is measured.
        for _ in range(workers * 10):
            requests.get(f"{base}/_banc/json", timeout=5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def port_libre():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(valeurs, p):
    """The p-th percentile (nearest rank) of ``valeurs``."""
    ordonnees = sorted(valeurs)
    if not ordonnees:
        return float("nan")
    rang = max(0, min(len(ordonnees) - 1, round(p / 100 * len(ordonnees) + 0.5) - 1))
    return ordonnees[rang]


def latences(valeurs_ms):
    """{p50, p95, p99, moyenne, n} of latencies in milliseconds."""
    return {
        "n": len(valeurs_ms),
        "p50": percentile(valeurs_ms, 50),
        "p95": percentile(valeurs_ms, 95),
        "p99": percentile(valeurs_ms, 99),
        "moyenne": statistics.fmean(valeurs_ms) if valeurs_ms else float("nan"),
    }


@contextlib.contextmanager
def requetes_comptees():
    """Counts the SQL queries of the block (in this process): yields a list that holds them afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    capture = CaptureQueriesContext(connection)
    with capture:
        yield capture


def _lire(chemin, defaut=""):
    try:
        return Path(chemin).read_text()
    except OSError:
        return defaut


def machine():
    """What the figures were measured on."""
    modele = next(
        (ligne.split(":", 1)[1].strip() for ligne in _lire("/proc/cpuinfo").splitlines() if "model name" in ligne),
        platform.processor() or "?",
    )
    memoire = next(
        (ligne.split()[1] for ligne in _lire("/proc/meminfo").splitlines() if ligne.startswith("MemTotal")), "0"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version_pg = cursor.fetchone()[0]
        reglages = {}
        for nom in ("shared_buffers", "effective_cache_size", "work_mem", "max_wal_size", "random_page_cost"):
            cursor.execute(f"SHOW {nom}")
            reglages[nom] = cursor.fetchone()[0]
        cursor.execute("SHOW max_parallel_workers_per_gather")
        paralleles = cursor.fetchone()[0]
    return {
        "processeur": modele,
        "coeurs": os.cpu_count(),
        "memoire_gio": round(int(memoire) / 1024 / 1024, 1),
        "systeme": platform.platform(),
        "python": platform.python_version(),
        "postgresql": version_pg,
        "reglages_postgresql": reglages,
        "max_parallel_workers_per_gather": paralleles,
    }


@dataclass
class Resultat:
    """One scenario's outcome: its figures as table rows (label, value, target, met) and free notes."""

    titre: str
    lignes: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def ajouter(self, libelle, valeur, cible="", atteinte=None):
        self.lignes.append((libelle, valeur, cible, atteinte))
        marque = "" if atteinte is None else (" ✓" if atteinte else " ✗ CIBLE MANQUÉE")
        print(f"  {libelle} : {valeur}{(' (cible : ' + cible + ')') if cible else ''}{marque}", flush=True)

    def noter(self, texte):
        self.notes.append(texte)
        print(f"  · {texte}", flush=True)

    @property
    def reussi(self):
        return all(atteinte is not False for *_rest, atteinte in self.lignes)

    def markdown(self):
        lignes = [f"### {self.titre}", "", "| mesure | valeur | cible | |", "| --- | --- | --- | --- |"]
        for libelle, valeur, cible, atteinte in self.lignes:
            marque = "" if atteinte is None else ("✓" if atteinte else "✗")
            lignes.append(f"| {libelle} | {valeur} | {cible} | {marque} |")
        lignes.append("")
        lignes.extend(f"- {note}" for note in self.notes)
        return "\n".join(lignes) + "\n"


def ms(valeur):
    return f"{valeur:.1f} ms"
