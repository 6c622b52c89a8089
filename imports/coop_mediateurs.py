"""The Coop's mediators and the territory's conseillers they are (staff).

- ``mediateurs_actualiser`` (a Celery task, ``imports.tasks.coop_mediateurs_actualiser``) reads ``/utilisateurs``:
  the Coop lists every mediator of France, so only those that matter here are kept (``MediateurCoop``): the ones
  already associated, and those a conseiller of the territory is suggested for. The others are only counted
  (``ConnexionCoop.mediateurs_vus``), and the ones stored earlier that are neither associated nor suggested anymore
  are deleted: no personal data kept without a use. It touches no association.
- ``suggestions`` proposes for a mediator not yet associated the conseiller with the same e-mail (profile or
  account), else the only one with the same first and last names — shown to staff, never saved on its own.
- ``mediateur_associer`` saves what staff confirm (one mediator per conseiller) and sends the watermark back to the
  beginning, so that the next run brings that mediator's past activities.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from conseillers.models import Conseiller
from structures.selectors import normalise_nom

from .coop_connexion import _require_staff, client_de, connexion
from .coop_conversion import _uuid
from .models import ConnexionCoop, MediateurCoop

CHAMPS = ("utilisateur_id", "prenom", "nom", "email", "conum_id_pg")


def _entier(valeur):
    if isinstance(valeur, bool) or not isinstance(valeur, int | float):
        return None
    if isinstance(valeur, float) and not math.isfinite(valeur):
        return None
    if valeur < 0 or valeur != int(valeur) or valeur > 2**31 - 1:
        return None
    return int(valeur)


@dataclass
class Suggestion:
    conseiller: Conseiller
    raison: str


def _cle_personne(prenom, nom):
    return normalise_nom(f"{prenom} {nom}")


class Conseillers:
    """The territory's conseillers not associated yet, by e-mail (profile or account) and by first and last names.
    Two queries."""

    def __init__(self):
        pris = set(MediateurCoop.objects.filter(conseiller__isnull=False).values_list("conseiller_id", flat=True))
        self.par_email, self.par_nom = {}, defaultdict(list)
        for conseiller in Conseiller.objects.select_related("user").order_by("nom", "prenom", "pk"):
            if conseiller.pk in pris:
                continue
            for adresse in (conseiller.email, conseiller.user.email if conseiller.user else ""):
                if adresse:
                    self.par_email.setdefault(adresse.strip().lower(), conseiller)
            self.par_nom[_cle_personne(conseiller.prenom, conseiller.nom)].append(conseiller)

    def suggestion(self, *, email, prenom, nom):
        conseiller = self.par_email.get(email.strip().lower()) if email else None
        if conseiller is not None:
            return Suggestion(conseiller, "même adresse e-mail")
        homonymes = self.par_nom.get(_cle_personne(prenom, nom)) if nom else None
        if homonymes and len(homonymes) == 1:
            return Suggestion(homonymes[0], "même prénom et nom")
        return None


def suggestions(mediateurs):
    """{mediator pk: Suggestion} for the mediators not associated yet: the conseiller with the same e-mail (profile
    or account), else the only one with the same first and last names; a conseiller already associated is never
    suggested. Two queries. Nothing is saved."""
    index = Conseillers()
    trouvees = {}
    for mediateur in mediateurs:
        if mediateur.conseiller_id:
            continue
        suggestion = index.suggestion(email=mediateur.email, prenom=mediateur.prenom, nom=mediateur.nom)
        if suggestion is not None:
            trouvees[mediateur.pk] = suggestion
    return trouvees


def _lire(client):
    """{mediator id: values} of the Coop's users who are mediators, and the number of users read."""
    lus, recus = 0, {}
    for utilisateur in client.utilisateurs():
        lus += 1
        attributs = utilisateur.get("attributes") or {}
        mediateur_id = _uuid((attributs.get("mediateur") or {}).get("id"))
        if mediateur_id is None:
            continue
        recus[mediateur_id] = {
            "utilisateur_id": _uuid(utilisateur.get("id")),
            "prenom": (attributs.get("prenom") or "").strip()[:150],
            "nom": (attributs.get("nom") or "").strip()[:150],
            "email": (attributs.get("email") or "").strip()[:254],
            "conum_id_pg": _entier((attributs.get("conseiller_numerique") or {}).get("id_pg")),
        }
    return recus, lus


def mediateurs_actualiser(*, by):
    """Read the Coop's users and keep the mediators that matter here (staff): those associated (updated) and those a
    conseiller is suggested for (created or updated); delete the ones stored earlier that are neither anymore; never
    associate. Returns {"lus", "mediateurs", "gardes", "nouveaux", "retires"}. Raises ``CoopErreur`` (nothing
    written) when the Coop cannot be read."""
    _require_staff(by)
    conn = connexion()
    if conn is None:
        raise ValidationError("Aucune connexion n'est enregistrée : indiquez d'abord l'adresse et les identifiants.")
    with client_de(conn) as client:
        recus, lus = _lire(client)
    maintenant = timezone.now()
    with transaction.atomic():
        associes = set(
            MediateurCoop.objects.select_for_update()
            .filter(conseiller__isnull=False)
            .values_list("mediateur_id", flat=True)
        )
        index = Conseillers()
        gardes = {
            mediateur_id: valeurs
            for mediateur_id, valeurs in recus.items()
            if mediateur_id in associes
            or index.suggestion(email=valeurs["email"], prenom=valeurs["prenom"], nom=valeurs["nom"]) is not None
        }
        retires, _detail = (
            MediateurCoop.objects.filter(conseiller__isnull=True).exclude(mediateur_id__in=list(gardes)).delete()
        )
        existants = {
            m.mediateur_id: m for m in MediateurCoop.objects.select_for_update().filter(mediateur_id__in=list(gardes))
        }
        a_creer = []
        for mediateur_id, valeurs in gardes.items():
            mediateur = existants.get(mediateur_id)
            if mediateur is None:
                a_creer.append(MediateurCoop(mediateur_id=mediateur_id, vu_le=maintenant, **valeurs))
                continue
            for name, value in valeurs.items():
                setattr(mediateur, name, value)
            mediateur.vu_le = maintenant
        MediateurCoop.objects.bulk_create(a_creer, ignore_conflicts=True)
        if existants:
            MediateurCoop.objects.bulk_update(list(existants.values()), [*CHAMPS, "vu_le"])
        ConnexionCoop.objects.filter(pk=conn.pk).update(mediateurs_vus=len(recus), mediateurs_actualises_le=maintenant)
    return {"lus": lus, "mediateurs": len(recus), "gardes": len(gardes), "nouveaux": len(a_creer), "retires": retires}


def mediateur_associer(*, mediateur, conseiller, by):
    """Say which conseiller of the territory a mediator is (staff); ``conseiller=None`` removes the association
    (activities already imported stay). A conseiller is one mediator. A new association sends the watermark back to
    the beginning: the next run brings the mediator's past activities (what is already here is found unchanged)."""
    _require_staff(by)
    try:
        with transaction.atomic():
            mediateur = MediateurCoop.objects.select_for_update().get(pk=mediateur.pk)
            if mediateur.conseiller_id == (conseiller.pk if conseiller else None):
                return mediateur
            if conseiller is not None:
                autre = MediateurCoop.objects.filter(conseiller=conseiller).exclude(pk=mediateur.pk).first()
                if autre is not None:
                    raise ValidationError(
                        f"{conseiller.prenom} {conseiller.nom} est déjà associé(e) au médiateur « {autre} » de la "
                        "Coop : retirez d'abord cette association."
                    )
            mediateur.conseiller = conseiller
            mediateur.associe_le = timezone.now() if conseiller else None
            mediateur.save(update_fields=["conseiller", "associe_le"])
            if conseiller is not None:
                ConnexionCoop.objects.update(depuis=None)
    except IntegrityError:
        raise ValidationError("Ce conseiller vient d'être associé à un autre médiateur : rechargez la page.") from None
    return mediateur
