import re

from django.core.exceptions import ValidationError
from stdnum.fr import siret

from . import horaires


def validate_siret(value):
    if not value:
        return
    if not re.fullmatch(r"\d{14}", value):
        raise ValidationError("Le SIRET compte exactement 14 chiffres, sans espace.", code="siret_format")
    if not siret.is_valid(value):
        raise ValidationError(
            "Ce SIRET n'est pas valide (la clé de contrôle ne correspond pas) : vérifiez-le sur "
            "annuaire-entreprises.data.gouv.fr.",
            code="siret_checksum",
        )


def validate_rna(value):
    if value and not re.fullmatch(r"W\d{9}", value):
        raise ValidationError("Le numéro RNA s'écrit W suivi de 9 chiffres (par exemple W313000123).", code="rna")


def validate_horaires(value):
    try:
        horaires.parse(value)
    except horaires.HorairesError as error:
        raise ValidationError(str(error), code="horaires") from error
