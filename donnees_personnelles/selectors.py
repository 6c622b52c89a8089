"""Everything the platform holds about one person, found by their e-mail address, their phone number, or their first
and last names: the files of followed people (with the attributes of each of their accompaniments), the workshop
registrations, the referrals, and the e-mails of the outbox (sent to that address, or about one of these
registrations or referrals: the conseiller's e-mail about a referral names the person).

The search reads the current values: a value only held by an old version of a row (a corrected address) is not
found, but erasing a row erases every version of it. A fixed number of queries whatever the matches (one per table,
one for the accompaniments)."""

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Prefetch, Q

from accompagnements.models import Accompagnement, Beneficiaire
from aidants.models import Orientation
from ateliers.models import Inscription
from notifications.models import Email
from notifications.services import mask_email

from .models import TypeCritere


@dataclass(frozen=True)
class Critere:
    """What identifies the person: an address, a phone number (its last 9 digits, as the services compare numbers),
    or a first and last name together."""

    type: str
    email: str = ""
    telephone: str = ""
    prenom: str = ""
    nom: str = ""

    def masque(self):
        """The criterion as the journal keeps it: enough to recognise a request, never the value."""
        if self.type == TypeCritere.EMAIL:
            return mask_email(self.email)
        if self.type == TypeCritere.TELEPHONE:
            digits = "".join(ch for ch in self.telephone if ch.isdigit())
            return "*" * (len(digits) - 2) + digits[-2:]
        return f"{self.prenom[:1]}*** {self.nom[:1]}***"

    def params(self):
        """The form's fields that give this criterion back (hidden fields of the next step)."""
        return {"email": self.email, "telephone": self.telephone, "prenom": self.prenom, "nom": self.nom}


def _phone(name, telephone):
    """Numbers are stored normalised (+33612345678) by the services; rows written otherwise (imports, admin) may hold
    the usual spaced form « 06 12 34 56 78 »: the last 9 digits match either."""
    last = "".join(ch for ch in telephone if ch.isdigit())[-9:]
    spaced = f"{last[0]} {last[1:3]} {last[3:5]} {last[5:7]} {last[7:9]}"
    return Q(**{f"{name}__endswith": last}) | Q(**{f"{name}__endswith": spaced})


def _match(critere, *, with_name=True):
    """The condition on a table with ``prenom``/``nom``/``email``/``telephone`` columns, or None when the criterion
    cannot identify anyone there (a referral keeps a first name only: a name search does not reach it)."""
    if critere.type == TypeCritere.EMAIL:
        return Q(email__iexact=critere.email)
    if critere.type == TypeCritere.TELEPHONE:
        return _phone("telephone", critere.telephone)
    if with_name:
        return Q(prenom__iexact=critere.prenom, nom__iexact=critere.nom)
    return None


def beneficiaires_matching(critere):
    return Beneficiaire.objects.filter(_match(critere), anonymise_le__isnull=True)


def inscriptions_matching(critere):
    return Inscription.objects.filter(_match(critere)).exclude(cle_personne__startswith="purge:")


def orientations_matching(critere):
    condition = _match(critere, with_name=False)
    if condition is None:
        return Orientation.objects.none()
    return Orientation.objects.filter(condition, anonymisee_le__isnull=True)


def emails_matching(critere, *, inscription_uuids=(), orientation_uuids=()):
    """The outbox's e-mails to the address, and those about the person's registrations and referrals (their
    ``objet`` starts with ``inscription:<uuid>`` or ``orientation:<uuid>``, reminders included)."""
    conditions = [Q(objet__startswith=f"inscription:{uuid}") for uuid in inscription_uuids]
    conditions += [Q(objet__startswith=f"orientation:{uuid}") for uuid in orientation_uuids]
    if critere.type == TypeCritere.EMAIL:
        conditions.append(Q(destinataire=critere.email))
    if not conditions:
        return Email.objects.none()
    return Email.objects.filter(reduce(or_, conditions))


@dataclass
class Dossier:
    critere: Critere
    beneficiaires: list = field(default_factory=list)
    inscriptions: list = field(default_factory=list)
    orientations: list = field(default_factory=list)
    emails: list = field(default_factory=list)

    def counts(self):
        return {
            "beneficiaires": len(self.beneficiaires),
            "inscriptions": len(self.inscriptions),
            "orientations": len(self.orientations),
            "emails": len(self.emails),
        }

    @property
    def total(self):
        return sum(self.counts().values())


def dossier_of(critere, *, with_bodies=False):
    """Every record about the person, read in five queries. The e-mails' bodies are read for an export only."""
    accompagnements = Accompagnement.objects.select_related(
        "activite__conseiller", "activite__lieu", "activite__commune", "commune_residence"
    ).order_by("activite__date", "activite_id")
    beneficiaires = list(
        beneficiaires_matching(critere)
        .select_related("conseiller", "commune_residence")
        .prefetch_related(Prefetch("accompagnements", queryset=accompagnements))
        .order_by("created_at", "pk")
    )
    inscriptions = list(
        inscriptions_matching(critere)
        .select_related("seance__atelier", "seance__lieu", "commune")
        .order_by("created_at", "pk")
    )
    orientations = list(
        orientations_matching(critere)
        .select_related("aidant", "commune", "conseiller", "seance__atelier")
        .order_by("created_at", "pk")
    )
    emails = emails_matching(
        critere,
        inscription_uuids=[row.uuid for row in inscriptions],
        orientation_uuids=[row.uuid for row in orientations],
    ).order_by("created_at", "pk")
    if not with_bodies:
        emails = emails.defer("texte", "html", "pieces_jointes")
    return Dossier(
        critere=critere,
        beneficiaires=beneficiaires,
        inscriptions=inscriptions,
        orientations=orientations,
        emails=list(emails),
    )
