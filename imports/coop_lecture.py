"""What one run of the synchronisation reads and writes (within the run's transaction): the pages of
``/activites``, then the activities rejected earlier and kept waiting (``ActiviteCoopEnAttente``).

- An activity of a mediator no staff has associated is « ignorée » (not an error).
- An activity ``planifier`` refuses (unknown place, no employer that day, a value out of bounds…) is « rejetée »:
  listed on the run with its reason, and kept as received in ``ActiviteCoopEnAttente`` (a newer version upstream
  replaces the older one). After the pages, every run tries again those not seen in the run: those that now pass
  (their place created, the conseiller's post attached) are written and leave the table; the others stay with
  their current reason. So the watermark never waits for them.
- An activity seen in the run that is not rejected (written, unchanged, deleted upstream, ignored) leaves the table.
"""

import math

from django.utils import timezone

from accompagnements import choices as c
from accompagnements.models import Activite
from accompagnements.services.externes import CREER, INCHANGE, INVALIDE, METTRE_A_JOUR, SUPPRIMER
from accompagnements.services.externes import appliquer as externes_appliquer
from accompagnements.services.externes import planifier as externes_planifier

from .coop_conversion import Communes, Lieux, Rejet, _instant, _uuid, externe_depuis_api
from .models import ActiviteCoopEnAttente, MediateurCoop

# At most this many rejected activities are listed on a run (the count goes on beyond).
REJETEES_MAX = 1000
# The activities waiting are tried again by batches of this many (as a page).
LOT_ATTENTE = 500


class Lecture:
    """What one run read and wrote, page by page, then the activities waiting."""

    def __init__(self, client, *, by=None):
        self.client = client
        self.by = by
        self.lieux = Lieux(client)
        self.communes = Communes()
        self.mediateurs = {
            str(m.mediateur_id): m.conseiller
            for m in MediateurCoop.objects.filter(conseiller__isnull=False).select_related("conseiller")
        }
        self.pages = self.recues = 0
        self.comptes = dict.fromkeys((CREER, METTRE_A_JOUR, SUPPRIMER, INCHANGE), 0)
        self.ignorees = 0
        self.rejetees = []
        self.nombre_rejetees = 0
        self.vues = set()  # ids of the activities received in this run
        self.rejets = {}  # id → (resource, reason): to keep waiting
        self.reprises = 0  # activities waiting that passed in this run
        self.reprises_tentees = []  # ids of the activities waiting tried again

    def associations(self):
        """The mediators associated when the run started ({mediator id: conseiller pk})."""
        return {mediateur_id: conseiller.pk for mediateur_id, conseiller in self.mediateurs.items()}

    # --- Pages -----------------------------------------------------------------------------------------------
    def page(self, data):
        self.pages += 1
        self.recues += len(data)
        items = []
        for item in data:  # most recent first: a repeated id (here or on an earlier page) is an older version
            if item["id"] not in self.vues:
                self.vues.add(item["id"])
                items.append(item)
        self._traiter(items, lister=True)

    def _rejeter(self, item, raison, *, lister):
        attributs = item.get("attributes") or {}
        nom_lieu = self.lieux.noms.get(attributs.get("structure_id"))
        if attributs.get("type_lieu") == c.LIEU_ACTIVITE and nom_lieu:
            raison_attente = f"{raison} Lieu dans la Coop : « {nom_lieu} »."
        else:
            raison_attente, nom_lieu = raison, None
        self.rejets[item["id"]] = (item, raison_attente)
        if not lister:
            return
        self.nombre_rejetees += 1
        if len(self.rejetees) < REJETEES_MAX:
            entree = {
                "id": item.get("id"),
                "date": attributs.get("date"),
                "modification": attributs.get("modification"),
                "raison": raison,
            }
            if nom_lieu:
                entree["lieu"] = nom_lieu
            self.rejetees.append(entree)

    def _traiter(self, items, *, lister):
        """Plan and write a batch of resources (a page, or activities waiting: ``lister`` False, not listed on the
        run nor counted as ignored)."""
        a_lire, orphelines = [], []
        for item in items:
            attributs = item["attributes"]
            conseiller = self.mediateurs.get(str(_uuid(attributs.get("mediateur_id"))))
            if conseiller is not None:
                a_lire.append((item, conseiller))
            elif attributs.get("suppression"):
                orphelines.append(item)
            elif lister:
                self.ignorees += 1
        if orphelines:  # deleted upstream, mediator no longer associated: deleted here too, if here
            presentes = set(
                Activite.objects.filter(id_externe__in=[item["id"] for item in orphelines])
                .exclude(source=c.Source.SAISIE)
                .values_list("id_externe", flat=True)
            )
            for item in orphelines:
                if item["id"] in presentes:
                    a_lire.append((item, None))
                elif lister:
                    self.ignorees += 1
        vivantes = [item["attributes"] for item, _conseiller in a_lire if not item["attributes"].get("suppression")]
        self.lieux.resoudre(a.get("structure_id") for a in vivantes if a.get("type_lieu") == c.LIEU_ACTIVITE)
        self.communes.resoudre(a.get("lieu_code_insee") for a in vivantes if a.get("type_lieu") != c.LIEU_ACTIVITE)
        externes, par_id = [], {}
        for item, conseiller in a_lire:
            try:
                externe = externe_depuis_api(item, conseiller, lieux=self.lieux, communes=self.communes)
            except Rejet as rejet:
                self._rejeter(item, str(rejet), lister=lister)
                continue
            externes.append(externe)
            par_id[externe.id_externe] = item
        plans = externes_planifier(externes, reattribuer=True)
        for plan in plans:
            if plan.action == INVALIDE:
                self._rejeter(par_id[plan.externe.id_externe], plan.raison, lister=lister)
            elif plan.action == INCHANGE:
                self.comptes[INCHANGE] += 1
            elif not lister:
                self.reprises += 1
        for action, nombre in externes_appliquer(plans, by=self.by).items():
            self.comptes[action] += nombre

    # --- The activities waiting ---------------------------------------------------------------------------------
    def reprendre(self):
        """Try again the activities waiting that this run did not receive (a newer version supersedes them)."""
        attente = [
            (pk, id_coop)
            for pk, id_coop in ActiviteCoopEnAttente.objects.order_by("pk").values_list("pk", "id_coop")
            if id_coop not in self.vues
        ]
        self.reprises_tentees = [id_coop for _pk, id_coop in attente]
        for debut in range(0, len(attente), LOT_ATTENTE):
            lot = [pk for pk, _id in attente[debut : debut + LOT_ATTENTE]]
            items = list(
                ActiviteCoopEnAttente.objects.filter(pk__in=lot).order_by("pk").values_list("donnees", flat=True)
            )
            self._traiter([item for item in items if _lisible(item)], lister=False)

    def enregistrer_attente(self):
        """The table of activities waiting after the run: the rejected ones (this run's version) kept or updated,
        the others received or tried again removed."""
        traitees = self.vues | set(self.reprises_tentees)
        a_retirer = sorted(traitees - set(self.rejets))
        for debut in range(0, len(a_retirer), LOT_ATTENTE):
            ActiviteCoopEnAttente.objects.filter(id_coop__in=a_retirer[debut : debut + LOT_ATTENTE]).delete()
        maintenant = timezone.now()
        lignes = []
        for id_coop, (item, raison) in self.rejets.items():
            attributs = item.get("attributes") or {}
            modification = _instant(attributs.get("modification") or attributs.get("creation")) or maintenant
            lignes.append(
                ActiviteCoopEnAttente(
                    id_coop=str(id_coop)[:64],
                    donnees=_en_json(item),
                    modification=modification,
                    raison=raison,
                    derniere_fois=maintenant,
                )
            )
        ActiviteCoopEnAttente.objects.bulk_create(
            lignes,
            batch_size=LOT_ATTENTE,
            update_conflicts=True,
            unique_fields=["id_coop"],
            update_fields=["donnees", "modification", "raison", "derniere_fois"],
        )

    def remplir(self, run):
        run.pages, run.recues = self.pages, self.recues
        run.creees, run.mises_a_jour = self.comptes[CREER], self.comptes[METTRE_A_JOUR]
        run.supprimees, run.inchangees = self.comptes[SUPPRIMER], self.comptes[INCHANGE]
        run.ignorees = self.ignorees
        run.rejetees = list(self.rejetees)
        if self.nombre_rejetees > len(self.rejetees):
            run.rejetees.append(
                {"id": "", "date": None, "raison": f"… et {self.nombre_rejetees - len(self.rejetees)} autres."}
            )


def _en_json(valeur):
    """The resource as received, storable as JSON: a number that is not finite (which the API's JSON may carry)
    becomes its name."""
    if isinstance(valeur, float) and not math.isfinite(valeur):
        return "NaN" if math.isnan(valeur) else ("Infinity" if valeur > 0 else "-Infinity")
    if isinstance(valeur, dict):
        return {cle: _en_json(v) for cle, v in valeur.items()}
    if isinstance(valeur, list):
        return [_en_json(v) for v in valeur]
    return valeur


def _lisible(item):
    return isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("attributes"), dict)
