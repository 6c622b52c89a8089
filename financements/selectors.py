"""Every read of the funding that encodes visibility or computes money figures.

Figures are exact to the cent (``Decimal`` quantized to 0.01) and aggregated in the database: each function runs
the same number of queries whatever the number of lines (three for the figures, grouped in SQL per post, structure
or funder). Co-funding needs no special case: a post funded by several agreements simply has several lines.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Role
from conseillers.models import Contrat, Poste, Rattachement
from structures.models import Membership

from .choices import StatutConvention
from .models import Avoir, Convention, LigneFinancement, Versement

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DAYS_PER_YEAR = Decimal(365)


def _cents(value):
    return (value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Scoping -------------------------------------------------------------------------------------------------------
def conventions_visible_to(user):
    """Staff see every agreement; a référent sees their structures' agreements; a funder's member sees the
    agreements of the funder linked to their structure; anyone else, none."""
    if not user.is_authenticated:
        return Convention.objects.none()
    if user.is_staff:
        return Convention.objects.all()
    referent_of = Membership.objects.filter(user=user, role=Role.REFERENT).values("structure")
    funder_of = Membership.objects.filter(user=user, role=Role.FINANCEUR).values("structure")
    return Convention.objects.filter(Q(structure__in=referent_of) | Q(financeur__structure__in=funder_of))


def lignes_visible_to(user):
    return LigneFinancement.objects.filter(convention__in=conventions_visible_to(user).values("pk"))


def versements_visible_to(user):
    return Versement.objects.filter(ligne__convention__in=conventions_visible_to(user).values("pk"))


# --- Figures -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    """Money of a set of funding lines at a date.

    - ``agreed``: sum of the lines' totals;
    - ``paid``: paid up to the date (included); ``remaining`` = agreed − paid;
    - ``overdue`` / ``overdue_count``: instalments of signed agreements planned before the date and not paid by
      then (amount planned, number of instalments);
    - ``repaid``: repayments (avoirs) up to the date (included); ``net`` = paid − repaid.
    """

    agreed: Decimal = ZERO
    paid: Decimal = ZERO
    overdue: Decimal = ZERO
    overdue_count: int = 0
    repaid: Decimal = ZERO

    @property
    def remaining(self):
        return self.agreed - self.paid

    @property
    def net(self):
        return self.paid - self.repaid

    def __add__(self, other):
        return Figures(
            agreed=self.agreed + other.agreed,
            paid=self.paid + other.paid,
            overdue=self.overdue + other.overdue,
            overdue_count=self.overdue_count + other.overdue_count,
            repaid=self.repaid + other.repaid,
        )


def _overdue_q(on_date, prefix=""):
    return Q(
        **{
            f"{prefix}date_prevue__lt": on_date,
            f"{prefix}ligne__convention__statut": StatutConvention.SIGNEE,
        }
    ) & (Q(**{f"{prefix}date_versement__isnull": True}) | Q(**{f"{prefix}date_versement__gt": on_date}))


def _grouped_figures(lignes_queryset, on_date, key):
    """{group value: Figures} for the lines grouped by ``key`` (a path from a line, or None for one group)."""
    # Through the primary keys, so that a caller's queryset with joins never counts a line twice.
    lignes = LigneFinancement.objects.filter(pk__in=lignes_queryset.order_by().values("pk"))
    versements = Versement.objects.filter(ligne__in=lignes.values("pk"))
    avoirs = Avoir.objects.filter(ligne__in=lignes.values("pk"))
    overdue = _overdue_q(on_date)
    metrics = {
        "lignes": {"agreed": Sum("montant_total")},
        "versements": {
            "paid": Sum("montant_verse", filter=Q(date_versement__lte=on_date)),
            "overdue": Sum("montant_prevu", filter=overdue),
            "overdue_count": Count("pk", filter=overdue),
        },
        "avoirs": {"repaid": Sum("montant", filter=Q(date__lte=on_date))},
    }
    values = defaultdict(dict)
    for name, queryset, path in (
        ("lignes", lignes, key),
        ("versements", versements, key and f"ligne__{key}"),
        ("avoirs", avoirs, key and f"ligne__{key}"),
    ):
        if key is None:
            values[None].update(queryset.aggregate(**metrics[name]))
            continue
        for row in queryset.order_by().values(path).annotate(**metrics[name]):
            group = row.pop(path)
            values[group].update(row)
    return {
        group: Figures(
            agreed=_cents(row.get("agreed")),
            paid=_cents(row.get("paid")),
            overdue=_cents(row.get("overdue")),
            overdue_count=row.get("overdue_count") or 0,
            repaid=_cents(row.get("repaid")),
        )
        for group, row in values.items()
    }


def figures(*, lignes_queryset, on_date):
    """The figures of a set of lines at ``on_date`` (three queries)."""
    return _grouped_figures(lignes_queryset, on_date, None)[None]


def figures_by_poste(*, lignes_queryset, on_date):
    """{poste pk: Figures}, for the posts that have lines in ``lignes_queryset`` (three queries)."""
    return _grouped_figures(lignes_queryset, on_date, "poste")


def figures_by_structure(*, lignes_queryset, on_date):
    """{structure pk: Figures}, by the agreements' beneficiary structure (three queries)."""
    return _grouped_figures(lignes_queryset, on_date, "convention__structure")


def figures_by_financeur(*, lignes_queryset, on_date):
    """{financeur pk: Figures} (three queries)."""
    return _grouped_figures(lignes_queryset, on_date, "convention__financeur")


def figures_by_convention(*, lignes_queryset, on_date):
    """{convention pk: Figures} (three queries)."""
    return _grouped_figures(lignes_queryset, on_date, "convention")


def figures_territoire(*, on_date, lignes_queryset=None):
    """The figures of the whole territory (every line, for staff), or of ``lignes_queryset`` when given."""
    if lignes_queryset is None:
        lignes_queryset = LigneFinancement.objects.all()
    return figures(lignes_queryset=lignes_queryset, on_date=on_date)


def versements_overdue(*, on_date, user):
    """Instalments of signed agreements visible to ``user``, planned before ``on_date`` and not paid by then,
    oldest first, with what a list shows (one query)."""
    return (
        versements_visible_to(user)
        .filter(_overdue_q(on_date))
        .select_related("ligne__poste", "ligne__convention__financeur", "ligne__convention__structure")
        .order_by("date_prevue", "pk")
    )


# --- Employer's remaining cost -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmployerCost:
    cost: Decimal
    subsidies: Decimal

    @property
    def remaining(self):
        return self.cost - self.subsidies


def _overlap_days(start, end, other_start, other_end):
    """Days (both ends included) shared by [start, end] and [other_start, other_end]; None ends are open."""
    lo = max(start, other_start) if other_start else start
    hi = min(end, other_end) if other_end else end
    return max((hi - lo).days + 1, 0)


def _attachment_periods(postes, structure):
    """{poste pk: [(first day, last day)]}: when each post belonged to ``structure`` (None ends are open). A post
    without dated attachments belongs to its current structure for all time."""
    rows = defaultdict(list)
    for rattachement in Rattachement.objects.filter(poste__in=[p.pk for p in postes]):
        rows[rattachement.poste_id].append(rattachement)
    periods = {}
    for poste in postes:
        if rows[poste.pk]:
            # An attachment ends the day the next one starts: its ``date_fin`` is not one of its days.
            periods[poste.pk] = [
                (r.date_debut, r.date_fin and r.date_fin - datetime.timedelta(days=1))
                for r in rows[poste.pk]
                if r.structure_id == structure.pk
            ]
        else:
            periods[poste.pk] = [(None, None)] if poste.structure_id == structure.pk else []
    return periods


def employer_remaining_cost(*, start, end, structure=None, poste=None):
    """What the employer still carries over [start, end] (both days included): employer cost minus subsidies.

    - Employer cost: for each contract, its monthly employer cost × 12 / 365 per day of overlap between
      [start, end] and the contract's effective period (start to rupture, else to planned end, open for a running
      CDI), quantized to the cent per contract. For a structure, only the days its posts were attached to it count
      (dated attachments; a post without any belongs to its current structure).
    - Subsidies: for each line (of the post, of the agreements whose beneficiary is the structure, or every line),
      its total minus all its repayments, prorated by the days of overlap between [start, end] and its agreement's
      financing period (both ends included) over the period's length, quantized to the cent per line. Every
      agreement counts whatever its status: the figure is a forecast as much as an account.

    ``remaining`` may be negative when subsidies exceed the cost over the period. At most three queries.
    """
    if structure is not None and poste is not None:
        raise ValueError("Indiquez une structure ou un poste, pas les deux.")
    if end < start:
        raise ValueError("La fin de la période doit suivre son début.")

    contrats = Contrat.objects.filter(date_debut__lte=end).filter(
        Q(date_fin__isnull=True) | Q(date_fin__gte=start), Q(date_rupture__isnull=True) | Q(date_rupture__gte=start)
    )
    lignes = LigneFinancement.objects.filter(
        convention__date_debut_financement__lte=end, convention__date_fin_financement__gte=start
    )
    periods = None
    if poste is not None:
        contrats = contrats.filter(poste=poste)
        lignes = lignes.filter(poste=poste)
    elif structure is not None:
        in_structure = Poste.objects.filter(Q(structure=structure) | Q(rattachements__structure=structure))
        contrats = contrats.filter(poste__in=in_structure.values("pk")).select_related("poste")
        lignes = lignes.filter(convention__structure=structure)

    cost = ZERO
    contrats = list(contrats)
    if structure is not None:
        periods = _attachment_periods({c.poste for c in contrats}, structure)
    for contrat in contrats:
        windows = periods[contrat.poste_id] if periods is not None else [(None, None)]
        days = 0
        for window_start, window_end in windows:
            lo = max(start, window_start) if window_start else start
            hi = min(end, window_end) if window_end else end
            if lo <= hi:
                days += _overlap_days(lo, hi, contrat.date_debut, contrat.date_fin_effective)
        cost += _cents(contrat.cout_employeur_mensuel * 12 / DAYS_PER_YEAR * days)

    subsidies = ZERO
    rows = lignes.annotate(
        repaid=Coalesce(Sum("avoirs__montant"), Value(ZERO), output_field=DecimalField(max_digits=12, decimal_places=2))
    ).values("montant_total", "repaid", "convention__date_debut_financement", "convention__date_fin_financement")
    for row in rows:
        debut, fin = row["convention__date_debut_financement"], row["convention__date_fin_financement"]
        period_days = (fin - debut).days + 1
        days = _overlap_days(start, end, debut, fin)
        subsidies += _cents((row["montant_total"] - row["repaid"]) * days / period_days)
    return EmployerCost(cost=_cents(cost), subsidies=_cents(subsidies))
