"""Following a person by name, only with their consent; likely duplicates are proposed before a new file."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.models import Beneficiaire
from accompagnements.selectors import similar_beneficiaires

from .activites import conseiller_of


# --- Followed beneficiaries ----------------------------------------------------------------------------------------
def beneficiaires_similaires(conseiller, *, prenom, nom, annee_naissance=None, telephone="", exclude=None):
    """The conseiller's followed people who are likely the same person: same first and last name and birth year
    (or same name when a year is missing on either side), or the same phone number."""
    return similar_beneficiaires(
        conseiller, prenom=prenom, nom=nom, annee_naissance=annee_naissance, telephone=telephone, exclude=exclude
    )


def _check_beneficiaire(data):
    year = data.get("annee_naissance")
    this_year = timezone.localdate().year
    if year is not None and not this_year - 120 <= year <= this_year:
        raise ValidationError(
            {"annee_naissance": f"L'année de naissance doit être comprise entre {this_year - 120} et {this_year}."}
        )
    if not data.get("consentement"):
        raise ValidationError(
            {
                "consentement": "Le suivi nominatif demande le consentement de la personne : cochez la case une fois "
                "qu'elle l'a donné, ou enregistrez l'accompagnement de façon anonyme."
            },
            code="no_consent",
        )


def normalise_telephone(value):
    """A French number however typed (06 12 34 56 78, 06.12.34.56.78, +33 6 12…) is stored as +33612345678, so that
    the same person is recognised; anything else is kept as typed."""
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    if len(digits) == 10 and digits.startswith("0"):
        return f"+33{digits[1:]}"
    if len(digits) == 11 and digits.startswith("33") and (value or "").strip().startswith(("+", "33")):
        return f"+{digits}"
    if len(digits) == 13 and digits.startswith("0033"):
        return f"+{digits[2:]}"
    return (value or "").strip()


BENEFICIAIRE_FIELDS = (
    "prenom",
    "nom",
    "annee_naissance",
    "telephone",
    "email",
    "commune_residence",
    "genre",
    "tranche_age",
    "statut_social",
)


def beneficiaire_create(*, by, data, confirme_doublon=False):
    """Follow a person by name, with their consent. Likely duplicates are refused unless the conseiller confirmed
    that this is another person (the form then shows them)."""
    conseiller = conseiller_of(by)
    _check_beneficiaire(data)
    values = {name: data.get(name) for name in BENEFICIAIRE_FIELDS}
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    for name in ("genre", "tranche_age", "statut_social"):
        values[name] = values[name] or c.NON_COMMUNIQUE
    for name in ("telephone", "email"):
        values[name] = values[name] or ""
    if (
        not confirme_doublon
        and beneficiaires_similaires(
            conseiller,
            prenom=values["prenom"],
            nom=values["nom"],
            annee_naissance=values["annee_naissance"],
            telephone=values["telephone"],
        ).exists()
    ):
        raise ValidationError(
            "Cette personne ressemble à un bénéficiaire que vous suivez déjà : choisissez-le, ou confirmez qu'il "
            "s'agit d'une autre personne.",
            code="doublon",
        )
    beneficiaire = Beneficiaire(conseiller=conseiller, consentement_le=timezone.now(), **values)
    beneficiaire._history_user = by
    beneficiaire.full_clean()
    beneficiaire.save()
    return beneficiaire


def beneficiaire_update(*, beneficiaire, by, data):
    if not by.is_authenticated or beneficiaire.conseiller.user_id != by.pk:
        raise PermissionDenied("Seul le conseiller qui suit cette personne peut modifier sa fiche.")
    if beneficiaire.anonymise_le is not None:
        # Typing a name again would re-identify a person whose data was erased (retention period or request).
        raise ValidationError(
            "Cette personne a été anonymisée : sa fiche ne peut plus être modifiée. Pour la suivre à nouveau, "
            "recueillez son accord et créez une nouvelle fiche.",
            code="anonymise",
        )
    data = {**data, "consentement": True}
    _check_beneficiaire(data)
    for name in BENEFICIAIRE_FIELDS:
        value = data.get(name)
        if name in ("genre", "tranche_age", "statut_social"):
            value = value or c.NON_COMMUNIQUE
        elif name in ("telephone", "email", "prenom", "nom"):
            value = (value or "").strip()
            if name == "telephone":
                value = normalise_telephone(value)
        setattr(beneficiaire, name, value)
    beneficiaire._history_user = by
    beneficiaire.full_clean()
    beneficiaire.save()
    return beneficiaire
