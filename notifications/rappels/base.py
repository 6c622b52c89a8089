"""What every family of reminders shares: its declared parameters (staff's delays, with bounds), the reminder it
computes for an object (``Rappel``: who, which object and kind, its moment and its send-by limit), the clock
(moments at an hour of a day, Paris time; working days) and the directory of recipients (staff, référents).

A family answers two questions: which reminders have their moment in a period (``rappels``, for a run), and what its
e-mails look like for real objects of the database (``exemples``, for staff's preview, whatever their moment)."""

import abc
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from notifications.services import normalise_address
from structures.models import Membership, Structure

# The period after its moment in which a reminder may still leave; later, it is missed. Families may narrow it (a
# workshop's reminder never leaves after the session has started).
FENETRE = datetime.timedelta(days=1)
# How many objects the preview looks at to find an example of each kind.
EXEMPLES_MAX = 20


@dataclass(frozen=True)
class Parametre:
    """A delay staff may change: an integer between ``minimum`` and ``maximum`` (a callable for a bound read from
    the settings)."""

    nom: str
    libelle: str
    defaut: int
    minimum: int
    maximum: object
    unite: str = "jours"
    aide: str = ""

    @property
    def borne_max(self):
        return self.maximum() if callable(self.maximum) else self.maximum

    def affiche(self, value):
        """``value`` with its unit, in French: 1 jour, 3 jours, 4 mois, 9 h."""
        unite = "jour" if self.unite == "jours" and value in (0, 1) else self.unite
        return f"{value} {unite}".strip()


def jours(n):
    return f"{n} jour{'s' if n > 1 else ''}"


def heure_parametre(defaut=9):
    return Parametre(
        "heure",
        "Heure d'envoi",
        defaut,
        7,
        20,
        unite="h",
        aide="Heure de Paris à laquelle le rappel part, le jour venu.",
    )


@dataclass(frozen=True)
class Genre:
    """One kind of e-mail of a family: its label, its template and who receives it."""

    libelle: str
    template: str
    destinataires: str


@dataclass
class Rappel:
    """One reminder of one object, for one or more recipients. ``objet`` names the object and the kind (and the
    occurrence, such as the session's date): the outbox sends once per (recipient, type, objet). ``eligible_le`` is
    when the object came to be concerned (a registration, a contract entered): a reminder whose moment came before
    it was never due, and is neither sent nor missed."""

    genre: str
    objet: str
    moment: datetime.datetime
    limite: datetime.datetime
    destinataires: list
    context: dict
    eligible_le: datetime.datetime | None = None
    reference: str = ""  # a uuid, for logs

    def __post_init__(self):
        self.destinataires = list(dict.fromkeys(a for a in map(normalise_address, self.destinataires) if a))


@dataclass
class Annuaire:
    """The recipients a run needs, read in a fixed number of queries: staff's addresses, and the référents of the
    structures concerned (a structure without a référent account is reached at its contact address)."""

    equipe: list = field(default_factory=list)
    referents: dict = field(default_factory=dict)

    def structure(self, structure_id):
        return self.referents.get(structure_id, [])


EQUIPE_ET_STRUCTURE = (
    "L'équipe Sicoval (comptes actifs de l'équipe) et les référents de la structure concernée (à défaut de compte "
    "référent, l'e-mail de contact de la structure)."
)


def staff_emails():
    return list(
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )


def referent_emails(structure_ids):
    """{structure id: [addresses]}: its référents with an active account, else its contact address. Two queries."""
    structure_ids = {pk for pk in structure_ids if pk is not None}
    found = {}
    if not structure_ids:
        return found
    rows = (
        Membership.objects.filter(structure_id__in=structure_ids, role=Role.REFERENT, user__is_active=True)
        .exclude(user__email="")
        .order_by("user_id")
        .values_list("structure_id", "user__email")
    )
    for structure_id, email in rows:
        found.setdefault(structure_id, []).append(email)
    missing = structure_ids - set(found)
    if missing:
        contacts = Structure.objects.filter(pk__in=missing).exclude(contact_email="")
        for structure_id, email in contacts.values_list("pk", "contact_email"):
            found[structure_id] = [email]
    return found


def annuaire_equipe_et_structures(structure_ids):
    return Annuaire(equipe=staff_emails(), referents=referent_emails(structure_ids))


# --- The clock -------------------------------------------------------------------------------------------------
def a_l_heure(day, heure):
    """``day`` at ``heure`` o'clock, Paris time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(heure)))


def jour_local(moment):
    return timezone.localtime(moment).date()


def add_working_days(start, days):
    """The moment ``days`` working days after ``start``: Monday to Friday, counted on Paris wall-clock time, French
    public holidays not taken out (the project has no calendar of them). The inverse of
    ``aidants.selectors_orientations.working_days_cutoff``, which flags late referrals to staff: a referral is
    reminded when it becomes late there."""
    cur = timezone.localtime(start).replace(tzinfo=None)
    remaining = datetime.timedelta(days=days)
    while remaining > datetime.timedelta(0):
        if cur.weekday() >= 5:  # a weekend: on to Monday, midnight
            cur = datetime.datetime.combine(cur.date() + datetime.timedelta(days=7 - cur.weekday()), datetime.time.min)
            continue
        next_midnight = datetime.datetime.combine(cur.date() + datetime.timedelta(days=1), datetime.time.min)
        step = min(remaining, next_midnight - cur)
        cur += step
        remaining -= step
    return timezone.make_aware(cur)


def absolute(path):
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def url(name, *args):
    return absolute(reverse(name, args=args))


# --- Families ----------------------------------------------------------------------------------------------------
class Famille(abc.ABC):
    """A family of reminders. Subclasses set the class attributes and implement ``echeancier``, ``objets`` and
    ``rappels_pour``."""

    code = ""
    libelle = ""
    description = ""
    destinataires = ""
    parametres = ()
    genres = {}
    fenetre = FENETRE

    @property
    def type_email(self):
        return f"rappel_{self.code}"

    def defauts(self):
        return {p.nom: p.defaut for p in self.parametres}

    @abc.abstractmethod
    def echeancier(self, params):
        """When the reminders leave, in French, with staff's current delays."""

    def verifier(self, params):
        """Checks across parameters: {parameter name: French message}."""
        return {}

    @abc.abstractmethod
    def objets(self, *, now, params, depuis):
        """The objects that may have a reminder whose moment falls between ``depuis`` and ``now``; with ``depuis``
        None, the objects nearest to come first (for the preview)."""

    def annuaire(self, objets):
        return Annuaire()

    @abc.abstractmethod
    def rappels_pour(self, objet, *, params, annuaire):
        """The reminders of one object, every kind, with their moments (whenever they fall)."""

    def rappels(self, *, now, params, depuis):
        """Every reminder whose moment falls between ``depuis`` and ``now`` and that was due (its object was
        concerned by its moment)."""
        objets = list(self.objets(now=now, params=params, depuis=depuis))
        annuaire = self.annuaire(objets)
        for objet in objets:
            for rappel in self.rappels_pour(objet, params=params, annuaire=annuaire):
                if not depuis <= rappel.moment <= now:
                    continue
                if rappel.eligible_le is not None and rappel.eligible_le > rappel.moment:
                    continue
                yield rappel

    def exemples(self, *, now, params):
        """{kind: a reminder built on a real object} for the kinds the database has an object for."""
        objets = list(self.objets(now=now, params=params, depuis=None)[:EXEMPLES_MAX])
        annuaire = self.annuaire(objets)
        found = {}
        for objet in objets:
            for rappel in self.rappels_pour(objet, params=params, annuaire=annuaire):
                found.setdefault(rappel.genre, rappel)
            if len(found) == len(self.genres):
                break
        return found
