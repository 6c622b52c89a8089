"""Training: the initial certification and continuing-training modules."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from conseillers import choices
from conseillers.models import Conseiller, Formation

from ._common import _fmt, _require_conseiller_editor, _save

# The titre "Médiateur numérique" replaced "Responsable d'espace de médiation numérique" on this day.
TITRE_MN_SINCE = datetime.date(2025, 7, 13)


def _validate_formation(formation):
    errors = {}
    initiale = formation.type == choices.TypeFormation.INITIALE
    if formation.heures is not None and formation.heures < 1:
        errors["heures"] = ["Une formation dure au moins une heure."]
    elif not initiale and formation.heures is None:
        errors["heures"] = ["Indiquez la durée du module en heures."]
    allowed = [h for h, _label in choices.PARCOURS_HEURES]
    if formation.parcours_heures is not None and formation.parcours_heures not in allowed:
        errors["parcours_heures"] = [f"Le parcours dure {', '.join(map(str, allowed[:-1]))} ou {allowed[-1]} heures."]
    has_certification = formation.parcours_heures or formation.certification or formation.titre
    if not initiale and (has_certification or formation.date_certification or formation.pix):
        errors["type"] = ["Parcours, certification, titre et PIX concernent la seule formation initiale."]
    if (
        formation.titre == choices.Titre.MN
        and formation.date_certification
        and formation.date_certification < TITRE_MN_SINCE
    ):
        errors["titre"] = [f"Le titre « Médiateur numérique » n'existe que depuis le {_fmt(TITRE_MN_SINCE)}."]
    if formation.date_fin and formation.date_debut and formation.date_fin < formation.date_debut:
        errors["date_fin"] = ["La fin de la formation ne peut précéder son début."]
    if errors:
        raise ValidationError(errors)


def formation_check(formation):
    """Every training rule on an unsaved or changed row (also used by the admin form)."""
    _validate_formation(formation)
    initiales = Formation.objects.filter(conseiller=formation.conseiller_id, type=choices.TypeFormation.INITIALE)
    if formation.type == choices.TypeFormation.INITIALE and initiales.exclude(pk=formation.pk).exists():
        raise ValidationError({"type": f"{formation.conseiller} a déjà une certification initiale enregistrée."})


@transaction.atomic
def formation_add(
    *,
    conseiller,
    type,
    intitule,
    date_debut,
    date_fin=None,
    heures=None,
    parcours_heures=None,
    certification="",
    titre="",
    date_certification=None,
    pix=False,
    by,
):
    """Record the initial certification (once per person) or a continuing-training module."""
    conseiller = Conseiller.objects.select_for_update().get(pk=conseiller.pk)
    _require_conseiller_editor(by, conseiller)
    formation = Formation(
        conseiller=conseiller,
        type=type,
        intitule=intitule,
        date_debut=date_debut,
        date_fin=date_fin,
        heures=heures,
        parcours_heures=parcours_heures,
        certification=certification,
        titre=titre,
        date_certification=date_certification,
        pix=pix,
    )
    formation_check(formation)
    return _save(formation, by, conflict=f"{conseiller} a déjà une certification initiale enregistrée.")
