"""The territorial mesh ("maillage équitable"): for each commune of the territory, the help its inhabitants find
there over a period, and who could cover the communes that have none.

``couverture(du, au)`` reads everything in ``QUERIES`` queries (the territory's EPCI included), whatever the
number of communes, places, people or activities: one GROUP BY (or one flat read of bounded pairs) per source, merged
here in Python. Nothing is read commune by commune.

What counts, per commune:

- places of mediation: the published fixed places located in the commune (the itinerant unit counts by its stops);
- stops of the itinerant unit: its stops in the commune during the period, and its next planned stop;
- conseillers: those who recorded at least one activity held in the commune during the period (remote activities
  and deleted ones do not count), and those employed today by a structure located there (a current assignment to
  one of its posts, or a conseiller's membership of it), each person once;
- aidants: active aidants who declare covering the commune (and among them those habilitated Aidants Connect);
- workshops: sessions held in the commune during the period (started, not cancelled), at a place or a stop;
- accompaniments: one per participant of the activities held in the commune during the period, and the same per
  1,000 inhabitants (one decimal, rounded half up), when the commune's population is known.

A commune "without help" has none of these: no place, no stop (in the period or planned), no conseiller, no aidant
and no workshop. For such a commune, the candidates are the people and places of the communes sharing one of its
postal codes (the project has no geometry of communes nor cantons); when those have none either, the itinerant
places, which can add a stop anywhere.
"""

import datetime
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role
from ateliers.models import Seance, StatutSeance
from conseillers.models import Affectation, Conseiller
from reporting import resume
from reporting.models import ResumeActivite
from sicoval_numerique.forms import douze_derniers_mois
from structures.choices import Itinerance
from structures.models import ArretItinerant, Lieu
from structures.selectors import communes_territoire

from .models import Aidant

QUERIES = 8  # EPCI, communes, places, stops, aidants, activities, employed conseillers, workshops
MAX_SUGGESTIONS = 5  # per kind of candidate (places, conseillers, aidants) for one commune
PER = 1000
ONE_DECIMAL = Decimal("0.1")


def sort_key(nom):
    """Names in French alphabetical order whatever the database's collation (Péchabou before Pechbusque)."""
    return unicodedata.normalize("NFKD", nom).encode("ascii", "ignore").decode().casefold(), nom


def default_period(today=None):
    """The twelve whole months ending with the current one."""
    return douze_derniers_mois(today or timezone.localdate())


def pour_mille(accompagnements, population):
    """Accompaniments per 1,000 inhabitants with one decimal (half up), or None when the population is unknown."""
    if not population:
        return None
    return (Decimal(accompagnements) * PER / Decimal(population)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass
class Personne:
    """A conseiller or an aidant, as the page names and links them."""

    uuid: object
    prenom: str
    nom: str
    detail: str = ""
    activites: int = 0

    def __str__(self):
        return f"{self.prenom} {self.nom}"


@dataclass
class Suggestions:
    """Who could cover a commune without help: from the communes sharing a postal code (``voisines``), or the
    itinerant places when those have no one either."""

    voisines: list = field(default_factory=list)
    lieux: list = field(default_factory=list)
    conseillers: list = field(default_factory=list)
    aidants: list = field(default_factory=list)
    itinerants: list = field(default_factory=list)

    @property
    def vide(self):
        return not (self.lieux or self.conseillers or self.aidants)


@dataclass
class LigneCommune:
    commune: object
    lieux: list = field(default_factory=list)  # dicts: uuid, nom, structure
    arrets: int = 0
    prochain_arret: datetime.date | None = None
    conseillers_actifs: dict = field(default_factory=dict)  # id -> Personne (activities in the commune)
    conseillers_rattaches: dict = field(default_factory=dict)  # id -> Personne (employed by a structure there)
    aidants: dict = field(default_factory=dict)  # id -> Personne
    aidants_habilites: int = 0
    ateliers: int = 0
    activites: int = 0
    accompagnements: int = 0
    suggestions: Suggestions | None = None

    @property
    def population(self):
        return self.commune.population

    @property
    def nb_lieux(self):
        return len(self.lieux)

    @property
    def conseillers(self):
        """Every conseiller covering the commune, once."""
        return {**self.conseillers_rattaches, **self.conseillers_actifs}

    @property
    def nb_conseillers(self):
        return len(self.conseillers)

    @property
    def nb_aidants(self):
        return len(self.aidants)

    @property
    def pour_mille(self):
        return pour_mille(self.accompagnements, self.population)

    @property
    def sans_lieu(self):
        """No place to go: no fixed place, and no stop of the itinerant unit in the period or planned."""
        return not self.lieux and not self.arrets and self.prochain_arret is None

    @property
    def sans_aide(self):
        return self.sans_lieu and not self.conseillers and not self.aidants and not self.ateliers


@dataclass
class Maillage:
    du: datetime.date
    au: datetime.date
    lignes: list

    @property
    def sans_aide(self):
        return [ligne for ligne in self.lignes if ligne.sans_aide]

    @property
    def population(self):
        return sum(ligne.population or 0 for ligne in self.lignes)

    @property
    def population_sans_aide(self):
        return sum(ligne.population or 0 for ligne in self.sans_aide)

    @property
    def accompagnements(self):
        return sum(ligne.accompagnements for ligne in self.lignes)

    @property
    def pour_mille(self):
        known = [ligne for ligne in self.lignes if ligne.population]
        return pour_mille(sum(ligne.accompagnements for ligne in known), sum(ligne.population for ligne in known))

    @property
    def sans_lieu(self):
        return [ligne for ligne in self.lignes if ligne.sans_lieu]


# --- Reads: one query each ----------------------------------------------------------------------------------------
def _lieux(ids):
    """Published fixed places of the communes, and every published itinerant place (the fallback candidates)."""
    fixed = Q(itinerance=Itinerance.FIXE, commune_id__in=ids)
    return list(
        Lieu.objects.filter(fixed | Q(itinerance=Itinerance.ITINERANT), is_active=True)
        .order_by("nom")
        .values("uuid", "nom", "commune_id", "itinerance", "structure__nom")
    )


def _arrets(ids, du, au, today):
    return (
        ArretItinerant.objects.filter(commune_id__in=ids)
        .order_by()
        .values("commune_id")
        .annotate(
            periode=Count("pk", filter=Q(date__gte=du, date__lte=au)),
            prochain=Min("date", filter=Q(date__gte=today, lieu__is_active=True)),
        )
    )


def _aidants(ids):
    """(commune, aidant) pairs of the active aidants covering the communes."""
    return (
        Aidant.communes.through.objects.filter(commune_id__in=ids, aidant__actif=True)
        .order_by("aidant__nom", "aidant__prenom")
        .values_list(
            "commune_id",
            "aidant_id",
            "aidant__uuid",
            "aidant__prenom",
            "aidant__nom",
            "aidant__habilite_aidants_connect",
            "aidant__structure__nom",
        )
    )


def _activites(ids, du, au):
    """Per (commune, conseiller): activities and accompaniments held in the commune during the period, read from
    the monthly summaries (a remote activity has no commune there)."""
    return (
        ResumeActivite.objects.filter(commune_id__in=ids, mois__gte=du, mois__lte=au)
        .order_by()
        .values("commune_id", "conseiller_id", "conseiller__uuid", "conseiller__prenom", "conseiller__nom")
        .annotate(activites=Sum("activites"), accompagnements=Sum("accompagnements"))
    )


def _rattaches(ids, today):
    """(commune, conseiller) pairs of the conseillers employed today by a structure located in the communes: a
    current assignment to one of its posts, or a conseiller's membership of it (one UNION query)."""
    columns = ("commune", "id", "uuid", "prenom", "nom")
    assigned = (
        Affectation.objects.filter(poste__structure__commune_id__in=ids, date_debut__lte=today)
        .filter(Q(date_fin__isnull=True) | Q(date_fin__gt=today))
        .order_by()
        .values_list(
            "poste__structure__commune_id",
            "conseiller_id",
            "conseiller__uuid",
            "conseiller__prenom",
            "conseiller__nom",
        )
    )
    members = (
        Conseiller.objects.filter(
            user__memberships__role=Role.CONSEILLER, user__memberships__structure__commune_id__in=ids
        )
        .order_by()
        .values_list("user__memberships__structure__commune_id", "pk", "uuid", "prenom", "nom")
    )
    return [dict(zip(columns, row, strict=True)) for row in assigned.union(members)]


def _ateliers(ids, du, au, now):
    """Sessions held per commune: started within the period (and before now), not cancelled; at a stop of the
    itinerant unit, the stop's commune, else the place's."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(du, datetime.time.min, tzinfo=tz)
    end = min(now, datetime.datetime.combine(au + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz))
    return (
        Seance.objects.filter(debut__gte=start, debut__lt=end)
        .exclude(statut=StatutSeance.ANNULEE)
        .annotate(commune_seance=Coalesce("arret__commune_id", "lieu__commune_id"))
        .filter(commune_seance__in=ids)
        .order_by()
        .values("commune_seance")
        .annotate(n=Count("pk"))
    )


# --- The mesh ------------------------------------------------------------------------------------------------------
def couverture(du, au, *, today=None, now=None):
    """The mesh of the territory's communes from ``du`` to ``au`` (inclusive), in alphabetical order."""
    du, au = resume.mois_entiers(du, au)
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    communes = sorted(communes_territoire(), key=lambda commune: sort_key(commune.nom))
    lignes = {commune.pk: LigneCommune(commune=commune) for commune in communes}
    ids = list(lignes)
    if not ids:
        return Maillage(du=du, au=au, lignes=[])

    itinerants = []
    for lieu in _lieux(ids):
        if lieu["itinerance"] == Itinerance.ITINERANT:
            itinerants.append(lieu)
        else:
            lignes[lieu["commune_id"]].lieux.append(lieu)
    for row in _arrets(ids, du, au, today):
        ligne = lignes[row["commune_id"]]
        ligne.arrets, ligne.prochain_arret = row["periode"], row["prochain"]
    for commune_id, pk, uuid, prenom, nom, habilite, structure in _aidants(ids):
        lignes[commune_id].aidants[pk] = Personne(uuid, prenom, nom, detail=structure)
        lignes[commune_id].aidants_habilites += bool(habilite)
    for row in _activites(ids, du, au):
        ligne = lignes[row["commune_id"]]
        ligne.activites += row["activites"]
        ligne.accompagnements += row["accompagnements"]
        ligne.conseillers_actifs[row["conseiller_id"]] = Personne(
            row["conseiller__uuid"], row["conseiller__prenom"], row["conseiller__nom"], activites=row["activites"]
        )
    for row in _rattaches(ids, today):
        ligne = lignes[row["commune"]]
        ligne.conseillers_rattaches[row["id"]] = Personne(row["uuid"], row["prenom"], row["nom"])
    for row in _ateliers(ids, du, au, now):
        lignes[row["commune_seance"]].ateliers = row["n"]

    ordered = [lignes[pk] for pk in ids]
    for ligne in ordered:
        if ligne.sans_aide:
            ligne.suggestions = _suggestions(ligne, ordered, itinerants)
    return Maillage(du=du, au=au, lignes=ordered)


def _suggestions(ligne, lignes, itinerants):
    """Candidates for a commune without help, from the communes sharing one of its postal codes."""
    codes = set(ligne.commune.codes_postaux or [])
    voisines = [
        other for other in lignes if other is not ligne and codes.intersection(other.commune.codes_postaux or [])
    ]
    lieux, conseillers, aidants = [], {}, {}
    for voisine in voisines:
        lieux.extend({**lieu, "commune": voisine.commune.nom} for lieu in voisine.lieux)
        for pk, personne in voisine.conseillers.items():
            known = conseillers.setdefault(pk, Personne(personne.uuid, personne.prenom, personne.nom))
            known.activites += personne.activites
            known.detail = ", ".join(filter(None, [known.detail, voisine.commune.nom]))
        for pk, personne in voisine.aidants.items():
            known = aidants.setdefault(pk, Personne(personne.uuid, personne.prenom, personne.nom))
            known.detail = ", ".join(filter(None, [known.detail, voisine.commune.nom]))
    suggestions = Suggestions(
        voisines=[voisine.commune for voisine in voisines],
        lieux=lieux[:MAX_SUGGESTIONS],
        conseillers=sorted(conseillers.values(), key=lambda p: (-p.activites, p.nom, p.prenom))[:MAX_SUGGESTIONS],
        aidants=sorted(aidants.values(), key=lambda p: (p.nom, p.prenom))[:MAX_SUGGESTIONS],
    )
    if suggestions.vide:
        suggestions.itinerants = itinerants
    return suggestions
