"""Whose figures a dashboard counts (``Perimetre``), decided once from the user, and the filters every section
derives from it."""

import datetime
from dataclasses import dataclass, replace

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts.models import Role
from accounts.navigation import user_roles
from financements.models import Financeur
from structures.models import Commune


@dataclass
class Perimetre:
    """What a dashboard counts. ``structures``: None for the whole territory, else Structure pks (a list, or a
    ``values_list("pk", flat=True)`` queryset); ``communes``: None or Commune pks; ``public``: counts of people from
    1 to 4 are hidden (the public page, and funders, who are partners outside the programme's structures).

    A funder reads only their own funding lines (``financeurs``: Financeur pks, None for no such restriction),
    except on the structures they are référent of (``structures_propres``)."""

    structures: object = None
    communes: object = None
    public: bool = False
    financeurs: object = None
    structures_propres: tuple = ()
    libelle: str = "Tout le territoire"
    # The département the scope is narrowed to (its communes are then ``communes``): the activity figures read it
    # from the summaries by département.
    departement: str | None = None

    def restreint(self, *, structure=None, commune=None, departement=None):
        """The same scope narrowed to one structure (404 when it is outside the scope), one département (the
        activities held in its communes) and/or one commune."""
        perimetre = self
        if structure is not None:
            if self.structures is not None and structure.pk not in set(self.structures):
                raise Http404("Cette structure n'est pas dans votre périmètre.")
            perimetre = replace(perimetre, structures=(structure.pk,), libelle=structure.nom)
        if departement is not None and commune is None:
            perimetre = replace(
                perimetre,
                departement=departement,
                communes=Commune.objects.filter(departement=departement).values_list("pk", flat=True),
                libelle=f"{perimetre.libelle}, département : {departement}",
            )
        if commune is not None:
            dans_le_departement = departement is None or commune.departement == departement
            perimetre = replace(
                perimetre,
                communes=(commune.pk,) if dans_le_departement else (),
                libelle=f"{perimetre.libelle}, commune : {commune.nom}",
            )
        return perimetre


# --- Scope ---------------------------------------------------------------------------------------------------------
REFUS = "Le pilotage est réservé à l'équipe Sicoval, aux référents de structure et aux financeurs."


def perimetre_pour(user, *, structure=None, commune=None):
    """The scope of a user's dashboard: staff see the whole territory; a référent their structures; a funder the
    structures whose agreements they fund (and only their own funding lines); anyone else is refused
    (PermissionDenied). ``structure`` outside the scope answers 404. Two queries at most."""
    if not user.is_authenticated:
        raise PermissionDenied(REFUS)
    roles = user_roles(user)
    if "staff" in roles:
        return Perimetre().restreint(structure=structure, commune=commune)
    if not roles & {Role.REFERENT, Role.FINANCEUR}:
        raise PermissionDenied(REFUS)
    memberships = list(
        user.memberships.filter(role__in=[Role.REFERENT, Role.FINANCEUR]).values_list("role", "structure_id")
    )
    referent_de = {pk for role, pk in memberships if role == Role.REFERENT}
    financeur_de = [pk for role, pk in memberships if role == Role.FINANCEUR]
    financeurs, financees = None, set()
    if financeur_de:
        rows = Financeur.objects.filter(structure__in=financeur_de).values_list("pk", "conventions__structure")
        rows = list(rows)
        financeurs = tuple(sorted({pk for pk, _structure in rows}))
        financees = {structure for _pk, structure in rows if structure is not None}
    perimetre = Perimetre(
        structures=tuple(sorted(referent_de | financees)),
        public=bool(financees - referent_de),
        financeurs=financeurs,
        structures_propres=tuple(sorted(referent_de)),
        libelle="Vos structures" if referent_de else "Les structures que vous financez",
    )
    return perimetre.restreint(structure=structure, commune=commune)


def dans(perimetre, structure_path, commune_path=None):
    """The Q of the rows in the scope: their structure (by ``structure_path``) and commune (``commune_path``)."""
    condition = Q()
    if perimetre.structures is not None:
        condition &= Q(**{f"{structure_path}__in": perimetre.structures})
    if perimetre.communes is not None and commune_path:
        condition &= Q(**{f"{commune_path}__in": perimetre.communes})
    return condition


def debut_du_jour(jour):
    """Local midnight starting ``jour``, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(jour, datetime.time.min))


def entre(path, du, au):
    """Q of the datetimes of ``path`` falling on a day from ``du`` to ``au`` (local time)."""
    return Q(**{f"{path}__gte": debut_du_jour(du), f"{path}__lt": debut_du_jour(au + datetime.timedelta(days=1))})


def jour_de_fin(au, today=None):
    """Stocks (posts, funding) are counted on the last day of the period, or today while it is not over."""
    return min(au, today or timezone.localdate())


def mois_de(value):
    return value.date() if isinstance(value, datetime.datetime) else value
