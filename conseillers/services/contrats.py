"""Contracts on posts: checks, creation, corrections and ruptures."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from conseillers import choices
from conseillers.choices import TypeContrat
from conseillers.models import Contrat

from ._common import _fmt, _lock_poste, _require_structure_editor, _save

CONTRAT_FIELDS = {"type", "date_debut", "date_fin", "salaire_brut_mensuel", "cout_employeur_mensuel", "temps_plein"}


def _require_poste_editor(by, poste):
    _require_structure_editor(
        by, poste.structure, "Vous ne pouvez enregistrer des contrats que sur les postes de votre structure."
    )


def _validate_contrat(contrat):
    """Field checks, then the contract rules with one clear French message per field."""
    errors = {}
    try:
        contrat.clean_fields()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    salaire, cout = contrat.salaire_brut_mensuel, contrat.cout_employeur_mensuel
    if isinstance(salaire, Decimal) and salaire < 0:
        errors["salaire_brut_mensuel"] = ["Le salaire brut ne peut pas être négatif."]
    elif isinstance(salaire, Decimal) and isinstance(cout, Decimal) and cout < salaire:
        errors["cout_employeur_mensuel"] = [
            "Le coût employeur comprend le salaire brut : il ne peut pas lui être inférieur."
        ]
    if "type" not in errors and "date_fin" not in errors:
        if contrat.type == TypeContrat.CDI and contrat.date_fin:
            errors["date_fin"] = ["Un CDI n'a pas de date de fin."]
        elif contrat.type != TypeContrat.CDI and not contrat.date_fin:
            label = TypeContrat(contrat.type).label
            errors["date_fin"] = [f"Un contrat « {label} » doit avoir une date de fin."]
        elif contrat.date_fin and contrat.date_debut and contrat.date_fin <= contrat.date_debut:
            errors["date_fin"] = ["La fin du contrat doit suivre son début."]
    if errors:
        raise ValidationError(errors)
    poste = contrat.poste
    if contrat.date_debut < poste.date_attribution:
        raise ValidationError({"date_debut": f"Le poste n'est attribué que depuis le {_fmt(poste.date_attribution)}."})
    if poste.date_rendu and contrat.date_debut >= poste.date_rendu:
        raise ValidationError({"date_debut": f"Le poste est rendu depuis le {_fmt(poste.date_rendu)}."})


def _check_no_overlap(contrat):
    """A person never holds two overlapping contracts on one post. End days are worked days (a contract ending on
    the 31st and the next starting on the 1st do not overlap); an open-ended contract runs forever. The caller
    holds the post's row lock, so two concurrent contracts cannot both pass."""
    start, end = contrat.date_debut, contrat.date_fin_effective
    others = Contrat.objects.filter(conseiller=contrat.conseiller_id, poste=contrat.poste_id).exclude(pk=contrat.pk)
    for other in others:
        other_end = other.date_fin_effective
        if (other_end is None or start <= other_end) and (end is None or other.date_debut <= end):
            until = f"au {_fmt(other_end)}" if other_end else "sans date de fin"
            raise ValidationError(
                f"{contrat.conseiller} a déjà un contrat sur ce poste du {_fmt(other.date_debut)} {until} : "
                "deux contrats d'une même personne sur un poste ne peuvent pas se chevaucher.",
                code="overlap",
            )


def contrat_check(contrat):
    """Every contract rule on an unsaved or changed contract (also used by the admin form)."""
    _validate_contrat(contrat)
    if contrat.date_rupture and not _within(contrat, contrat.date_rupture):
        raise ValidationError(
            {"date_fin": f"Ce contrat a été rompu le {_fmt(contrat.date_rupture)} : ses dates doivent l'encadrer."}
        )
    _check_no_overlap(contrat)


@transaction.atomic
def contrat_create(
    *,
    conseiller,
    poste,
    type,
    date_debut,
    date_fin=None,
    salaire_brut_mensuel,
    cout_employeur_mensuel,
    temps_plein=True,
    by,
):
    """Record a contract of ``conseiller`` on ``poste`` (the post's host structure is the employer)."""
    poste = _lock_poste(poste)
    _require_poste_editor(by, poste)
    contrat = Contrat(
        conseiller=conseiller,
        poste=poste,
        type=type,
        date_debut=date_debut,
        date_fin=date_fin,
        salaire_brut_mensuel=salaire_brut_mensuel,
        cout_employeur_mensuel=cout_employeur_mensuel,
        temps_plein=temps_plein,
    )
    contrat_check(contrat)
    return _save(contrat, by)


@transaction.atomic
def contrat_update(*, contrat, by, **fields):
    """Correct a contract's type, dates or pay; ruptures go through ``contrat_rupture``."""
    unknown = set(fields) - CONTRAT_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    poste = _lock_poste(contrat.poste)
    contrat = Contrat.objects.select_for_update().get(pk=contrat.pk)
    contrat.poste = poste
    _require_poste_editor(by, poste)
    for name, value in fields.items():
        setattr(contrat, name, value)
    contrat_check(contrat)
    return _save(contrat, by)


def _within(contrat, date):
    return contrat.date_debut <= date and (contrat.date_fin is None or date <= contrat.date_fin)


@transaction.atomic
def contrat_rupture(*, contrat, date, motif, by):
    """End a contract early on ``date`` with a reason from the national list."""
    poste = _lock_poste(contrat.poste)
    contrat = Contrat.objects.select_for_update().get(pk=contrat.pk)
    _require_poste_editor(by, poste)
    if contrat.date_rupture:
        raise ValidationError(f"Ce contrat est déjà rompu (le {_fmt(contrat.date_rupture)}).", code="already_ended")
    if motif not in choices.MotifRupture.values:
        raise ValidationError({"motif_rupture": "Choisissez un motif de rupture de la liste nationale."})
    if date is None or not _within(contrat, date):
        until = f"au {_fmt(contrat.date_fin)}" if contrat.date_fin else "sans date de fin"
        raise ValidationError(
            {"date_rupture": f"La rupture doit tomber pendant le contrat (du {_fmt(contrat.date_debut)} {until})."}
        )
    contrat.date_rupture = date
    contrat.motif_rupture = motif
    return _save(contrat, by)
