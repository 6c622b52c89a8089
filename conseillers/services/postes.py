"""Posts: attribution, moves between structures, assignment, release and return."""

from django.core.exceptions import ValidationError
from django.db import transaction

from conseillers.choices import EtatPoste
from conseillers.models import Affectation, Conseiller, Poste, Rattachement
from structures.models import Structure

from ._common import _check_hired_within_granted, _fmt, _lock_poste, _refuse_future, _require_staff, _save

COSELEC_AFTER_ATTRIBUTION = "La décision du comité de sélection ne peut pas suivre l'attribution du poste."


@transaction.atomic
def poste_create(*, structure, typologie, phase, date_attribution, coselec_date=None, coselec_reference="", by):
    """Attribute a post to a structure: the post, vacant, and its first attachment from the attribution date."""
    _require_staff(by, "attribue des postes")
    if coselec_date and date_attribution and coselec_date > date_attribution:
        raise ValidationError({"coselec_date": COSELEC_AFTER_ATTRIBUTION})
    poste = Poste(
        structure=structure,
        typologie=typologie,
        phase=phase,
        date_attribution=date_attribution,
        coselec_date=coselec_date,
        coselec_reference=coselec_reference,
        etat=EtatPoste.VACANT,
    )
    _save(poste, by)
    _save(Rattachement(poste=poste, structure=structure, date_debut=date_attribution), by)
    return poste


@transaction.atomic
def poste_move(*, poste, structure, date, by):
    """Attach the post to another structure from ``date``: the current attachment ends that day."""
    _require_staff(by, "déplace des postes")
    poste = _lock_poste(poste)
    if poste.etat == EtatPoste.RENDU:
        raise ValidationError("Ce poste est rendu : il ne peut plus changer de structure.", code="poste_rendu")
    current = poste.rattachements.select_for_update().get(date_fin__isnull=True)
    if structure.pk == current.structure_id:
        raise ValidationError("Le poste est déjà rattaché à cette structure.", code="same_structure")
    if date <= current.date_debut:
        raise ValidationError(
            f"Le changement de structure doit suivre le début du rattachement actuel ({_fmt(current.date_debut)}).",
            code="date_before_attachment",
        )
    _refuse_future(date)
    old_structure = Structure.objects.select_for_update().get(pk=current.structure_id)
    _check_hired_within_granted(old_structure, leaving=1)
    current.date_fin = date
    _save(current, by)
    _save(Rattachement(poste=poste, structure=structure, date_debut=date), by)
    poste.structure = structure
    return _save(poste, by)


@transaction.atomic
def poste_assign(*, poste, conseiller, date, by):
    """Make ``conseiller`` the occupant of the post from ``date``."""
    _require_staff(by, "affecte les conseillers aux postes")
    poste = _lock_poste(poste)
    conseiller = Conseiller.objects.select_for_update().get(pk=conseiller.pk)
    if poste.etat == EtatPoste.RENDU:
        raise ValidationError("Ce poste est rendu : il ne peut plus être occupé.", code="poste_rendu")
    if date < poste.date_attribution:
        raise ValidationError(
            f"Le poste n'est attribué que depuis le {_fmt(poste.date_attribution)}.", code="before_attribution"
        )
    _refuse_future(date)
    holder = poste.affectations.filter(date_fin__isnull=True).select_related("conseiller").first()
    if holder:
        raise ValidationError(f"Ce poste est déjà occupé par {holder.conseiller}.", code="poste_occupe")
    if conseiller.affectations.filter(date_fin__isnull=True).exists():
        raise ValidationError(f"{conseiller} occupe déjà un autre poste.", code="conseiller_en_poste")
    if poste.affectations.filter(date_fin__gt=date).exists():
        raise ValidationError("Le poste était encore occupé à cette date.", code="overlap_poste")
    if conseiller.affectations.filter(date_fin__gt=date).exists():
        raise ValidationError(f"{conseiller} occupait encore un autre poste à cette date.", code="overlap_person")
    affectation = _save(
        Affectation(poste=poste, conseiller=conseiller, date_debut=date),
        by,
        conflict="Ce poste ou cette personne a déjà une affectation en cours.",
    )
    poste.etat = EtatPoste.OCCUPE
    _save(poste, by)
    return affectation


@transaction.atomic
def poste_release(*, poste, date, by):
    """End the current occupant's assignment on ``date``; the post becomes vacant."""
    _require_staff(by, "libère les postes")
    poste = _lock_poste(poste)
    current = poste.affectations.select_for_update().filter(date_fin__isnull=True).first()
    if current is None:
        raise ValidationError("Ce poste n'est pas occupé.", code="poste_vacant")
    if date <= current.date_debut:
        raise ValidationError(
            f"Le départ doit suivre la prise de poste ({_fmt(current.date_debut)}).", code="date_before_assignment"
        )
    _refuse_future(date)
    current.date_fin = date
    _save(current, by)
    poste.etat = EtatPoste.VACANT
    _save(poste, by)
    return current


@transaction.atomic
def poste_return(*, poste, date, by):
    """Give the post back on ``date`` (it leaves the territory's granted posts); refused while it is occupied."""
    _require_staff(by, "rend des postes")
    poste = _lock_poste(poste)
    if poste.etat == EtatPoste.RENDU:
        raise ValidationError(f"Ce poste est déjà rendu (le {_fmt(poste.date_rendu)}).", code="poste_rendu")
    if poste.affectations.filter(date_fin__isnull=True).exists():
        raise ValidationError("Ce poste est occupé : libérez-le avant de le rendre.", code="poste_occupe")
    last_end = poste.affectations.order_by("-date_fin").values_list("date_fin", flat=True).first()
    if last_end and date < last_end:
        raise ValidationError(
            f"Le poste était occupé jusqu'au {_fmt(last_end)} : il ne peut pas être rendu avant.", code="too_early"
        )
    current = poste.rattachements.select_for_update().get(date_fin__isnull=True)
    if date <= current.date_debut:
        raise ValidationError(
            f"Le rendu doit suivre le début du rattachement actuel ({_fmt(current.date_debut)}).",
            code="date_before_attachment",
        )
    _refuse_future(date)
    structure = Structure.objects.select_for_update().get(pk=current.structure_id)
    _check_hired_within_granted(structure, leaving=1)
    current.date_fin = date
    _save(current, by)
    poste.etat = EtatPoste.RENDU
    poste.date_rendu = date
    return _save(poste, by)
