"""Reminders about funding: an instalment not paid some days after its planned date, an agreement about to end. To
Sicoval staff and to the beneficiary structure (its référents)."""

import datetime

from django.conf import settings

from financements.choices import StatutConvention
from financements.models import Convention, Versement

from .base import (
    EQUIPE_ET_STRUCTURE,
    Famille,
    Genre,
    Parametre,
    Rappel,
    a_l_heure,
    annuaire_equipe_et_structures,
    heure_parametre,
    jour_local,
    jours,
    url,
)


class VersementRetard(Famille):
    """An instalment of a signed agreement still unpaid some days after its planned date: once per planned date."""

    code = "versement_retard"
    libelle = "Versement en retard"
    description = "Prévient qu'une échéance d'une convention signée n'est pas versée à sa date prévue."
    destinataires = EQUIPE_ET_STRUCTURE
    parametres = (
        Parametre("jours_retard", "Rappel, jours après la date prévue du versement", 1, 1, 60),
        heure_parametre(),
    )
    genres = {
        "retard": Genre(
            "Versement en retard", "notifications/emails/rappels/versement_retard", "l'équipe et la structure"
        )
    }

    def echeancier(self, p):
        return f"{jours(p['jours_retard'])} après la date prévue d'une échéance non versée, à {p['heure']} h."

    def objets(self, *, now, params, depuis):
        versements = Versement.objects.filter(
            date_versement__isnull=True, ligne__convention__statut=StatutConvention.SIGNEE
        ).select_related("ligne__convention__structure", "ligne__convention__financeur", "ligne__poste")
        if depuis is None:
            return versements.order_by("date_prevue", "pk")
        retard = datetime.timedelta(days=params["jours_retard"])
        return versements.filter(
            date_prevue__gte=jour_local(depuis) - retard - datetime.timedelta(days=1),
            date_prevue__lte=jour_local(now) - retard,
        ).order_by("pk")

    def annuaire(self, versements):
        return annuaire_equipe_et_structures(v.ligne.convention.structure_id for v in versements)

    def rappels_pour(self, versement, *, params, annuaire):
        convention = versement.ligne.convention
        moment = a_l_heure(versement.date_prevue + datetime.timedelta(days=params["jours_retard"]), params["heure"])
        yield Rappel(
            genre="retard",
            objet=f"versement:{versement.uuid}:retard:{versement.date_prevue:%Y-%m-%d}",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=[*annuaire.equipe, *annuaire.structure(convention.structure_id)],
            context={
                "versement": versement,
                "convention": convention,
                "structure": convention.structure,
                "url_convention": url("financements:convention_detail", convention.uuid),
                "platform_name": settings.PLATFORM_NAME,
            },
            eligible_le=convention.created_at,
            reference=str(versement.uuid),
        )


class FinConvention(Famille):
    """A signed agreement some days before it ends; again if its end date changes."""

    code = "fin_convention"
    libelle = "Fin de convention prochaine"
    description = "Prévient qu'une convention signée arrive à son terme, pour préparer sa suite et son bilan."
    destinataires = EQUIPE_ET_STRUCTURE
    parametres = (
        Parametre("jours_avant", "Rappel, jours avant la fin de la convention", 90, 15, 365),
        heure_parametre(),
    )
    genres = {
        "fin": Genre("Fin de convention", "notifications/emails/rappels/fin_convention", "l'équipe et la structure")
    }

    def echeancier(self, p):
        return f"{jours(p['jours_avant'])} avant la fin de la convention, à {p['heure']} h."

    def objets(self, *, now, params, depuis):
        conventions = Convention.objects.filter(statut=StatutConvention.SIGNEE).select_related("structure", "financeur")
        jours = datetime.timedelta(days=params["jours_avant"])
        if depuis is None:
            return conventions.filter(date_fin__gte=jour_local(now)).order_by("date_fin", "pk")
        return conventions.filter(
            date_fin__gte=jour_local(depuis) + jours - datetime.timedelta(days=1), date_fin__lte=jour_local(now) + jours
        ).order_by("pk")

    def annuaire(self, conventions):
        return annuaire_equipe_et_structures(c.structure_id for c in conventions)

    def rappels_pour(self, convention, *, params, annuaire):
        moment = a_l_heure(convention.date_fin - datetime.timedelta(days=params["jours_avant"]), params["heure"])
        yield Rappel(
            genre="fin",
            objet=f"convention:{convention.uuid}:fin:{convention.date_fin:%Y-%m-%d}",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=[*annuaire.equipe, *annuaire.structure(convention.structure_id)],
            context={
                "convention": convention,
                "structure": convention.structure,
                "url_convention": url("financements:convention_detail", convention.uuid),
                "platform_name": settings.PLATFORM_NAME,
            },
            eligible_le=convention.created_at,
            reference=str(convention.uuid),
        )
