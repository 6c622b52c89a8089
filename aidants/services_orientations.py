"""Every write of the referrals (orientations): an aidant refers a person's need to a conseiller (chosen, or the one
covering the commune) or proposes a workshop session; the conseiller takes it in charge, then closes it as done
(recording the activity in their log in the same transaction) or redirected; the aidant may cancel it while it is
new. Each change is saved row by row, so its audit history (the status history) keeps the acting user.

Personal data: the person's first name, contact details and the free precision are kept 12 months after the referral
is closed, then erased from the referral and from every version of its history (``orientations_purger``).
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.services import Participants, activite_create, normalise_telephone
from ateliers.selectors import seances_publiques
from notifications.services import email_enqueue
from sicoval_numerique.effacement import effacer
from structures.models import Commune

from . import selectors_orientations as sel
from .models import TRANSITIONS_ORIENTATION, Aidant, ContactPrefere, Orientation, StatutOrientation, Urgence

RETENTION_MONTHS = 12
ERASED = {"prenom": "", "telephone": "", "email": "", "precision": ""}
REASON = "Anonymisation (12 mois après la clôture)"
MAX_RESULTAT = 280
CONFLICT = "Cette orientation entre en conflit avec une autre modification : rechargez la page."
NOT_REDIRECTOR = "Seuls le conseiller à qui l'orientation est adressée et l'équipe Sicoval la réorientent."


def _save(orientation, by):
    orientation._history_user = by
    try:
        orientation.save()
    except IntegrityError as error:
        raise ValidationError(CONFLICT) from error
    return orientation


def _absolute(path):
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _email_context(orientation):
    return {
        "orientation": orientation,
        "thematiques": [c.THEMATIQUE_LABELS.get(t, t) for t in orientation.thematiques],
        "platform_name": settings.PLATFORM_NAME,
        "url_recues": _absolute(reverse("aidants:orientation_recues")),
        "url_miennes": _absolute(reverse("aidants:orientation_list")),
        "url_detail": _absolute(reverse("aidants:orientation_detail", args=[orientation.uuid])),
    }


def _notify_conseiller(orientation, type, template):
    conseiller = orientation.conseiller
    if conseiller is None:
        return False
    address = (conseiller.user.email if conseiller.user_id else "") or conseiller.email
    return email_enqueue(
        destinataire=address,
        type=type,
        objet=f"orientation:{orientation.uuid}",
        template=template,
        context=_email_context(orientation),
    )


def _notify_aidant(orientation):
    aidant = orientation.aidant
    address = (aidant.user.email if aidant.user_id else "") or aidant.email
    return email_enqueue(
        destinataire=address,
        type="orientation_suite",
        objet=f"orientation:{orientation.uuid}",
        template="aidants/emails/orientation_suite",
        context=_email_context(orientation),
    )


# --- Creation -----------------------------------------------------------------------------------------------------
def _author(by, aidant):
    """The aidant sending: the one linked to ``by``; staff may send on behalf of an active aidant."""
    if not by.is_authenticated:
        raise PermissionDenied("Connectez-vous pour orienter une personne.")
    own = sel.aidant_of(by)
    if aidant is None or (own is not None and aidant.pk == own.pk):
        if own is None:
            raise PermissionDenied(
                "Seuls les aidants dont le compte est relié à leur fiche d'aidant orientent une personne."
            )
        return own
    if not by.is_staff:
        raise PermissionDenied("Vous ne pouvez orienter une personne qu'en votre propre nom.")
    aidant = Aidant.objects.filter(pk=aidant.pk, actif=True).first()
    if aidant is None:
        raise ValidationError({"aidant": "Choisissez un aidant actif."})
    return aidant


def _check_thematiques(thematiques):
    if not isinstance(thematiques, list | tuple) or not thematiques:
        raise ValidationError({"thematiques": "Choisissez au moins un besoin."})
    themes = list(dict.fromkeys(str(t) for t in thematiques))
    unknown = [t for t in themes if t not in c.THEMATIQUE_LABELS]
    if unknown:
        raise ValidationError({"thematiques": "Choisissez les besoins dans la liste."})
    # An administrative procedure goes with "aide aux démarches administratives" (national rule of the activity log).
    if set(themes) & c.CODES_ADMINISTRATIFS and c.AIDE_DEMARCHES not in themes:
        themes.insert(0, c.AIDE_DEMARCHES)
    return themes


def _check_contact(contact_prefere, telephone, email):
    errors = {}
    if contact_prefere not in ContactPrefere.values:
        raise ValidationError({"contact_prefere": "Choisissez comment joindre la personne."})
    telephone = normalise_telephone(telephone or "")
    email = (email or "").strip().lower()
    if telephone:
        digits = "".join(ch for ch in telephone if ch.isdigit())
        if len(telephone) > 20 or not 8 <= len(digits) <= 15 or any(ch not in "+0123456789" for ch in telephone):
            errors["telephone"] = "Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78."
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Saisissez une adresse e-mail valide."
    if contact_prefere == ContactPrefere.TELEPHONE and not telephone and "telephone" not in errors:
        errors["telephone"] = "La personne préfère être appelée : indiquez son numéro."
    if contact_prefere == ContactPrefere.EMAIL and not email and "email" not in errors:
        errors["email"] = "La personne préfère un e-mail : indiquez son adresse."
    if errors:
        raise ValidationError(errors)
    return telephone, email


def _destination(*, conseiller, seance, commune, today):
    """(conseiller, seance): the chosen conseiller, else the one covering the commune; a proposed session goes to
    its facilitator when they are a conseiller, else to the conseiller covering the commune. Every referral has a
    conseiller who can take it in charge."""
    eligible = sel.conseillers_destinataires(today)
    if seance is not None:
        seance = seances_publiques().filter(pk=seance.pk).select_related("atelier").first()
        if seance is None:
            raise ValidationError({"seance": "Cette séance n'est plus proposée : choisissez une séance à venir."})
    if conseiller is not None:
        if not eligible.filter(pk=conseiller.pk).exists():
            raise ValidationError({"conseiller": "Ce conseiller ne reçoit pas d'orientation : choisissez-en un autre."})
        return conseiller, seance
    if seance is not None and seance.animateur_id:
        animateur = eligible.filter(user_id=seance.animateur_id).first()
        if animateur is not None:
            return animateur, seance
    covering = sel.conseiller_covering(commune, today=today)
    if covering is None:
        # Someone must take every referral in charge: with no conseiller facilitating the proposed session nor
        # covering the commune, the aidant chooses one.
        raise ValidationError(
            {
                "conseiller": "Aucun conseiller n'intervient dans cette commune"
                + (" ni n'anime cette séance" if seance is not None else "")
                + " : choisissez le conseiller qui prendra la personne en charge."
            }
        )
    return covering, seance


@transaction.atomic
def orientation_create(
    *,
    by,
    thematiques,
    commune,
    prenom,
    contact_prefere,
    consentement,
    telephone="",
    email="",
    precision="",
    urgence=Urgence.NORMALE,
    conseiller=None,
    seance=None,
    aidant=None,
):
    """An aidant (with an account linked to their aidant record, or staff on behalf of an aidant) refers a person.
    The person's consent is required; at least one need; a commune of the referential; a way to reach the person
    consistent with their preference. The conseiller is told by e-mail (outbox)."""
    aidant = _author(by, aidant)
    errors = {}
    if consentement is not True:
        errors["consentement"] = "Recueillez l'accord de la personne avant de transmettre ses coordonnées."
    prenom = (prenom or "").strip()
    if not prenom:
        errors["prenom"] = "Indiquez le prénom de la personne."
    elif len(prenom) > 150:
        errors["prenom"] = "Le prénom compte au plus 150 caractères."
    precision = (precision or "").strip()
    if len(precision) > 280:
        errors["precision"] = "La précision compte au plus 280 caractères."
    if urgence not in Urgence.values:
        errors["urgence"] = "Choisissez l'urgence dans la liste."
    if not isinstance(commune, Commune) or not Commune.objects.filter(pk=commune.pk).exists():
        errors["commune"] = "Choisissez une commune du référentiel."
    try:
        themes = _check_thematiques(thematiques)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        telephone, email = _check_contact(contact_prefere, telephone, email)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    conseiller, seance = _destination(
        conseiller=conseiller, seance=seance, commune=commune, today=timezone.localdate(now)
    )
    orientation = Orientation(
        aidant=aidant,
        thematiques=themes,
        precision=precision,
        commune=commune,
        prenom=prenom,
        telephone=telephone,
        email=email,
        contact_prefere=contact_prefere,
        urgence=urgence,
        consentement_le=now,
        conseiller=conseiller,
        seance=seance,
    )
    _save(orientation, by)
    _notify_conseiller(orientation, "orientation_recue", "aidants/emails/orientation_recue")
    return orientation


# --- Transitions --------------------------------------------------------------------------------------------------
def _locked(orientation):
    return (
        Orientation.objects.select_for_update(of=("self",))
        .select_related("aidant", "conseiller", "commune", "seance")
        .get(pk=orientation.pk)
    )


def _move(orientation, target):
    current = StatutOrientation(orientation.statut)
    if target not in TRANSITIONS_ORIENTATION[current]:
        raise ValidationError(
            f"Cette orientation est « {current.label} » : elle ne peut plus passer à « {target.label} ».",
            code="invalid_transition",
        )
    orientation.statut = target


def _is_assigned(orientation, by):
    return by.is_authenticated and orientation.conseiller_id is not None and orientation.conseiller.user_id == by.pk


def _require_assigned(orientation, by):
    if not _is_assigned(orientation, by):
        raise PermissionDenied("Seul le conseiller à qui l'orientation est adressée peut la traiter.")


def _clean_text(value, field, *, required_message=None):
    value = " ".join((value or "").split())
    if required_message and not value:
        raise ValidationError({field: required_message})
    if len(value) > MAX_RESULTAT:
        raise ValidationError({field: f"Ce texte compte au plus {MAX_RESULTAT} caractères."})
    return value


@transaction.atomic
def orientation_accept(*, orientation, by):
    """The conseiller in charge takes the referral: they will contact the person."""
    orientation = _locked(orientation)
    _require_assigned(orientation, by)
    _move(orientation, StatutOrientation.ACCEPTEE)
    orientation.acceptee_le = timezone.now()
    return _save(orientation, by)


@transaction.atomic
def orientation_close_done(*, orientation, by, duree, type_lieu, lieu=None, commune=None, resultat=""):
    """The conseiller met the person: the referral is closed as done and an individual activity is recorded in
    their log in the same transaction (today, the chosen duration and place, the referral's needs, an anonymous
    person living in the referral's commune). ``resultat`` is what the aidant reads (no personal detail)."""
    orientation = _locked(orientation)
    _require_assigned(orientation, by)
    _move(orientation, StatutOrientation.REALISEE)
    resultat = _clean_text(resultat, "resultat") or "La personne a été accompagnée par le conseiller numérique."
    if type_lieu not in dict(c.TYPE_LIEU):
        raise ValidationError({"type_lieu": "Indiquez où l'accompagnement a eu lieu."})
    if not isinstance(duree, int) or isinstance(duree, bool):
        raise ValidationError({"duree": "Choisissez la durée."})
    if type_lieu != c.LIEU_ACTIVITE and type_lieu != c.A_DISTANCE and commune is None:
        commune = orientation.commune
    data = {
        "type": c.INDIVIDUEL,
        "date": timezone.localdate(),
        "duree": duree,
        "type_lieu": type_lieu,
        "lieu": lieu,
        "commune": commune,
        "thematiques": list(orientation.thematiques),
    }
    participants = Participants(anonyme={"commune_residence": orientation.commune})
    activite = activite_create(by=by, data=data, participants=participants, conseiller=orientation.conseiller)
    orientation.activite = activite
    orientation.resultat = resultat
    orientation.cloturee_le = timezone.now()
    _save(orientation, by)
    _notify_aidant(orientation)
    return orientation


@transaction.atomic
def orientation_redirect(*, orientation, by, motif):
    """The conseiller in charge (or staff) sends the person elsewhere: the reason is what the aidant reads."""
    orientation = _locked(orientation)
    if not (_is_assigned(orientation, by) or (by.is_authenticated and by.is_staff)):
        raise PermissionDenied(NOT_REDIRECTOR)
    motif = _clean_text(
        motif, "motif", required_message="Indiquez vers qui ou quoi la personne est réorientée, et pourquoi."
    )
    _move(orientation, StatutOrientation.REORIENTEE)
    orientation.resultat = motif
    orientation.cloturee_le = timezone.now()
    _save(orientation, by)
    _notify_aidant(orientation)
    return orientation


@transaction.atomic
def orientation_cancel(*, orientation, by):
    """The aidant who sent the referral withdraws it while nobody has taken it yet (staff may too)."""
    orientation = _locked(orientation)
    is_author = by.is_authenticated and orientation.aidant.user_id == by.pk
    if not (is_author or (by.is_authenticated and by.is_staff)):
        raise PermissionDenied("Seul l'aidant qui a envoyé l'orientation peut l'annuler.")
    if orientation.statut in sel.CLOSED_STATUSES:
        raise ValidationError("Cette orientation est déjà close.", code="invalid_transition")
    if orientation.statut != StatutOrientation.NOUVELLE:
        raise ValidationError(
            "Cette orientation a déjà été prise en charge : contactez le conseiller pour l'arrêter.",
            code="invalid_transition",
        )
    _move(orientation, StatutOrientation.ANNULEE)
    orientation.resultat = "Orientation annulée par l'aidant."
    orientation.cloturee_le = timezone.now()
    _save(orientation, by)
    _notify_conseiller(orientation, "orientation_annulee", "aidants/emails/orientation_annulee")
    return orientation


# --- Retention ----------------------------------------------------------------------------------------------------
def purge_cutoff(now=None):
    """Referrals closed before this moment have their personal data erased."""
    return (now or timezone.now()) - relativedelta(months=RETENTION_MONTHS)


def orientation_retention_until(orientation):
    """The day a closed referral's personal data is erased (None while open)."""
    if orientation.cloturee_le is None:
        return None
    closed = timezone.localtime(orientation.cloturee_le).date()
    return closed + relativedelta(months=RETENTION_MONTHS) + datetime.timedelta(days=1)


def orientations_erase(orientations, *, now=None, reason=REASON):
    """Erase the first name, contact details and precision of ``orientations`` (a queryset), in the referrals and in
    every version of their history, and set ``anonymisee_le``; referrals already erased are left as they are. Joins
    the caller's transaction when there is one. Returns how many were erased. Used by the nightly purge and by the
    erasure asked by a person (``donnees_personnelles``)."""
    return effacer(orientations, champs=ERASED, marque="anonymisee_le", now=now or timezone.now(), reason=reason)


def orientations_purger(*, now=None, batch=500):
    """Erase the personal data of referrals closed more than 12 months ago (``orientations_erase``). Idempotent.
    Returns how many were erased."""
    erased = 0
    now = now or timezone.now()
    cutoff = purge_cutoff(now)
    while True:
        with transaction.atomic():
            ids = list(
                Orientation.objects.select_for_update(skip_locked=True)
                .filter(cloturee_le__lt=cutoff, anonymisee_le__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return erased
            erased += orientations_erase(Orientation.objects.filter(pk__in=ids), now=now)
