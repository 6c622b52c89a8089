"""Reminders of the aidants network: a referral not taken in charge after some working days."""

import datetime

from django.conf import settings

from accompagnements import choices as cra
from aidants.models import Orientation, StatutOrientation

from .base import Famille, Genre, Parametre, Rappel, add_working_days, url
from .familles_conseillers import adresse_conseiller


class OrientationAttente(Famille):
    """A referral still « Nouvelle » some working days after it was sent (the moment staff's follow-up flags it as
    late): a reminder to the conseiller it is addressed to. Working days are Monday to Friday; public holidays are not
    taken out (see ``base.add_working_days``)."""

    code = "orientation_attente"
    libelle = "Orientation non prise en charge"
    description = "Rappelle au conseiller une orientation qu'il n'a pas encore prise en charge."
    destinataires = "Le conseiller à qui l'orientation est adressée (e-mail de son compte, à défaut professionnel)."
    parametres = (Parametre("jours_ouvres", "Rappel après … jours ouvrés sans prise en charge", 3, 1, 10),)
    genres = {
        "attente": Genre("Orientation en attente", "notifications/emails/rappels/orientation_attente", "le conseiller")
    }

    def echeancier(self, p):
        pluriel = "s" if p["jours_ouvres"] > 1 else ""
        return (
            f"{p['jours_ouvres']} jour{pluriel} ouvré{pluriel} (du lundi au vendredi) après l'envoi de l'orientation, "
            "à l'heure où elle a été envoyée."
        )

    def objets(self, *, now, params, depuis):
        orientations = Orientation.objects.filter(
            statut=StatutOrientation.NOUVELLE, conseiller__isnull=False
        ).select_related("conseiller__user", "aidant__structure", "commune", "seance__atelier")
        if depuis is None:
            return orientations.order_by("created_at", "pk")
        jours = params["jours_ouvres"]
        # n working days span at most n + 2 × (n // 5 + 1) calendar days.
        plus_long = datetime.timedelta(days=jours + 2 * (jours // 5 + 1))
        return orientations.filter(
            created_at__gte=depuis - plus_long, created_at__lte=now - datetime.timedelta(days=jours)
        ).order_by("pk")

    def rappels_pour(self, orientation, *, params, annuaire):
        moment = add_working_days(orientation.created_at, params["jours_ouvres"])
        yield Rappel(
            genre="attente",
            objet=f"orientation:{orientation.uuid}:attente",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=[adresse_conseiller(orientation.conseiller)],
            context={
                "orientation": orientation,
                "thematiques": [cra.THEMATIQUE_LABELS.get(t, t) for t in orientation.thematiques],
                "jours": params["jours_ouvres"],
                "url_detail": url("aidants:orientation_detail", orientation.uuid),
                "platform_name": settings.PLATFORM_NAME,
            },
            eligible_le=orientation.created_at,
            reference=str(orientation.uuid),
        )
