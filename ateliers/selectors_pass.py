"""Reads of the Pass numérique, scoped to the caller once, here (``PassScope``):

- Sicoval staff see every order, booklet and pass;
- a référent of a distributor structure sees the booklets entrusted to it and their passes;
- a référent of a qualified place's structure sees the passes used at its places;
- anyone else sees nothing.

Every list runs a fixed number of queries whatever its length: the figures are counted in one grouped query and the
amounts are counts × face value (exact decimals).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from structures.models import Lieu, Structure
from structures.selectors import structures_editable_by

from .models import Carnet, CommandePass, Inscription, PassNumerique, StatutInscription, StatutPass, StatutSeance

S = StatutPass
ZERO = Decimal("0.00")
RECENT_PASSES = 100
FENETRE_INSCRIPTIONS_AVANT = datetime.timedelta(days=92)
FENETRE_INSCRIPTIONS_APRES = datetime.timedelta(days=31)


@dataclass(frozen=True)
class PassScope:
    staff: bool = False
    distributeurs: frozenset = frozenset()
    lieux_qualifies: frozenset = frozenset()  # structures whose places are qualified

    @property
    def any(self):
        return self.staff or bool(self.distributeurs) or bool(self.lieux_qualifies)

    @property
    def can_use(self):
        return self.staff or bool(self.lieux_qualifies)

    def can_hand_out(self, carnet):
        if carnet.remis_le is not None:
            return False
        return self.staff or (carnet.distributeur_id is not None and carnet.distributeur_id in self.distributeurs)


def pass_scope(user):
    """What a user may see of the Pass numérique (one query for a référent, none for staff), kept on the user for
    the request."""
    if user is None or not user.is_authenticated:
        return PassScope()
    cached = getattr(user, "_pass_scope_cache", None)
    if cached is not None:
        return cached
    if user.is_staff:
        scope = PassScope(staff=True)
    else:
        rows = (
            structures_editable_by(user)
            .filter(Q(distributeur_pass=True) | Q(lieu_qualifie_pass=True))
            .values_list("pk", "distributeur_pass", "lieu_qualifie_pass")
        )
        rows = list(rows)
        scope = PassScope(
            distributeurs=frozenset(pk for pk, distributeur, _ in rows if distributeur),
            lieux_qualifies=frozenset(pk for pk, _, qualifie in rows if qualifie),
        )
    user._pass_scope_cache = scope
    return scope


def passes_visible_to(user):
    scope = pass_scope(user)
    if scope.staff:
        return PassNumerique.objects.all()
    if not scope.any:
        return PassNumerique.objects.none()
    return PassNumerique.objects.filter(
        Q(carnet__distributeur_id__in=scope.distributeurs) | Q(lieu__structure_id__in=scope.lieux_qualifies)
    )


def carnets_visible_to(user):
    scope = pass_scope(user)
    if scope.staff:
        return Carnet.objects.all()
    return Carnet.objects.filter(distributeur_id__in=scope.distributeurs)


def commandes_visible_to(user):
    scope = pass_scope(user)
    if scope.staff:
        return CommandePass.objects.all()
    if not scope.any:
        return CommandePass.objects.none()
    return CommandePass.objects.filter(pk__in=passes_visible_to(user).values("carnet__commande"))


# --- Figures -------------------------------------------------------------------------------------------------------
@dataclass
class StockFigures:
    """What became of the passes of an order (or of the part a user sees). ``remis`` counts every pass handed to a
    person (since used or expired included, cancelled excluded); the other counts are current states, and
    total = en_stock + en_circulation + utilises + expires + annules."""

    valeur_faciale: Decimal = ZERO
    total: int = 0
    en_stock: int = 0
    en_circulation: int = 0
    remis: int = 0
    utilises: int = 0  # used, reimbursed or not
    rembourses: int = 0
    expires: int = 0
    annules: int = 0

    @property
    def a_rembourser(self):
        return self.utilises - self.rembourses

    @property
    def montant_total(self):
        return self.total * self.valeur_faciale

    @property
    def montant_a_rembourser(self):
        return self.a_rembourser * self.valeur_faciale

    @property
    def montant_rembourse(self):
        return self.rembourses * self.valeur_faciale

    @property
    def montant_expire(self):
        return self.expires * self.valeur_faciale


COUNTS = {
    "total": Q(),
    "en_stock": Q(statut=S.EMIS),
    "en_circulation": Q(statut=S.REMIS),
    "remis": Q(carnet__remis_le__isnull=False) & ~Q(statut=S.ANNULE),
    "utilises": Q(statut__in=[S.UTILISE, S.REMBOURSE]),
    "rembourses": Q(statut=S.REMBOURSE),
    "expires": Q(statut=S.EXPIRE),
    "annules": Q(statut=S.ANNULE),
}


def _prefixed(condition, prefix):
    """The same condition seen from a related model (``pass_numeriques__statut`` for ``statut``)."""
    children = [
        _prefixed(child, prefix) if isinstance(child, Q) else (f"{prefix}{child[0]}", child[1])
        for child in condition.children
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


def _counts(prefix=""):
    return {
        name: Count(f"{prefix}pk", filter=_prefixed(condition, prefix) if condition else None)
        for name, condition in COUNTS.items()
    }


@dataclass
class LigneStock:
    commande: CommandePass
    figures: StockFigures


@dataclass
class Stock:
    lignes: list = field(default_factory=list)
    totaux: StockFigures = field(default_factory=StockFigures)
    montant_a_rembourser: Decimal = ZERO
    montant_rembourse: Decimal = ZERO
    montant_expire: Decimal = ZERO


def stock(user, *, commande=None):
    """Per order (newest first), what became of the passes the user sees, with the totals (two queries)."""
    passes = passes_visible_to(user)
    if commande is not None:
        passes = passes.filter(carnet__commande=commande)
    rows = {
        row.pop("carnet__commande"): row for row in passes.values("carnet__commande").order_by().annotate(**_counts())
    }
    commandes = (
        CommandePass.objects.filter(pk__in=list(rows)).select_related("financeur").order_by("-date_commande", "-pk")
    )
    result = Stock()
    totaux = dict.fromkeys(COUNTS, 0)
    for cmd in commandes:
        figures = StockFigures(valeur_faciale=cmd.valeur_faciale, **rows[cmd.pk])
        result.lignes.append(LigneStock(commande=cmd, figures=figures))
        result.montant_a_rembourser += figures.montant_a_rembourser
        result.montant_rembourse += figures.montant_rembourse
        result.montant_expire += figures.montant_expire
        for name in COUNTS:
            totaux[name] += getattr(figures, name)
    result.totaux = StockFigures(**totaux)
    return result


def a_rembourser_par_lieu(user):
    """Passes used and not yet reimbursed, per place and month of use: how many and how much (one query)."""
    rows = (
        passes_visible_to(user)
        .filter(statut=S.UTILISE)
        .annotate(mois=TruncMonth("utilise_le"))
        .values("lieu", "lieu__uuid", "lieu__nom", "lieu__structure__nom", "mois")
        .annotate(nombre=Count("pk"), montant=Sum("carnet__commande__valeur_faciale"))
        .order_by("mois", "lieu__nom", "lieu")
    )
    result = []
    for row in rows:
        mois = row["mois"]
        if isinstance(mois, datetime.datetime):
            mois = mois.date()
        row["mois"] = mois
        row["montant"] = (row["montant"] or ZERO).quantize(Decimal("0.01"))
        result.append(row)
    return result


def carnets_with_counts(queryset):
    """Booklets with how many of their passes are in each state, their order and their distributor (one query)."""
    return (
        queryset.select_related("commande__financeur", "distributeur")
        .annotate(**{f"nb_{name}": count for name, count in _counts("pass_numeriques__").items()})
        .order_by("numero")
    )


def passes_utilises(user, *, limit=RECENT_PASSES):
    """The last passes used at the user's qualified places (all places for staff), newest first."""
    return (
        passes_visible_to(user)
        .filter(lieu__isnull=False)
        .select_related("lieu", "carnet__commande", "inscription__seance__atelier")
        .order_by("-utilise_le", "-pk")[:limit]
    )


# --- Choices of the forms ------------------------------------------------------------------------------------------
def distributeurs():
    return Structure.objects.filter(distributeur_pass=True).order_by("nom")


def carnets_attribuables(commande):
    return commande.carnets.filter(remis_le__isnull=True).select_related("distributeur").order_by("numero")


def inscriptions_pour_pass(user, today):
    """Confirmed registrations without a pass, to sessions of trainings payable with a pass held at a qualified place
    of the user's structures (any for staff), from three months ago to next month."""
    scope = pass_scope(user)
    if not scope.can_use:
        return Inscription.objects.none()
    qualifie = Q(seance__lieu__structure__lieu_qualifie_pass=True) | Q(
        seance__lieu__isnull=True, seance__arret__lieu__structure__lieu_qualifie_pass=True
    )
    qs = Inscription.objects.filter(
        qualifie,
        statut=StatutInscription.CONFIRMEE,
        pass_numerique__isnull=True,
        seance__atelier__formation_pass=True,
        seance__statut=StatutSeance.PLANIFIEE,
        seance__debut__date__gte=today - FENETRE_INSCRIPTIONS_AVANT,
        seance__debut__date__lte=today + FENETRE_INSCRIPTIONS_APRES,
    )
    if not scope.staff:
        qs = qs.filter(
            Q(seance__lieu__structure_id__in=scope.lieux_qualifies)
            | Q(seance__lieu__isnull=True, seance__arret__lieu__structure_id__in=scope.lieux_qualifies)
        )
    return qs.select_related("seance__atelier", "seance__lieu", "seance__arret__lieu").order_by(
        "seance__debut", "nom", "prenom", "pk"
    )


def lieux_a_rembourser():
    """The places that have used passes not yet reimbursed."""
    return Lieu.objects.filter(pass_encaisses__statut=S.UTILISE).select_related("structure").distinct().order_by("nom")
