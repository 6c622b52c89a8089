"""The Coop's activities in our terms: one resource of ``/activites`` becomes an ``ActiviteExterne``
(``accompagnements.services.externes``), its place and commune found here.

A resource that cannot even be read (a date, a number that is not one: NaN or infinite included) raises ``Rejet``
with a French reason: that one activity is rejected, the run goes on.
"""

import datetime
import math
import uuid

from django.utils import timezone

from accompagnements import choices as c
from accompagnements.services.activites import MAX_PARTICIPANTS
from accompagnements.services.externes import ActiviteExterne
from structures.models import Commune, Lieu
from structures.selectors import lieux_par_nom, normalise_nom

# The Coop's attribute sets of a participant, and our field for each (optional ``beneficiaires`` of the API).
AGREGATS = (
    ("genre", "genres", c.GENRE),
    ("tranche_age", "tranches_age", c.TRANCHE_AGE),
    ("statut_social", "statuts", c.STATUT_SOCIAL),
)
# At most this many characters of a value the Coop sent are quoted in a reason.
CITATION_MAX = 40
# Beyond this, a count or a duration is nonsense (and would make long reasons).
NOMBRE_MAX = 1_000_000


def _uuid(valeur):
    try:
        return uuid.UUID(str(valeur))
    except (TypeError, ValueError, AttributeError):
        return None


def _cite(valeur):
    texte = str(valeur)
    return texte if len(texte) <= CITATION_MAX else texte[: CITATION_MAX - 1] + "…"


class Rejet(Exception):
    """An activity that cannot even be read (French reason)."""


def _date(valeur):
    try:
        return datetime.date.fromisoformat(str(valeur)[:10])
    except (TypeError, ValueError):
        raise Rejet(f"Date illisible : « {_cite(valeur)} ».") from None


def _instant(valeur):
    try:
        instant = datetime.datetime.fromisoformat(str(valeur))
    except (TypeError, ValueError):
        return None
    return instant if instant.tzinfo else timezone.make_aware(instant, datetime.UTC)


def _nombre(valeur, libelle):
    """A whole number from the API's number (rounded), or ``Rejet``: not a number, NaN or infinite."""
    if isinstance(valeur, bool) or not isinstance(valeur, int | float):
        raise Rejet(f"{libelle} illisible : « {_cite(valeur)} ».")
    if isinstance(valeur, float) and not math.isfinite(valeur):
        raise Rejet(f"{libelle} illisible : ce n'est pas un nombre fini.")
    if abs(valeur) > NOMBRE_MAX:
        raise Rejet(f"{libelle} hors limites.")
    return int(round(valeur))


def _vocabulaire_ordre(vocabulaire):
    return {code: rang for rang, (code, _label) in enumerate(vocabulaire)}


def _participants(attributs):
    """One dict per participant: anonymous, with the national attributes the API gives in aggregate
    (``beneficiaires``, in the upstream implementation though not in the bundled description), else « non
    communiqué »."""
    nombre = _nombre(attributs.get("accompagnements"), "Nombre d'accompagnements")
    if nombre < 0 or nombre > MAX_PARTICIPANTS:
        raise Rejet(f"Nombre d'accompagnements hors limites ({nombre}, au plus {MAX_PARTICIPANTS}).")
    agregats = attributs.get("beneficiaires") if isinstance(attributs.get("beneficiaires"), dict) else {}
    colonnes = {}
    for attribut, cle, vocabulaire in AGREGATS:
        comptes = agregats.get(cle) if isinstance(agregats.get(cle), dict) else {}
        ordre = _vocabulaire_ordre(vocabulaire)
        valeurs = []
        for code in sorted(comptes, key=lambda code: (ordre.get(code, len(ordre)), code)):
            n = comptes[code]
            if code != c.NON_COMMUNIQUE and isinstance(n, int) and not isinstance(n, bool) and n > 0:
                valeurs.extend([code] * min(n, nombre - len(valeurs)))  # never more than the participants
            if len(valeurs) >= nombre:
                break
        colonnes[attribut] = (valeurs + [c.NON_COMMUNIQUE] * nombre)[:nombre]
    return [{attribut: colonnes[attribut][rang] for attribut in colonnes} for rang in range(nombre)]


def _thematiques(type_api, codes):
    thematiques = list(dict.fromkeys(code for code in codes or [] if isinstance(code, str)))
    administratif = type_api == "demarche_administrative" or bool(set(thematiques) & c.CODES_ADMINISTRATIFS)
    if administratif and c.AIDE_DEMARCHES not in thematiques:
        thematiques.insert(0, c.AIDE_DEMARCHES)
    return thematiques


TYPES = {"individuel": c.INDIVIDUEL, "demarche_administrative": c.INDIVIDUEL, "collectif": c.COLLECTIF}


def externe_depuis_api(item, conseiller, *, lieux, communes):
    """The ``ActiviteExterne`` of one resource of ``/activites``. ``lieux``: {Coop structure id: Lieu or None};
    ``communes``: {INSEE code: Commune}. Raises ``Rejet`` when the resource cannot be read."""
    attributs = item["attributes"]
    supprimee = bool(attributs.get("suppression"))
    type_api = attributs.get("type") or ""
    type_lieu = attributs.get("type_lieu") or ""
    if supprimee:
        # Only the key matters to delete it: whatever else it says is not read (it may no longer be readable).
        return ActiviteExterne(
            id_externe=item["id"],
            source=c.Source.API_COOP,
            conseiller=conseiller,
            type=TYPES.get(type_api, type_api),
            date=None,
            duree=0,
            type_lieu=type_lieu,
            supprimee=True,
        )
    return ActiviteExterne(
        id_externe=item["id"],
        source=c.Source.API_COOP,
        conseiller=conseiller,
        type=TYPES.get(type_api, type_api),
        date=_date(attributs.get("date")),
        duree=_nombre(attributs.get("duree"), "Durée"),
        type_lieu=type_lieu,
        lieu=lieux.get(attributs.get("structure_id")) if type_lieu == c.LIEU_ACTIVITE else None,
        commune=communes.get(attributs.get("lieu_code_insee")) if type_lieu != c.LIEU_ACTIVITE else None,
        thematiques=_thematiques(type_api, attributs.get("thematiques")),
        nom_demarche=(attributs.get("precisions_demarche") or "")[:255],
        materiel=list(dict.fromkeys(attributs.get("materiel") or [])),
        autonomie=attributs.get("autonomie") or "",
        oriente=attributs.get("oriente_vers_structure"),
        structure_redirection=attributs.get("structure_de_redirection") or "",
        titre_atelier=(attributs.get("titre_atelier") or "")[:255],
        niveau=attributs.get("niveau_atelier") or "",
        participants=_participants(attributs),
    )


def _siret(valeur):
    chiffres = "".join(ch for ch in str(valeur or "") if ch.isdigit())
    return chiffres if len(chiffres) == 14 else ""


class Lieux:
    """The Coop's places of activity (its structure ids) and ours, found once per run: a ``Lieu`` whose
    ``id_source`` is the structure id; else, read from ``/structures`` (by batches of 100), a ``Lieu`` whose
    ``id_source`` or uuid is the structure's id in the national cartography, else the same SIRET (the place's own,
    or its structure's) and name, else the same commune and name."""

    def __init__(self, client):
        self.client = client
        self.trouves = {}
        self.noms = {}

    def get(self, structure_id, default=None):
        return self.trouves.get(structure_id, default)

    def resoudre(self, structure_ids):
        inconnus = {str(s) for s in structure_ids if s} - set(self.trouves)
        if not inconnus:
            return
        for lieu in Lieu.objects.filter(id_source__in=inconnus).select_related("commune").order_by("pk"):
            self.trouves.setdefault(lieu.id_source, lieu)
        reste = inconnus - set(self.trouves)
        if reste:
            structures = self.client.structures(reste)
            self.noms.update({sid: (s.get("attributes") or {}).get("nom") or "" for sid, s in structures.items()})
            self.trouves.update(self._apparier(structures))
        for structure_id in inconnus:
            self.trouves.setdefault(structure_id, None)

    @staticmethod
    def _apparier(structures):
        attributs = {sid: s.get("attributes") or {} for sid, s in structures.items()}
        trouves = {}
        # 1. The national cartography's id: a place imported from it (id_source), or one we published (our uuid).
        carto = {
            sid: str(a["structure_cartographie_nationale_id"])
            for sid, a in attributs.items()
            if a.get("structure_cartographie_nationale_id")
        }
        if carto:
            uuids = [str(u) for u in map(_uuid, carto.values()) if u is not None]
            par_carto = {}
            for lieu in Lieu.objects.filter(id_source__in=set(carto.values())).select_related("commune").order_by("pk"):
                par_carto.setdefault(lieu.id_source, lieu)
            for lieu in Lieu.objects.filter(uuid__in=uuids).select_related("commune"):
                par_carto.setdefault(str(lieu.uuid), lieu)
            for sid, carto_id in carto.items():
                lieu = par_carto.get(carto_id) or par_carto.get(str(_uuid(carto_id)))
                if lieu is not None:
                    trouves[sid] = lieu
        # 2. The same SIRET (the place's own, else its structure's) and the same name.
        sirets = {sid: _siret(a.get("siret")) for sid, a in attributs.items() if sid not in trouves}
        sirets = {sid: s for sid, s in sirets.items() if s}
        if sirets:
            index = {}
            candidats = Lieu.objects.filter(pivot__in=set(sirets.values())) | Lieu.objects.filter(
                pivot="", structure__siret__in=set(sirets.values())
            )
            for lieu in candidats.select_related("commune", "structure").order_by("pk"):
                index.setdefault((lieu.pivot or lieu.structure.siret, normalise_nom(lieu.nom)), lieu)
            for sid, siret in sirets.items():
                lieu = index.get((siret, normalise_nom(attributs[sid].get("nom"))))
                if lieu is not None:
                    trouves[sid] = lieu
        # 3. The same commune and name.
        restants = {sid: a for sid, a in attributs.items() if sid not in trouves and a.get("code_insee")}
        if restants:
            index = lieux_par_nom(a["code_insee"] for a in restants.values())
            for sid, a in restants.items():
                lieu = index.get((a["code_insee"], normalise_nom(a.get("nom"))))
                if lieu is not None:
                    trouves[sid] = lieu
        return trouves


class Communes(dict):
    """{INSEE code: Commune}, read as the pages need them."""

    def resoudre(self, codes):
        inconnus = {str(code) for code in codes if code} - set(self)
        if inconnus:
            self.update({commune.code_insee: commune for commune in Commune.objects.filter(code_insee__in=inconnus)})
