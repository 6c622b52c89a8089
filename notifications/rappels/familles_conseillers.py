"""Reminders about conseillers and their posts: no activity logged, a contract ending, continuing training not done,
a post left vacant. Administrative ones go to Sicoval staff and to the structure concerned (its référents)."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import DateField, Exists, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accompagnements.models import Activite
from conseillers.choices import EtatPoste
from conseillers.models import Affectation, Conseiller, Contrat, Poste
from conseillers.selectors import TrainingStatus, fin_effective, vacancy_start, with_training_status

from .base import (
    EQUIPE_ET_STRUCTURE,
    Annuaire,
    Famille,
    Genre,
    Parametre,
    Rappel,
    a_l_heure,
    annuaire_equipe_et_structures,
    heure_parametre,
    jour_local,
    jours,
    referent_emails,
    url,
)


def _affectation_en_cours(date):
    return Affectation.objects.filter(conseiller=OuterRef("pk"), date_debut__lte=date).filter(
        Q(date_fin__isnull=True) | Q(date_fin__gt=date)
    )


def _contrat_en_cours(date):
    """Contracts running on ``date``: a contract's end (or rupture) is its last day."""
    return (
        Contrat.objects.filter(conseiller=OuterRef("pk"), date_debut__lte=date)
        .annotate(fin=fin_effective())
        .filter(Q(fin__isnull=True) | Q(fin__gte=date))
    )


def conseillers_en_poste(date):
    """Conseillers holding a post or under contract on ``date``, annotated ``structure_id`` (their employer: the
    post they hold, else the post of their contract) and ``prise_de_poste`` (the start of that assignment, else of
    their earliest running contract)."""
    affectation = _affectation_en_cours(date).order_by("-date_debut")
    contrat = _contrat_en_cours(date).order_by("date_debut")
    return (
        Conseiller.objects.filter(Exists(affectation) | Exists(contrat))
        .select_related("user")
        .annotate(
            structure_id=Coalesce(
                Subquery(affectation.values("poste__structure_id")[:1]),
                Subquery(contrat.values("poste__structure_id")[:1]),
                output_field=IntegerField(),
            ),
            prise_de_poste=Coalesce(
                Subquery(affectation.values("date_debut")[:1]),
                Subquery(contrat.values("date_debut")[:1]),
                output_field=DateField(),
            ),
        )
    )


def adresse_conseiller(conseiller):
    """A conseiller's address: their account's, else their professional e-mail."""
    if conseiller.user_id and conseiller.user.is_active and conseiller.user.email:
        return conseiller.user.email
    return conseiller.email


class Inactivite(Famille):
    """A conseiller in post with no activity for some days: a reminder to them; some days later, if still nothing,
    to their structure's référents. Counted from the latest of: their last activity's date, the day they last
    recorded one, and their taking up of the post. Once per period of inactivity (recording an activity starts a
    new one)."""

    code = "inactivite"
    libelle = "Conseiller sans activité enregistrée"
    description = (
        "Invite un conseiller sans activité enregistrée à compléter son journal ; puis, sans changement, prévient "
        "les référents de sa structure."
    )
    destinataires = (
        "Le conseiller (e-mail de son compte, à défaut son e-mail professionnel) ; puis les référents de sa "
        "structure employeuse (à défaut, l'e-mail de contact de la structure)."
    )
    parametres = (
        Parametre("jours_inactivite", "Rappel au conseiller après … jours sans activité", 30, 7, 90),
        Parametre("jours_escalade", "Puis rappel aux référents … jours plus tard", 15, 1, 60),
        heure_parametre(),
    )
    genres = {
        "conseiller": Genre(
            "Rappel au conseiller", "notifications/emails/rappels/inactivite_conseiller", "le conseiller"
        ),
        "referent": Genre(
            "Rappel aux référents", "notifications/emails/rappels/inactivite_referent", "les référents de la structure"
        ),
    }

    def echeancier(self, p):
        total = p["jours_inactivite"] + p["jours_escalade"]
        return (
            f"Au conseiller après {jours(p['jours_inactivite'])} sans activité, à {p['heure']} h ; aux référents de "
            f"sa structure {jours(p['jours_escalade'])} plus tard ({jours(total)} sans activité)."
        )

    def objets(self, *, now, params, depuis):
        today = jour_local(now)
        actives = Activite.objects.actives().filter(conseiller=OuterRef("pk")).order_by()
        conseillers = conseillers_en_poste(today).annotate(
            derniere_activite=Subquery(
                actives.values("conseiller").annotate(d=Max("date")).values("d")[:1], output_field=DateField()
            ),
            derniere_saisie=Subquery(actives.values("conseiller").annotate(d=Max("created_at")).values("d")[:1]),
        )
        if depuis is None:
            return conseillers.order_by("derniere_activite", "pk")
        # Only those whose last trace is old enough: filtered here, the latest of three dates is simpler in Python.
        seuil = today - datetime.timedelta(days=params["jours_inactivite"])
        return conseillers.filter(Q(derniere_activite__isnull=True) | Q(derniere_activite__lte=seuil)).order_by("pk")

    def annuaire(self, conseillers):
        return Annuaire(referents=referent_emails(c.structure_id for c in conseillers))

    def rappels_pour(self, conseiller, *, params, annuaire):
        traces = [conseiller.prise_de_poste, conseiller.derniere_activite]
        if conseiller.derniere_saisie is not None:
            traces.append(jour_local(conseiller.derniere_saisie))
        depuis = max(t for t in traces if t is not None)
        context = {
            "conseiller": conseiller,
            "depuis": depuis,
            "url_saisie": url("accompagnements:create"),
            "url_conseiller": url("conseillers:conseiller", conseiller.uuid),
            "platform_name": settings.PLATFORM_NAME,
        }
        au_conseiller = a_l_heure(depuis + datetime.timedelta(days=params["jours_inactivite"]), params["heure"])
        yield Rappel(
            genre="conseiller",
            objet=f"conseiller:{conseiller.uuid}:inactivite:{depuis:%Y-%m-%d}",
            moment=au_conseiller,
            limite=au_conseiller + self.fenetre,
            destinataires=[adresse_conseiller(conseiller)],
            context={**context, "jours": params["jours_inactivite"], "jours_escalade": params["jours_escalade"]},
            reference=str(conseiller.uuid),
        )
        jours = params["jours_inactivite"] + params["jours_escalade"]
        aux_referents = a_l_heure(depuis + datetime.timedelta(days=jours), params["heure"])
        yield Rappel(
            genre="referent",
            objet=f"conseiller:{conseiller.uuid}:inactivite-referent:{depuis:%Y-%m-%d}",
            moment=aux_referents,
            limite=aux_referents + self.fenetre,
            destinataires=annuaire.structure(conseiller.structure_id),
            context={**context, "jours": jours, "rappel_conseiller_le": au_conseiller},
            reference=str(conseiller.uuid),
        )


class FinContrat(Famille):
    """A contract with a planned end, neither broken nor followed by another contract of the same conseiller, some
    days before it ends; again if its end date changes."""

    code = "fin_contrat"
    libelle = "Fin de contrat prochaine"
    description = "Prévient qu'un contrat de conseiller arrive à son terme, pour préparer son renouvellement."
    destinataires = EQUIPE_ET_STRUCTURE
    parametres = (Parametre("jours_avant", "Rappel, jours avant la fin du contrat", 60, 15, 180), heure_parametre())
    genres = {"fin": Genre("Fin de contrat", "notifications/emails/rappels/fin_contrat", "l'équipe et la structure")}

    def echeancier(self, p):
        return f"{jours(p['jours_avant'])} avant la fin prévue du contrat, à {p['heure']} h."

    def objets(self, *, now, params, depuis):
        suivant = Contrat.objects.filter(conseiller=OuterRef("conseiller"), date_debut__gt=OuterRef("date_debut"))
        contrats = (
            Contrat.objects.filter(date_fin__isnull=False, date_rupture__isnull=True)
            .exclude(Exists(suivant))
            .select_related("conseiller", "poste__structure")
        )
        jours = datetime.timedelta(days=params["jours_avant"])
        if depuis is None:
            return contrats.filter(date_fin__gte=jour_local(now)).order_by("date_fin", "pk")
        return contrats.filter(
            date_fin__gte=jour_local(depuis) + jours - datetime.timedelta(days=1), date_fin__lte=jour_local(now) + jours
        ).order_by("pk")

    def annuaire(self, contrats):
        return annuaire_equipe_et_structures(c.poste.structure_id for c in contrats)

    def rappels_pour(self, contrat, *, params, annuaire):
        moment = a_l_heure(contrat.date_fin - datetime.timedelta(days=params["jours_avant"]), params["heure"])
        yield Rappel(
            genre="fin",
            objet=f"contrat:{contrat.uuid}:fin:{contrat.date_fin:%Y-%m-%d}",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=[*annuaire.equipe, *annuaire.structure(contrat.poste.structure_id)],
            context={
                "contrat": contrat,
                "conseiller": contrat.conseiller,
                "structure": contrat.poste.structure,
                "url_poste": url("conseillers:poste", contrat.poste.uuid),
                "platform_name": settings.PLATFORM_NAME,
            },
            eligible_le=contrat.created_at,
            reference=str(contrat.uuid),
        )


class FormationContinue(Famille):
    """A conseiller under contract on the day set (1 October by default) who has not yet followed the continuing
    training the year requires (``conseillers.selectors.with_training_status``): once a year."""

    code = "formation_continue"
    libelle = "Formation continue de l'année non suivie"
    description = "Prévient qu'un conseiller n'a pas encore suivi la formation continue due pour l'année."
    destinataires = EQUIPE_ET_STRUCTURE
    parametres = (
        Parametre("jour", "Jour du rappel", 1, 1, 28, unite="", aide="Le jour du mois (de 1 à 28)."),
        Parametre("mois", "Mois du rappel", 10, 1, 12, unite="", aide="Le mois (de 1 à 12) : 10 pour octobre."),
        heure_parametre(),
    )
    genres = {
        "formation": Genre(
            "Formation continue à suivre", "notifications/emails/rappels/formation_continue", "l'équipe et la structure"
        )
    }

    def echeancier(self, p):
        return f"Chaque année le {datetime.date(2000, p['mois'], p['jour']):%d/%m}, à {p['heure']} h."

    def _moment(self, year, p):
        return a_l_heure(datetime.date(year, p["mois"], p["jour"]), p["heure"])

    def objets(self, *, now, params, depuis):
        year = jour_local(now).year
        moment = self._moment(year, params)
        if depuis is not None and not depuis <= moment <= now:
            return Conseiller.objects.none()
        jour = moment.date() if depuis is not None else jour_local(now)
        conseillers = with_training_status(
            conseillers_en_poste(jour).filter(Exists(_contrat_en_cours(jour))), year, today=jour_local(now)
        ).filter(training_status=TrainingStatus.DUE)
        return conseillers.annotate(annee=Value(year, output_field=IntegerField())).order_by("nom", "prenom", "pk")

    def annuaire(self, conseillers):
        return annuaire_equipe_et_structures(c.structure_id for c in conseillers)

    def rappels_pour(self, conseiller, *, params, annuaire):
        moment = self._moment(conseiller.annee, params)
        yield Rappel(
            genre="formation",
            objet=f"conseiller:{conseiller.uuid}:formation:{moment.year}",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=[*annuaire.equipe, *annuaire.structure(conseiller.structure_id)],
            context={
                "conseiller": conseiller,
                "annee": moment.year,
                "modules_faits": conseiller.modules_faits,
                "modules_requis": conseiller.modules_requis,
                "url_conseiller": url("conseillers:conseiller", conseiller.uuid),
                "platform_name": settings.PLATFORM_NAME,
            },
            reference=str(conseiller.uuid),
        )


class PosteVacant(Famille):
    """A post vacant for some months, before the delay after which it must be returned
    (``POSTE_VACANCE_MAX_MOIS``): once per vacancy."""

    code = "poste_vacant"
    libelle = "Poste vacant à pourvoir"
    description = "Prévient qu'un poste est vacant depuis plusieurs mois et devra être rendu s'il n'est pas pourvu."
    destinataires = EQUIPE_ET_STRUCTURE
    parametres = (
        Parametre(
            "mois_vacance",
            "Rappel après … mois de vacance",
            4,
            1,
            lambda: settings.POSTE_VACANCE_MAX_MOIS - 1,
            unite="mois",
            aide="Avant le délai au terme duquel un poste vacant doit être rendu.",
        ),
        heure_parametre(),
    )
    genres = {"vacant": Genre("Poste vacant", "notifications/emails/rappels/poste_vacant", "l'équipe et la structure")}

    def echeancier(self, p):
        return (
            f"Après {p['mois_vacance']} mois de vacance, à {p['heure']} h (un poste vacant depuis "
            f"{settings.POSTE_VACANCE_MAX_MOIS} mois doit être rendu)."
        )

    def objets(self, *, now, params, depuis):
        postes = (
            Poste.objects.filter(etat=EtatPoste.VACANT)
            .annotate(vacant_depuis=vacancy_start())
            .select_related("structure")
        )
        if depuis is None:
            return postes.order_by("vacant_depuis", "pk")
        mois = relativedelta(months=params["mois_vacance"])
        return postes.filter(
            vacant_depuis__gte=jour_local(depuis) - mois - datetime.timedelta(days=1),
            vacant_depuis__lte=jour_local(now) - mois,
        ).order_by("pk")

    def annuaire(self, postes):
        return annuaire_equipe_et_structures(p.structure_id for p in postes)

    def rappels_pour(self, poste, *, params, annuaire):
        moment = a_l_heure(poste.vacant_depuis + relativedelta(months=params["mois_vacance"]), params["heure"])
        yield Rappel(
            genre="vacant",
            objet=f"poste:{poste.uuid}:vacant:{poste.vacant_depuis:%Y-%m-%d}",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=[*annuaire.equipe, *annuaire.structure(poste.structure_id)],
            context={
                "poste": poste,
                "structure": poste.structure,
                "vacant_depuis": poste.vacant_depuis,
                "mois": params["mois_vacance"],
                "mois_max": settings.POSTE_VACANCE_MAX_MOIS,
                "a_rendre_le": poste.vacant_depuis + relativedelta(months=settings.POSTE_VACANCE_MAX_MOIS),
                "url_poste": url("conseillers:poste", poste.uuid),
                "platform_name": settings.PLATFORM_NAME,
            },
            eligible_le=poste.created_at,
            reference=str(poste.uuid),
        )
