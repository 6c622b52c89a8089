"""Every read of posts, conseillers, contracts and training that encodes visibility or computes a figure.

Figures are computed from the dated rows (attachments, assignments, contracts), never from the cached
``Poste.etat``, so that they answer for any date. Each selector runs a fixed number of queries.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat

from accounts.models import Role
from structures.models import Structure
from structures.selectors import structures_editable_by

from .choices import EtatPoste, TypeFormation
from .models import Affectation, Conseiller, Contrat, Formation, MiseEnRelation, Poste, Rattachement

# Entrants from this day on owe two continuing modules in their first calendar year (DOMAIN.md: "after 2024").
DOUBLE_MODULE_ENTRANTS_FROM = datetime.date(2025, 1, 1)


class TrainingStatus:
    DONE = "done"
    DUE = "due"
    LATE = "late"
    LABELS = {DONE: "À jour", DUE: "À faire", LATE: "En retard"}


# --- Scoping -----------------------------------------------------------------------------------------------------
def _sees_everything(user):
    return user.is_staff or user.memberships.filter(role=Role.FINANCEUR).exists()


def _member_structure_ids(user, roles=None):
    if roles is None:
        return Structure.objects.filter(memberships__user=user).values("pk")
    return Structure.objects.filter(memberships__user=user, memberships__role__in=roles).values("pk")


# The roles of a structure that read its posts (an aidant has no back-office data).
POSTE_READER_ROLES = (Role.REFERENT, Role.CONSEILLER)


def postes_visible_to(user):
    """Staff and funders see every post; référents and conseillers the posts currently attached to their
    structures; anyone else (an aidant included), none."""
    qs = Poste.objects.select_related("structure")
    if not user.is_authenticated:
        return qs.none()
    if _sees_everything(user):
        return qs.all()
    return qs.filter(structure__in=_member_structure_ids(user, POSTE_READER_ROLES))


def postes_scope_structures(user):
    """None when the user sees every post (figures of the whole territory), else the structures whose posts they
    see (their figures are those of these structures)."""
    if user.is_authenticated and _sees_everything(user):
        return None
    if not user.is_authenticated:
        return Structure.objects.none()
    return Structure.objects.filter(pk__in=_member_structure_ids(user, POSTE_READER_ROLES))


def postes_editable_by(user):
    """Posts on which a user may record contracts: all for staff, those currently attached to a référent's
    structures."""
    return Poste.objects.filter(structure__in=structures_editable_by(user).values("pk")).select_related("structure")


def conseillers_of_structures(structure_ids):
    """The conseillers of some structures: holding one of their posts now, under contract on one of their posts,
    or in a recruitment record with them."""
    return Conseiller.objects.filter(
        Exists(
            Affectation.objects.filter(
                conseiller=OuterRef("pk"), date_fin__isnull=True, poste__structure__in=structure_ids
            )
        )
        | Exists(Contrat.objects.filter(conseiller=OuterRef("pk"), poste__structure__in=structure_ids))
        | Exists(MiseEnRelation.objects.filter(conseiller=OuterRef("pk"), structure__in=structure_ids))
    )


def structure_employeuse(conseiller, date):
    """The structure employing a conseiller on a day: the structure of the post they held that day (where the post
    was attached that day), else of a contract covering the day, else None. One query."""
    held = Affectation.objects.filter(_covering(date), conseiller=conseiller)
    attached = Rattachement.objects.filter(_covering(date), poste__in=held.values("poste"))
    # A contract's end date is its last day (included), unlike attachments and assignments.
    contracted = Contrat.objects.filter(conseiller=conseiller, date_debut__lte=date).filter(
        Q(date_fin__isnull=True) | Q(date_fin__gte=date)
    )
    return (
        Structure.objects.annotate(
            rang=Case(
                When(Exists(attached.filter(structure=OuterRef("pk"))), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .filter(
            Exists(attached.filter(structure=OuterRef("pk")))
            | Exists(contracted.filter(poste__structure=OuterRef("pk")))
        )
        .order_by("rang", "pk")
        .first()
    )


def conseillers_visible_to(user):
    """Staff and funders see every conseiller; référents and conseillers those of their structures; everyone sees
    themselves. Aidants, who are not the conseillers' employers, see none of their employment data."""
    if not user.is_authenticated:
        return Conseiller.objects.none()
    if _sees_everything(user):
        return Conseiller.objects.all()
    structures = _member_structure_ids(user, POSTE_READER_ROLES)
    return conseillers_of_structures(structures) | Conseiller.objects.filter(user=user)


def conseillers_editable_by(user):
    """Staff edit every conseiller; a référent the conseillers of the structures they edit."""
    if not user.is_authenticated:
        return Conseiller.objects.none()
    if user.is_staff:
        return Conseiller.objects.all()
    return conseillers_of_structures(structures_editable_by(user).values("pk"))


def contrats_visible_to(user):
    """Contracts on the posts a user sees, and a conseiller's own contracts."""
    if not user.is_authenticated:
        return Contrat.objects.none()
    visible = Q(poste__in=postes_visible_to(user).values("pk"))
    if not _sees_everything(user):
        visible |= Q(conseiller__user=user)
    return Contrat.objects.filter(visible).select_related("conseiller", "poste", "poste__structure")


# --- Post figures at a date --------------------------------------------------------------------------------------
def _covering(date):
    """Dated rows (attachments, assignments) running on ``date``: they end on their ``date_fin`` (exclusive)."""
    return Q(date_debut__lte=date) & (Q(date_fin__isnull=True) | Q(date_fin__gt=date))


def postes_counts_at(date, *, structures=None):
    """Posts of the territory (or of ``structures``) on ``date``, in one query.

    - granted: attributed on or before ``date`` and not returned on or before it;
    - occupied: granted, with an assignment covering ``date``; vacant = granted − occupied;
    - returned: returned on or before ``date``;
    - occupancy_rate: occupied ÷ granted as a Decimal (4 places), None when nothing is granted.

    With ``structures`` a post counts for the structure it was attached to on ``date`` (a returned post, for the
    structure it was attached to when returned)."""
    qs = Poste.objects.all()
    if structures is not None:
        attached = Rattachement.objects.filter(poste=OuterRef("pk"), structure__in=structures, date_debut__lte=date)
        attached = attached.filter(Q(date_fin__isnull=True) | Q(date_fin__gt=date) | Q(date_fin=OuterRef("date_rendu")))
        qs = qs.filter(Exists(attached))
    granted = Q(date_attribution__lte=date) & (Q(date_rendu__isnull=True) | Q(date_rendu__gt=date))
    occupied = Exists(Affectation.objects.filter(_covering(date), poste=OuterRef("pk")))
    figures = qs.annotate(is_occupied=occupied).aggregate(
        granted=Count("pk", filter=granted),
        occupied=Count("pk", filter=granted & Q(is_occupied=True)),
        returned=Count("pk", filter=Q(date_rendu__lte=date)),
    )
    figures["vacant"] = figures["granted"] - figures["occupied"]
    figures["occupancy_rate"] = _rate(figures["occupied"], figures["granted"])
    figures["date"] = date
    return figures


def _rate(occupied, granted):
    return (Decimal(occupied) / Decimal(granted)).quantize(Decimal("0.0001")) if granted else None


def postes_counts_by_structure_at(date, *, structures=None):
    """The figures of ``postes_counts_at`` for each structure on ``date``, as ``{structure_id: figures}``, in one
    query (structures without any post then are absent)."""
    rows = Rattachement.objects.filter(date_debut__lte=date).filter(
        Q(date_fin__isnull=True) | Q(date_fin__gt=date) | Q(date_fin=F("poste__date_rendu"))
    )
    if structures is not None:
        rows = rows.filter(structure__in=structures)
    granted = Q(poste__date_attribution__lte=date) & (Q(poste__date_rendu__isnull=True) | Q(poste__date_rendu__gt=date))
    occupied = Exists(Affectation.objects.filter(_covering(date), poste=OuterRef("poste")))
    rows = (
        rows.annotate(is_occupied=occupied)
        .values("structure")
        .annotate(
            granted=Count("pk", filter=granted),
            occupied=Count("pk", filter=granted & Q(is_occupied=True)),
            returned=Count("pk", filter=Q(poste__date_rendu__lte=date)),
        )
        .order_by()
    )
    figures = {}
    for row in rows:
        structure_id = row.pop("structure")
        row["vacant"] = row["granted"] - row["occupied"]
        row["occupancy_rate"] = _rate(row["occupied"], row["granted"])
        row["date"] = date
        figures[structure_id] = row
    return figures


def vacancy_start():
    """The day a post became vacant: the end of its last assignment, else its attribution (an expression on
    ``Poste``, also used by the reminders of ``notifications.rappels``)."""
    last_end = Affectation.objects.filter(poste=OuterRef("pk")).order_by("-date_debut").values("date_fin")[:1]
    return Coalesce(Subquery(last_end, output_field=DateField()), F("date_attribution"))


def vacant_since(poste, *, today):
    """Days the post has been vacant on ``today`` (0 on the day it became vacant); None when it is occupied or
    returned. One query."""
    if poste.etat != EtatPoste.VACANT:
        return None
    last = poste.affectations.order_by("-date_debut").values_list("date_fin", flat=True).first()
    start = last or poste.date_attribution
    return max((today - start).days, 0)


def vacancy_limit(today):
    """Posts vacant since this day or earlier must be returned (``POSTE_VACANCE_MAX_MOIS``)."""
    return today - relativedelta(months=settings.POSTE_VACANCE_MAX_MOIS)


def postes_vacant_too_long(*, today, user):
    """Vacant posts the user sees that reached the vacancy delay and must be returned, annotated
    ``vacant_depuis`` (a date), oldest vacancy first. One query."""
    return (
        postes_visible_to(user)
        .filter(etat=EtatPoste.VACANT)
        .annotate(vacant_depuis=vacancy_start())
        .filter(vacant_depuis__lte=vacancy_limit(today))
        .order_by("vacant_depuis", "pk")
    )


# --- Contracts ---------------------------------------------------------------------------------------------------
def fin_effective():
    """SQL twin of ``Contrat.date_fin_effective``: the rupture when it comes first, else the planned end."""
    return Case(
        When(
            Q(date_rupture__isnull=False) & (Q(date_fin__isnull=True) | Q(date_rupture__lt=F("date_fin"))),
            then=F("date_rupture"),
        ),
        default=F("date_fin"),
        output_field=DateField(),
    )


def contrats_ending_between(start, end, *, user):
    """Contracts the user sees whose effective end falls between ``start`` and ``end`` (both included), annotated
    ``fin_effective``, soonest first. One query."""
    return (
        contrats_visible_to(user)
        .annotate(fin_effective=fin_effective())
        .filter(fin_effective__gte=start, fin_effective__lte=end)
        .order_by("fin_effective", "pk")
    )


# --- Continuing training -----------------------------------------------------------------------------------------
def with_training_status(qs, year, *, today):
    """Annotate conseillers with the continuing-training rule of ``year`` (one query, whatever their number).

    The rule (DOMAIN.md, "1 module per calendar year, 2 in the first year for entrants after 2024"):
    - a conseiller owes training in ``year`` when one of their contracts runs during that year (effective end
      included); otherwise ``training_status`` is None;
    - entry = the start of their first contract; entrants from 1 January 2025 owe 2 modules in the calendar year
      of their entry, everyone owes 1 module in any other year;
    - a module counts for the year in which it starts (continuing ``Formation`` rows only);
    - ``done`` when enough modules were followed; ``late`` when the year is over (``today`` after 31 December of
      ``year``) without them; ``due`` while the year is still running.
    Annotations: ``entree`` (date), ``modules_faits``, ``modules_requis``, ``training_status``.
    """
    year_start, year_end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    first_contract = Contrat.objects.filter(conseiller=OuterRef("pk")).order_by("date_debut").values("date_debut")[:1]
    modules = (
        Formation.objects.filter(
            conseiller=OuterRef("pk"), type=TypeFormation.CONTINUE, date_debut__gte=year_start, date_debut__lte=year_end
        )
        .values("conseiller")
        .annotate(n=Count("pk"))
        .values("n")
    )
    in_programme = Exists(
        Contrat.objects.filter(conseiller=OuterRef("pk"), date_debut__lte=year_end)
        .filter(Q(date_fin__isnull=True) | Q(date_fin__gte=year_start))
        .filter(Q(date_rupture__isnull=True) | Q(date_rupture__gte=year_start))
    )
    if year_start >= DOUBLE_MODULE_ENTRANTS_FROM:
        required = Case(
            When(entree__gte=year_start, entree__lte=year_end, then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
    else:
        required = Value(1, output_field=IntegerField())
    unmet = TrainingStatus.LATE if today > year_end else TrainingStatus.DUE
    return qs.annotate(
        entree=Subquery(first_contract, output_field=DateField()),
        modules_faits=Coalesce(Subquery(modules, output_field=IntegerField()), 0),
        modules_requis=required,
        in_programme=in_programme,
    ).annotate(
        training_status=Case(
            When(in_programme=False, then=Value(None)),
            When(modules_faits__gte=F("modules_requis"), then=Value(TrainingStatus.DONE)),
            default=Value(unmet),
            output_field=CharField(),
        )
    )


def training_status(conseiller, year, *, today):
    """``"done"``, ``"due"`` or ``"late"`` for the continuing training of ``year`` (rule in
    ``with_training_status``), or None when the conseiller had no contract running that year. One query."""
    return (
        with_training_status(Conseiller.objects.filter(pk=conseiller.pk), year, today=today)
        .values_list("training_status", flat=True)
        .first()
    )


def conseillers_owing_training(year, *, today, user):
    """Conseillers the user sees who still owe training for ``year`` (status ``due`` or ``late``), annotated as in
    ``with_training_status``. One query."""
    return (
        with_training_status(conseillers_visible_to(user), year, today=today)
        .filter(training_status__in=[TrainingStatus.DUE, TrainingStatus.LATE])
        .order_by("nom", "prenom", "pk")
    )


# --- A post's page -----------------------------------------------------------------------------------------------
@dataclass
class TimelineEntry:
    date: datetime.date
    kind: str  # rattachement, fin_rattachement, affectation, fin_affectation, contrat, fin_contrat, formation, ...
    label: str
    obj: object


@dataclass
class PosteTimeline:
    rattachements: list
    affectations: list
    contrats: list
    formations: list
    entries: list = field(default_factory=list)


def poste_timeline(poste):
    """Attachments, occupants, contracts on the post and trainings of its occupants, each list in date order, and
    ``entries`` merging them into one dated story (attribution and return included). Four queries."""
    rattachements = list(poste.rattachements.select_related("structure").order_by("date_debut"))
    affectations = list(poste.affectations.select_related("conseiller").order_by("date_debut"))
    contrats = list(poste.contrats.select_related("conseiller").order_by("date_debut", "pk"))
    occupant_ids = {a.conseiller_id for a in affectations}
    formations = list(
        Formation.objects.filter(conseiller_id__in=occupant_ids).select_related("conseiller").order_by("date_debut")
    )
    entries = [TimelineEntry(poste.date_attribution, "attribution", "Attribution du poste", poste)]
    for r in rattachements:
        entries.append(TimelineEntry(r.date_debut, "rattachement", f"Rattaché à {r.structure}", r))
        if r.date_fin and r.date_fin != poste.date_rendu:
            entries.append(TimelineEntry(r.date_fin, "fin_rattachement", f"Quitte {r.structure}", r))
    for a in affectations:
        entries.append(TimelineEntry(a.date_debut, "affectation", f"Prise de poste de {a.conseiller}", a))
        if a.date_fin:
            entries.append(TimelineEntry(a.date_fin, "fin_affectation", f"Départ de {a.conseiller}", a))
    for c in contrats:
        entries.append(TimelineEntry(c.date_debut, "contrat", f"Début du {c.get_type_display()} de {c.conseiller}", c))
        if c.date_rupture:
            label = f"Rupture du contrat de {c.conseiller} ({c.get_motif_rupture_display()})"
            entries.append(TimelineEntry(c.date_rupture, "rupture", label, c))
        elif c.date_fin:
            label = f"Fin du {c.get_type_display()} de {c.conseiller}"
            entries.append(TimelineEntry(c.date_fin, "fin_contrat", label, c))
    for f in formations:
        entries.append(TimelineEntry(f.date_debut, "formation", f"{f.intitule} ({f.conseiller})", f))
    if poste.date_rendu:
        entries.append(TimelineEntry(poste.date_rendu, "rendu", "Poste rendu", poste))
    entries.sort(key=lambda e: e.date)
    return PosteTimeline(rattachements, affectations, contrats, formations, entries)


def conseiller_detail(conseiller):
    """A conseiller with contracts, trainings and posts held, prefetched (four queries)."""
    return (
        Conseiller.objects.filter(pk=conseiller.pk)
        .select_related("user", "coordinateur")
        .prefetch_related(
            Prefetch("contrats", queryset=Contrat.objects.select_related("poste", "poste__structure")),
            Prefetch("formations", queryset=Formation.objects.order_by("date_debut")),
            Prefetch(
                "affectations",
                queryset=Affectation.objects.select_related("poste", "poste__structure").order_by("-date_debut"),
            ),
        )
        .get()
    )


# --- The posts board ---------------------------------------------------------------------------------------------
def postes_board(
    user, *, today, structure=None, commune=None, typologie="", etat="", fin_contrat=False, formation_due=False
):
    """The posts a user sees, with what the board and its exports show, in one query whatever their number.

    Annotations: ``occupant_id``, ``occupant_uuid``, ``occupant_nom`` (the current occupant), ``contrat_type`` and
    ``contrat_fin`` (the occupant's latest contract on the post and its effective end), ``formation_statut`` (the
    occupant's continuing-training status for the current year, as in ``with_training_status``).
    Filters: ``fin_contrat`` keeps posts with a contract whose effective end falls in the next ``fin_contrat`` days
    (an int), ``formation_due`` posts whose occupant still owes training this year."""
    current = Affectation.objects.filter(poste=OuterRef("pk"), date_fin__isnull=True)
    contract = (
        Contrat.objects.filter(poste=OuterRef("pk"), conseiller=OuterRef("occupant_id"))
        .annotate(fin=fin_effective())
        .order_by("-date_debut", "-pk")
    )
    training = with_training_status(Conseiller.objects.filter(pk=OuterRef("occupant_id")), today.year, today=today)
    qs = (
        postes_visible_to(user)
        .select_related("structure__commune")
        .annotate(
            occupant_id=Subquery(current.values("conseiller")[:1]),
            occupant_uuid=Subquery(current.values("conseiller__uuid")[:1]),
            occupant_nom=Subquery(
                current.annotate(
                    full_name=Concat("conseiller__prenom", Value(" "), "conseiller__nom", output_field=CharField())
                ).values("full_name")[:1]
            ),
        )
        .annotate(
            contrat_type=Subquery(contract.values("type")[:1]),
            contrat_fin=Subquery(contract.values("fin")[:1], output_field=DateField()),
            formation_statut=Subquery(training.values("training_status")[:1], output_field=CharField()),
        )
    )
    if structure is not None:
        qs = qs.filter(structure=structure)
    if commune is not None:
        qs = qs.filter(structure__commune=commune)
    if typologie:
        qs = qs.filter(typologie=typologie)
    if etat:
        qs = qs.filter(etat=etat)
    if fin_contrat:
        ending = contrats_ending_between(today, today + datetime.timedelta(days=fin_contrat), user=user)
        qs = qs.filter(pk__in=ending.values("poste"))
    if formation_due:
        qs = qs.filter(formation_statut__in=[TrainingStatus.DUE, TrainingStatus.LATE])
    return qs.order_by("structure__nom", "typologie", "date_attribution", "pk")


# --- Recruitment -------------------------------------------------------------------------------------------------
def mises_en_relation_visible_to(user):
    """Recruitment records a user follows: all for staff, those of the structures a référent edits, none else."""
    if not user.is_authenticated:
        return MiseEnRelation.objects.none()
    qs = MiseEnRelation.objects.select_related("conseiller", "structure")
    if user.is_staff:
        return qs.all()
    return qs.filter(structure__in=structures_editable_by(user).values("pk"))
