"""Scenario: the summaries at national scale. The rebuild of the summary tables (the nightly window and the whole
history), the update of one day's changes, then the territorial dashboard and the statistics API for one
département and for the nation, read from the summaries: latency percentiles of sequential requests served
in-process (no network, no concurrency: the server time of one person's request) and their SQL queries."""

import datetime
import os
import secrets
import time

from django.db.models import Count, Max
from django.test import Client
from django.utils import timezone

from benchmarks.outils import Resultat, latences, ms, requetes_comptees
from benchmarks.scenarios._commun import sans_publication, statiques

STAFF = "pilotage@bench.example"
REPETITIONS = 15
CIBLE_MS = 300
TABLEAU = "/gestion/pilotage/"
API = "/api/v1/statistiques/"


def nombre(n):
    return f"{n:,}".replace(",", "\u202f")


def pilote():
    """The staff user of the dataset, with the TOTP that staff must have set up to reach the dashboard."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from allauth.mfa.utils import is_mfa_enabled

    from accounts.models import User

    staff = User.objects.get(email=STAFF)
    if not is_mfa_enabled(staff):
        TOTP.activate(staff, generate_totp_secret())
    return staff


def _chrono(fonction):
    debut = time.perf_counter()
    resultat = fonction()
    return resultat, time.perf_counter() - debut


def reconstruire(resultat):
    from django.conf import settings

    from accompagnements.models import Activite
    from reporting import resume
    from reporting.models import ResumeActivite, ResumeThematique

    if os.environ.get("BENCH_TOUT_RECONSTRUIRE"):
        (mois, lignes), secondes = _chrono(lambda: resume.reconstruire())
        resultat.ajouter(
            f"Reconstruction de tout l'historique ({mois} mois, hebdomadaire)", f"{secondes:.1f} s", "(information)"
        )
    else:
        lignes = ResumeActivite.objects.count()
        resultat.noter("Reconstruction de tout l'historique non mesurée (BENCH_TOUT_RECONSTRUIRE=1 pour la mesurer).")
    activites = Activite.objects.count()
    resultat.noter(
        f"Résumés : {nombre(lignes)} lignes d'activité pour {nombre(activites)} activités (grain "
        f"{activites / max(lignes, 1):.1f}× plus grossier que les faits), {nombre(ResumeThematique.objects.count())} "
        "lignes par thématique."
    )
    nuit = settings.RESUMES_NUIT_MOIS
    dernier = Activite.objects.aggregate(d=Max("date"))["d"]
    du = resume.debut_des_derniers_mois(nuit, today=dernier)
    (mois, _lignes), secondes = _chrono(lambda: resume.reconstruire(du, dernier))
    resultat.ajouter(
        f"Reconstruction nocturne des résumés ({mois} derniers mois)", f"{secondes:.1f} s", "< 60 s", secondes < 60
    )
    return ResumeActivite.objects.count()


def journee(resultat):
    """One day's changes: every (month, conseiller) slice of the last day's activities marked, then updated."""
    from accompagnements.models import Activite
    from reporting import resume
    from reporting.models import ResumeAMettreAJour

    avant = ResumeAMettreAJour.objects.count()
    if avant:  # e.g. left by a migration that marks every slice: they would be counted in the day's figure
        resultat.noter(f"{nombre(avant)} tranches étaient déjà marquées : la mesure de la journée les inclut.")
    jour = Activite.objects.aggregate(d=Max("date"))["d"]
    du_jour = Activite.objects.filter(date=jour)
    conseillers = list(du_jour.order_by().values_list("conseiller_id", flat=True).distinct())
    ResumeAMettreAJour.objects.bulk_create(
        [ResumeAMettreAJour(mois=jour.replace(day=1), conseiller_id=pk) for pk in conseillers],
        ignore_conflicts=True,
    )
    recalculees = Activite.objects.filter(conseiller__in=conseillers, date__gte=jour.replace(day=1), date__lte=jour)

    def passer():
        total = 0
        while n := resume.mettre_a_jour():
            total += n
        return total

    tranches, secondes = _chrono(passer)
    resultat.ajouter(
        f"Mise à jour d'une journée ({nombre(du_jour.count())} activités du {jour:%d/%m/%Y}, {nombre(tranches)} "
        f"tranches conseiller × mois, {nombre(recalculees.count())} activités recalculées)",
        f"{secondes:.1f} s",
        "< 1 s",
        secondes < 1,
    )


def _mesurer(resultat, libelle, client, url, **entetes):
    reponse = client.get(url, **entetes)
    if reponse.status_code != 200:
        resultat.ajouter(f"{libelle} : statut", reponse.status_code, "200", False)
        return
    with requetes_comptees() as requetes:
        client.get(url, **entetes)
    requetes = requetes.captured_queries
    durees = []
    for _ in range(REPETITIONS):
        debut = time.perf_counter()
        client.get(url, **entetes)
        durees.append((time.perf_counter() - debut) * 1000)
    chiffres = latences(durees)
    resultat.ajouter(
        f"{libelle} : p50 / p95 ({chiffres['n']} requêtes, {len(requetes)} requêtes SQL)",
        f"{ms(chiffres['p50'])} / {ms(chiffres['p95'])}",
        f"p95 < {CIBLE_MS} ms (objectif < 50 ms)",
        chiffres["p95"] < CIBLE_MS,
    )


def _jeton():
    from oauth2_provider.models import AccessToken

    from accounts.models import User
    from partenaires.services import client_create
    from structures.models import Structure

    staff = User.objects.get(email=STAFF)
    client, _secret = client_create(
        structure=Structure.objects.order_by("pk").first(),
        nom="Banc d'essai statistiques",
        scopes_list=["statistiques:read"],
        by=staff,
    )
    token = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        application=client.application,
        token=token,
        expires=timezone.now() + datetime.timedelta(hours=1),
        scope="statistiques:read",
    )
    return client, token


def lectures(resultat):
    from accompagnements.models import Activite
    from partenaires.services import client_revoke

    statiques()
    departement = (
        Activite.objects.exclude(commune=None)
        .values("commune__departement")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()["commune__departement"]
    )
    filtre = f"departement={departement}"
    resultat.noter(f"Département mesuré : {departement} (celui qui compte le plus d'activités).")
    staff = pilote()
    navigateur = Client(HTTP_HOST="127.0.0.1")
    navigateur.force_login(staff)
    partenaire, token = _jeton()
    api = Client(HTTP_HOST="127.0.0.1")
    entetes = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    try:
        with sans_publication():
            _mesurer(resultat, "Tableau de bord, nation (12 derniers mois)", navigateur, TABLEAU)
            _mesurer(resultat, f"Tableau de bord, département {departement}", navigateur, f"{TABLEAU}?{filtre}")
            _mesurer(resultat, "API statistiques, nation", api, API, **entetes)
            _mesurer(resultat, f"API statistiques, département {departement}", api, f"{API}?{filtre}", **entetes)
            _mesurer(resultat, "API statistiques, nation, une thématique", api, f"{API}?thematique=email", **entetes)
    finally:
        client_revoke(client=partenaire, by=staff)


def executer():
    resultat = Resultat("Tableaux de bord, statistiques et résumés")
    reconstruire(resultat)
    journee(resultat)
    lectures(resultat)
    return resultat


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    django.setup()
    print(executer().markdown())
