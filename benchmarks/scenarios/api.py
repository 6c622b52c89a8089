"""Scenario: the partner API's activity list (50 rows) under 8 concurrent connections, served by gunicorn on
loopback and loaded with wrk, against the bare JSON view on the same server in the same run; plus the SQL queries of
one list request, which must not grow with the page size."""

import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import requests

from benchmarks.outils import Resultat, gunicorn, ms, port_libre, requetes_comptees

LISTE = "/api/v1/activites/"
JSON_NU = "/_banc/json"
TAILLE = 50
CONNEXIONS = 8
ECHAUFFEMENT_S = 3
DUREE_S = 20
STAFF = "pilotage@bench.example"
SCOPE = "activites:read"
BUDGET_REQUETES = 6

# Prints one parseable line at the end of a wrk run: throughput, latency percentiles (µs), and every failure (non-2xx
# responses counted in each thread, socket errors and timeouts from wrk's summary).
SCRIPT_WRK = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do non2xx = non2xx + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format("BANC requetes=%d rps=%.2f p50=%d p95=%d p99=%d non2xx=%d erreurs=%d\\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(95),
    latency:percentile(99), non2xx, e.connect + e.read + e.write + e.timeout))
end
"""


def structure_la_plus_grande():
    """The structure that employed the most conseillers on their activities' days, and that number."""
    from accompagnements.models import Activite
    from structures.models import Structure

    paires = Activite.objects.order_by().values_list("structure_id", "conseiller_id").distinct()
    pk, conseillers = max(Counter(s for s, _c in paires).items(), key=lambda item: (item[1], -item[0]))
    return Structure.objects.get(pk=pk), conseillers


def jeton(base, client, secret):
    """An access token from the running server's OAuth2 endpoint (client credentials)."""
    reponse = requests.post(
        f"{base}/api/oauth/token/",
        data={"grant_type": "client_credentials", "scope": SCOPE},
        auth=(client.application.client_id, secret),
        timeout=10,
    )
    reponse.raise_for_status()
    return reponse.json()["access_token"]


def charger(script, url, duree, entetes=()):
    """wrk on ``url`` for ``duree`` seconds at 8 connections: {requetes, rps, p50, p95, p99 (ms), non2xx, erreurs}."""
    # A 10 s timeout: slow responses stay in the percentiles instead of becoming socket errors (wrk's default is 2 s).
    options = ["--timeout", "10s", *(argument for entete in entetes for argument in ("-H", entete))]
    commande = [shutil.which("wrk") or "/usr/bin/wrk", "-t2", f"-c{CONNEXIONS}", f"-d{duree}s", "-s", script]
    # Our own arguments only: wrk on a loopback URL built here.
    sortie = subprocess.run([*commande, *options, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    ligne = re.search(r"^BANC (.*)$", sortie, re.MULTILINE)
    if ligne is None:
        raise RuntimeError(f"Sortie de wrk illisible :\n{sortie}")
    mesures = {cle: float(valeur) for cle, valeur in (paire.split("=") for paire in ligne.group(1).split())}
    return mesures | {p: mesures[p] / 1000 for p in ("p50", "p95", "p99")}


def mesurer(resultat, script, libelle, url, entetes, cibles=True):
    """Warms ``url`` up, measures it and records its figures (against the targets when ``cibles``)."""
    charger(script, url, ECHAUFFEMENT_S, entetes)
    m = charger(script, url, DUREE_S, entetes)
    debit, p95 = (("≥ 100 req/s", m["rps"] >= 100), ("< 150 ms", m["p95"] < 150)) if cibles else ((), ())
    resultat.ajouter(f"{libelle} : débit", f"{m['rps']:.0f} req/s", *debit)
    resultat.ajouter(f"{libelle} : latence p50", ms(m["p50"]))
    resultat.ajouter(f"{libelle} : latence p95", ms(m["p95"]), *p95)
    resultat.ajouter(f"{libelle} : latence p99", ms(m["p99"]))
    resultat.ajouter(
        f"{libelle} : réponses non 2xx / erreurs de connexion",
        f"{m['non2xx']:.0f} / {m['erreurs']:.0f} sur {m['requetes']:.0f} requêtes",
        "0 / 0",
        m["non2xx"] == m["erreurs"] == 0,
    )
    return m


def requetes_sql(entete, taille):
    """The SQL queries of one list request of ``taille`` rows, in this process (after a first, uncounted one)."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=entete, SERVER_NAME="127.0.0.1")
    client.get(LISTE, {"taille": taille})
    with requetes_comptees() as capture:
        reponse = client.get(LISTE, {"taille": taille})
    if reponse.status_code != 200 or len(reponse.json()["results"]) != taille:
        raise RuntimeError(f"{LISTE}?taille={taille} : {reponse.status_code}, pas {taille} lignes.")
    return [requete["sql"] for requete in capture.captured_queries]


def executer() -> Resultat:
    from django.contrib.auth import get_user_model

    from partenaires.services import client_create, client_revoke

    resultat = Resultat(f"API des partenaires : liste de {TAILLE} activités, {CONNEXIONS} connexions")
    utilisateurs = get_user_model().objects
    staff = utilisateurs.filter(email=STAFF).first() or utilisateurs.filter(is_superuser=True).first()
    structure, conseillers = structure_la_plus_grande()
    client, secret = client_create(structure=structure, nom="Banc d'essai API", scopes_list=[SCOPE], by=staff)
    try:
        with tempfile.TemporaryDirectory() as dossier, gunicorn(workers=3, port=port_libre()) as base:
            script = Path(dossier) / "banc.lua"
            script.write_text(SCRIPT_WRK)
            entete = f"Bearer {jeton(base, client, secret)}"
            liste = f"{base}{LISTE}?taille={TAILLE}"
            reponse = requests.get(liste, headers={"Authorization": entete}, timeout=30)
            if reponse.status_code != 200 or len(reponse.json()["results"]) != TAILLE:
                raise RuntimeError(f"{liste} : {reponse.status_code}, pas {TAILLE} lignes : {reponse.text[:300]}")

            api = mesurer(resultat, script, f"API {LISTE} ({TAILLE} lignes)", liste, [f"Authorization: {entete}"])
            nue = mesurer(resultat, script, f"Vue JSON nue {JSON_NU}", f"{base}{JSON_NU}", [], cibles=False)
            resultat.ajouter("Débit API / débit vue nue", f"{100 * api['rps'] / nue['rps']:.1f} %")

        petites, grandes = requetes_sql(entete, 2), requetes_sql(entete, TAILLE)
        resultat.ajouter(
            f"API {LISTE} : requêtes SQL par liste (2 / {TAILLE} lignes)",
            f"{len(petites)} / {len(grandes)}",
            f"≤ {BUDGET_REQUETES}, identiques",
            len(petites) == len(grandes) <= BUDGET_REQUETES,
        )
        for sql in grandes:
            print(f"    SQL : {re.sub(r'^SELECT .*? FROM ', 'SELECT … FROM ', sql)[:240]}", flush=True)
    finally:
        client_revoke(client=client, by=staff)
    resultat.noter(
        f"Structure « {structure.nom} » (n° {structure.pk}, {conseillers} conseillers) ; client créé pour le banc "
        f"(droit {SCOPE}) puis révoqué ; gunicorn 3 workers ; wrk -t2 -c{CONNEXIONS}, {DUREE_S} s par mesure "
        f"après {ECHAUFFEMENT_S} s de chauffe."
    )
    return resultat


if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    print(executer().markdown())
