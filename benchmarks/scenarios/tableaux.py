"""Scenario: the summaries at national scale. The rebuild of the summary tables (the nightly window and the whole
history), the update of one day's changes, then the territorial dashboard and the statistics API for one
département and for the nation, read from the summaries: latency percentiles of sequential requests served
in-process (no network, no concurrency: the server time of one person's request) and their SQL queries."""

import datetime
import os
import secrets
import time
from unittest import mock

from django.db.models import Count, Max
from django.test import Client
from django.utils import timezone

from benchmarks.outils import Resultat, latences, ms, requetes_comptees
from benchmarks.scenarios._commun import point_de_controle, sans_publication, statiques

STAFF = "pilotage@bench.example"
REPETITIONS = 30  # sequential requests per reading: the p95 of 30 is not just the slowest one
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
    _tables, secondes_vacuum = _chrono(resume.entretenir)
    total = secondes + secondes_vacuum
    resultat.ajouter(
        f"Reconstruction nocturne des résumés ({mois} derniers mois), puis VACUUM (ANALYZE) de leurs tables "
        f"({secondes:.1f} s + {secondes_vacuum:.1f} s) : la tâche de la nuit",
        f"{total:.1f} s",
        "< 60 s",
        total < 60,
    )
    return ResumeActivite.objects.count()


# Corrections in a day, as a share of the day's new activities (an activity corrected after it was recorded).
PART_CORRIGEE = 0.01
# The day's activities arrive over ten working hours; the first hour of minutes is measured one by one.
MINUTES_OUVREES = 600
MINUTES_MESUREES = 60


def _totaux(mois):
    from django.db.models import Sum

    from reporting.models import ResumeActivite, ResumeBeneficiaire, ResumeDepartement, ResumeDepartementThematique

    mesures = {name: Sum(name) for name in ("activites", "accompagnements", "duree", "nouveaux", "avec_email")}
    return (
        ResumeActivite.objects.filter(mois=mois).aggregate(**mesures),
        ResumeDepartement.objects.filter(mois=mois).aggregate(**mesures),
        ResumeDepartementThematique.objects.filter(mois=mois).aggregate(**mesures),
        ResumeBeneficiaire.objects.filter(mois=mois).count(),
    )


def journee(resultat):
    """One day of the programme, caught up in one pass: the last day's activities arrive as new ones (queued, as the
    form, the API and the import queue them) and 1 % of them are corrected before the update runs (through the
    signal a correction sends: an activity still queued marks no slice, it is added as corrected); the update task
    takes them in one pass. Then 1 % of the day's activities are corrected after being added: their slices are
    marked and recomputed by the next run. The month is first summarised without that day and vacuumed, as the
    nightly task leaves it (not timed), and its totals are checked against the full month's afterwards."""
    from django.db import connection, transaction

    from accompagnements.models import Activite
    from reporting import resume, signals
    from reporting.models import ResumeAMettreAJour

    avant = ResumeAMettreAJour.objects.count()
    if avant:  # e.g. left by a migration that marks every slice: they would be counted in the day's figure
        resultat.noter(f"{nombre(avant)} tranches étaient déjà marquées : la mesure de la journée les inclut.")
    jour = Activite.objects.aggregate(d=Max("date"))["d"]
    mois = jour.replace(day=1)
    attendu = _totaux(mois)
    with transaction.atomic():
        resume._reconstruire_mois(mois, jusqu_au=jour)
    resume.entretenir()  # as the nightly task leaves the summaries
    du_jour = Activite.objects.filter(date=jour)
    table = resume.ResumeAjout._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"insert into {table} (activite_id) select id from {Activite._meta.db_table} where date = %s", [jour]
        )
    nouvelles = du_jour.count()
    part = max(1, int(nouvelles * PART_CORRIGEE))

    def corriger():
        """What saving a correction does to the summaries (the facts are left as they are): the signal's handler,
        without the update it starts after commit (the next ``passer`` is the one measured)."""
        with mock.patch.object(resume, "kick", lambda: None), transaction.atomic():
            for activite in du_jour.order_by("?")[:part]:
                signals._activite_changed(Activite, activite)

    def passer():
        total = 0
        while n := resume.mettre_a_jour():
            total += n
        return total

    corriger()
    marquees = ResumeAMettreAJour.objects.count()
    _pris, secondes = _chrono(passer)
    obtenu = _totaux(mois)
    juste = obtenu == attendu
    resultat.ajouter(
        f"Mise à jour d'une journée en un passage : {nombre(nouvelles)} activités nouvelles du {jour:%d/%m/%Y}, "
        f"dont {nombre(part)} corrigées avant le passage ({PART_CORRIGEE:.0%} ; {nombre(marquees)} tranche à "
        "recalculer), ajoutées aux résumés",
        f"{secondes * 1000:.0f} ms",
        "< 1 s",
        secondes < 1 and juste and not marquees,
    )
    corriger()
    tranches, secondes_corrections = _chrono(passer)
    resultat.ajouter(
        f"Puis {nombre(part)} activités du jour corrigées après leur ajout ({PART_CORRIGEE:.0%}) : "
        f"{nombre(tranches)} tranches conseiller × mois recalculées",
        f"{secondes_corrections * 1000:.0f} ms",
        "< 1 s",
        secondes_corrections < 1 and _totaux(mois) == attendu,
    )
    resultat.ajouter(
        "Les deux passages l'un après l'autre (ajouts, puis corrections d'activités déjà ajoutées)",
        f"{(secondes + secondes_corrections) * 1000:.0f} ms",
        "(information)",
    )
    # As the day really goes: about 20 new activities a minute over ten hours, each minute's taken by one run.
    with transaction.atomic():
        resume._reconstruire_mois(mois, jusqu_au=jour)
    resume.entretenir()
    ids = list(du_jour.order_by("created_at", "pk").values_list("pk", flat=True))
    par_minute = max(1, round(len(ids) / MINUTES_OUVREES))
    durees = []
    for debut in range(0, min(len(ids), par_minute * MINUTES_MESUREES), par_minute):
        resume.ResumeAjout.objects.bulk_create(
            [resume.ResumeAjout(activite_id=pk) for pk in ids[debut : debut + par_minute]]
        )
        _n, secondes_lot = _chrono(passer)
        durees.append(secondes_lot * 1000)
    resume.ResumeAjout.objects.bulk_create(
        [resume.ResumeAjout(activite_id=pk) for pk in ids[par_minute * MINUTES_MESUREES :]], ignore_conflicts=True
    )
    passer()
    par_lot = latences(durees)
    resultat.ajouter(
        f"Au fil de la journée : une mise à jour par minute de {nombre(par_minute)} activités nouvelles "
        f"({len(durees)} minutes) : p50 / p95",
        f"{ms(par_lot['p50'])} / {ms(par_lot['p95'])}",
        "(information)",
    )
    juste = juste and _totaux(mois) == attendu
    resultat.noter(
        "Totaux du mois après la mise à jour (activités, accompagnements, durée, nouveaux, thématique « email », "
        "bénéficiaires suivis ; résumés détaillés et par département) : "
        + ("identiques à ceux de la reconstruction du mois entier." if juste else f"DIFFÉRENTS : {obtenu} ≠ {attendu}.")
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
    from sicoval_numerique.memoire import figer

    statiques()
    resultat.noter(
        "Point de contrôle avant les lectures (les écritures de la nuit et de la journée sur disque) : "
        + ("fait." if point_de_controle() else "impossible (droits), les lectures le subissent peut-être.")
    )
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
    # What a gunicorn worker does once it has loaded the application (gunicorn.conf.py).
    resultat.noter(
        f"Objets figés hors du ramasse-miettes après le chargement, comme dans un worker : {nombre(figer())}."
    )
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
