"""Registrations to a session: confirmed while seats remain, then on a waiting list in order of arrival; a
cancellation promotes the first waiting person. Correct under concurrency: every change to a session's registrations
locks the session row first (PostgreSQL cannot lock an aggregate: the parent is locked, then the rows are counted),
and the database refuses a person registered twice.

Each change writes its e-mails to the outbox in the same transaction (``ateliers.emails``).
"""

import uuid

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accompagnements.services import normalise_telephone
from ateliers import emails
from ateliers.models import Inscription, Seance, SourceInscription, StatutInscription, StatutSeance
from partenaires.actor import history_user

from .permissions import can_register_to, require_registrar, require_seance_manager

CANCEL_SALT = "ateliers.inscription.annulation"
CONTACT_FIELDS = ("prenom", "nom", "email", "telephone")
PROFILE_FIELDS = ("genre", "tranche_age", "statut_social", "commune")


def cle_personne(email, telephone):
    """Who a registration is for, to refuse the same person twice: the e-mail, else the phone number, normalised;
    a walk-in who left neither gets a key of their own."""
    if email:
        return f"email:{email.strip().lower()}"
    if telephone:
        return f"tel:{normalise_telephone(telephone)}"
    return f"sur_place:{uuid.uuid4()}"


def cancel_token(inscription):
    """The signed part of a registration's cancellation link (it cannot be forged nor altered). The same for a
    registration every time it is computed (no timestamp), so that every e-mail and page gives the same link."""
    return signing.Signer(salt=CANCEL_SALT).sign_object(str(inscription.uuid), compress=True)


def inscription_from_token(token):
    """The registration a cancellation link points to, or None when the link was tampered with. Links signed with
    a timestamp (before links became fixed) are still read."""
    value = None
    for signer in (signing.Signer(salt=CANCEL_SALT), signing.TimestampSigner(salt=CANCEL_SALT)):
        try:
            value = signer.unsign_object(token)
            break
        except (signing.BadSignature, ValueError, TypeError):
            continue
    if value is None:
        return None
    return Inscription.objects.select_related("seance", "seance__atelier").filter(uuid=value).first()


def _clean_contact(data):
    values = {name: (data.get(name) or "").strip() for name in CONTACT_FIELDS}
    values["email"] = values["email"].lower()
    values["telephone"] = normalise_telephone(values["telephone"]) if values["telephone"] else ""
    errors = {}
    if not values["prenom"]:
        errors["prenom"] = "Indiquez votre prénom."
    if not values["nom"]:
        errors["nom"] = "Indiquez votre nom."
    if not values["email"] and not values["telephone"]:
        errors["email"] = "Indiquez un e-mail ou un numéro de téléphone pour être prévenu(e)."
    if not data.get("consentement"):
        errors["consentement"] = (
            "Cochez la case pour accepter que vos coordonnées servent à vous informer de cette séance."
        )
    if errors:
        raise ValidationError(errors)
    for name in PROFILE_FIELDS:
        values[name] = data.get(name) or (None if name == "commune" else "")
    return values


def lock_seance(seance):
    """The session's row, locked until the end of the transaction: every change to its registrations takes it
    first."""
    return Seance.objects.select_for_update().get(pk=seance.pk)


def seats_taken(seance):
    """The seats taken: confirmed registrations, not the walk-ins added on the day (they sit beyond capacity)."""
    return (
        Inscription.objects.filter(seance=seance, statut=StatutInscription.CONFIRMEE)
        .exclude(source=SourceInscription.SUR_PLACE)
        .count()
    )


def next_rang(seance):
    return (Inscription.objects.filter(seance=seance).aggregate(rang=Max("rang"))["rang"] or 0) + 1


def places_restantes(seance):
    return max(seance.capacite - seats_taken(seance), 0)


def inscription_create(*, seance, data, by=None, source=SourceInscription.EN_LIGNE):
    """Register a person to a session. Online registrations need a public, scheduled session that has not started,
    unless ``by`` may register people to it (its managers, and the structure a reserved session is for: its référents
    or its API client, who register their own public); staff and the session's managers may also register by phone
    (with the person's oral consent)."""
    values = _clean_contact(data)
    # Online and through a partner's software (API), the person registered themselves or asked their structure to;
    # by phone, only the session's managers register people.
    self_service = source in (SourceInscription.EN_LIGNE, SourceInscription.API)
    if not self_service:
        require_seance_manager(by, seance)
    now = timezone.now()
    with transaction.atomic():
        seance = lock_seance(seance)
        if seance.statut == StatutSeance.ANNULEE:
            raise ValidationError("Cette séance est annulée : les inscriptions sont fermées.", code="seance_annulee")
        if seance.debut <= now:
            raise ValidationError("Cette séance a déjà commencé : les inscriptions sont fermées.", code="passee")
        if self_service and not seance.publique and not can_register_to(by, seance):
            raise ValidationError("Cette séance est réservée au public d'une structure partenaire.", code="reservee")
        cle = cle_personne(values["email"], values["telephone"])
        if (
            Inscription.objects.filter(seance=seance, cle_personne=cle)
            .exclude(statut=StatutInscription.ANNULEE)
            .exists()
        ):
            raise ValidationError("Vous êtes déjà inscrit(e) à cette séance avec ces coordonnées.", code="deja_inscrit")
        statut = StatutInscription.CONFIRMEE if seats_taken(seance) < seance.capacite else StatutInscription.ATTENTE
        inscription = Inscription(
            seance=seance,
            cle_personne=cle,
            statut=statut,
            source=source,
            rang=next_rang(seance),
            consentement_le=now,
            cree_par=history_user(by) if by is not None and by.is_authenticated else None,
            **values,
        )
        inscription._history_user = inscription.cree_par
        try:
            with transaction.atomic():
                inscription.save()
        except IntegrityError as error:
            raise ValidationError(
                "Vous êtes déjà inscrit(e) à cette séance avec ces coordonnées.", code="deja_inscrit"
            ) from error
        emails.inscription_recue(inscription)
    return inscription


def promote_waiting(seance, by):
    """Give the free seats to the waiting list, first come first served, and tell each person. The caller holds the
    session's lock. Returns the people promoted."""
    free = seance.capacite - seats_taken(seance)
    if free <= 0 or seance.statut == StatutSeance.ANNULEE:
        return []
    promoted = list(Inscription.objects.filter(seance=seance, statut=StatutInscription.ATTENTE).order_by("rang")[:free])
    now = timezone.now()
    for inscription in promoted:
        inscription.statut = StatutInscription.CONFIRMEE
        inscription.promue_le = now
        inscription.seance = seance
        inscription._history_user = history_user(by)
        inscription.save(update_fields=["statut", "promue_le", "updated_at"])
        emails.place_liberee(inscription)
    return promoted


def inscription_cancel(*, inscription, by=None, notify=True):
    """Cancel a registration (the person through their signed link, or whoever may register people to the session);
    a freed seat goes to the first person waiting. Cancelling twice changes nothing."""
    if by is not None:
        require_registrar(by, inscription.seance)  # without ``by``: the person, through their signed link
    with transaction.atomic():
        seance = lock_seance(inscription.seance)
        inscription = Inscription.objects.get(pk=inscription.pk)
        if inscription.statut == StatutInscription.ANNULEE:
            return inscription, None
        if seance.debut <= timezone.now() and by is None:
            raise ValidationError("La séance a commencé : l'inscription ne peut plus être annulée en ligne.")
        was_confirmed = inscription.statut == StatutInscription.CONFIRMEE
        inscription.statut = StatutInscription.ANNULEE
        inscription.annulee_le = timezone.now()
        inscription._history_user = history_user(by) if by is not None and by.is_authenticated else None
        inscription.save(update_fields=["statut", "annulee_le", "updated_at"])
        if notify:
            emails.inscription_annulee(inscription)
        promoted = promote_waiting(seance, inscription._history_user) if was_confirmed else []
        promoted = promoted[0] if promoted else None
    return inscription, promoted


def inscription_move(*, inscription, seance, by):
    """Move a person to another session of the same workshop: cancelled in the first (its seat goes to the first
    waiting), registered in the second (confirmed or waiting list, as seats allow). Sessions are locked in a fixed
    order so that two moves in opposite directions never deadlock."""
    source = inscription.seance
    require_seance_manager(by, source)
    require_seance_manager(by, seance)
    if seance.atelier_id != source.atelier_id:
        raise ValidationError("On ne déplace une inscription que vers une séance du même atelier.")
    if seance.pk == source.pk:
        raise ValidationError("Choisissez une autre séance.")
    with transaction.atomic():
        for locked in sorted((source, seance), key=lambda s: s.pk):
            lock_seance(locked)
        current = Inscription.objects.get(pk=inscription.pk)
        if current.statut == StatutInscription.ANNULEE:
            raise ValidationError("Cette inscription est annulée.")
        data = {name: getattr(current, name) for name in CONTACT_FIELDS + PROFILE_FIELDS}
        inscription_cancel(inscription=current, by=by, notify=False)
        moved = inscription_create(
            seance=seance, data={**data, "consentement": True}, by=by, source=SourceInscription.TELEPHONE
        )
    return moved
