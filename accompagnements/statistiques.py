"""The figures of the activity log ("Mes statistiques", shared links, and later reports) over a period.

``compute(activites, start, end)`` takes a queryset of live activities that the caller may read (from
``selectors.activites_visible_to`` or a share) and counts them with five GROUP BY / aggregate queries, whatever
the number of activities:

1. activities: totals, individual and collective, duration, place types and duration bands (conditional counts);
2. accompaniments (one row per participant): total, new and seen again, genre, age band and status;
3. months: accompaniments and activities per month;
4. thématiques: activities per thématique, through ``ActiviteThematique``;
5. communes: accompaniments per commune of the activity.

Every figure carries "Comment c'est compté", the sentence the page shows on demand.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from sicoval_numerique.charts import MAX_COLUMNS

from . import choices as c
from .models import Accompagnement, Activite, ActiviteThematique
from .selectors import clamp_period, month_starts

# Outside the conseiller's own and staff views, a count of people below this is shown as "moins de 5".
PETIT_EFFECTIF = 5
SANS_COMMUNE = "À distance ou sans commune"
MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
MOIS_COURTS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
# From nine to twelve months the chart shares a phone's width: only initials are large enough to read there.
MOIS_INITIALES = "JFMAMJJASOND"
COMMUNES_DANS_LE_GRAPHIQUE = 10

SUPPRIMEES = "Les activités supprimées ne comptent pas."


@dataclass
class Ligne:
    """One row of a figure: ``code`` is the vocabulary code (or month, or INSEE code), ``value`` None once hidden."""

    code: str
    label: str
    value: int | None
    part: float | None = None
    activites: int | None = None
    short_label: str = ""


@dataclass
class Figure:
    key: str
    title: str
    dimension: str  # the column header of the rows
    unit: str  # the column header of what is counted
    how: str  # « Comment c'est compté »
    lignes: list
    base: int = 0  # what the parts are shares of
    vertical: bool = False
    additive: bool = True  # False when a row can be counted under several lines (thématiques)
    note: str = ""
    personnes: bool = False  # a breakdown of people: small cells are hidden on shared links
    chart_limit: int | None = None  # the chart shows the first rows only (the table shows them all)
    masquee: bool = False

    def __post_init__(self):
        for ligne in self.lignes:
            if self.base and ligne.value is not None and not self.vertical:
                ligne.part = 100 * ligne.value / self.base

    @property
    def shown(self):
        return [ligne for ligne in self.lignes if ligne.value is not None]

    @property
    def chart_data(self):
        """(drawn label, value, spoken label) of the rows the chart draws: hidden counts are left out."""
        rows = [(ligne.short_label or ligne.label, ligne.value, ligne.label) for ligne in self.shown]
        return rows[: self.chart_limit] if self.chart_limit else rows

    @property
    def chart_truncated(self):
        return bool(self.chart_limit) and len(self.shown) > self.chart_limit

    @property
    def chart_scrolls(self):
        """A chart of many months keeps readable texts and scrolls sideways."""
        return self.vertical and len(self.chart_data) > MAX_COLUMNS

    @property
    def has_chart(self):
        return any(value for _label, value, _spoken in self.chart_data)

    @property
    def empty(self):
        """Nothing to show: every count is zero (a hidden small count is not nothing)."""
        return not any(ligne.value is None or ligne.value for ligne in self.lignes)

    def values(self):
        return {ligne.code: ligne.value for ligne in self.lignes}


@dataclass
class Carte:
    key: str
    label: str
    value: int
    how: str
    duree: bool = False
    detail: str = ""


@dataclass
class Statistiques:
    start: datetime.date
    end: datetime.date
    chiffres: dict
    figures: list = field(default_factory=list)
    masquee: bool = False

    def figure(self, key):
        return next(figure for figure in self.figures if figure.key == key)

    @property
    def empty(self):
        return not self.chiffres["activites"]

    @property
    def cartes(self):
        participants = self.chiffres["participants_ateliers"]
        details = {"collectifs": f"{participants} participant{'s' if participants > 1 else ''}"}
        return [
            Carte(key, label, self.chiffres[key], how, duree=key == "duree", detail=details.get(key, ""))
            for key, label, how in CARTES
        ]


# The key numbers: (key of ``chiffres``, label, how it is counted).
CARTES = (
    (
        "accompagnements",
        "Accompagnements",
        f"Un atelier compte un accompagnement par participant, un accompagnement individuel un seul. {SUPPRIMEES}",
    ),
    (
        "activites",
        "Activités",
        "Chaque accompagnement individuel et chaque atelier saisi compte une activité, quel que soit le nombre de "
        f"participants. {SUPPRIMEES}",
    ),
    (
        "individuels",
        "Accompagnements individuels",
        "Les activités « accompagnement individuel » : une personne chacune.",
    ),
    (
        "collectifs",
        "Ateliers collectifs",
        "Les activités « atelier collectif », chacune une fois quel que soit le nombre de participants.",
    ),
    (
        "nouveaux",
        "Nouveaux bénéficiaires",
        "Les accompagnements de personnes accompagnées pour la première fois : un bénéficiaire suivi à son premier "
        "accompagnement, une personne anonyme quand « déjà accompagnée » n'était pas coché, et chaque participant "
        "anonyme d'un atelier.",
    ),
    (
        "deja_accompagnes",
        "Bénéficiaires déjà accompagnés",
        "Les accompagnements de personnes qui l'avaient déjà été (une personne revenue trois fois compte trois fois).",
    ),
    (
        "duree",
        "Temps d'accompagnement",
        "La somme des durées saisies : un atelier de deux heures compte deux heures, quel que soit le nombre de "
        f"participants. {SUPPRIMEES}",
    ),
)


def _band(low, high):
    condition = Q(duree__gte=low)
    return condition & Q(duree__lt=high) if high is not None else condition


def _activity_totals(activites):
    return activites.aggregate(
        activites=Count("pk"),
        individuels=Count("pk", filter=Q(type=c.INDIVIDUEL)),
        collectifs=Count("pk", filter=Q(type=c.COLLECTIF)),
        participants_ateliers=Coalesce(Sum("participants", filter=Q(type=c.COLLECTIF)), 0),
        duree_totale=Coalesce(Sum("duree"), 0),
        **{f"lieu_{code}": Count("pk", filter=Q(type_lieu=code)) for code, _label in c.TYPE_LIEU},
        **{f"tranche_{code}": Count("pk", filter=_band(low, high)) for code, _label, low, high in c.TRANCHES_DUREE},
    )


def _accompaniment_totals(activites):
    return Accompagnement.objects.filter(activite__in=activites.values("pk")).aggregate(
        accompagnements=Count("pk"),
        nouveaux=Count("pk", filter=Q(premier_accompagnement=True)),
        **{
            f"{attribut}__{code}": Count("pk", filter=Q(**{attribut: code}))
            for attribut, vocabulary, _label in c.ATTRIBUTS_BENEFICIAIRE
            for code, _code_label in vocabulary
        },
    )


def _by_month(activites):
    rows = (
        activites.annotate(mois=TruncMonth("date"))
        .values("mois")
        .annotate(n_activites=Count("pk", distinct=True), n_accompagnements=Count("accompagnements"))
    )
    return {row["mois"]: row for row in rows}


def _by_thematique(activites):
    return dict(
        ActiviteThematique.objects.filter(activite__in=activites.values("pk"))
        .order_by()
        .values_list("thematique")
        .annotate(n=Count("pk"))
    )


def _by_commune(activites):
    """Accompaniments per commune of the activity; a remote activity counts without commune even if one was
    typed."""
    remote = When(type_lieu=c.A_DISTANCE, then=Value(""))
    rows = (
        activites.annotate(
            commune_code=Case(remote, default=F("commune__code_insee"), output_field=CharField()),
            commune_nom=Case(remote, default=F("commune__nom"), output_field=CharField()),
        )
        .values("commune_code", "commune_nom")
        .annotate(n=Count("accompagnements"))
    )
    counts = {}
    for row in rows:
        key = (row["commune_code"] or "", row["commune_nom"] or SANS_COMMUNE)
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def compute(activites, start, end):
    """The figures of ``activites`` dated from ``start`` to ``end`` (inclusive, clamped to ten years), counted on
    the facts. The pages and the API read the summary tables instead (``reporting.resume.statistiques``), which give
    the same figures; this is their reference (tests compare both)."""
    start, end = clamp_period(start, end)
    activites = activites.filter(date__gte=start, date__lte=end).order_by()
    return build(
        start,
        end,
        totals=_activity_totals(activites),
        people=_accompaniment_totals(activites),
        months=_by_month(activites),
        thematiques=_by_thematique(activites),
        communes=_by_commune(activites),
    )


def build(start, end, *, totals, people, months, thematiques, communes):
    """The figures from their counts: ``totals`` (activites, individuels, collectifs, participants_ateliers,
    duree_totale, lieu_<code>, tranche_<code>), ``people`` (accompagnements, nouveaux, <attribut>__<code>),
    ``months`` ({first day: {n_activites, n_accompagnements}}), ``thematiques`` ({code: activities}) and
    ``communes`` ({(INSEE code or "", name): accompaniments})."""
    chiffres = {
        "activites": totals["activites"],
        "individuels": totals["individuels"],
        "collectifs": totals["collectifs"],
        "participants_ateliers": totals["participants_ateliers"],
        "duree": totals["duree_totale"],
        "accompagnements": people["accompagnements"],
        "nouveaux": people["nouveaux"],
        "deja_accompagnes": people["accompagnements"] - people["nouveaux"],
    }
    stats = Statistiques(start=start, end=end, chiffres=chiffres)
    stats.figures = [
        _figure_mois(months, start, end),
        *_figures_thematiques(thematiques, chiffres["activites"]),
        _figure_lieux(totals),
        _figure_durees(totals),
        _figure_communes(communes, chiffres["accompagnements"]),
        *_figures_personnes(people),
    ]
    return stats


# --- Figures from the counts -----------------------------------------------------------------------------------------
def month_label(month):
    return f"{MOIS[month.month - 1]} {month.year}"


def _year_under(index, month, months):
    """The year is written under January, and under the first bar unless January follows it at once (the two
    years would overlap)."""
    if month.month == 1:
        return True
    return index == 0 and not (month.month == 12 and len(months) > 1)


def _figure_mois(rows, start, end):
    lignes = []
    months = list(month_starts(start, end))
    initials = 8 < len(months) <= MAX_COLUMNS
    for index, month in enumerate(months):
        row = rows.get(month) or {}
        short = MOIS_INITIALES[month.month - 1] if initials else MOIS_COURTS[month.month - 1]
        lignes.append(
            Ligne(
                code=month.isoformat()[:7],
                label=month_label(month),
                short_label=f"{short}\n{month.year}" if _year_under(index, month, months) else short,
                value=row.get("n_accompagnements", 0),
                activites=row.get("n_activites", 0),
            )
        )
    return Figure(
        key="mois",
        dimension="Mois",
        title="Accompagnements par mois",
        unit="Accompagnements",
        vertical=True,
        lignes=lignes,
        how="Chaque mois compte les accompagnements des activités datées de ce mois : un atelier compte un "
        "accompagnement par participant. La colonne « Activités » compte les accompagnements individuels et les "
        f"ateliers, chacun une fois. {SUPPRIMEES}",
    )


def _sorted_lignes(vocabulary, counts):
    lignes = [Ligne(code, label, counts.get(code, 0)) for code, label in vocabulary if counts.get(code)]
    return sorted(lignes, key=lambda ligne: -ligne.value)


def _figures_thematiques(counts, activites):
    demarches = counts.get(c.AIDE_DEMARCHES, 0)
    return [
        Figure(
            key="thematiques",
            dimension="Thématique",
            title="Activités par thématique",
            unit="Activités",
            lignes=_sorted_lignes(c.THEMATIQUES_GENERALES, counts),
            base=activites,
            additive=False,
            note="Seules les thématiques abordées sur la période sont listées.",
            how="Une activité compte une fois pour chacune de ses thématiques : la somme dépasse donc le nombre "
            f"d'activités. La part est celle des activités qui ont abordé la thématique. {SUPPRIMEES}",
        ),
        Figure(
            key="demarches",
            dimension="Domaine de la démarche",
            title="Aides aux démarches administratives par domaine",
            unit="Activités",
            lignes=_sorted_lignes(c.THEMATIQUES_ADMINISTRATIVES, counts),
            base=demarches,
            additive=False,
            note="Seuls les domaines abordés sur la période sont listés.",
            how="Parmi les activités d'aide aux démarches administratives, chacune compte une fois pour chaque "
            "domaine de démarche coché. La part est rapportée au nombre d'aides aux démarches "
            f"administratives ({demarches}).",
        ),
    ]


def _figure_lieux(totals):
    return Figure(
        key="lieux",
        dimension="Type de lieu",
        title="Activités par type de lieu",
        unit="Activités",
        lignes=[Ligne(code, label, totals[f"lieu_{code}"]) for code, label in c.TYPE_LIEU],
        base=totals["activites"],
        how="Chaque activité compte une fois, selon le lieu où elle s'est tenue (un atelier compte une fois, quel "
        f"que soit le nombre de participants). {SUPPRIMEES}",
    )


def _figure_durees(totals):
    return Figure(
        key="durees",
        dimension="Durée",
        title="Activités par durée",
        unit="Activités",
        lignes=[Ligne(code, label, totals[f"tranche_{code}"]) for code, label, _low, _high in c.TRANCHES_DUREE],
        base=totals["activites"],
        how="Chaque activité compte une fois, selon la durée saisie. Une tranche inclut sa borne basse et exclut sa "
        "borne haute : une activité de 30 minutes compte dans « De 30 min à 1 h », une de 60 minutes dans "
        f"« De 1 h à 2 h ». {SUPPRIMEES}",
    )


def _figure_communes(counts, accompagnements):
    lignes = [Ligne(code or "sans", nom, n) for (code, nom), n in counts.items() if n]
    lignes.sort(key=lambda ligne: (-ligne.value, ligne.label))
    return Figure(
        key="communes",
        dimension="Commune",
        title="Accompagnements par commune",
        unit="Accompagnements",
        lignes=lignes,
        base=accompagnements,
        personnes=True,
        chart_limit=COMMUNES_DANS_LE_GRAPHIQUE,
        how="Chaque accompagnement compte dans la commune où l'activité s'est tenue : un atelier compte un "
        "accompagnement par participant. Les activités à distance, et celles sans commune, sont comptées "
        f"à part (« {SANS_COMMUNE} »). {SUPPRIMEES}",
    )


FIGURES_PERSONNES = {
    "genre": ("Accompagnements par genre", "Genre", "Le genre"),
    "tranche_age": ("Accompagnements par tranche d'âge", "Tranche d'âge", "La tranche d'âge"),
    "statut_social": ("Accompagnements par statut", "Statut", "Le statut"),
}


def _figures_personnes(people):
    figures = []
    for attribut, vocabulary, _label in c.ATTRIBUTS_BENEFICIAIRE:
        title, dimension, what = FIGURES_PERSONNES[attribut]
        figures.append(
            Figure(
                key=attribut,
                title=title,
                dimension=dimension,
                unit="Accompagnements",
                lignes=[Ligne(code, label, people[f"{attribut}__{code}"]) for code, label in vocabulary],
                base=people["accompagnements"],
                personnes=True,
                how=f"{what} de la personne au moment de l'accompagnement, tel qu'il a été saisi (« Non communiqué » "
                "quand il ne l'a pas été) ; un atelier compte chacun de ses participants. Une même personne "
                f"accompagnée plusieurs fois compte à chaque fois. {SUPPRIMEES}",
            )
        )
    return figures


# --- Sharing -------------------------------------------------------------------------------------------------------
def activites_partagees(partage):
    """The live activities a share link shows: its conseiller's, whatever the structure."""
    return Activite.objects.actives().filter(conseiller_id=partage.conseiller_id)


def hide_small_counts(stats):
    """Hide, in the breakdowns of people, every count from 1 to 4 ("moins de 5"); when only one count of a figure
    would be hidden, the smallest other one is hidden too, so that no hidden count can be worked out from the
    total. For figures shown outside the conseiller's own and staff views."""
    for figure in stats.figures:
        if not figure.personnes:
            continue
        small = [ligne for ligne in figure.lignes if 0 < ligne.value < PETIT_EFFECTIF]
        if len(small) == 1:
            # The second hidden count is a non-zero one: hiding a zero would let the total give the small one back.
            others = [ligne for ligne in figure.lignes if ligne is not small[0] and ligne.value]
            if others:
                small.append(min(others, key=lambda ligne: ligne.value))
        for ligne in small:
            ligne.value = ligne.part = None
        figure.masquee = bool(small)
    stats.masquee = True
    return stats
