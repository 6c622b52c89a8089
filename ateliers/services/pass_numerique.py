"""Pass numérique: a funder's order (``commande_create``) makes numbered booklets of passes, all ``emis``; staff entrust
booklets to a distributor structure (``carnets_attribuer``), which hands each to an eligible person
(``carnet_remettre``: its passes become ``remis``); a qualified place records a pass against a registration to a
training (``pass_utiliser``: ``utilise``) and is reimbursed monthly (``pass_rembourser``: ``rembourse``); staff cancel
a pass not yet used (``pass_annuler``); passes not used by the tolerance date expire (``passes_expirer``, daily).

    emis ──► remis ──► utilise ──► rembourse
      │        │
      └────────┴──► expire | annule

Any other change is refused with a French message. Each service owns its transaction and locks the rows two people
could change at once: a pass is used under its row lock (and its registration's), and the database refuses a second
pass on one registration (one-to-one). Every change keeps its history with the acting user.
"""

import calendar
import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ateliers.models import (
    Carnet,
    CategoriePass,
    CommandePass,
    Inscription,
    PassNumerique,
    Seance,
    StatutInscription,
    StatutPass,
    StatutSeance,
)
from financements.models import Financeur
from financements.services import euros
from structures.models import Structure
from structures.selectors import structures_editable_by

CENT = Decimal("0.01")
MAX_PASS_PAR_COMMANDE = 5000
MAX_VALEUR_FACIALE = Decimal("9999.99")
TAILLES_CARNET = (10, 5)
EXPIRATION_BATCH = 500
NUMEROTATION_ESSAIS = 3

S = StatutPass
# The life of a pass (DOMAIN.md). Each service below performs one of these moves, and only from these states.
TRANSITIONS = {
    S.EMIS: {S.REMIS, S.EXPIRE, S.ANNULE},
    S.REMIS: {S.UTILISE, S.EXPIRE, S.ANNULE},
    S.UTILISE: {S.REMBOURSE},
    S.REMBOURSE: set(),
    S.EXPIRE: set(),
    S.ANNULE: set(),
}
EN_CIRCULATION = (S.EMIS, S.REMIS)

MOIS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


# --- Helpers -------------------------------------------------------------------------------------------------------
def _d(value):
    return value.strftime("%d/%m/%Y")


def mois_label(value):
    """``date(2026, 3, 1)`` → « mars 2026 »."""
    return f"{MOIS[value.month - 1]} {value.year}"


def _require_staff(by, what):
    if not getattr(by, "is_staff", False):
        raise PermissionDenied(f"Seule l'équipe Sicoval {what}.")


def _require_user(by):
    if by is None or not by.is_authenticated:
        raise PermissionDenied("Connectez-vous pour gérer les Pass numériques.")


def _now():
    return timezone.now()


def _today():
    return timezone.localdate()


def _state_sentence(pass_numerique):
    p = pass_numerique
    if p.statut == S.EMIS:
        return f"Le pass {p.numero} n'a pas encore été remis à une personne"
    if p.statut == S.REMIS:
        return f"Le pass {p.numero} a été remis mais n'a pas été utilisé"
    if p.statut == S.UTILISE:
        return f"Le pass {p.numero} a déjà été utilisé le {_d(p.utilise_le)}"
    if p.statut == S.REMBOURSE:
        return f"Le pass {p.numero} a déjà été utilisé puis remboursé le {_d(p.rembourse_le)}"
    if p.statut == S.EXPIRE:
        return f"Le pass {p.numero} a expiré"
    return f"Le pass {p.numero} est annulé"


def _refuse(pass_numerique, action, code="transition"):
    raise ValidationError(f"{_state_sentence(pass_numerique)} : impossible de {action}.", code=code)


def _require_transition(pass_numerique, target, action):
    if target not in TRANSITIONS[S(pass_numerique.statut)]:
        _refuse(pass_numerique, action)


def _save(instance, by, *, reason=None):
    instance._history_user = by
    if reason:
        instance._change_reason = reason[:100]
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError("Cet enregistrement entre en conflit avec un autre : rechargez la page.") from error
    return instance


def _bulk_statut(passes, fields, by, reason=None):
    """Save a status change of several passes with one history row each (``bulk_update`` alone would leave none)."""
    now = _now()
    for p in passes:
        p.updated_at = now
    bulk_update_with_history(
        passes,
        PassNumerique,
        [*fields, "updated_at"],
        batch_size=EXPIRATION_BATCH,
        default_user=by,
        default_change_reason=reason,
    )


def _check_date(value, *, field_name, label, not_after=None, not_after_reason="", not_before=None, before_reason=""):
    if value is None:
        raise ValidationError({field_name: f"Indiquez la date {label}."})
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationError({field_name: f"La date {label} n'est pas une date valide."})
    if value > _today():
        raise ValidationError({field_name: f"La date {label} ne peut pas être dans le futur."})
    if not_after is not None and value > not_after:
        message = f"La date {label} ne peut pas dépasser le {_d(not_after)} {not_after_reason}."
        raise ValidationError({field_name: message})
    if not_before is not None and value < not_before:
        message = f"La date {label} ne peut pas précéder le {_d(not_before)} {before_reason}."
        raise ValidationError({field_name: message})
    return value


def _still_accepted(pass_numerique, commande, action):
    """A pass in circulation whose tolerance date has passed is expired, even before the nightly task records it."""
    if pass_numerique.statut in EN_CIRCULATION and _today() > commande.tolerance_jusqu_au:
        raise ValidationError(
            f"Le pass {pass_numerique.numero} a expiré : il était accepté jusqu'au {_d(commande.tolerance_jusqu_au)} "
            f"(impossible de {action}).",
            code="expire",
        )


def annee_validite(date_commande, annee=None):
    """(valid until, accepted until) of an order: 31/12 of its year (or the given one), tolerance to 31/01 after."""
    annee = annee or date_commande.year
    return datetime.date(annee, 12, 31), datetime.date(annee + 1, 1, 31)


def _code_financeur(financeur):
    """The funder's part of booklet numbers: the first word of its name in capitals (« AG2R La Mondiale » → AG2R)."""
    first = slugify(financeur.nom).split("-")[0].upper()
    return first[:10] or "PASS"


def _next_sequence(prefix):
    numbers = [
        int(numero[len(prefix) :])
        for numero in Carnet.objects.filter(numero__startswith=prefix).values_list("numero", flat=True)
        if numero[len(prefix) :].isdigit()
    ]
    return max(numbers, default=0) + 1


# --- Orders --------------------------------------------------------------------------------------------------------
def _clean_commande(*, financeur, date_commande, nombre, valeur_faciale, taille_carnet, annee, reference):
    errors = {}
    if financeur is None:
        errors["financeur"] = "Choisissez le financeur de la commande."
    try:
        _check_date(date_commande, field_name="date_commande", label="de commande")
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        nombre = int(nombre)
    except (TypeError, ValueError):
        errors["nombre"] = "Indiquez le nombre de pass commandés."
    else:
        if nombre < 1:
            errors["nombre"] = "Une commande compte au moins un pass."
        elif nombre > MAX_PASS_PAR_COMMANDE:
            errors["nombre"] = f"Une commande compte au plus {MAX_PASS_PAR_COMMANDE} pass."
    try:
        valeur = Decimal(str(valeur_faciale)) if valeur_faciale not in (None, "") else None
    except InvalidOperation:
        valeur = Decimal("NaN")
    if valeur is None:
        errors["valeur_faciale"] = "Indiquez la valeur d'un pass."
    elif not valeur.is_finite():
        errors["valeur_faciale"] = "La valeur d'un pass n'est pas un nombre."
    elif valeur != valeur.quantize(CENT):
        errors["valeur_faciale"] = "La valeur d'un pass s'exprime en euros et centimes (deux décimales au plus)."
    elif valeur <= 0:
        errors["valeur_faciale"] = "La valeur d'un pass doit être supérieure à zéro."
    elif valeur > MAX_VALEUR_FACIALE:
        errors["valeur_faciale"] = f"La valeur d'un pass ne peut pas dépasser {euros(MAX_VALEUR_FACIALE)}."
    try:
        taille_carnet = int(taille_carnet)
    except (TypeError, ValueError):
        taille_carnet = None
    if taille_carnet not in TAILLES_CARNET:
        errors["taille_carnet"] = "Un carnet compte 10 ou 5 pass."
    if annee not in (None, ""):
        try:
            annee = int(annee)
        except (TypeError, ValueError):
            errors["annee"] = "L'année de validité s'écrit sur quatre chiffres, par exemple 2026."
        else:
            dated = "date_commande" not in errors and date_commande is not None
            if dated and not date_commande.year <= annee <= date_commande.year + 1:
                errors["annee"] = (
                    f"Les pass d'une commande du {_d(date_commande)} sont valables jusqu'au 31/12/"
                    f"{date_commande.year} ou jusqu'au 31/12/{date_commande.year + 1}."
                )
    else:
        annee = None
    reference = (reference or "").strip()
    if len(reference) > 100:
        errors["reference"] = "La référence compte au plus 100 caractères."
    if errors:
        raise ValidationError(errors)
    return nombre, valeur.quantize(CENT), taille_carnet, annee or date_commande.year, reference


def commande_create(
    *, financeur, date_commande, nombre, valeur_faciale, taille_carnet=10, annee=None, reference="", by
):
    """Record an order of ``nombre`` passes by a funder: valid until 31/12 of the order's year (or ``annee``), accepted
    until 31/01 after; ceil(nombre / taille) booklets numbered in sequence per funder and year (``2026-AG2R-001``),
    the last one holding the remainder, and the passes numbered in their booklet (``2026-AG2R-001-03``), all
    ``emis``."""
    _require_staff(by, "enregistre les commandes de Pass numériques")
    nombre, valeur, taille, annee, reference = _clean_commande(
        financeur=financeur,
        date_commande=date_commande,
        nombre=nombre,
        valeur_faciale=valeur_faciale,
        taille_carnet=taille_carnet,
        annee=annee,
        reference=reference,
    )
    valide, tolerance = annee_validite(date_commande, annee)
    with transaction.atomic():
        # Two orders of one funder are numbered one after the other.
        financeur = Financeur.objects.select_for_update().get(pk=financeur.pk)
        commande = CommandePass(
            financeur=financeur,
            reference=reference,
            date_commande=date_commande,
            nombre=nombre,
            valeur_faciale=valeur,
            taille_carnet=taille,
            valide_jusqu_au=valide,
            tolerance_jusqu_au=tolerance,
        )
        _save(commande, by)
        prefix = f"{annee}-{_code_financeur(financeur)}-"
        for attempt in range(NUMEROTATION_ESSAIS):
            try:
                with transaction.atomic():
                    _create_carnets(commande, prefix, by)
                break
            except IntegrityError as error:
                # Another funder whose name starts with the same word numbered booklets at the same moment.
                if attempt == NUMEROTATION_ESSAIS - 1:
                    raise ValidationError(
                        "Une autre commande est en cours de numérotation : réessayez dans un instant."
                    ) from error
    return commande


def _create_carnets(commande, prefix, by):
    start = _next_sequence(prefix)
    nombre_carnets = math.ceil(commande.nombre / commande.taille_carnet)
    carnets = [Carnet(commande=commande, numero=f"{prefix}{start + index:03d}") for index in range(nombre_carnets)]
    carnets = bulk_create_with_history(carnets, Carnet, default_user=by)
    passes = []
    for index, carnet in enumerate(sorted(carnets, key=lambda c: c.numero)):
        dans_ce_carnet = min(commande.taille_carnet, commande.nombre - index * commande.taille_carnet)
        passes.extend(
            PassNumerique(carnet=carnet, numero=f"{carnet.numero}-{rang:02d}", statut=S.EMIS)
            for rang in range(1, dans_ce_carnet + 1)
        )
    bulk_create_with_history(passes, PassNumerique, default_user=by)


# --- Booklets ------------------------------------------------------------------------------------------------------
def _require_distributeur(distributeur, field_name="distributeur"):
    if distributeur is None:
        raise ValidationError({field_name: "Choisissez la structure distributrice."})
    if not distributeur.distributeur_pass:
        raise ValidationError(
            {field_name: f"{distributeur.nom} n'est pas une structure distributrice de Pass numériques."}
        )


def carnets_attribuer(*, carnets, distributeur, by):
    """Entrust booklets not yet handed out to a distributor structure (staff): its référents then hand them out."""
    _require_staff(by, "confie les carnets aux structures distributrices")
    _require_distributeur(distributeur)
    pks = sorted({carnet.pk for carnet in carnets})
    if not pks:
        raise ValidationError({"carnets": "Choisissez au moins un carnet."})
    with transaction.atomic():
        distributeur = Structure.objects.get(pk=distributeur.pk)
        _require_distributeur(distributeur)
        locked = list(Carnet.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
        for carnet in locked:
            if carnet.remis_le is not None:
                raise ValidationError(
                    {
                        "carnets": f"Le carnet {carnet.numero} a été remis le {_d(carnet.remis_le)} : il ne peut plus "
                        "être confié à une autre structure."
                    }
                )
        for carnet in locked:
            if carnet.distributeur_id != distributeur.pk:
                carnet.distributeur = distributeur
                _save(carnet, by)
    return locked


def carnet_remettre(*, carnet, categorie, date, by, distributeur=None):
    """Hand a booklet to an eligible person (only the category and the date are kept): every ``emis`` pass of the
    booklet becomes ``remis``. By staff, or by a référent of the distributor structure the booklet is entrusted to."""
    _require_user(by)
    with transaction.atomic():
        carnet = Carnet.objects.select_for_update().get(pk=carnet.pk)
        commande = CommandePass.objects.get(pk=carnet.commande_id)
        if distributeur is None and carnet.distributeur_id is not None:
            distributeur = Structure.objects.get(pk=carnet.distributeur_id)
        if not by.is_staff:
            mine = structures_editable_by(by).filter(distributeur_pass=True)
            if carnet.distributeur_id is None or not mine.filter(pk=carnet.distributeur_id).exists():
                raise PermissionDenied(
                    "Seuls l'équipe Sicoval et les référents de la structure distributrice à qui il est confié "
                    "remettent ce carnet."
                )
            if distributeur is not None and distributeur.pk != carnet.distributeur_id:
                raise PermissionDenied("Ce carnet est confié à une autre structure distributrice.")
        _require_distributeur(distributeur)
        if carnet.distributeur_id is not None and carnet.distributeur_id != distributeur.pk:
            raise ValidationError(
                {
                    "distributeur": f"Le carnet {carnet.numero} est confié à une autre structure : confiez-le d'abord "
                    f"à {distributeur.nom}."
                }
            )
        if carnet.remis_le is not None:
            raise ValidationError(
                f"Le carnet {carnet.numero} a déjà été remis le {_d(carnet.remis_le)}.", code="deja_remis"
            )
        if categorie not in CategoriePass.values:
            raise ValidationError({"categorie": "Choisissez le public : demandeur d'emploi ou senior."})
        if _today() > commande.tolerance_jusqu_au:
            raise ValidationError(
                f"Les pass du carnet {carnet.numero} ne sont plus acceptés depuis le "
                f"{_d(commande.tolerance_jusqu_au + datetime.timedelta(days=1))} : il ne peut plus être remis.",
                code="expire",
            )
        _check_date(
            date,
            field_name="date",
            label="de remise",
            not_after=commande.tolerance_jusqu_au,
            not_after_reason="(fin de validité des pass, tolérance comprise)",
            not_before=commande.date_commande,
            before_reason="(date de la commande)",
        )
        passes = list(PassNumerique.objects.select_for_update().filter(carnet=carnet).order_by("pk"))
        emis = [p for p in passes if p.statut == S.EMIS]
        if not emis:
            raise ValidationError(
                f"Le carnet {carnet.numero} ne contient plus aucun pass à remettre "
                "(ils ont expiré ou ont été annulés).",
                code="vide",
            )
        carnet.distributeur = distributeur
        carnet.remis_le = date
        carnet.categorie = categorie
        _save(carnet, by)
        for p in emis:
            p.statut = S.REMIS
        _bulk_statut(emis, ["statut"], by, reason=f"Carnet remis le {_d(date)}")
    return carnet


# --- Passes --------------------------------------------------------------------------------------------------------
def lieu_de_seance(seance):
    """The place a session is held at: its place, or the itinerant place of its stop."""
    if seance.lieu_id is not None:
        return seance.lieu
    return seance.arret.lieu if seance.arret_id is not None else None


def pass_utiliser(*, pass_numerique, inscription, date, by, lieu=None):
    """Record a pass given for a registration to a training payable with a pass, at the qualified place where the
    session is held: the pass must be ``remis`` and still accepted on ``date``; one pass per registration."""
    _require_user(by)
    with transaction.atomic():
        # Lock the registration first (two passes for one registration) and then the pass (one pass twice).
        inscription = Inscription.objects.select_for_update().get(pk=inscription.pk)
        seance = Seance.objects.select_related("atelier", "lieu__structure", "arret__lieu__structure").get(
            pk=inscription.seance_id
        )
        lieu_seance = lieu_de_seance(seance)
        lieu = lieu or lieu_seance
        if lieu is None:
            raise ValidationError({"lieu": "Choisissez le lieu qualifié où le pass est utilisé."})
        structure = Structure.objects.get(pk=lieu.structure_id)
        if not by.is_staff and not structures_editable_by(by).filter(pk=structure.pk).exists():
            raise PermissionDenied(
                "Seuls l'équipe Sicoval et les référents du lieu qualifié enregistrent l'utilisation d'un pass."
            )
        p = (
            PassNumerique.objects.select_for_update(of=("self",))
            .select_related("carnet__commande")
            .get(pk=pass_numerique.pk)
        )
        commande = p.carnet.commande
        _require_transition(p, S.UTILISE, "l'utiliser")
        _still_accepted(p, commande, "l'utiliser")
        if not structure.lieu_qualifie_pass:
            raise ValidationError({"lieu": f"{lieu.nom} n'est pas un lieu qualifié pour les Pass numériques."})
        if lieu_seance is None or lieu.pk != lieu_seance.pk:
            raise ValidationError({"inscription": f"Cette séance n'a pas lieu à {lieu.nom}."})
        if not seance.atelier.formation_pass:
            message = f"L'atelier « {seance.atelier.titre} » n'est pas une formation payable en Pass numérique."
            raise ValidationError({"inscription": message})
        if seance.statut == StatutSeance.ANNULEE:
            raise ValidationError({"inscription": "Cette séance est annulée."})
        if inscription.statut != StatutInscription.CONFIRMEE:
            raise ValidationError(
                {"inscription": f"Cette inscription n'est pas confirmée ({inscription.get_statut_display().lower()})."}
            )
        deja = PassNumerique.objects.filter(inscription=inscription).exclude(pk=p.pk).first()
        if deja is not None:
            raise ValidationError(
                {"inscription": f"Un pass a déjà été utilisé pour cette inscription (n° {deja.numero})."},
                code="un_pass_par_inscription",
            )
        carnet = p.carnet
        _check_date(
            date,
            field_name="date",
            label="d'utilisation",
            not_after=commande.tolerance_jusqu_au,
            not_after_reason="(fin de validité du pass, tolérance comprise)",
            not_before=carnet.remis_le,
            before_reason="(remise du carnet)",
        )
        p.statut = S.UTILISE
        p.inscription = inscription
        p.lieu = lieu
        p.utilise_le = date
        p._history_user = by
        p.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                p.save()
        except IntegrityError as error:
            raise ValidationError(
                {"inscription": "Un pass a déjà été utilisé pour cette inscription."}, code="un_pass_par_inscription"
            ) from error
    return p


@dataclass
class Remboursement:
    passes: list = field(default_factory=list)
    montant: Decimal = Decimal("0.00")

    @property
    def nombre(self):
        return len(self.passes)


def bornes_mois(mois):
    """First and last day of the month of ``mois`` (a date)."""
    first = mois.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def pass_rembourser(*, date, by, passes=None, lieu=None, mois=None):
    """Reimburse used passes (staff): the given ones, or every pass used at ``lieu`` during the month of ``mois`` (the
    monthly reimbursement of a qualified place). ``utilise`` → ``rembourse``; returns the passes and the amount."""
    _require_staff(by, "enregistre les remboursements des Pass numériques")
    if (passes is None) == (lieu is None and mois is None):
        raise ValidationError("Indiquez soit les pass à rembourser, soit le lieu et le mois.")
    if passes is None and (lieu is None or mois is None):
        raise ValidationError({"lieu" if lieu is None else "mois": "Indiquez le lieu et le mois à rembourser."})
    _check_date(date, field_name="date", label="de remboursement")
    with transaction.atomic():
        qs = PassNumerique.objects.select_for_update(of=("self",)).select_related("carnet__commande").order_by("pk")
        if passes is not None:
            pks = sorted({p.pk for p in passes})
            if not pks:
                raise ValidationError("Choisissez au moins un pass à rembourser.")
            locked = list(qs.filter(pk__in=pks))
            for p in locked:
                _require_transition(p, S.REMBOURSE, "le rembourser")
        else:
            first, last = bornes_mois(mois)
            locked = list(qs.filter(lieu=lieu, statut=S.UTILISE, utilise_le__range=(first, last)))
            if not locked:
                raise ValidationError(
                    f"Aucun pass utilisé à {lieu.nom} en {mois_label(first)} ne reste à rembourser.", code="rien"
                )
        for p in locked:
            if date < p.utilise_le:
                raise ValidationError(
                    {
                        "date": f"La date de remboursement ne peut pas précéder l'utilisation du pass {p.numero} "
                        f"({_d(p.utilise_le)})."
                    }
                )
        for p in locked:
            p.statut = S.REMBOURSE
            p.rembourse_le = date
        _bulk_statut(locked, ["statut", "rembourse_le"], by, reason=f"Remboursé le {_d(date)}")
    montant = sum((p.carnet.commande.valeur_faciale for p in locked), Decimal("0.00"))
    return Remboursement(passes=locked, montant=montant.quantize(CENT))


def pass_annuler(*, pass_numerique, by, motif=""):
    """Cancel a pass not yet used (staff): lost booklet, misprint… ``emis`` or ``remis`` → ``annule``; the reason
    goes to its history."""
    _require_staff(by, "annule les Pass numériques")
    motif = (motif or "").strip()
    if len(motif) > 100:
        raise ValidationError({"motif": "Le motif compte au plus 100 caractères."})
    with transaction.atomic():
        p = PassNumerique.objects.select_for_update().get(pk=pass_numerique.pk)
        _require_transition(p, S.ANNULE, "l'annuler")
        p.statut = S.ANNULE
        _save(p, by, reason=f"Annulé : {motif}" if motif else "Annulé")
    return p


def passes_expirer(today=None):
    """Expire every pass still in circulation (``emis`` or ``remis``) whose tolerance date has passed: on 31/01 it is
    still accepted, on 01/02 it has expired. Idempotent; returns how many passes expired."""
    today = today or _today()
    candidates = PassNumerique.objects.filter(
        statut__in=EN_CIRCULATION, carnet__commande__tolerance_jusqu_au__lt=today
    ).order_by("pk")
    total = 0
    while True:
        with transaction.atomic():
            # A pass being used at this moment is waited for, then left out if it is no longer in circulation.
            batch = list(candidates.select_for_update(of=("self",))[:EXPIRATION_BATCH])
            if not batch:
                break
            for p in batch:
                p.statut = S.EXPIRE
            _bulk_statut(batch, ["statut"], None, reason=f"Expiré le {_d(today)}")
        total += len(batch)
    return total
