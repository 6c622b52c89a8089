"""The partner API's territorial statistics (``/api/v1/statistiques/``), through the URL with real tokens: figures
equal to direct counts on random data, filters, the hiding of small counts for ordinary clients (and not for detailed
ones), authentication and scope, refused parameters (400, never 500), the schema, and a fixed query budget."""

import datetime
import random
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.api.statistiques import EXEMPLE, masquer
from accompagnements.models import Accompagnement, Activite, ActiviteThematique, Beneficiaire
from accompagnements.selectors import default_period
from reporting import resume
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/statistiques/"
D = datetime.date
START, END = D(2024, 1, 1), D(2024, 6, 30)
PERIOD = {"du": START.isoformat(), "au": END.isoformat()}
SCOPE = ["statistiques:read"]
ADDITIVE = ("mois", "types", "types_lieu", "durees", "communes", "beneficiaires", "genres", "tranches_age", "statuts")
ATTRIBUTES = {
    "genres": ("genre", c.GENRE),
    "tranches_age": ("tranche_age", c.TRANCHE_AGE),
    "statuts": ("statut_social", c.STATUT_SOCIAL),
}


# --- Clients and data ------------------------------------------------------------------------------------------
@pytest.fixture
def partenaire(other_structure):
    """An ordinary partner client (a Département's system, say): small counts hidden."""
    return api_client_for(other_structure, SCOPE)[0]


@pytest.fixture
def detaille(structure):
    """A client with detailed statistics (granted by staff): every count shown."""
    return api_client_for(structure, SCOPE, statistiques_detaillees=True)[0]


def get(django_client, client_api, params=None):
    """The statistics, once the summaries are rebuilt: the tests write activities in bulk, as an import would, and
    the nightly rebuild (or ``resumes_reconstruire``) is what brings such writes into the summaries."""
    resume.reconstruire()
    return django_client.get(URL, params if params is not None else PERIOD, **bearer(client_api))


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def values(data, key):
    return {ligne["code"]: ligne["nombre"] for ligne in data["repartitions"][key]}


@pytest.fixture
def territoire(db):
    """Three structures in four communes, a place each, two conseillers each, and a few followed people."""
    communes = [factories.CommuneFactory(code_insee=f"31{100 + i}", nom=f"Commune {i}") for i in range(4)]
    structures = [factories.StructureFactory(commune=communes[i]) for i in range(3)]
    lieux = [factories.LieuFactory(structure=s, commune=s.commune) for s in structures]
    conseillers = [(factories.ConseillerFactory(), s) for s in structures for _ in range(2)]
    beneficiaires = {
        conseiller.pk: [
            Beneficiaire.objects.create(
                conseiller=conseiller, prenom=f"P{i}", nom=f"N{i}", consentement_le=timezone.now()
            )
            for i in range(4)
        ]
        for conseiller, _structure in conseillers
    }
    return {
        "communes": communes,
        "structures": structures,
        "lieux": lieux,
        "conseillers": conseillers,
        "beneficiaires": beneficiaires,
    }


def random_activities(territoire, count, *, seed=7, start=START, end=END):
    """``count`` random activities over the period and two months around it (one in ten deleted), with their
    accompaniment and thématique rows, written in bulk as the services would derive them."""
    rng = random.Random(seed)
    span = (end - start).days + 120
    generales = [code for code, _label in c.THEMATIQUES_GENERALES]
    administratives = sorted(c.CODES_ADMINISTRATIFS)
    rows, people = [], []
    for _ in range(count):
        conseiller, structure = rng.choice(territoire["conseillers"])
        collectif = rng.random() < 0.25
        type_lieu = rng.choice([code for code, _label in c.TYPE_LIEU])
        lieu = rng.choice(territoire["lieux"]) if type_lieu == c.LIEU_ACTIVITE else None
        commune = lieu.commune if lieu else rng.choice([*territoire["communes"], None])
        thematiques = rng.sample(generales, rng.randint(1, 3))
        if c.AIDE_DEMARCHES in thematiques:
            thematiques += rng.sample(administratives, rng.randint(0, 2))
        participants = rng.randint(1, 12) if collectif else 1
        rows.append(
            Activite(
                conseiller=conseiller,
                structure=structure,
                type=c.COLLECTIF if collectif else c.INDIVIDUEL,
                titre_atelier="Atelier" if collectif else "",
                participants=participants,
                date=start - datetime.timedelta(days=60) + datetime.timedelta(days=rng.randrange(span)),
                duree=rng.randint(1, c.DUREE_MAX),
                type_lieu=type_lieu,
                lieu=lieu,
                commune=commune,
                thematiques=thematiques,
                supprimee_le=timezone.now() if rng.random() < 0.1 else None,
            )
        )
        followed = rng.sample(territoire["beneficiaires"][conseiller.pk], min(participants, rng.randint(0, 2)))
        people.append(followed + [None] * (participants - len(followed)))
    activites = Activite.objects.bulk_create(rows)
    Accompagnement.objects.bulk_create(
        [
            Accompagnement(
                activite=activite,
                rang=rang,
                beneficiaire=beneficiaire,
                premier_accompagnement=rng.random() < 0.7,
                genre=rng.choice(c.GENRE)[0],
                tranche_age=rng.choice(c.TRANCHE_AGE)[0],
                statut_social=rng.choice(c.STATUT_SOCIAL)[0],
            )
            for activite, followed in zip(activites, people, strict=True)
            for rang, beneficiaire in enumerate(followed, start=1)
        ]
    )
    ActiviteThematique.objects.bulk_create(
        [ActiviteThematique(activite=a, thematique=code) for a in activites for code in a.thematiques]
    )
    return activites


def expected(activites_qs, start=START, end=END):
    """The figures counted directly: totals with the ORM, breakdowns in Python over the rows."""
    base = activites_qs.filter(supprimee_le__isnull=True, date__gte=start, date__lte=end)
    accompagnements = Accompagnement.objects.filter(activite__in=base)
    activites = list(base.select_related("commune"))
    by_activite = {a.pk: a for a in activites}
    rows = list(accompagnements)
    months = Counter(by_activite[row.activite_id].date.isoformat()[:7] for row in rows)
    communes = Counter(
        None
        if by_activite[row.activite_id].type_lieu == c.A_DISTANCE or by_activite[row.activite_id].commune is None
        else by_activite[row.activite_id].commune.code_insee
        for row in rows
    )
    themes = Counter(code for a in activites for code in a.thematiques)
    bands = Counter(
        next(
            code for code, _label, low, high in c.TRANCHES_DUREE if a.duree >= low and (high is None or a.duree < high)
        )
        for a in activites
    )
    figures = {
        "mois": {
            f"{year}-{month:02d}": months.get(f"{year}-{month:02d}", 0)
            for year in range(start.year, end.year + 1)
            for month in range(1, 13)
            if (year, month) >= (start.year, start.month) and (year, month) <= (end.year, end.month)
        },
        "thematiques": {code: themes.get(code, 0) for code, _label in c.THEMATIQUES_GENERALES},
        "demarches": {code: themes.get(code, 0) for code, _label in c.THEMATIQUES_ADMINISTRATIVES},
        "types": {code: sum(a.type == code for a in activites) for code, _label in c.TYPE_ACTIVITE},
        "types_lieu": {code: sum(a.type_lieu == code for a in activites) for code, _label in c.TYPE_LIEU},
        "durees": {code: bands.get(code, 0) for code, *_rest in c.TRANCHES_DUREE},
        "communes": {code: n for code, n in communes.items() if n},
        "beneficiaires": {
            "nouveaux": sum(row.premier_accompagnement for row in rows),
            "deja_accompagnes": sum(not row.premier_accompagnement for row in rows),
        },
        **{
            key: {code: sum(getattr(row, attribute) == code for row in rows) for code, _label in vocabulary}
            for key, (attribute, vocabulary) in ATTRIBUTES.items()
        },
    }
    duree = base.aggregate(total=Sum("duree"))["total"] or 0
    totaux = {
        "activites": base.count(),
        "accompagnements": accompagnements.count(),
        "beneficiaires_suivis": accompagnements.filter(beneficiaire__isnull=False)
        .values("beneficiaire")
        .distinct()
        .count(),
        "duree_minutes": duree,
        "heures": round(duree / 60, 2),
    }
    return totaux, figures


def assert_figures(data, activites_qs, start=START, end=END):
    totaux, figures = expected(activites_qs, start, end)
    assert data["totaux"] == totaux
    for key, counts in figures.items():
        assert values(data, key) == counts, key
    assert not any(ligne["masque"] for lignes in data["repartitions"].values() for ligne in lignes)


# --- Figures equal direct counts -------------------------------------------------------------------------------
def test_detailed_client_gets_the_figures_counted_directly_on_random_data(client, detaille, territoire):
    random_activities(territoire, 300)
    data = ok(get(client, detaille))
    assert data["totaux"]["activites"] > 100
    assert data["periode"] == PERIOD
    assert data["statistiques_detaillees"] is True
    assert_figures(data, Activite.objects.all())
    # The breakdowns that add up do add up.
    for key in ("mois", "communes", "genres", "tranches_age", "statuts", "beneficiaires"):
        assert sum(values(data, key).values()) == data["totaux"]["accompagnements"], key
    for key in ("types", "types_lieu", "durees"):
        assert sum(values(data, key).values()) == data["totaux"]["activites"], key


def test_answer_is_one_object_with_national_codes_and_french_labels(client, detaille, territoire):
    random_activities(territoire, 40)
    data = ok(get(client, detaille))
    assert set(data) == {"periode", "filtres", "statistiques_detaillees", "seuil_masquage", "totaux", "repartitions"}
    assert data["filtres"] == {
        "commune": None,
        "departement": None,
        "thematique": None,
        "type": None,
        "structure": None,
    }
    assert data["seuil_masquage"] == 5
    assert [ligne["code"] for ligne in data["repartitions"]["thematiques"]] == [
        code for code, _label in c.THEMATIQUES_GENERALES
    ]
    assert data["repartitions"]["types"][1] == {
        "code": "collectif",
        "libelle": "Atelier collectif",
        "nombre": values(data, "types")["collectif"],
        "masque": False,
    }
    assert data["repartitions"]["mois"][0]["libelle"] == "janvier 2024"
    assert [ligne["code"] for ligne in data["repartitions"]["genres"]] == [code for code, _label in c.GENRE]
    communes = [ligne["code"] for ligne in data["repartitions"]["communes"]]
    assert communes == sorted(code for code in communes if code) + [None]
    assert data["repartitions"]["communes"][-1]["libelle"] == "À distance ou sans commune"


# --- Filters ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["commune", "thematique_generale", "thematique_administrative", "type", "structure", "combined", "period"],
)
def test_filters_count_what_a_direct_count_gives(client, detaille, territoire, name):
    random_activities(territoire, 300, seed=11)
    commune = territoire["communes"][1]
    structure = territoire["structures"][2]
    qs, params, start, end = Activite.objects.all(), dict(PERIOD), START, END
    if name == "commune":
        params["commune"] = commune.code_insee
        qs = qs.filter(commune=commune).exclude(type_lieu=c.A_DISTANCE)
    elif name == "thematique_generale":
        params["thematique"] = "email"
        qs = qs.filter(thematiques_rows__thematique="email")
    elif name == "thematique_administrative":
        # The domain of administrative procedures most often ticked in the period.
        ticked = ActiviteThematique.objects.filter(
            thematique__in=c.CODES_ADMINISTRATIFS, activite__date__gte=START, activite__date__lte=END
        ).values_list("thematique", flat=True)
        params["thematique"] = Counter(ticked).most_common(1)[0][0]
        qs = qs.filter(thematiques_rows__thematique=params["thematique"])
    elif name == "type":
        params["type"] = "collectif"
        qs = qs.filter(type="collectif")
    elif name == "structure":
        params["structure"] = str(structure.uuid)
        qs = qs.filter(structure=structure)
    elif name == "combined":
        params.update(type="individuel", structure=str(structure.uuid), thematique="sante")
        qs = qs.filter(type="individuel", structure=structure, thematiques_rows__thematique="sante")
    else:
        # Counted in whole months: from the first day of the start's month to the last day of the end's.
        start, end = D(2024, 3, 1), D(2024, 4, 30)
        params = {"du": "2024-03-15", "au": "2024-04-10"}
    data = ok(get(client, detaille, params))
    assert data["periode"] == {"du": start.isoformat(), "au": end.isoformat()}
    assert {k: v for k, v in data["filtres"].items() if v is not None} == {
        k: v for k, v in params.items() if k not in ("du", "au")
    }
    assert data["totaux"]["activites"] > 0
    assert_figures(data, qs, start, end)


def test_commune_filter_leaves_remote_activities_out(client, detaille, territoire):
    commune = territoire["communes"][0]
    conseiller, structure = territoire["conseillers"][0]
    base = {"conseiller": conseiller, "structure": structure, "date": D(2024, 2, 1), "duree": 30}
    Activite.objects.bulk_create(
        [
            Activite(type="individuel", type_lieu="domicile", commune=commune, thematiques=["email"], **base),
            Activite(type="individuel", type_lieu="a_distance", commune=commune, thematiques=["email"], **base),
        ]
    )
    data = ok(get(client, detaille, {**PERIOD, "commune": commune.code_insee}))
    assert data["totaux"]["activites"] == 1
    assert values(data, "types_lieu")["a_distance"] == 0


def test_departement_filter_counts_the_activities_held_in_its_communes(client, detaille, territoire):
    ici, ailleurs = territoire["communes"][0], factories.CommuneFactory(code_insee="81004", departement="81")
    conseiller, structure = territoire["conseillers"][0]
    base = {"conseiller": conseiller, "structure": structure, "date": D(2024, 2, 1), "duree": 30}
    Activite.objects.bulk_create(
        [
            Activite(type="individuel", type_lieu="domicile", commune=ici, thematiques=["email"], **base),
            Activite(type="individuel", type_lieu="domicile", commune=ailleurs, thematiques=["email"], **base),
            Activite(type="individuel", type_lieu="domicile", commune=ailleurs, thematiques=["email"], **base),
            Activite(type="individuel", type_lieu="a_distance", commune=ailleurs, thematiques=["email"], **base),
        ]
    )
    data = ok(get(client, detaille, {**PERIOD, "departement": "81"}))
    assert data["totaux"]["activites"] == 2 and data["filtres"]["departement"] == "81"
    assert values(data, "types_lieu")["a_distance"] == 0
    # With a commune: the activities of that commune if it is in the département, none otherwise.
    assert ok(get(client, detaille, {**PERIOD, "departement": "81", "commune": "81004"}))["totaux"]["activites"] == 2
    assert ok(get(client, detaille, {**PERIOD, "departement": "31", "commune": "81004"}))["totaux"]["activites"] == 0
    refus = get(client, detaille, {**PERIOD, "departement": "99"})
    assert refus.status_code == 400
    assert "Code de département invalide" in str(refus.json())


def test_default_period_is_the_last_twelve_months(client, detaille, territoire):
    conseiller, structure = territoire["conseillers"][0]
    today = timezone.localdate()
    base = {"conseiller": conseiller, "structure": structure, "type": "individuel", "duree": 30}
    base.update(type_lieu="domicile", thematiques=["email"])
    Activite.objects.bulk_create(
        [
            Activite(date=today - datetime.timedelta(days=1), **base),
            Activite(date=today - datetime.timedelta(days=400), **base),
        ]
    )
    du, au = default_period()
    data = ok(get(client, detaille, {}))
    # Counted by whole months: the current month runs to its last day.
    assert data["periode"] == {"du": du.isoformat(), "au": resume.dernier_jour(au).isoformat()}
    assert data["totaux"]["activites"] == 1
    assert len(data["repartitions"]["mois"]) == 12
    # One bound given: the other one follows.
    only_au = ok(get(client, detaille, {"au": "2024-06-30"}))
    assert only_au["periode"] == {"du": "2023-07-01", "au": "2024-06-30"}
    only_du = ok(get(client, detaille, {"du": "2024-06-30"}))
    assert only_du["periode"] == {"du": "2024-06-01", "au": resume.dernier_jour(today).isoformat()}


def test_deleted_activities_do_not_count(client, detaille, territoire):
    conseiller, structure = territoire["conseillers"][0]
    base = {"conseiller": conseiller, "structure": structure, "type": "individuel", "duree": 30, "date": START}
    base.update(type_lieu="domicile", thematiques=["email"])
    Activite.objects.bulk_create([Activite(**base), Activite(supprimee_le=timezone.now(), **base)])
    assert ok(get(client, detaille))["totaux"]["activites"] == 1


def test_territorial_scope_counts_every_structure_whatever_the_clients_structure(client, partenaire, territoire):
    random_activities(territoire, 120, seed=3)
    data = ok(get(client, partenaire))
    assert data["totaux"]["activites"] == Activite.objects.actives().filter(date__gte=START, date__lte=END).count()


# --- Small counts ----------------------------------------------------------------------------------------------
@pytest.fixture
def petit_territoire(territoire):
    """Nine activities: six individual sessions at home in commune 0 (women), one workshop of six in commune 1
    (four women, two men), two remote sessions (women): 14 accompaniments."""
    conseiller, structure = territoire["conseillers"][0]
    communes, lieu = territoire["communes"], territoire["lieux"][1]
    base = {"conseiller": conseiller, "structure": structure, "date": D(2024, 2, 1), "thematiques": ["email"]}
    rows = [Activite(type="individuel", type_lieu="domicile", commune=communes[0], duree=30, **base) for _ in range(6)]
    rows.append(
        Activite(
            type="collectif",
            titre_atelier="Atelier",
            participants=6,
            type_lieu="lieu_activite",
            lieu=lieu,
            commune=lieu.commune,
            duree=120,
            **base,
        )
    )
    rows += [Activite(type="individuel", type_lieu="a_distance", duree=45, **base) for _ in range(2)]
    activites = Activite.objects.bulk_create(rows)
    genres = {activites[6].pk: ["feminin"] * 4 + ["masculin"] * 2}
    Accompagnement.objects.bulk_create(
        [
            Accompagnement(activite=a, rang=rang, genre=genre)
            for a in activites
            for rang, genre in enumerate(genres.get(a.pk, ["feminin"]), start=1)
        ]
    )
    ActiviteThematique.objects.bulk_create([ActiviteThematique(activite=a, thematique="email") for a in activites])
    return territoire


def test_ordinary_client_sees_no_count_under_five(client, partenaire, petit_territoire):
    communes = petit_territoire["communes"]
    data = ok(get(client, partenaire))
    assert data["statistiques_detaillees"] is False
    assert data["totaux"] == {
        "activites": 9,
        "accompagnements": 14,
        "beneficiaires_suivis": 0,
        "duree_minutes": 6 * 30 + 120 + 2 * 45,
        "heures": 6.5,
    }
    # Eight individual sessions and one workshop: the workshop is hidden, and the sessions with it, or the total
    # of activities would give it back.
    assert values(data, "types") == {"individuel": None, "collectif": None}
    assert all(ligne["masque"] for ligne in data["repartitions"]["types"])
    # Communes: 6, 6 and 2 remote: the 2 is hidden, and the smallest other one (the first of the two 6).
    assert values(data, "communes") == {communes[0].code_insee: None, communes[1].code_insee: 6, None: None}
    # Genre: 12 women, 2 men, nobody unsaid: the men are hidden, and the women rather than the zero (a zero
    # hidden with them would let the total give the 2 back).
    assert values(data, "genres") == {"feminin": None, "masculin": None, "non_communique": 0}
    # Place types: 6 at home, 1 at a place, 2 remote, 0 elsewhere: both small ones hidden.
    assert values(data, "types_lieu") == {"lieu_activite": None, "domicile": 6, "a_distance": None, "autre": 0}
    # Thématiques do not add up to a total: only the small ones are hidden.
    assert values(data, "thematiques")["email"] == 9
    assert values(data, "thematiques")["sante"] == 0
    assert values(data, "mois")["2024-02"] == 14


def test_detailed_client_sees_every_count(client, detaille, petit_territoire):
    data = ok(get(client, detaille))
    assert data["statistiques_detaillees"] is True
    assert values(data, "types") == {"individuel": 8, "collectif": 1}
    assert values(data, "genres") == {"feminin": 12, "masculin": 2, "non_communique": 0}
    assert values(data, "types_lieu") == {"lieu_activite": 1, "domicile": 6, "a_distance": 2, "autre": 0}
    assert not any(ligne["masque"] for lignes in data["repartitions"].values() for ligne in lignes)


def test_totals_under_five_are_hidden_with_the_time_spent(client, partenaire, detaille, territoire):
    conseiller, structure = territoire["conseillers"][0]
    base = {"conseiller": conseiller, "structure": structure, "type": "individuel", "duree": 30, "date": START}
    base.update(type_lieu="domicile", thematiques=["email"])
    activites = Activite.objects.bulk_create([Activite(**base) for _ in range(3)])
    beneficiaire = territoire["beneficiaires"][conseiller.pk][0]
    Accompagnement.objects.bulk_create(
        [Accompagnement(activite=a, rang=1, beneficiaire=beneficiaire) for a in activites]
    )
    data = ok(get(client, partenaire))
    assert data["totaux"] == {
        "activites": None,
        "accompagnements": None,
        "beneficiaires_suivis": None,
        "duree_minutes": None,
        "heures": None,
    }
    # The only row that is not zero is the whole (hidden) total: nothing to hide with it.
    assert values(data, "types") == {"individuel": None, "collectif": 0}
    assert ok(get(client, detaille))["totaux"] == {
        "activites": 3,
        "accompagnements": 3,
        "beneficiaires_suivis": 1,
        "duree_minutes": 90,
        "heures": 1.5,
    }


def test_nothing_to_hide_in_an_empty_period(client, partenaire, territoire):
    data = ok(get(client, partenaire))
    assert data["totaux"] == {
        "activites": 0,
        "accompagnements": 0,
        "beneficiaires_suivis": 0,
        "duree_minutes": 0,
        "heures": 0,
    }
    assert not any(ligne["masque"] for lignes in data["repartitions"].values() for ligne in lignes)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("params", [{}, {"type": "collectif"}, {"thematique": "sante"}, {"commune": "31101"}])
def test_masking_rules_hold_on_random_data(client, partenaire, detaille, territoire, seed, params):
    random_activities(territoire, 60, seed=seed)
    hidden = ok(get(client, partenaire, {**PERIOD, **params}))
    full = ok(get(client, detaille, {**PERIOD, **params}))
    for key, value in hidden["totaux"].items():
        assert value is None or value == 0 or key in ("duree_minutes", "heures") or value >= 5, key
    for key, lignes in hidden["repartitions"].items():
        truth = full["repartitions"][key]
        assert [ligne["code"] for ligne in lignes] == [ligne["code"] for ligne in truth], key
        for ligne, vrai in zip(lignes, truth, strict=True):
            assert ligne["masque"] is (ligne["nombre"] is None), key
            if ligne["nombre"] is not None:
                assert ligne["nombre"] == vrai["nombre"], key
                assert ligne["nombre"] == 0 or ligne["nombre"] >= 5, key
            else:
                assert vrai["nombre"] > 0, key  # never a zero hidden
        masked = [vrai["nombre"] for ligne, vrai in zip(lignes, truth, strict=True) if ligne["masque"]]
        if key in ADDITIVE and len(masked) == 1:
            # A single hidden row only when it is the whole total, hidden too: the total minus the rows shown
            # never gives a hidden count back.
            total = "activites" if key in ("types", "types_lieu", "durees") else "accompagnements"
            assert hidden["totaux"][total] is None, key
            assert sum(vrai["nombre"] for vrai in truth) == masked[0], key


def test_masking_hides_a_second_row_only_where_rows_add_up():
    def lignes(*counts):
        return [{"code": str(i), "libelle": "", "nombre": n, "masque": False} for i, n in enumerate(counts)]

    assert [ligne["nombre"] for ligne in masquer(lignes(12, 3, 0, 7), additive=True)] == [12, None, 0, None]
    assert [ligne["nombre"] for ligne in masquer(lignes(12, 3, 0, 7), additive=False)] == [12, None, 0, 7]
    assert [ligne["nombre"] for ligne in masquer(lignes(2, 4, 9), additive=True)] == [None, None, 9]
    assert [ligne["nombre"] for ligne in masquer(lignes(3, 0), additive=True)] == [None, 0]
    assert [ligne["nombre"] for ligne in masquer(lignes(5, 0, 40), additive=True)] == [5, 0, 40]


# --- Authentication and scope ----------------------------------------------------------------------------------
def test_without_a_token_answers_401(client, territoire):
    response = client.get(URL, PERIOD)
    assert response.status_code == 401
    assert "Authentification requise" in response.json()["detail"]


def test_with_an_invalid_or_expired_token_answers_401(client, partenaire):
    assert client.get(URL, PERIOD, HTTP_AUTHORIZATION="Bearer pas-un-jeton").status_code == 401
    assert client.get(URL, PERIOD, **bearer(partenaire, expires_in=-10)).status_code == 401


def test_without_the_statistiques_scope_answers_403(client, other_structure):
    client_api = api_client_for(other_structure, ["lieux:read", "activites:read"])[0]
    response = get(client, client_api)
    assert response.status_code == 403
    assert "statistiques:read" in response.json()["detail"]


def test_a_token_asked_without_the_scope_answers_403_even_if_the_client_has_it(client, other_structure):
    client_api = api_client_for(other_structure, ["lieux:read", "statistiques:read"])[0]
    response = client.get(URL, PERIOD, **bearer(client_api, ["lieux:read"]))
    assert response.status_code == 403


def test_revoked_client_answers_401(client, partenaire, staff_user):
    from partenaires import services as partner_services

    headers = bearer(partenaire)
    partner_services.client_revoke(client=partenaire, by=staff_user)
    assert client.get(URL, PERIOD, **headers).status_code == 401


def test_statistics_are_read_only(client, partenaire):
    for method in (client.post, client.put, client.patch, client.delete):
        assert method(URL, **bearer(partenaire)).status_code in (403, 405)


# --- Refused parameters: 400 with a French message, never 500 ---------------------------------------------------
UNKNOWN_UUID = "9b2f0c4e-1111-4d6a-8c33-123456789abc"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"du": "2024-13-45"}, "du", "Date invalide"),
        ({"du": "x", "au": "y"}, "du", "Date invalide"),
        ({"au": "31/12/2024"}, "au", "Date invalide"),
        ({"du": ""}, "du", "Date invalide"),
        ({"du": "2024-01-01\x00"}, "du", "Date invalide"),
        ({"du": "2024-06-30", "au": "2024-01-01"}, "au", "La date de fin doit suivre la date de début."),
        ({"du": "2099-01-01"}, "du", "aujourd'hui par défaut"),
        ({"du": "0001-01-01"}, "du", "Choisissez une date entre"),
        ({"au": "9999-12-31"}, "au", "Choisissez une date entre"),
        ({"du": "2000-01-01", "au": "2024-06-30"}, "du", "dix ans"),
        ({"commune": "abc"}, "commune", "Code INSEE invalide"),
        ({"commune": "31\x0054"}, "commune", "Code INSEE invalide"),
        ({"commune": ""}, "commune", "ne peut pas être vide"),
        ({"commune": "99999"}, "commune", "Aucune commune connue"),
        ({"thematique": "cuisine"}, "thematique", "n'est pas une thématique du vocabulaire national"),
        ({"thematique": "Email"}, "thematique", "n'est pas une thématique du vocabulaire national"),
        ({"thematique": "email\x00"}, "thematique", "n'est pas une thématique du vocabulaire national"),
        ({"thematique": ""}, "thematique", "n'est pas une thématique du vocabulaire national"),
        ({"type": "groupe"}, "type", "n'est pas un type d'activité"),
        ({"structure": "pas-un-uuid"}, "structure", "un UUID est attendu"),
        ({"structure": UNKNOWN_UUID}, "structure", "Aucune structure n'a cet identifiant."),
    ],
)
def test_bad_parameters_answer_400_with_a_french_message(client, partenaire, territoire, params, field, message):
    response = get(client, partenaire, params)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors
    assert any(message in text for text in errors[field]), errors


def test_unknown_parameters_are_ignored(client, partenaire, territoire):
    assert get(client, partenaire, {**PERIOD, "tri": "nom"}).status_code == 200


# --- Schema ----------------------------------------------------------------------------------------------------
def test_schema_documents_one_object_its_parameters_scope_and_errors(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    assert operation["security"] == [{"oauth2": ["statistiques:read"]}]
    parametres = {p["name"] for p in operation["parameters"]}
    assert parametres == {"du", "au", "commune", "departement", "thematique", "type", "structure"}
    content = operation["responses"]["200"]["content"]["application/json"]
    assert content["schema"] == {"$ref": "#/components/schemas/Statistiques"}  # one object, not a page
    assert content["examples"]
    assert {"400", "401", "403", "429"} <= set(operation["responses"])
    ligne = schema["components"]["schemas"]["LigneStatistique"]["properties"]
    assert ligne["nombre"]["nullable"] is True
    assert "masqué" in operation["description"]


def test_schema_example_has_the_answers_shape_and_the_vocabulary_labels(client, detaille, territoire):
    data = ok(get(client, detaille))
    assert set(EXEMPLE) == set(data)
    assert set(EXEMPLE["totaux"]) == set(data["totaux"])
    assert set(EXEMPLE["repartitions"]) == set(data["repartitions"])
    labels = {(ligne["code"], ligne["libelle"]) for lignes in data["repartitions"].values() for ligne in lignes}
    for key, lignes in EXEMPLE["repartitions"].items():
        if key not in ("mois", "communes"):
            assert {(ligne["code"], ligne["libelle"]) for ligne in lignes} <= labels, key


# --- Query budget ----------------------------------------------------------------------------------------------
def count_queries(django_client, client_api, params):
    headers = bearer(client_api)
    resume.reconstruire()
    django_client.get(URL, params, **headers)  # the first call also records the client's "last used" date
    with CaptureQueriesContext(connection) as queries:
        response = django_client.get(URL, params, **headers)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_query_count_is_fixed_whatever_the_number_of_activities(client, partenaire, territoire):
    every_filter = {
        **PERIOD,
        "commune": territoire["communes"][1].code_insee,
        "structure": str(territoire["structures"][0].uuid),
        "thematique": "email",
        "type": "individuel",
    }
    random_activities(territoire, 5, seed=5)
    small, _ = count_queries(client, partenaire, PERIOD)
    small_filtered, _ = count_queries(client, partenaire, every_filter)
    random_activities(territoire, 500, seed=6)
    large, data = count_queries(client, partenaire, PERIOD)
    large_filtered, _ = count_queries(client, partenaire, every_filter)
    assert data["totaux"]["activites"] > 250
    assert (small, small_filtered) == (large, large_filtered) == (5, 7)


def test_first_call_of_a_client_stays_within_ten_queries(client, partenaire, territoire, django_assert_max_num_queries):
    random_activities(territoire, 50)
    params = {
        **PERIOD,
        "commune": territoire["communes"][1].code_insee,
        "structure": str(territoire["structures"][0].uuid),
    }
    headers = bearer(partenaire)
    with django_assert_max_num_queries(10):
        assert client.get(URL, params, **headers).status_code == 200
