"""Scenario « export »: about 1 million accompaniments exported as CSV by the real view, against PostgreSQL's own
``COPY … TO STDOUT`` of the same rows in the same run.

    BENCH_DATABASE_URL=postgres://… python -m benchmarks.scenarios.export

What it does:

1. Picks the period: the most recent days whose live activities hold about ``CIBLE_LIGNES`` accompaniments (one
   accompaniment per participant, so the sum of ``participants`` per day, read from the activities alone); on a
   dataset smaller than that, no period at all (everything is exported).
2. Exports one day first (warms the process and gives the query count of a tiny export), then the whole period, as
   the staff account ``pilotage@bench.example`` through ``django.test.Client`` in this process: the streamed chunks
   are counted (bytes, rows) and dropped while a thread samples the process RSS (``VmRSS``) every 20 ms. The peak
   growth over the RSS just before the request is the memory figure; the query count must be the same as the tiny
   export's (fixed, whatever the number of rows).
3. Runs ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv)`` of the same rows written the plain way in SQL
   (``SQL_COPY``: the columns the CSV is made of, the joins they need, the live activities of the period, the
   export's order), whatever the export's own query looks like: a query the planner handles worse shows in the
   ratio. It runs once before the export (which also warms the cache) and once after; the faster one is the
   yardstick of the ratio of throughputs (export rows/s ÷ COPY rows/s).

A ``CHECKPOINT`` comes first (``_commun.point_de_controle``): the pages the scenarios before wrote reach the disk
then, not during the measurements.

Nothing is written to the database: the session lives in a signed cookie and is built as ``force_login`` builds it,
without ``force_login``'s ``last_login`` update; when the staff account has no TOTP device (the generated
dataset's has none), the "second factor required" middleware is told it has one (with a device, that check is one
query per request, not per row).
"""

import contextlib
import datetime
import os
import threading
import time
from unittest import mock

from benchmarks.outils import Resultat, requetes_comptees
from benchmarks.scenarios._commun import point_de_controle

CIBLE_LIGNES = 1_000_000
CIBLE_MEMOIRE_MO = 50
CIBLE_RATIO = 0.3
SEPARATEURS_PAR_LIGNE = 30  # the team CSV's 31 columns (checked against ``exports.columns`` when the scenario runs)
PAS_ECHANTILLON = 0.02  # seconds between two RSS samples
COMPTE = "pilotage@bench.example"
URL = "/activites/export.csv"
MO = 1024 * 1024

# The yardstick: the team CSV's rows as PostgreSQL reads them, written the plain way (the export's columns, the joins
# they need, the staff's filter: live activities of the period, the export's order), whatever the export does.
SQL_COPY = """
SELECT a.date, a.created_at, a.updated_at, a.type, acc.rang, a.participants, a.type_lieu,
       l.nom, l.adresse, l.complement_adresse, l.code_postal, c.nom, c.codes_postaux, c.code_insee,
       a.duree, a.titre_atelier, a.materiel, a.thematiques, a.nom_demarche, a.niveau, a.autonomie, a.oriente,
       a.structure_redirection, r.nom, r.codes_postaux, r.code_insee, acc.genre, acc.tranche_age, acc.statut_social,
       a.id_externe, a.uuid, m.prenom, m.nom, m.est_coordinateur, m.uuid
FROM {accompagnement} acc
JOIN {activite} a ON a.id = acc.activite_id
JOIN {conseiller} m ON m.id = a.conseiller_id
LEFT JOIN {lieu} l ON l.id = a.lieu_id
LEFT JOIN {commune} c ON c.id = a.commune_id
LEFT JOIN {commune} r ON r.id = acc.commune_residence_id
WHERE a.supprimee_le IS NULL {periode}
ORDER BY a.date DESC, a.created_at DESC, acc.activite_id, acc.rang
"""


# --- Memory -------------------------------------------------------------------------------------------------------
def rss():
    """This process's resident set size, in bytes (``VmRSS`` of ``/proc/self/status``)."""
    with open("/proc/self/status", "rb") as status:
        for ligne in status:
            if ligne.startswith(b"VmRSS:"):
                return int(ligne.split()[1]) * 1024
    raise RuntimeError("VmRSS introuvable dans /proc/self/status.")


class Echantillonneur(threading.Thread):
    """Samples the RSS every ``pas`` seconds until stopped; keeps the peak and the number of samples."""

    def __init__(self, pas=PAS_ECHANTILLON):
        super().__init__(daemon=True)
        self.pas = pas
        self.pic = rss()
        self.echantillons = 0
        self._fin = threading.Event()

    def run(self):
        while not self._fin.is_set():
            self.pic = max(self.pic, rss())
            self.echantillons += 1
            self._fin.wait(self.pas)

    def arreter(self):
        self._fin.set()
        self.join()
        self.pic = max(self.pic, rss())


# --- Period -------------------------------------------------------------------------------------------------------
def choisir_periode(cible=CIBLE_LIGNES):
    """(du, au, estimated accompaniments, last day): the most recent days holding about ``cible`` accompaniments, or
    no period (None, None) when the whole dataset holds fewer."""
    from django.db.models import Sum

    from accompagnements.models import Activite

    par_jour = (
        Activite.objects.actives().order_by().values_list("date").annotate(n=Sum("participants")).order_by("-date")
    )
    cumul, dernier = 0, None
    for jour, n in par_jour:
        dernier = dernier or jour
        cumul += n
        if cumul >= cible:
            return jour, dernier, cumul, dernier
    return None, None, cumul, dernier or datetime.date.today()


def parametres(du, au):
    return {"du": du.isoformat(), "au": au.isoformat()} if du else {}


# --- The request --------------------------------------------------------------------------------------------------
def client_connecte(user):
    """A test client logged in as ``user`` the way ``force_login`` does it, without writing anything: the session is
    a signed cookie (to be used under ``SESSION_ENGINE=…signed_cookies``) and ``last_login`` is left alone."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.test import Client

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client = Client(raise_request_exception=True, HTTP_HOST="127.0.0.1")  # in ALLOWED_HOSTS
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def exporter(client, params):
    """Requests the CSV export and consumes it chunk by chunk while sampling the RSS. Returns the figures."""
    import gc

    gc.collect()
    echantillonneur = Echantillonneur()
    base = rss()
    echantillonneur.start()
    octets = separateurs = morceaux = 0
    premieres = None
    debut = time.perf_counter()
    with requetes_comptees() as requetes:
        reponse = client.get(URL, params)
        if reponse.status_code != 200:
            echantillonneur.arreter()
            raise RuntimeError(f"L'export a répondu {reponse.status_code} : {reponse.content[:500]!r}")
        for morceau in reponse.streaming_content:
            morceaux += 1
            if morceaux == 2:  # the first chunk of rows, after the header's
                premieres = time.perf_counter() - debut
            octets += len(morceau)
            # Rows are counted by their separators: a row holds one « ; » fewer than its columns (a multi-line cell
            # holds « \n » too, and counting line ends outside quotes would cost more than the export's own work).
            separateurs += morceau.count(b";")
        reponse.close()
    duree = time.perf_counter() - debut
    echantillonneur.arreter()
    return {
        # Without the header. A cell holding a « ; » (none in the generated data) would leave a remainder, noted.
        "lignes": separateurs // SEPARATEURS_PAR_LIGNE - 1,
        "reste": separateurs % SEPARATEURS_PAR_LIGNE,
        "octets": octets,
        "morceaux": morceaux,
        "duree": duree,
        "premieres_lignes": premieres or duree,
        "croissance": echantillonneur.pic - base,
        "base": base,
        "echantillons": echantillonneur.echantillons,
        "requetes": [q["sql"] for q in requetes.captured_queries],
    }


# --- The yardstick: PostgreSQL's COPY -----------------------------------------------------------------------------
def sql_copy(du, au):
    """``SQL_COPY`` for the period (everything without one), parameters inlined."""
    from django.db import connection

    from accompagnements.models import Accompagnement, Activite
    from conseillers.models import Conseiller
    from structures.models import Commune, Lieu

    tables = {
        nom: connection.ops.quote_name(modele._meta.db_table)
        for nom, modele in (
            ("accompagnement", Accompagnement),
            ("activite", Activite),
            ("conseiller", Conseiller),
            ("lieu", Lieu),
            ("commune", Commune),
        )
    }
    sql = SQL_COPY.format(periode="AND a.date BETWEEN %s AND %s" if du else "", **tables)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        return cursor.mogrify(sql, [du, au] if du else None)


def copier(sql):
    """``COPY (sql) TO STDOUT WITH (FORMAT csv)`` read block by block: (rows, bytes, seconds)."""
    from django.db import connection

    connection.ensure_connection()
    lignes = octets = 0
    debut = time.perf_counter()
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copie:
        for bloc in copie:
            donnees = bytes(bloc)
            octets += len(donnees)
            lignes += donnees.count(b"\n")
    return lignes, octets, time.perf_counter() - debut


# --- The scenario -------------------------------------------------------------------------------------------------
def _mo(octets):
    return f"{octets / MO:.1f} Mo"


def _debit(lignes, secondes):
    return lignes / secondes if secondes else float("nan")


def _nombre(valeur):
    return f"{valeur:,.0f}".replace(",", " ")


@contextlib.contextmanager
def _sans_ecriture(user):
    """Signed-cookie sessions, and the second factor taken as set up when the account has none."""
    from django.test.utils import override_settings

    from accounts.policies import mfa_missing

    with contextlib.ExitStack() as pile:
        pile.enter_context(override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"))
        if mfa_missing(user):
            pile.enter_context(mock.patch("accounts.middleware.mfa_missing", return_value=False))
        yield


def executer() -> Resultat:
    from accompagnements.exports import columns
    from accounts.models import User

    resultat = Resultat("Export CSV d'environ 1 million d'accompagnements")
    if len(columns(team=True)) - 1 != SEPARATEURS_PAR_LIGNE:
        raise RuntimeError("SEPARATEURS_PAR_LIGNE ne correspond plus aux colonnes de l'export d'équipe.")
    charge = os.getloadavg()[0]
    user = User.objects.get(email=COMPTE)

    debut_choix = time.perf_counter()
    du, au, estimees, dernier_jour = choisir_periode()
    params = parametres(du, au)
    if du:
        resultat.noter(
            f"Période : du {du:%d/%m/%Y} au {au:%d/%m/%Y} ({(au - du).days + 1} jours), "
            f"{_nombre(estimees)} accompagnements attendus (somme des participants des activités, "
            f"{time.perf_counter() - debut_choix:.1f} s pour la choisir)."
        )
    else:
        resultat.noter(f"Le jeu de données tient moins de {_nombre(CIBLE_LIGNES)} accompagnements : tout est exporté.")
    resultat.noter(f"Compte : {COMPTE} (équipe : toutes les activités, colonnes du médiateur, jamais de notes).")

    sql = sql_copy(du, au)
    if point_de_controle():
        resultat.noter("Point de contrôle avant les mesures (les écritures des scénarios précédents sur disque).")
    copie_avant = copier(sql)

    with _sans_ecriture(user):
        client = client_connecte(user)
        petit = exporter(client, parametres(dernier_jour, dernier_jour))
        export = exporter(client, params)

    copie_apres = copier(sql)
    copie = min(copie_avant, copie_apres, key=lambda mesure: mesure[2])

    lignes, duree = export["lignes"], export["duree"]
    debit_export = _debit(lignes, duree)
    debit_copie = _debit(copie[0], copie[2])
    ratio = debit_export / debit_copie if debit_copie else float("nan")
    croissance_mo = export["croissance"] / MO
    requetes, requetes_petit = len(export["requetes"]), len(petit["requetes"])

    resultat.ajouter("lignes exportées (accompagnements)", _nombre(lignes))
    resultat.ajouter("taille du CSV", _mo(export["octets"]))
    resultat.ajouter("durée de l'export", f"{duree:.1f} s")
    resultat.ajouter("premières lignes reçues après", f"{export['premieres_lignes'] * 1000:.0f} ms")
    resultat.ajouter("débit de l'export", f"{_nombre(debit_export)} lignes/s, {export['octets'] / MO / duree:.1f} Mo/s")
    resultat.ajouter(
        "croissance de la mémoire (pic de VmRSS)",
        f"{croissance_mo:.1f} Mo",
        f"< {CIBLE_MEMOIRE_MO} Mo",
        croissance_mo < CIBLE_MEMOIRE_MO,
    )
    resultat.ajouter(
        "requêtes SQL de l'export",
        f"{requetes} (export d'un jour : {requetes_petit})",
        "fixe",
        requetes == requetes_petit,
    )
    resultat.ajouter(
        "COPY … TO STDOUT des mêmes lignes",
        f"{_nombre(copie[0])} lignes en {copie[2]:.1f} s : {_nombre(debit_copie)} lignes/s, "
        f"{copie[1] / MO / copie[2]:.1f} Mo/s",
    )
    resultat.ajouter("débit de l'export ÷ débit de COPY", f"{ratio:.2f}", f"≥ {CIBLE_RATIO}", ratio >= CIBLE_RATIO)

    resultat.noter(
        f"RSS avant la requête : {_mo(export['base'])} ; {export['echantillons']} échantillons "
        f"toutes les {PAS_ECHANTILLON * 1000:.0f} ms ; {_nombre(export['morceaux'])} morceaux reçus."
    )
    resultat.noter(
        f"COPY avant l'export : {copie_avant[2]:.1f} s, après : {copie_apres[2]:.1f} s (le plus rapide sert "
        f"d'étalon) ; {_nombre(copie_avant[0])} lignes : les colonnes dont le CSV est fait, leurs jointures, les "
        "activités non supprimées de la période, l'ordre de l'export (SQL_COPY)."
    )
    resultat.noter(f"Charge de la machine au début (moyenne sur 1 min) : {charge:.2f} pour {os.cpu_count()} cœurs.")
    if export["reste"]:
        resultat.noter(
            f"Attention : {export['reste']} « ; » de trop, dans des cellules : le compte de lignes est faux."
        )
    if copie[0] != lignes:
        resultat.noter(f"Attention : COPY a rendu {_nombre(copie[0])} lignes, l'export {_nombre(lignes)}.")
    resultat.noter(
        "Sur PostgreSQL, le CSV de l'export est écrit par PostgreSQL : « COPY (requête) TO STDOUT WITH (FORMAT csv) » "
        "d'une requête qui calcule chaque cellule (libellés, échappement des formules, dates ; exports.csv_sql) ; "
        "Python transmet les octets par morceaux de 2 000 lignes."
    )
    resultat.noter(
        "Requêtes de l'export : "
        + " | ".join(sql_requete.split(" FROM ")[0][:60] + "…" for sql_requete in export["requetes"])
    )
    return resultat


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    print(executer().markdown())
