"""The summary tables give the same figures as the facts: on random activity logs (recorded, corrected, moved to
another month and deleted through the services), for every filter the pages and the API use; and they are kept
current by the update task, rebuilt by the nightly task and the command, at a grain coarser than the facts."""

import datetime
import random

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone

from accompagnements import choices as c
from accompagnements import services
from accompagnements import statistiques as figures
from accompagnements.models import Accompagnement, Activite, Beneficiaire
from accounts.models import Role
from reporting import resume
from reporting.models import (
    COLONNES,
    ResumeActivite,
    ResumeAjout,
    ResumeAMettreAJour,
    ResumeDepartement,
    ResumeDepartementThematique,
    ResumeThematique,
)
from tests import factories

D = datetime.date
THEMES = [code for code, _label in c.THEMATIQUES_GENERALES]
DEMARCHES = [code for code, _label in c.THEMATIQUES_ADMINISTRATIVES]


def _conseiller(structure):
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)


def _participants(rng, type_, beneficiaires):
    P = services.Participants
    if type_ == c.INDIVIDUEL:
        if beneficiaires and rng.random() < 0.4:
            return P(beneficiaires=[rng.choice(beneficiaires)])
        return P(
            anonyme={
                "genre": rng.choice(c.GENRE)[0],
                "tranche_age": rng.choice(c.TRANCHE_AGE)[0],
                "statut_social": rng.choice(c.STATUT_SOCIAL)[0],
            },
            deja_accompagne=rng.random() < 0.3,
        )
    anonymes = rng.randint(1, 9)
    genres = rng.randint(0, anonymes)
    return P(
        beneficiaires=rng.sample(beneficiaires, k=min(len(beneficiaires), rng.randint(0, 2))),
        anonymes=anonymes,
        repartition={"genre": {"feminin": genres, "masculin": anonymes - genres}},
    )


def _data(rng, communes, lieux):
    type_ = rng.choice([c.INDIVIDUEL, c.INDIVIDUEL, c.COLLECTIF])
    type_lieu = rng.choice([code for code, _label in c.TYPE_LIEU])
    themes = rng.sample(THEMES, k=rng.randint(1, 3))
    if rng.random() < 0.3:
        themes = [*themes, c.AIDE_DEMARCHES] if c.AIDE_DEMARCHES not in themes else themes
    if c.AIDE_DEMARCHES in themes:
        themes += rng.sample(DEMARCHES, k=rng.randint(1, 2))
    data = {
        "type": type_,
        "date": D(2025, 1, 1) + datetime.timedelta(days=rng.randint(0, 200)),
        "duree": rng.choice([15, 29, 30, 45, 59, 60, 90, 119, 120, 180]),
        "type_lieu": type_lieu,
        "lieu": rng.choice(lieux) if type_lieu == c.LIEU_ACTIVITE else None,
        # A remote activity may name a commune or not: it is counted without one either way.
        "commune": rng.choice([*communes, None] if type_lieu == c.A_DISTANCE else communes),
        "thematiques": themes,
        "materiel": ["ordinateur"],
    }
    if type_ == c.INDIVIDUEL:
        data["autonomie"] = "autonome"
    else:
        data.update(titre_atelier="Atelier", niveau="debutant")
    return data


def _random_log(seed, *, mise_a_jour_en_cours=False):
    """Three conseillers of two structures, about sixty activities over seven months: recorded, some corrected
    (some to another month), some deleted; with followed people met several times. ``mise_a_jour_en_cours``: the
    summaries are updated after the first thirty, so that the corrections and deletions hit both activities already
    added (their slices are marked) and activities still queued (nothing is marked)."""
    rng = random.Random(seed)
    structures = [factories.StructureFactory(), factories.StructureFactory()]
    # Two communes of Haute-Garonne, one of the Tarn: the figures of a département and of the nation differ.
    communes = [factories.CommuneFactory(), factories.CommuneFactory(), factories.CommuneFactory(departement="81")]
    lieux = [factories.LieuFactory(structure=structures[0])]
    conseillers = [_conseiller(structures[0]), _conseiller(structures[0]), _conseiller(structures[1])]
    suivis = {
        conseiller.pk: [
            Beneficiaire.objects.create(
                conseiller=conseiller,
                prenom=f"P{i}",
                nom=f"N{i}",
                consentement_le=timezone.now(),
                genre=rng.choice(c.GENRE)[0],
            )
            for i in range(3)
        ]
        for conseiller in conseillers
    }
    activites = []
    for numero in range(60):
        if mise_a_jour_en_cours and numero == 30:
            resume.mettre_a_jour()
        conseiller = rng.choice(conseillers)
        data = _data(rng, communes, lieux)
        activite = services.activite_create(
            by=conseiller.user,
            data=data,
            participants=_participants(rng, data["type"], suivis[conseiller.pk]),
        )
        activites.append((conseiller, activite))
    for conseiller, activite in rng.sample(activites, k=10):
        data = _data(rng, communes, lieux)
        services.activite_update(
            activite=activite,
            by=conseiller.user,
            data=data,
            participants=_participants(rng, data["type"], suivis[conseiller.pk]),
        )
    for conseiller, activite in rng.sample(activites, k=6):
        activite.refresh_from_db()
        if activite.supprimee_le is None:
            services.activite_delete(activite=activite, by=conseiller.user)
    return {"structures": structures, "communes": communes, "conseillers": conseillers}


def _canon(stats):
    """Everything a page or the API shows of a Statistiques."""
    return {
        "period": (stats.start, stats.end),
        "chiffres": stats.chiffres,
        "figures": {
            figure.key: [(ligne.code, ligne.label, ligne.value) for ligne in figure.lignes] for figure in stats.figures
        },  # fmt: skip
    }


def _raw(du, au, **filtres):
    activites = Activite.objects.actives()
    if "conseillers" in filtres:
        activites = activites.filter(conseiller__in=filtres["conseillers"])
    if "structures" in filtres:
        activites = activites.filter(structure__in=filtres["structures"])
    if "communes" in filtres:
        activites = activites.filter(commune__in=filtres["communes"]).exclude(type_lieu=c.A_DISTANCE)
    if "departement" in filtres:
        activites = activites.filter(commune__departement=filtres["departement"]).exclude(type_lieu=c.A_DISTANCE)
    if "thematique" in filtres:
        activites = activites.filter(thematiques_rows__thematique=filtres["thematique"])
    if "type" in filtres:
        activites = activites.filter(type=filtres["type"])
    return activites, figures.compute(activites, du, au)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_give_the_figures_of_the_facts_for_every_filter(db, seed):
    log = _random_log(seed)
    resume.mettre_a_jour()  # what the task does after the commits
    assert not ResumeAMettreAJour.objects.exists()
    conseiller, other = log["conseillers"][0], log["conseillers"][2]
    cases = [
        {},
        {"conseillers": [conseiller.pk]},
        {"structures": [log["structures"][1].pk]},
        {"communes": [log["communes"][0].pk]},
        {"thematique": "email"},
        {"thematique": c.AIDE_DEMARCHES},
        {"type": c.COLLECTIF},
        {"type": c.INDIVIDUEL, "conseillers": [other.pk]},
        # Without conseiller, structure or commune: read from the rows by département.
        {"departement": "31"},
        {"departement": "81", "thematique": "email"},
        {"departement": "31", "type": c.COLLECTIF},
        {"departement": "81", "structures": [log["structures"][0].pk]},
        {"thematique": "email", "type": c.INDIVIDUEL},
    ]
    for du, au in [(D(2025, 1, 1), D(2025, 12, 31)), (D(2025, 3, 1), D(2025, 4, 30)), (D(2025, 2, 1), D(2025, 2, 28))]:
        for filtres in cases:
            activites, attendu = _raw(du, au, **filtres)
            assert _canon(resume.statistiques(du, au, **filtres)) == _canon(attendu), (du, au, filtres)
            suivis = (
                Accompagnement.objects.filter(
                    activite__in=activites.filter(date__gte=du, date__lte=au).values("pk"), beneficiaire__isnull=False
                )
                .aggregate(n=Count("beneficiaire", distinct=True))["n"]
            )  # fmt: skip
            assert resume.beneficiaires_suivis(du, au, **filtres) == suivis, (du, au, filtres)


def _rows(model, instances=None):
    """Every row of a summary table as comparable tuples (without the primary key)."""
    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    if instances is None:
        instances = model.objects.all()
    return sorted(tuple(str(getattr(row, name)) for name in names) for row in instances)


@pytest.mark.parametrize("seed", [5, 6])
def test_postgresql_writes_the_same_summary_rows_as_the_python_computation(services, seed):
    """The nightly rebuild and the update compute the rows inside PostgreSQL: row for row, every summary table
    holds what ``resume.calculer`` computes from the facts in Python."""
    _random_log(seed)
    # One activity without any thématique row (written in bulk): counted under no thématique, its people under ''.
    nue = Activite.objects.actives().filter(accompagnements__beneficiaire__isnull=False).first()
    nue.thematiques_rows.all().delete()
    resume.reconstruire()
    attendu = resume.calculer(Activite.objects.all())
    for model in resume.MODELES:
        assert _rows(model) == _rows(model, attendu[model]), model.__name__
        assert model.objects.exists(), model.__name__


def _individuelle(**changes):
    """The data of an individual session at home on 10/05/2025 (``changes`` override them)."""
    return {
        "type": c.INDIVIDUEL,
        "date": D(2025, 5, 10),
        "duree": 30,
        "type_lieu": c.DOMICILE,
        "thematiques": ["email"],
        "materiel": ["ordinateur"],
        "autonomie": "autonome",
        **changes,
    }


def _par_grain(model):
    """The rows of a summary table summed by grain (the additions of new activities write rows of their own, which
    the nightly rebuild folds into one), as comparable tuples."""
    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    grain = [name for name in names if name not in COLONNES]
    mesures = [name for name in names if name in COLONNES]
    if not mesures:
        return _rows(model)
    lignes = model.objects.order_by().values(*grain).annotate(**{f"s_{name}": Sum(name) for name in mesures})
    return sorted(tuple(str(ligne[name]) for name in (*grain, *(f"s_{m}" for m in mesures))) for ligne in lignes)


def _toutes_les_lignes():
    return {model: _par_grain(model) for model in (*resume.MODELES, *resume.CUMULS)}


@pytest.mark.parametrize("seed", [8, 9])
def test_the_update_writes_the_rows_a_rebuild_writes(db, seed):
    """New activities are added to the summaries (on PostgreSQL), changed ones have their slices recomputed, in any
    mix (created then corrected, moved or deleted before the update): grain by grain, every summary table and the
    rows by département hold what a rebuild from the facts writes; no activity is counted twice."""
    _random_log(seed, mise_a_jour_en_cours=True)
    assert ResumeAjout.objects.exists() and ResumeAMettreAJour.objects.exists()
    resume.mettre_a_jour()
    assert not ResumeAjout.objects.exists() and not ResumeAMettreAJour.objects.exists()
    apres_mise_a_jour = _toutes_les_lignes()
    resume.reconstruire()
    assert _toutes_les_lignes() == apres_mise_a_jour
    # More activities on rows that exist (their figures are added) and on new rows, after the first update.
    log = _random_log(seed + 100, mise_a_jour_en_cours=True)
    resume.mettre_a_jour()
    apres_mise_a_jour = _toutes_les_lignes()
    resume.reconstruire()
    assert _toutes_les_lignes() == apres_mise_a_jour
    assert all(apres_mise_a_jour.values())
    assert log


def test_a_slice_recomputed_takes_its_new_activities_off_the_queue(db):
    """A new activity whose slice is recomputed (here, for another activity of the slice, corrected before the
    update ran) is counted by the recomputation only."""
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    data = _individuelle(commune=structure.commune)
    activite = services.activite_create(by=conseiller.user, data=data)
    resume.mettre_a_jour()
    services.activite_create(by=conseiller.user, data=data)
    services.activite_update(activite=activite, by=conseiller.user, data={**data, "duree": 45})
    assert ResumeAjout.objects.count() == 1 and ResumeAMettreAJour.objects.count() == 1
    resume.mettre_a_jour()
    assert not ResumeAjout.objects.exists()
    chiffres = resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres
    assert (chiffres["activites"], chiffres["duree"]) == (2, 75)
    departement = resume.statistiques(D(2025, 5, 1), D(2025, 5, 31), departement=structure.commune.departement)
    assert (departement.chiffres["activites"], departement.chiffres["duree"]) == (2, 75)


@pytest.mark.usefixtures("services")
def test_new_activities_add_rows_of_their_own_that_a_recomputation_folds_into_one(db):
    """On PostgreSQL an update adds a row of its own for each grain its new activities fall in (no summary row is
    looked for and rewritten); the figures count every row; recomputing the slice, or the nightly rebuild, leaves
    one row per grain."""
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    data = _individuelle(commune=structure.commune)
    premiere = services.activite_create(by=conseiller.user, data=data)
    resume.mettre_a_jour()
    services.activite_create(by=conseiller.user, data={**data, "duree": 45})
    resume.mettre_a_jour()
    assert ResumeActivite.objects.count() == 2 and ResumeThematique.objects.count() == 2
    assert ResumeDepartement.objects.get().activites == 2  # one row by département, added to
    mai = resume.statistiques(D(2025, 5, 1), D(2025, 5, 31))
    assert (mai.chiffres["activites"], mai.chiffres["duree"]) == (2, 75)
    assert resume.statistiques(D(2025, 5, 1), D(2025, 5, 31), thematique="email").chiffres["activites"] == 2
    # A correction recomputes the slice: one row again.
    services.activite_update(activite=premiere, by=conseiller.user, data={**data, "duree": 60})
    resume.mettre_a_jour()
    assert list(ResumeActivite.objects.values_list("activites", "duree")) == [(2, 105)]
    services.activite_create(by=conseiller.user, data=data)
    resume.mettre_a_jour()
    assert ResumeActivite.objects.count() == 2
    resume.reconstruire()
    assert list(ResumeActivite.objects.values_list("activites", "duree")) == [(3, 135)]
    assert list(ResumeThematique.objects.values_list("thematique", "activites")) == [("email", 3)]


def test_an_activity_moved_to_another_departement_leaves_no_empty_row_behind(db):
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    albi = factories.CommuneFactory(code_insee="81004", nom="Albi", departement="81")
    data = _individuelle(commune=albi)
    activite = services.activite_create(by=conseiller.user, data=data)
    resume.mettre_a_jour()
    assert list(ResumeDepartement.objects.values_list("departement", "activites")) == [("81", 1)]
    services.activite_update(activite=activite, by=conseiller.user, data={**data, "commune": structure.commune})
    resume.mettre_a_jour()
    assert list(ResumeDepartement.objects.values_list("departement", "activites")) == [("31", 1)]
    assert list(ResumeDepartementThematique.objects.values_list("departement", "thematique")) == [("31", "email")]


def test_the_visibility_filter_of_the_pages_applies_to_the_summaries(db):
    log = _random_log(4)
    resume.mettre_a_jour()
    user = log["conseillers"][0].user
    vue = Q(conseiller__user=user) | Q(structure__in=[log["structures"][1].pk])
    activites = Activite.objects.actives().filter(vue)
    du, au = D(2025, 1, 1), D(2025, 12, 31)
    assert _canon(resume.statistiques(du, au, filtre=vue)) == _canon(figures.compute(activites, du, au))


def test_a_period_is_read_in_whole_months(db):
    du, au = resume.mois_entiers(D(2025, 3, 14), D(2025, 4, 2))
    assert (du, au) == (D(2025, 3, 1), D(2025, 4, 30))
    assert resume.mois_entiers(D(2024, 2, 29), D(2024, 2, 29)) == (D(2024, 2, 1), D(2024, 2, 29))


def test_summary_is_at_least_ten_times_coarser_than_the_facts(db):
    """One conseiller's month in one commune: 30 activities make one summary row per activity type."""
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    for day in range(1, 31):
        services.activite_create(
            by=conseiller.user,
            data={
                "type": c.INDIVIDUEL,
                "date": D(2025, 6, day),
                "duree": 30,
                "type_lieu": c.DOMICILE,
                "commune": structure.commune,
                "thematiques": ["email"],
                "materiel": ["ordinateur"],
                "autonomie": "autonome",
            },
            participants=services.Participants(anonyme={"genre": "feminin"}),
        )
    resume.mettre_a_jour()
    assert ResumeActivite.objects.count() * 10 <= Activite.objects.count()
    assert ResumeThematique.objects.count() * 10 <= Activite.objects.count()


def test_a_new_activity_is_added_a_change_marks_its_slice_and_the_update_takes_both(db):
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    data = {
        "type": c.INDIVIDUEL,
        "date": D(2025, 5, 10),
        "duree": 30,
        "type_lieu": c.A_DISTANCE,
        "commune": None,
        "thematiques": ["email"],
        "materiel": ["ordinateur"],
        "autonomie": "autonome",
    }
    activite = services.activite_create(by=conseiller.user, data=data)
    # A new activity is queued for its figures to be added; a change to it marks its slice.
    assert list(ResumeAjout.objects.values_list("activite", flat=True)) == [activite.pk]
    assert not ResumeAMettreAJour.objects.exists()
    assert resume.mettre_a_jour() == 1
    assert not ResumeAjout.objects.exists()
    assert resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres["activites"] == 1
    # Moved to June: both months are recomputed.
    services.activite_update(activite=activite, by=conseiller.user, data={**data, "date": D(2025, 6, 3)})
    assert set(ResumeAMettreAJour.objects.values_list("mois", flat=True)) == {D(2025, 5, 1), D(2025, 6, 1)}
    assert resume.mettre_a_jour() == 2
    assert resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres["activites"] == 0
    assert resume.statistiques(D(2025, 6, 1), D(2025, 6, 30)).chiffres["activites"] == 1
    services.activite_delete(activite=activite, by=conseiller.user)
    resume.mettre_a_jour()
    assert resume.statistiques(D(2025, 6, 1), D(2025, 6, 30)).chiffres["activites"] == 0
    assert resume.mettre_a_jour() == 0  # nothing left: running again does nothing


def test_a_change_to_an_activity_still_queued_marks_nothing_and_it_is_added_as_changed(db):
    """Its figures are not in the summaries yet: the run that adds it reads it as changed (moved to June, longer),
    with no slice recomputed."""
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    data = _individuelle(commune=structure.commune)
    activite = services.activite_create(by=conseiller.user, data=data)
    services.activite_update(activite=activite, by=conseiller.user, data={**data, "date": D(2025, 6, 3), "duree": 45})
    assert not ResumeAMettreAJour.objects.exists()
    assert list(ResumeAjout.objects.values_list("activite", flat=True)) == [activite.pk]
    resume.mettre_a_jour()
    assert resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres["activites"] == 0
    juin = resume.statistiques(D(2025, 6, 1), D(2025, 6, 30)).chiffres
    assert (juin["activites"], juin["duree"]) == (1, 45)
    # Once added, a change marks its slice again.
    services.activite_update(activite=activite, by=conseiller.user, data={**data, "date": D(2025, 6, 3)})
    assert list(ResumeAMettreAJour.objects.values_list("mois", flat=True)) == [D(2025, 6, 1)]


def _tenir_la_file(activite_id, tenue, relachee):
    """In a transaction of its own (another connection, as a request changing the activity): hold its queue row
    until ``relachee`` is set."""
    from django.db import connection, transaction

    try:
        with transaction.atomic():
            assert resume.en_file(activite_id)
            tenue.set()
            relachee.wait(30)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("services")
def test_a_run_leaves_a_queue_row_held_by_a_change_under_way_for_the_next_run(monkeypatch):
    """A run neither waits for a change under way nor counts the activity it changes: it adds the other new
    activities, recomputes the marked slice without it, and the next run, after that change, adds it."""
    import threading

    monkeypatch.setattr(resume, "kick", lambda: None)  # the runs are started by the test only
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    data = _individuelle(commune=structure.commune)
    tenue_id = services.activite_create(by=conseiller.user, data=data).pk
    autre = services.activite_create(by=conseiller.user, data={**data, "duree": 60})
    tenue, relachee = threading.Event(), threading.Event()
    fil = threading.Thread(target=_tenir_la_file, args=(tenue_id, tenue, relachee))
    fil.start()
    try:
        assert tenue.wait(30)
        assert resume.mettre_a_jour() == 1  # the other one only, at once
        assert list(ResumeAjout.objects.values_list("activite", flat=True)) == [tenue_id]
        mai = resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres
        assert (mai["activites"], mai["duree"]) == (1, 60)
        # The slice recomputed (the other activity corrected) leaves the held one out, and queued.
        services.activite_update(activite=autre, by=conseiller.user, data={**data, "duree": 90})
        assert resume.mettre_a_jour() == 1
        mai = resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres
        assert (mai["activites"], mai["duree"]) == (1, 90)
        assert ResumeAjout.objects.filter(activite_id=tenue_id).exists()
    finally:
        relachee.set()
        fil.join(30)
    assert resume.mettre_a_jour() == 1
    mai = resume.statistiques(D(2025, 5, 1), D(2025, 5, 31)).chiffres
    assert (mai["activites"], mai["duree"]) == (2, 120)
    assert not ResumeAjout.objects.exists()


def test_the_update_runs_after_commit_without_a_broker(db, django_capture_on_commit_callbacks):
    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.activite_create(
            by=conseiller.user,
            data={
                "type": c.INDIVIDUEL,
                "date": D(2025, 5, 10),
                "duree": 30,
                "type_lieu": c.A_DISTANCE,
                "thematiques": ["email"],
                "materiel": ["ordinateur"],
                "autonomie": "autonome",
            },
        )
    assert len(callbacks) == 1  # one update per transaction, however many rows it changed
    assert not ResumeAMettreAJour.objects.exists()
    assert ResumeActivite.objects.get().activites == 1


def test_nightly_rebuild_repairs_what_an_update_missed(db):
    log = _random_log(5)
    resume.mettre_a_jour()
    attendu = _canon(resume.statistiques(D(2025, 1, 1), D(2025, 12, 31)))
    # A row damaged or lost (a bug, a restore): the rebuild recomputes everything from the facts.
    ResumeActivite.objects.filter(pk=ResumeActivite.objects.first().pk).delete()
    ResumeThematique.objects.update(activites=0)
    assert _canon(resume.statistiques(D(2025, 1, 1), D(2025, 12, 31))) != attendu
    mois, lignes = resume.reconstruire()
    assert mois == 7 + 1 - 1 or mois >= 7  # January to July at least (corrections may move activities)
    assert lignes == ResumeActivite.objects.count()
    assert _canon(resume.statistiques(D(2025, 1, 1), D(2025, 12, 31))) == attendu
    assert log


def test_the_nightly_task_rebuilds_the_last_months_and_the_weekly_one_everything(db, settings):
    """Every night only the months still being logged are rebuilt (minutes of work at national scale otherwise);
    every week the whole history."""
    from reporting.tasks import resumes_reconstruire

    structure = factories.StructureFactory()
    conseiller = _conseiller(structure)
    aujourd_hui = timezone.localdate()
    ancien = aujourd_hui.replace(day=1) - datetime.timedelta(days=200)
    for jour in (ancien, aujourd_hui):
        services.activite_create(
            by=conseiller.user,
            data={
                "type": c.INDIVIDUEL,
                "date": jour,
                "duree": 30,
                "type_lieu": c.A_DISTANCE,
                "thematiques": ["email"],
                "materiel": ["ordinateur"],
                "autonomie": "autonome",
            },
            participants=services.Participants(anonyme={}),
        )
    resume.mettre_a_jour()
    ResumeActivite.objects.update(activites=0)  # damaged rows, old and recent
    nuit = settings.CELERY_BEAT_SCHEDULE["reporting-resumes-reconstruire"]
    assert nuit["kwargs"] == {"derniers_mois": settings.RESUMES_NUIT_MOIS} and settings.RESUMES_NUIT_MOIS == 3
    resumes_reconstruire(**nuit["kwargs"])
    assert ResumeActivite.objects.get(mois=aujourd_hui.replace(day=1)).activites == 1
    assert ResumeActivite.objects.get(mois=ancien.replace(day=1)).activites == 0  # older than three months
    semaine = settings.CELERY_BEAT_SCHEDULE["reporting-resumes-reconstruire-tout"]
    assert "kwargs" not in semaine and semaine["schedule"].day_of_week == {0}
    resumes_reconstruire()
    assert ResumeActivite.objects.get(mois=ancien.replace(day=1)).activites == 1


def test_the_last_months_start_on_the_first_day_of_the_oldest():
    assert resume.debut_des_derniers_mois(3, today=D(2026, 3, 31)) == D(2026, 1, 1)
    assert resume.debut_des_derniers_mois(1, today=D(2026, 3, 31)) == D(2026, 3, 1)
    assert resume.debut_des_derniers_mois(2, today=D(2026, 1, 15)) == D(2025, 12, 1)


def test_rebuild_command_rebuilds_a_period_and_refuses_bad_months(db, capsys):
    _random_log(6)
    ResumeActivite.objects.all().delete()
    call_command("resumes_reconstruire", "--du", "2025-02", "--au", "2025-03")
    assert "2 mois reconstruit(s)" in capsys.readouterr().out
    assert set(ResumeActivite.objects.values_list("mois", flat=True)) <= {D(2025, 2, 1), D(2025, 3, 1)}
    with pytest.raises(CommandError, match="Mois invalide"):
        call_command("resumes_reconstruire", "--du", "2025-13")
    with pytest.raises(CommandError, match="précéder"):
        call_command("resumes_reconstruire", "--du", "2025-04", "--au", "2025-03")


def test_reading_the_figures_takes_three_queries_whatever_the_data(db, django_assert_num_queries):
    _random_log(7)
    resume.mettre_a_jour()
    with django_assert_num_queries(3):
        resume.statistiques(D(2025, 1, 1), D(2025, 12, 31), structures=[1])
    with django_assert_num_queries(3):
        resume.statistiques(D(2025, 1, 1), D(2025, 12, 31), thematique="email")
