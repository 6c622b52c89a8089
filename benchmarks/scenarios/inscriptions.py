"""Scenario: a registration burst. Several new public sessions of 12 seats each get 200 registrations at once through
the real public form (served by gunicorn on loopback); afterwards the database must hold exactly 12 confirmed
registrations per session and the others on the waiting list, with no server error. Also: the SQL queries of one
registration POST, measured in this process.

Each simulated person has its own HTTP session (CSRF cookie), e-mail address and client address (``X-Forwarded-For``,
read as a production proxy sets it): the public form's per-IP throttle stays on. The people first open the form (not
measured), then 200 threads released together by a barrier send their POST; only the POST is timed.

The sessions, their registrations, their history rows and their e-mails waiting in the outbox are deleted at the end
(``BENCH_GARDER=1`` keeps them).
"""

import datetime
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmarks.outils import Resultat, gunicorn, latences, ms, port_libre, requetes_comptees
from benchmarks.scenarios._commun import (
    BROKER,
    CSRF_RE,
    a_rythme,
    arrivees_poisson,
    environ,
    sans_publication,
    statiques,
)

NB_SEANCES = int(os.environ.get("BENCH_INSCRIPTIONS_SEANCES", "5"))
PERSONNES = 200
CAPACITE = 12
CIBLE_P95_MS = 200
FILS_PREPARATION = 16
SEULES = 20  # registrations sent one at a time first: the service time without queueing
# The realistic arrival: the same 200 people registering within a minute of the session's announcement.
FENETRE_S = int(os.environ.get("BENCH_INSCRIPTIONS_FENETRE", "60"))


# --- Data ------------------------------------------------------------------------------------------------------------
def creer_seances(nombre):
    """``nombre`` public sessions of ``CAPACITE`` seats, two months ahead, of an existing active workshop, planned
    through the product's service by the staff account."""
    from django.utils import timezone

    from accounts.models import User
    from ateliers.models import Atelier
    from ateliers.services.planning import seance_create
    from structures.models import Lieu

    staff = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if staff is None:
        raise RuntimeError("Aucun compte de l'équipe dans la base du banc : lancez benchmarks.generer.")
    atelier = Atelier.objects.filter(actif=True, structure__lieux__is_active=True).order_by("pk").first()
    if atelier is None:
        raise RuntimeError("Aucun atelier actif avec un lieu publié dans la base du banc.")
    lieu = Lieu.objects.filter(structure_id=atelier.structure_id, is_active=True).order_by("pk").first()
    debut = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=60)
    return [
        seance_create(
            atelier=atelier,
            by=staff,
            data={
                "debut": debut + datetime.timedelta(hours=rang),
                "lieu": lieu,
                "capacite": CAPACITE,
                "publique": True,
            },
        )
        for rang in range(nombre)
    ]


def compter(seance):
    """{statut: n} of a session's registrations, and the ranks of the confirmed ones."""
    from django.db.models import Count

    from ateliers.models import Inscription

    statuts = dict(Inscription.objects.filter(seance=seance).order_by().values_list("statut").annotate(n=Count("pk")))
    rangs = sorted(Inscription.objects.filter(seance=seance, statut="confirmee").values_list("rang", flat=True))
    return statuts, rangs


def nettoyer(seances):
    """Delete the sessions made here, their registrations, their history rows and their outbox e-mails."""
    from django.db import transaction

    from ateliers.models import Inscription, Seance
    from notifications.models import Email

    pks = [seance.pk for seance in seances]
    inscriptions = list(Inscription.objects.filter(seance_id__in=pks).values_list("pk", "uuid"))
    ids = [pk for pk, _uuid in inscriptions]
    with transaction.atomic():
        Email.objects.filter(objet__in=[f"inscription:{uuid}" for _pk, uuid in inscriptions]).delete()
        Inscription.objects.filter(pk__in=ids).delete()
        Inscription.history.filter(id__in=ids).delete()
        Seance.objects.filter(pk__in=pks).delete()
        Seance.history.filter(id__in=pks).delete()
    return len(ids)


# --- The simulated people ------------------------------------------------------------------------------------------
def _donnees(run, numero):
    return {
        "prenom": "Camille",
        "nom": f"Banc{numero}",
        "email": f"personne-{run}-{numero}@bench.example",
        "telephone": "",
        "consentement": "on",
        "commune": "",
        "tranche_age": "",
        "site_web": "",
    }


def preparer(url, adresse):
    """One person opening the form: their own HTTP session, address and CSRF token (not measured)."""
    session = requests.Session()
    session.headers["X-Forwarded-For"] = adresse
    reponse = session.get(url, timeout=120)
    trouve = CSRF_RE.search(reponse.text) if reponse.status_code == 200 else None
    if trouve is None:
        raise RuntimeError(f"Formulaire d'inscription illisible ({reponse.status_code}) : {url}")
    return session, trouve.group(1)


def rafale(url, personnes):
    """Every person's POST at once (one thread each, released by a barrier): [(status, ms)], and the burst's
    duration in seconds (from the release to the last answer)."""
    barriere = threading.Barrier(len(personnes))
    depart = []

    def envoyer(personne):
        session, donnees = personne
        if barriere.wait() == 0:
            depart.append(time.perf_counter())
        debut = time.perf_counter()
        try:
            reponse = session.post(url, data=donnees, allow_redirects=False, timeout=120)
            statut = reponse.status_code
        except requests.RequestException as erreur:
            statut = type(erreur).__name__
        fin = time.perf_counter()
        session.close()
        return statut, (fin - debut) * 1000, fin

    with ThreadPoolExecutor(max_workers=len(personnes)) as pool:
        resultats = list(pool.map(envoyer, personnes))
    duree = max(fin for _s, _ms, fin in resultats) - depart[0]
    return [(statut, duree_ms) for statut, duree_ms, _fin in resultats], duree


def une_a_une(url, adresses, run):
    """Registrations sent one after the other (the server idle otherwise): their latencies in ms."""
    mesures = []
    for numero, adresse in enumerate(adresses):
        session, jeton = preparer(url, adresse)
        donnees = {**_donnees(run, f"seule-{numero}"), "csrfmiddlewaretoken": jeton}
        debut = time.perf_counter()
        reponse = session.post(url, data=donnees, allow_redirects=False, timeout=120)
        mesures.append((time.perf_counter() - debut) * 1000)
        session.close()
        if reponse.status_code != 302:
            raise RuntimeError(f"Inscription seule refusée ({reponse.status_code}).")
    return mesures


def au_fil_de_l_eau(url, personnes, instants):
    """Each person's POST at their own instant (open loop): [(status, ms)]."""

    def envoyer(rang):
        session, donnees = personnes[rang]
        debut = time.perf_counter()
        try:
            statut = session.post(url, data=donnees, allow_redirects=False, timeout=120).status_code
        except requests.RequestException as erreur:
            statut = type(erreur).__name__
        session.close()
        return statut, (time.perf_counter() - debut) * 1000

    return [resultat for _instant, resultat in a_rythme(instants, envoyer)]


def _ouvrir(url, adresses, run, prefixe):
    with ThreadPoolExecutor(max_workers=FILS_PREPARATION) as pool:
        ouvertes = list(pool.map(preparer, [url] * len(adresses), adresses))
    return [
        (session, {**_donnees(run, f"{prefixe}-{numero}"), "csrfmiddlewaretoken": jeton})
        for numero, (session, jeton) in enumerate(ouvertes)
    ]


# --- In-process query count ----------------------------------------------------------------------------------------
def requetes_d_une_inscription(seance, run):
    """SQL queries of one registration POST (and of the form's GET), in this process, on a warm process: a first
    registration warms it up, the second is counted."""
    from django.test import Client
    from django.urls import reverse

    url = reverse("ateliers:inscription", args=[seance.uuid])
    octet = random.randint(1, 254)
    comptes = {}
    with sans_publication():
        for numero, compte in ((1, False), (2, True)):
            client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.255.{octet}.{numero}")
            with requetes_comptees() as get:
                client.get(url)
            with requetes_comptees() as post:
                reponse = client.post(url, _donnees(run, f"interne-{numero}"))
            if reponse.status_code != 302:
                raise RuntimeError(f"Inscription refusée dans le processus ({reponse.status_code}).")
            if compte:
                comptes = {"get": len(get.captured_queries), "post": len(post.captured_queries)}
    return comptes


# --- The scenario --------------------------------------------------------------------------------------------------
def executer() -> Resultat:
    from django.conf import settings
    from django.urls import reverse

    from ateliers.views.public import RATE_LIMIT

    resultat = Resultat(f"Rafale d'inscriptions : {PERSONNES} personnes à la fois sur des séances de {CAPACITE} places")
    run = f"{int(time.time())}{random.randint(100, 999)}"
    octet = random.randint(1, 254)
    statiques()
    seances = creer_seances(NB_SEANCES + 3)
    mesuree, seule, interne = seances[:NB_SEANCES], seances[NB_SEANCES], seances[NB_SEANCES + 1]
    ouverte = seances[NB_SEANCES + 2]
    latences_ms, statuts, durees, par_seance = [], Counter(), [], []
    try:
        with environ(CELERY_BROKER_URL=BROKER), gunicorn(workers=3, port=port_libre()) as base:
            url = base + reverse("ateliers:inscription", args=[seule.uuid])
            seules = latences(une_a_une(url, [f"10.{octet}.250.{numero + 1}" for numero in range(SEULES)], run))
            url = base + reverse("ateliers:inscription", args=[ouverte.uuid])
            personnes = _ouvrir(url, [f"10.{octet}.240.{numero + 1}" for numero in range(PERSONNES)], run, "ouvert")
            instants = arrivees_poisson(PERSONNES, FENETRE_S, run)
            au_rythme = au_fil_de_l_eau(url, personnes, instants)
            par_seance_ouverte = compter(ouverte)
            print(f"  arrivées sur {FENETRE_S} s : {dict(par_seance_ouverte[0])}", flush=True)
            for index, seance in enumerate(mesuree):
                url = base + reverse("ateliers:inscription", args=[seance.uuid])
                adresses = [f"10.{octet}.{index}.{numero + 1}" for numero in range(PERSONNES)]
                personnes = _ouvrir(url, adresses, run, str(index))
                reponses, duree = rafale(url, personnes)
                durees.append(duree)
                statuts.update(statut for statut, _ms in reponses)
                latences_ms.extend(duree_ms for _statut, duree_ms in reponses)
                par_seance.append(compter(seance))
                print(f"  séance {index + 1}/{NB_SEANCES} : {dict(par_seance[-1][0])} en {duree:.2f} s", flush=True)
        comptes = requetes_d_une_inscription(interne, run)
    finally:
        supprimees = None if os.environ.get("BENCH_GARDER") == "1" else nettoyer(seances)

    confirmees = [statuts_seance.get("confirmee", 0) for statuts_seance, _rangs in par_seance]
    attente = [statuts_seance.get("attente", 0) for statuts_seance, _rangs in par_seance]
    surbooking = max(n - CAPACITE for n in [*confirmees, par_seance_ouverte[0].get("confirmee", 0)])
    erreurs_5xx = sum(n for statut, n in statuts.items() if not isinstance(statut, int) or statut >= 500)
    refus_429 = statuts.get(429, 0)
    ordre = all(rangs == list(range(1, CAPACITE + 1)) for _statuts, rangs in par_seance)
    attendu_attente = PERSONNES - CAPACITE
    mesure = latences(latences_ms)

    ouvert = latences([duree_ms for _statut, duree_ms in au_rythme])
    statuts_ouverts = Counter(statut for statut, _ms in au_rythme)
    confirmees_ouvertes = par_seance_ouverte[0].get("confirmee", 0)
    resultat.ajouter(
        f"Arrivées réalistes : {PERSONNES} personnes en {FENETRE_S} s (Poisson) sur une séance de {CAPACITE} places : "
        "réponses",
        ", ".join(f"{statut} × {n}" for statut, n in sorted(statuts_ouverts.items(), key=str)),
        "302 partout",
        set(statuts_ouverts) == {302},
    )
    resultat.ajouter(
        "Arrivées réalistes : confirmées / en attente",
        f"{confirmees_ouvertes} / {par_seance_ouverte[0].get('attente', 0)}",
        f"{CAPACITE} / {PERSONNES - CAPACITE}",
        confirmees_ouvertes == CAPACITE and par_seance_ouverte[0].get("attente", 0) == PERSONNES - CAPACITE,
    )
    resultat.ajouter("Arrivées réalistes : POST p50", ms(ouvert["p50"]))
    resultat.ajouter(
        "Arrivées réalistes : POST p95", ms(ouvert["p95"]), f"< {CIBLE_P95_MS} ms", ouvert["p95"] < CIBLE_P95_MS
    )
    resultat.ajouter("Arrivées réalistes : POST p99", ms(ouvert["p99"]))
    resultat.ajouter("Rafale : séances × personnes", f"{NB_SEANCES} × {PERSONNES} ({len(latences_ms)} POST)")
    resultat.ajouter("surréservation (confirmées − places, pire séance)", surbooking, "0", surbooking == 0)
    resultat.ajouter(
        "confirmées par séance", ", ".join(map(str, confirmees)), f"{CAPACITE} partout", set(confirmees) == {CAPACITE}
    )
    resultat.ajouter(
        "en liste d'attente par séance",
        ", ".join(map(str, attente)),
        f"{attendu_attente} partout",
        set(attente) == {attendu_attente},
    )
    resultat.ajouter("places données aux 12 premiers rangs", "oui" if ordre else "non", "oui", ordre)
    resultat.ajouter(
        "réponses", ", ".join(f"{statut} × {n}" for statut, n in sorted(statuts.items(), key=str)), "302 partout"
    )
    resultat.ajouter("erreurs 5xx ou réseau", erreurs_5xx, "0", erreurs_5xx == 0)
    resultat.ajouter("refus 429 (une adresse par personne)", refus_429, "0", refus_429 == 0)
    resultat.ajouter(
        f"POST seul, sans concurrence (p50 / p95 sur {SEULES})", f"{ms(seules['p50'])} / {ms(seules['p95'])}"
    )
    resultat.ajouter("Rafale : POST p50", ms(mesure["p50"]))
    resultat.ajouter("Rafale : POST p95 (information : file d'attente de 200 POST simultanés)", ms(mesure["p95"]))
    resultat.ajouter("Rafale : POST p99", ms(mesure["p99"]))
    resultat.ajouter(
        "durée d'une rafale (moyenne)",
        f"{sum(durees) / len(durees):.2f} s, soit {PERSONNES * len(durees) / sum(durees):.0f} inscriptions/s",
    )
    resultat.ajouter("requêtes SQL d'un POST d'inscription (dans le processus)", comptes["post"])
    resultat.ajouter("requêtes SQL du formulaire (GET, dans le processus)", comptes["get"])
    resultat.noter(
        f"gunicorn, 3 workers synchrones, sur {settings.DATABASES['default']['NAME']} ; courtier Celery {BROKER} "
        "sans worker : la requête écrit les e-mails dans la boîte d'envoi et publie seulement le relais, comme en "
        "production (sans courtier, le relais tournerait dans la requête)."
    )
    resultat.noter(
        "Chaque personne a sa session HTTP, son e-mail et son adresse (X-Forwarded-For, un proxy de confiance) : la "
        f"limite de {RATE_LIMIT} POST par adresse en 10 minutes reste active. Seul le POST est chronométré (sans "
        f"suivre la redirection), lancé par {PERSONNES} fils libérés ensemble ; le client partage les 2 cœurs avec "
        "gunicorn."
    )
    resultat.noter(
        f"Arrivées réalistes : les {PERSONNES} mêmes personnes arrivent sur {FENETRE_S} s selon un processus de "
        "Poisson (instants tirés au hasard, boucle ouverte : chacune envoie à son instant, que les précédentes aient "
        "eu leur réponse ou non) ; c'est la charge visée par la cible de p95, une annonce de séance relayée à tout un "
        "territoire. La rafale, 200 POST libérés ensemble, éprouve la surréservation et donne le débit."
    )
    resultat.noter(
        "Rafale : les 3 workers traitent les POST un par un et le verrou de la séance sérialise les inscriptions : le "
        f"k-ième POST de la rafale attend les k − 1 précédents. Un p95 sous {CIBLE_P95_MS} ms pour {PERSONNES} POST "
        f"à la fois demanderait de servir {PERSONNES * 0.95:.0f} inscriptions en {CIBLE_P95_MS} ms, soit "
        f"{PERSONNES * 0.95 / CIBLE_P95_MS * 1000:.0f} par seconde ; le débit mesuré est dans la ligne « durée d'une "
        "rafale »."
    )
    if supprimees is None:
        resultat.noter("Séances et inscriptions gardées (BENCH_GARDER=1).")
    else:
        resultat.noter(
            f"Nettoyage : {len(seances)} séances, {supprimees} inscriptions, leur historique et leurs e-mails en "
            "attente supprimés."
        )
    return resultat


if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    print(executer().markdown())
