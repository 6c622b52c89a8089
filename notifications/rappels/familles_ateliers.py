"""Reminders of the workshops: registrants before their session, and distributors of Pass numériques about to
expire."""

import datetime

from django.conf import settings
from django.db.models import Count, Q

from ateliers.emails import email_context
from ateliers.models import (
    CommandePass,
    Inscription,
    PassNumerique,
    StatutInscription,
    StatutPass,
    StatutSeance,
)
from structures.models import Structure

from .base import (
    Annuaire,
    Famille,
    Genre,
    Parametre,
    Rappel,
    a_l_heure,
    heure_parametre,
    jour_local,
    jours,
    referent_emails,
    url,
)


def _quand(jours):
    return {1: "demain", 2: "après-demain"}.get(jours, f"dans {jours} jours")


class RappelAtelier(Famille):
    """Confirmed registrants with an e-mail, the day before their session (at the hour set), and two days before
    for those who booked long ahead. Nothing for a cancelled registration or session, nor for a seat confirmed after
    the reminder's moment (the confirmation has just been sent). The reminder of a session moved to another day
    goes again for the new day. It leaves at the latest when the session starts (the early one before the other)."""

    code = "atelier"
    libelle = "Rappel de séance aux personnes inscrites"
    description = "Rappelle sa séance à chaque personne inscrite (place confirmée), avec le lien pour se désinscrire."
    destinataires = "Les personnes inscrites à la séance, place confirmée, qui ont donné un e-mail."
    parametres = (
        Parametre("jours_avant", "Rappel, jours avant la séance", 1, 1, 7),
        Parametre(
            "jours_avant_anticipe",
            "Rappel anticipé, jours avant la séance",
            2,
            2,
            14,
            aide="Un second rappel, plus tôt, pour les personnes inscrites longtemps à l'avance.",
        ),
        Parametre(
            "anticipation_jours",
            "Inscription longtemps à l'avance : au moins … jours avant la séance",
            14,
            3,
            90,
        ),
        heure_parametre(),
    )
    genres = {
        "veille": Genre("Rappel", "notifications/emails/rappels/atelier", "la personne inscrite"),
        "anticipe": Genre("Rappel anticipé", "notifications/emails/rappels/atelier", "la personne inscrite"),
    }

    def echeancier(self, p):
        return (
            f"{jours(p['jours_avant'])} avant la séance à {p['heure']} h ; et {jours(p['jours_avant_anticipe'])} "
            f"avant pour les personnes inscrites au moins {jours(p['anticipation_jours'])} à l'avance. Jamais après "
            "le début de la séance."
        )

    def verifier(self, p):
        errors = {}
        if p["jours_avant_anticipe"] <= p["jours_avant"]:
            errors["jours_avant_anticipe"] = "Le rappel anticipé doit partir plus tôt que le rappel."
        if p["anticipation_jours"] <= p["jours_avant_anticipe"]:
            errors["anticipation_jours"] = (
                "Une inscription « longtemps à l'avance » doit précéder le rappel anticipé : saisissez un nombre de "
                "jours plus grand que celui du rappel anticipé."
            )
        return errors

    def objets(self, *, now, params, depuis):
        inscriptions = (
            Inscription.objects.filter(statut=StatutInscription.CONFIRMEE, seance__statut=StatutSeance.PLANIFIEE)
            .exclude(email="")
            .select_related("seance__atelier", "seance__lieu__commune", "seance__arret__lieu", "seance__arret__commune")
        )
        if depuis is None:
            return inscriptions.filter(seance__debut__gt=now).order_by("seance__debut", "pk")
        # A reminder leaves before the session starts, at most a few days before.
        horizon = now + datetime.timedelta(days=params["jours_avant_anticipe"] + 1)
        return inscriptions.filter(seance__debut__gt=depuis, seance__debut__lte=horizon).order_by("pk")

    def rappels_pour(self, inscription, *, params, annuaire):
        seance = inscription.seance
        jour = jour_local(seance.debut)
        confirmee_le = inscription.promue_le or inscription.created_at
        veille = a_l_heure(jour - datetime.timedelta(days=params["jours_avant"]), params["heure"])
        moments = [("veille", veille, min(veille + self.fenetre, seance.debut), params["jours_avant"])]
        if inscription.created_at <= seance.debut - datetime.timedelta(days=params["anticipation_jours"]):
            anticipe = a_l_heure(jour - datetime.timedelta(days=params["jours_avant_anticipe"]), params["heure"])
            limite = min(anticipe + self.fenetre, veille, seance.debut)  # never after the other reminder
            moments.append(("anticipe", anticipe, limite, params["jours_avant_anticipe"]))
        for genre, moment, limite, avant in moments:
            yield Rappel(
                genre=genre,
                objet=f"inscription:{inscription.uuid}:{genre}:{jour:%Y-%m-%d}",
                moment=moment,
                limite=limite,
                destinataires=[inscription.email],
                context={**email_context(inscription), "quand": _quand(avant)},
                eligible_le=confirmee_le,
                reference=str(inscription.uuid),
            )


class PassExpiration(Famille):
    """A distributor structure's Pass numériques of one order, still in stock or handed to people and not used, some
    days before they stop being valid: one e-mail per (order, distributor), to its référents."""

    code = "pass_expiration"
    libelle = "Pass numériques bientôt expirés"
    description = "Prévient la structure distributrice que des Pass numériques non utilisés vont expirer."
    destinataires = (
        "Les référents de la structure distributrice (à défaut de compte référent, l'e-mail de contact de la "
        "structure)."
    )
    parametres = (Parametre("jours_avant", "Rappel, jours avant la fin de validité", 30, 7, 90), heure_parametre())
    genres = {
        "expiration": Genre(
            "Pass bientôt expirés", "notifications/emails/rappels/pass_expiration", "la structure distributrice"
        )
    }

    def echeancier(self, p):
        return f"{jours(p['jours_avant'])} avant la fin de validité des Pass, à {p['heure']} h."

    def objets(self, *, now, params, depuis):
        groups = (
            PassNumerique.objects.filter(
                statut__in=[StatutPass.EMIS, StatutPass.REMIS], carnet__distributeur__isnull=False
            )
            .values("carnet__commande", "carnet__distributeur")
            .annotate(
                en_stock=Count("pk", filter=Q(statut=StatutPass.EMIS)),
                remis=Count("pk", filter=Q(statut=StatutPass.REMIS)),
            )
        )
        jours = datetime.timedelta(days=params["jours_avant"])
        if depuis is None:
            groups = groups.filter(carnet__commande__valide_jusqu_au__gte=jour_local(now)).order_by(
                "carnet__commande__valide_jusqu_au", "carnet__commande", "carnet__distributeur"
            )
        else:
            groups = groups.filter(
                carnet__commande__valide_jusqu_au__gte=jour_local(depuis) + jours - datetime.timedelta(days=1),
                carnet__commande__valide_jusqu_au__lte=jour_local(now) + jours,
            ).order_by("carnet__commande", "carnet__distributeur")
        return _GroupesPass(groups)

    def annuaire(self, groupes):
        return Annuaire(referents=referent_emails(g["distributeur"].pk for g in groupes))

    def rappels_pour(self, groupe, *, params, annuaire):
        commande, distributeur = groupe["commande"], groupe["distributeur"]
        moment = a_l_heure(commande.valide_jusqu_au - datetime.timedelta(days=params["jours_avant"]), params["heure"])
        yield Rappel(
            genre="expiration",
            objet=f"commande_pass:{commande.uuid}:expiration:{distributeur.uuid}",
            moment=moment,
            limite=moment + self.fenetre,
            destinataires=annuaire.structure(distributeur.pk),
            context={
                "commande": commande,
                "distributeur": distributeur,
                "en_stock": groupe["en_stock"],
                "remis": groupe["remis"],
                "total": groupe["en_stock"] + groupe["remis"],
                "jours": params["jours_avant"],
                "url_stock": url("ateliers:pass_stock"),
                "platform_name": settings.PLATFORM_NAME,
            },
            eligible_le=commande.created_at,
            reference=str(commande.uuid),
        )


class _GroupesPass:
    """The (order, distributor) groups of a query, with their order and distributor read in two more queries; sliced
    before reading, as a queryset would be."""

    def __init__(self, groups):
        self.groups = groups

    def __getitem__(self, item):
        return _GroupesPass(self.groups[item])

    def __iter__(self):
        rows = list(self.groups)
        commandes = CommandePass.objects.select_related("financeur").in_bulk({r["carnet__commande"] for r in rows})
        distributeurs = Structure.objects.in_bulk({r["carnet__distributeur"] for r in rows})
        for row in rows:
            yield {
                "commande": commandes[row["carnet__commande"]],
                "distributeur": distributeurs[row["carnet__distributeur"]],
                "en_stock": row["en_stock"],
                "remis": row["remis"],
            }
