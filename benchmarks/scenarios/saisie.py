"""Scenario: activity logging under load. Up to 50 conseillers of the dataset (distinct accounts, all of them when
fewer) log in once through the real allauth form, then all at once, for ``BENCH_SAISIE_DUREE`` seconds (30 by
default), each repeatedly opens « Nouvelle activité » (GET) and submits an anonymous individual session at one of
its own places (POST), through gunicorn on loopback. The submit is timed apart from the form's page; a submit
succeeds when the view answers its redirect to « Mes activités » (302 to ``/activites/#activite-<uuid>``).

A second phase sends submits only, for as long, with the token of the CSRF cookie (the page loaded once on the
phone): the submit's own cost under the same concurrency, without the form pages in the workers' queue.

Also: the SQL queries of one submit and of the form page, measured in this process.

The gunicorn workers have a Celery broker (Redis) and no worker runs: after commit, a request only publishes the
summary update, as in production. The activities written here are deleted at the end with their accompaniments and
history rows, and their summary slices recomputed (``BENCH_GARDER=1`` keeps them).
"""

import contextlib
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmarks.generer import MOT_DE_PASSE
from benchmarks.outils import Resultat, gunicorn, latences, ms, port_libre, requetes_comptees
from benchmarks.scenarios._commun import BROKER, CSRF_RE, a_rythme, environ, sans_publication, statiques

CONSEILLERS = 50
DUREE_S = int(os.environ.get("BENCH_SAISIE_DUREE", "30"))
CIBLE_P95_MS = 500
FILS_CONNEXION = 8
SEULS = 20  # submits of one conseiller alone first: the service time without queueing
# The realistic load: each conseiller opens the form and submits an activity once a minute.
RYTHME_S = int(os.environ.get("BENCH_SAISIE_RYTHME_DUREE", "120"))
DELAI_S = 600  # a client's patience: the form page can be very slow under this load
FORMULAIRE = "/activites/nouvelle/"
CONNEXION = "/comptes/login/"
DECONNEXION = "/comptes/logout/"
SUCCES = "/activites/#activite-"


# --- Data ------------------------------------------------------------------------------------------------------------
def conseillers(nombre):
    """[(user, [ids of its structures' published places])] of the first ``nombre`` generated conseillers who have
    a place."""
    from conseillers.models import Conseiller
    from structures.models import Lieu

    choisis = []
    profils = (
        Conseiller.objects.filter(user__is_active=True, user__email__endswith="@bench.example")
        .select_related("user")
        .order_by("user__email")
    )
    for conseiller in profils.iterator(chunk_size=200):
        lieux = list(
            Lieu.objects.filter(is_active=True, structure__memberships__user_id=conseiller.user_id)
            .order_by("pk")
            .values_list("pk", flat=True)
            .distinct()
        )
        if lieux:
            choisis.append((conseiller.user, lieux))
        if len(choisis) == nombre:
            break
    if not choisis:
        raise RuntimeError("Aucun conseiller avec un lieu dans la base du banc : lancez benchmarks.generer.")
    return choisis


def activite(rng, lieux, marque, aujourd_hui):
    """The answers of one anonymous individual session at one of ``lieux``, as the form sends them."""
    from accompagnements import choices as c

    generales = [code for code, _label in c.THEMATIQUES_GENERALES]
    thematiques = rng.sample(generales, rng.choice((1, 1, 2)))
    donnees = {
        "type": c.INDIVIDUEL,
        "date": aujourd_hui.isoformat(),
        "duree_choix": str(rng.choice(c.DUREES_RAPIDES)),
        "duree_autre": "",
        "type_lieu": c.LIEU_ACTIVITE,
        "lieu": str(rng.choice(lieux)),
        "commune": "",
        "thematiques": thematiques,
        "materiel": [rng.choice(("ordinateur", "telephone", "tablette"))],
        "beneficiaire": "",
        "genre": rng.choice([code for code, _label in c.GENRE]),
        "tranche_age": rng.choice([code for code, _label in c.TRANCHE_AGE]),
        "statut_social": rng.choice([code for code, _label in c.STATUT_SOCIAL]),
        "commune_residence": "",
        "autonomie": rng.choice([code for code, _label in c.AUTONOMIE]),
        "oriente": "non",
        "notes": marque,
    }
    if c.AIDE_DEMARCHES in thematiques:
        donnees["thematiques_administratives"] = [rng.choice([code for code, _label in c.THEMATIQUES_ADMINISTRATIVES])]
        donnees["nom_demarche"] = "Déclaration de revenus"
    return donnees


def nettoyer(marque):
    """Delete the activities marked ``marque`` (and their accompaniments, thématique rows, history rows), then
    recompute the summary slices they touched. Returns the number of activities deleted, and the error that kept
    the summaries from being recomputed (None when they were)."""
    from django.db import transaction

    from accompagnements.models import Accompagnement, Activite
    from reporting import resume

    with sans_publication(), transaction.atomic():
        ids = list(Activite.objects.filter(notes=marque).values_list("pk", flat=True))
        accompagnements = list(Accompagnement.objects.filter(activite_id__in=ids).values_list("pk", flat=True))
        Activite.objects.filter(pk__in=ids).delete()
        Activite.history.filter(id__in=ids).delete()
        Accompagnement.history.filter(id__in=accompagnements).delete()
    try:
        for _passage in range(3):
            if not resume.mettre_a_jour():
                break
    except Exception as erreur:  # reported; the marks stay for the next update (beat, every minute)
        return len(ids), f"{type(erreur).__name__} : {str(erreur).splitlines()[0]}"
    return len(ids), None


# --- The simulated conseillers -------------------------------------------------------------------------------------
def connecter(base, user, adresse):
    """One conseiller logging in through the login form (not measured): its HTTP session."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = adresse
    page = session.get(base + CONNEXION, timeout=DELAI_S)
    trouve = CSRF_RE.search(page.text)
    if page.status_code != 200 or trouve is None:
        raise RuntimeError(f"Page de connexion illisible ({page.status_code}).")
    reponse = session.post(
        base + CONNEXION,
        data={"login": user.email, "password": MOT_DE_PASSE, "csrfmiddlewaretoken": trouve.group(1)},
        allow_redirects=False,
        timeout=DELAI_S,
    )
    if reponse.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"Connexion refusée pour {user.email} ({reponse.status_code}).")
    return session


def deconnecter(base, session):
    with contextlib.suppress(requests.RequestException):
        session.post(
            base + DECONNEXION,
            data={"csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
            allow_redirects=False,
            timeout=DELAI_S,
        )
    session.close()


def envoyer(base, session, donnees, jeton):
    """One timed submit of « Nouvelle activité »: (status, succeeded, ms)."""
    debut = time.perf_counter()
    try:
        reponse = session.post(
            base + FORMULAIRE,
            data={**donnees, "csrfmiddlewaretoken": jeton},
            allow_redirects=False,
            timeout=DELAI_S,
        )
        statut = reponse.status_code
        reussi = statut == 302 and reponse.headers.get("Location", "").startswith(SUCCES)
    except requests.RequestException as erreur:
        statut, reussi = type(erreur).__name__, False
    return statut, reussi, (time.perf_counter() - debut) * 1000


def charge(base, clients, *, avec_formulaire, duree_s):
    """Every client in a loop for ``duree_s`` seconds, started together: (GET [(status, ms)], POST [(status,
    succeeded, ms)], elapsed seconds). A round started before the end is finished."""
    barriere = threading.Barrier(len(clients))
    bornes = {}

    def boucle(client):
        session, donnees_suivantes = client
        gets, posts = [], []
        if barriere.wait() == 0:
            bornes["debut"] = time.perf_counter()
        fin = time.perf_counter() + duree_s
        while time.perf_counter() < fin:
            if avec_formulaire:
                debut = time.perf_counter()
                try:
                    page = session.get(base + FORMULAIRE, timeout=DELAI_S)
                except requests.RequestException as erreur:
                    gets.append((type(erreur).__name__, (time.perf_counter() - debut) * 1000))
                    continue
                gets.append((page.status_code, (time.perf_counter() - debut) * 1000))
                trouve = CSRF_RE.search(page.text) if page.status_code == 200 else None
                if trouve is None:
                    continue
                jeton = trouve.group(1)
            else:
                jeton = session.cookies.get("csrftoken", "")
            posts.append(envoyer(base, session, donnees_suivantes(), jeton))
        return gets, posts, time.perf_counter()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        resultats = list(pool.map(boucle, clients))
    ecoule = max(fin for _g, _p, fin in resultats) - bornes["debut"]
    return [g for gets, _p, _f in resultats for g in gets], [p for _g, posts, _f in resultats for p in posts], ecoule


def une_par_minute(base, clients, duree_s, graine):
    """Open loop: each conseiller opens the form and submits once a minute, at their own second of the minute (drawn
    at random), for ``duree_s`` seconds: (GET [(status, ms)], POST [(status, succeeded, ms)])."""
    rng = random.Random(graine)
    departs = [rng.uniform(0, 60) for _client in clients]
    taches = sorted(
        (depart + 60 * minute, numero)
        for numero, depart in enumerate(departs)
        for minute in range(max(1, duree_s // 60))
    )
    instants = [instant for instant, _numero in taches]
    verrous = [threading.Lock() for _client in clients]  # one person, one request at a time

    def saisir(rang):
        numero = taches[rang][1]
        session, donnees_suivantes = clients[numero]
        with verrous[numero]:
            debut = time.perf_counter()
            try:
                page = session.get(base + FORMULAIRE, timeout=DELAI_S)
            except requests.RequestException as erreur:
                return (type(erreur).__name__, (time.perf_counter() - debut) * 1000), None
            get = (page.status_code, (time.perf_counter() - debut) * 1000)
            trouve = CSRF_RE.search(page.text) if page.status_code == 200 else None
            if trouve is None:
                return get, None
            return get, envoyer(base, session, donnees_suivantes(), trouve.group(1))

    resultats = [resultat for _instant, resultat in a_rythme(instants, saisir)]
    return [get for get, _post in resultats], [post for _get, post in resultats if post is not None]


def seul(base, client):
    """One conseiller alone sending ``SEULS`` submits one after the other: their latencies in ms."""
    session, donnees_suivantes = client
    mesures = []
    for _envoi in range(SEULS):
        debut = time.perf_counter()
        reponse = session.post(
            base + FORMULAIRE,
            data={**donnees_suivantes(), "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
            allow_redirects=False,
            timeout=DELAI_S,
        )
        mesures.append((time.perf_counter() - debut) * 1000)
        if reponse.status_code != 302:
            raise RuntimeError(f"Envoi seul refusé ({reponse.status_code}).")
    return mesures


# --- In-process query count ----------------------------------------------------------------------------------------
def requetes_d_une_saisie(user, lieux, marque, aujourd_hui):
    """SQL queries of one submit and of the form page, in this process, on a warm process (one round warms it)."""
    from django.test import Client

    rng = random.Random(7)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    comptes = {}
    with sans_publication():
        for compte in (False, True):
            with requetes_comptees() as get:
                page = client.get(FORMULAIRE)
            with requetes_comptees() as post:
                reponse = client.post(FORMULAIRE, activite(rng, lieux, marque, aujourd_hui))
            if page.status_code != 200 or reponse.status_code != 302:
                raise RuntimeError(f"Saisie refusée dans le processus ({page.status_code}, {reponse.status_code}).")
            if compte:
                comptes = {
                    "get": len(get.captured_queries),
                    "post": len(post.captured_queries),
                    "taille": len(page.content),
                    "options": page.content.count(b"<option"),
                }
    client.logout()
    return comptes


# --- The scenario --------------------------------------------------------------------------------------------------
def _bilan_posts(resultat, nom, posts, ecoule, *, cible=True):
    mesure = latences([duree for _s, _r, duree in posts])
    reussis = sum(1 for _s, reussi, _d in posts if reussi)
    statuts = Counter(statut for statut, _r, _d in posts)
    erreurs_5xx = sum(n for statut, n in statuts.items() if not isinstance(statut, int) or statut >= 500)
    resultat.ajouter(f"{nom} : envois (réussis / total)", f"{reussis} / {len(posts)}", "tous", reussis == len(posts))
    resultat.ajouter(
        f"{nom} : réponses aux envois", ", ".join(f"{s} × {n}" for s, n in sorted(statuts.items(), key=str))
    )
    resultat.ajouter(f"{nom} : erreurs 5xx ou réseau", erreurs_5xx, "0", erreurs_5xx == 0)
    resultat.ajouter(f"{nom} : envoi p50", ms(mesure["p50"]))
    if cible:
        resultat.ajouter(
            f"{nom} : envoi p95",
            ms(mesure["p95"]),
            f"< {CIBLE_P95_MS} ms",
            bool(posts) and mesure["p95"] < CIBLE_P95_MS,
        )
    else:
        resultat.ajouter(f"{nom} : envoi p95 (information : saturation, sans pause)", ms(mesure["p95"]))
    resultat.ajouter(f"{nom} : envoi p99", ms(mesure["p99"]))
    resultat.ajouter(f"{nom} : débit", f"{reussis / ecoule:.1f} activités enregistrées/s ({ecoule:.1f} s)")


def executer() -> Resultat:
    from django.conf import settings
    from django.utils import timezone

    statiques()
    choisis = conseillers(CONSEILLERS)
    resultat = Resultat(f"Saisie d'activité : {len(choisis)} conseillers à la fois")
    run = f"{int(time.time())}{random.randint(100, 999)}"
    marque = f"banc-saisie-{run}"
    aujourd_hui = timezone.localdate()
    octet = random.randint(1, 254)

    def donnees_de(numero, lieux):
        rng = random.Random(f"{run}-{numero}")
        return lambda: activite(rng, lieux, marque, aujourd_hui)

    try:
        with environ(CELERY_BROKER_URL=BROKER), gunicorn(workers=3, port=port_libre()) as base:
            adresses = [f"10.{octet}.{200 + numero // 250}.{numero % 250 + 1}" for numero in range(len(choisis))]
            with ThreadPoolExecutor(max_workers=FILS_CONNEXION) as pool:
                sessions = list(pool.map(connecter, [base] * len(choisis), [u for u, _l in choisis], adresses))
            print(f"  {len(sessions)} conseillers connectés", flush=True)
            clients = [
                (session, donnees_de(numero, lieux))
                for numero, (session, (_user, lieux)) in enumerate(zip(sessions, choisis, strict=True))
            ]
            seuls = latences(seul(base, clients[0]))
            gets_rythme, posts_rythme = une_par_minute(base, clients, RYTHME_S, run)
            print(f"  au rythme réel : {len(posts_rythme)} envois", flush=True)
            gets, posts_complets, ecoule_complet = charge(base, clients, avec_formulaire=True, duree_s=DUREE_S)
            print(f"  phase 1 : {len(gets)} formulaires, {len(posts_complets)} envois", flush=True)
            _gets, posts_seuls, ecoule_seul = charge(base, clients, avec_formulaire=False, duree_s=DUREE_S)
            print(f"  phase 2 : {len(posts_seuls)} envois", flush=True)
            with ThreadPoolExecutor(max_workers=FILS_CONNEXION) as pool:
                list(pool.map(deconnecter, [base] * len(sessions), sessions))
        user, lieux = choisis[0]
        comptes = requetes_d_une_saisie(user, lieux, marque, aujourd_hui)
    finally:
        supprimees = None if os.environ.get("BENCH_GARDER") == "1" else nettoyer(marque)

    mesure_get = latences([duree for _s, duree in gets])
    statuts_get = Counter(statut for statut, _d in gets)
    resultat.ajouter(
        "phase 1 (formulaire puis envoi) : pages du formulaire",
        f"{len(gets)} ; " + ", ".join(f"{s} × {n}" for s, n in sorted(statuts_get.items(), key=str)),
    )
    resultat.ajouter(
        "phase 1 : formulaire p50 / p95 / p99",
        f"{ms(mesure_get['p50'])} / {ms(mesure_get['p95'])} / {ms(mesure_get['p99'])}",
    )
    resultat.ajouter(
        f"envoi d'un conseiller seul, sans concurrence (p50 / p95 sur {SEULS})",
        f"{ms(seuls['p50'])} / {ms(seuls['p95'])}",
    )
    mesure_rythme = latences([duree for _s, duree in gets_rythme])
    resultat.ajouter(
        f"au rythme réel (une activité par conseiller et par minute, {RYTHME_S} s) : formulaire p50 / p95",
        f"{ms(mesure_rythme['p50'])} / {ms(mesure_rythme['p95'])}",
    )
    _bilan_posts(resultat, "au rythme réel", posts_rythme, RYTHME_S)
    _bilan_posts(resultat, "phase 1", posts_complets, ecoule_complet, cible=False)
    _bilan_posts(resultat, "phase 2 (envois seuls)", posts_seuls, ecoule_seul, cible=False)
    resultat.ajouter("requêtes SQL d'un envoi (dans le processus)", comptes["post"])
    resultat.ajouter("requêtes SQL du formulaire (GET, dans le processus)", comptes["get"])
    resultat.ajouter(
        "taille du formulaire", f"{comptes['taille'] / 1e6:.2f} Mo, {comptes['options']} options de listes"
    )
    resultat.noter(
        f"gunicorn, 3 workers synchrones, sur {settings.DATABASES['default']['NAME']} ; chaque conseiller boucle sans "
        f"temps de réflexion pendant {DUREE_S} s par phase (une boucle commencée avant la fin est terminée)."
    )
    resultat.noter(
        f"Courtier Celery {BROKER} dans l'environnement de gunicorn, aucun worker lancé : après le commit, la requête "
        "publie seulement la mise à jour des résumés (depuis un fil), comme en production ; les tranches marquées "
        "sont recalculées au nettoyage."
    )
    resultat.noter(
        f"La page « Nouvelle activité » rend {comptes['options']} options : Commune, Commune de résidence et Lieu "
        "d'activité proposent les communes et lieux des départements du territoire et des employeurs du conseiller "
        "(communes_for_select, lieux_for_activites) ; en phase 1, les envois attendent derrière ces pages dans la "
        "file des 3 workers. Chaque conseiller boucle sans pause : la charge est celle de 50 personnes qui "
        "enverraient chacune une activité toutes les 1 à 2 s, bien au-delà d'un usage réel."
    )
    resultat.noter(
        "Au rythme réel : chaque conseiller ouvre « Nouvelle activité » puis envoie une activité une fois par minute, "
        "à sa seconde de la minute tirée au hasard (boucle ouverte) : la charge de 50 conseillers qui saisissent entre "
        "deux rendez-vous, celle que vise la cible de p95. Les phases 1 et 2 sans pause éprouvent le débit."
    )
    resultat.noter(
        "Phase 2 : le jeton CSRF vient du cookie (la page ouverte une fois sur le téléphone), chaque envoi est une "
        "nouvelle activité."
    )
    if supprimees is None:
        resultat.noter(f"Activités gardées (BENCH_GARDER=1), notes « {marque} ».")
    else:
        nombre, erreur = supprimees
        resultat.noter(
            f"Nettoyage : {nombre} activités du banc supprimées, avec leurs accompagnements et leur historique ; "
            + ("leurs tranches de résumés recalculées." if erreur is None else f"résumés NON recalculés ({erreur}).")
        )
    return resultat


if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    print(executer().markdown())
