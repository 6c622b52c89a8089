"""The nightly synchronisation with the Coop's API v1: the connection, the mediators, and the runs.

- ``connexion_enregistrer`` (staff) keeps the API's address and the client credentials, the secret encrypted
  (``imports.chiffrement``); ``connexion_tester`` makes real authenticated calls and says in French how it went.
- ``mediateurs_actualiser`` (staff) reads ``/utilisateurs``, keeps those who are mediators (``MediateurCoop``) and
  touches no association; ``suggestions`` proposes for each mediator not yet associated the conseiller with the same
  e-mail (profile or account), else the only one with the same first and last names — shown to staff, never saved
  on its own. ``mediateur_associer`` saves what staff confirm (one mediator per conseiller) and sends the
  watermark back to the beginning, so that the next run brings that mediator's past activities.
- ``synchroniser`` reads ``/activites`` modified since the watermark (minus ``CHEVAUCHEMENT``: the watermark is our
  clock at the previous run's start, the Coop's clock may differ a little), turns each into an ``ActiviteExterne``
  and writes through ``accompagnements.services.externes`` (``planifier`` then ``appliquer``, page by page), all of
  it in ONE transaction: any error (HTTP, timeout, malformed page, a bug) rolls the whole run back, the run is then
  recorded as failed with its French reason, and the watermark does not move. A successful run moves the watermark
  to its own start.

What is counted, and what comes back:

- an activity of a mediator no staff has associated is « ignorée » (not an error); associating the mediator later
  sends the watermark back, so it comes with the next run;
- an activity ``planifier`` refuses (unknown place, no employer that day, unknown code…) is « rejetée »: listed on
  the run with its reason. When the fault can be fixed here (its place created, the conseiller's post attached), it
  is retried by the next runs without anyone doing anything: the watermark never moves past the oldest such
  activity's modification date, so it is asked for again until it goes through. When only a correction in the Coop
  can fix it (a value out of bounds, a code unknown here), that correction modifies it upstream, which brings it back
  anyway: the watermark is not held for it (a stuck watermark would make every night read more and more).
  The same content coming back is « inchangée » and writes nothing (the fingerprint).
- an activity deleted upstream (``suppression``) is soft-deleted here, even if its mediator is no longer associated.

On a failure, staff are told by e-mail once per failure streak (the outbox's key is the streak's first failed run),
and not while a retry of the same run is still planned (``reessai_possible``).
"""

import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accompagnements import choices as c
from accompagnements.models import Activite
from accompagnements.services.activites import MAX_PARTICIPANTS
from accompagnements.services.externes import CREER, INCHANGE, INVALIDE, METTRE_A_JOUR, SUPPRIMER, ActiviteExterne
from accompagnements.services.externes import appliquer as externes_appliquer
from accompagnements.services.externes import planifier as externes_planifier
from conseillers.models import Conseiller
from notifications.rappels.base import staff_emails
from notifications.services import email_enqueue
from structures.models import Commune, Lieu
from structures.selectors import lieux_par_nom, normalise_nom

from .chiffrement import ChiffrementErreur, chiffrer, dechiffrer
from .coop_api import ClientCoop, CoopErreur
from .models import ConnexionCoop, MediateurCoop, StatutSynchro, SynchroCoop

logger = logging.getLogger(__name__)

REFUS = "La synchronisation avec la Coop est réservée à l'équipe Sicoval."
# The next run asks for what changed since the watermark minus this (clocks of two servers).
CHEVAUCHEMENT = datetime.timedelta(minutes=5)
# At most this many rejected activities are listed on a run (the count goes on beyond).
REJETEES_MAX = 1000
EMAIL_TYPE = "synchro_coop_echec"
EMAIL_TEMPLATE = "imports/emails/synchro_coop_echec"
HOTES_LOCAUX = {"localhost", "127.0.0.1", "::1"}
# The Coop's attribute sets of a participant, and our field for each (optional ``beneficiaires`` of the API).
AGREGATS = (
    ("genre", "genres", c.GENRE),
    ("tranche_age", "tranches_age", c.TRANCHE_AGE),
    ("statut_social", "statuts", c.STATUT_SOCIAL),
)


def _require_staff(by):
    if by is None or not by.is_authenticated or not by.is_staff:
        raise PermissionDenied(REFUS)


def connexion():
    """The territory's one connection to the Coop, or None."""
    return ConnexionCoop.objects.order_by("pk").first()


def client_de(conn, **options):
    """A ``ClientCoop`` with the connection's credentials (the secret decrypted in memory only)."""
    return ClientCoop(conn.url, conn.client_id, dechiffrer(conn.secret_chiffre), **options)


# --- The connection ----------------------------------------------------------------------------------------------
def _url_verifiee(url):
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"url": "Indiquez l'adresse de l'API, par exemple https://coop-numerique.anct.gouv.fr/api/v1."}
        ) from None
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in HOTES_LOCAUX:
        raise ValidationError({"url": "L'adresse de l'API doit commencer par https:// : le secret y circule."})
    if parts.query or parts.fragment:
        raise ValidationError({"url": "L'adresse de l'API ne contient ni « ? » ni « # »."})
    return url.rstrip("/")


def connexion_enregistrer(*, by, url, client_id, secret=None, active=None):
    """Create or update the connection (staff). ``secret`` may be left empty on an update: the saved one is kept;
    ``active`` (None: unchanged) switches the nightly run on or off. Pointing at another API (another address) sends
    the watermark back to the beginning."""
    _require_staff(by)
    url = _url_verifiee(url)
    client_id = (client_id or "").strip()
    if not client_id:
        raise ValidationError({"client_id": "Indiquez l'identifiant client fourni par la Coop."})
    if len(client_id) > 200:
        raise ValidationError({"client_id": "L'identifiant client compte au plus 200 caractères."})
    secret = (secret or "").strip()
    with transaction.atomic():
        conn = ConnexionCoop.objects.select_for_update().order_by("pk").first()
        if conn is None:
            if not secret:
                raise ValidationError({"secret": "Indiquez le secret client fourni par la Coop."})
            conn = ConnexionCoop()
        elif conn.url.rstrip("/") != url:
            conn.depuis = None
        conn.url = url
        conn.client_id = client_id
        if secret:
            conn.secret_chiffre = chiffrer(secret)
        if active is not None:
            conn.active = bool(active)
        conn.modifie_par = by
        conn.save()
    return conn


def connexion_tester():
    """Real authenticated calls (``/health``, then one item of ``/activites`` and ``/utilisateurs``): (success,
    French message)."""
    conn = connexion()
    if conn is None:
        return False, "Aucune connexion n'est enregistrée : indiquez l'adresse de l'API, l'identifiant et le secret."
    try:
        with client_de(conn) as client:
            client.sante()
            activites = client.premiere_page("activites", "activites")
            client.premiere_page("utilisateurs", "utilisateurs")
    except (CoopErreur, ChiffrementErreur) as error:
        return False, f"Échec du test de connexion : {_texte(error)}"
    total = (activites.get("meta") or {}).get("total_count")
    if isinstance(total, int):
        nombre = f"{total:,}".replace(",", "\u202f")
        return True, f"Connexion réussie : la Coop répond et accepte les identifiants ({nombre} activités accessibles)."
    return True, "Connexion réussie : la Coop répond et accepte les identifiants."


def _texte(error):
    return error.texte if isinstance(error, CoopErreur) else str(error)


# --- The mediators ----------------------------------------------------------------------------------------------
def _uuid(valeur):
    try:
        return uuid.UUID(str(valeur))
    except (TypeError, ValueError, AttributeError):
        return None


def _entier(valeur):
    if isinstance(valeur, bool) or not isinstance(valeur, int | float) or valeur < 0 or valeur != int(valeur):
        return None
    return int(valeur)


def mediateurs_actualiser(*, by):
    """Read the Coop's users and keep the mediators (staff): created or updated, never associated here. Returns
    {"lus", "mediateurs", "nouveaux"}. Raises ``CoopErreur`` (nothing written) when the Coop cannot be read."""
    _require_staff(by)
    conn = connexion()
    if conn is None:
        raise ValidationError("Aucune connexion n'est enregistrée : indiquez d'abord l'adresse et les identifiants.")
    lus = 0
    recus = {}
    with client_de(conn) as client:
        for utilisateur in client.utilisateurs():
            lus += 1
            attributs = utilisateur.get("attributes") or {}
            mediateur = attributs.get("mediateur") or {}
            mediateur_id = _uuid(mediateur.get("id"))
            if mediateur_id is None:
                continue
            recus[mediateur_id] = {
                "utilisateur_id": _uuid(utilisateur.get("id")),
                "prenom": (attributs.get("prenom") or "").strip()[:150],
                "nom": (attributs.get("nom") or "").strip()[:150],
                "email": (attributs.get("email") or "").strip()[:254],
                "conum_id_pg": _entier((attributs.get("conseiller_numerique") or {}).get("id_pg")),
            }
    maintenant = timezone.now()
    nouveaux = 0
    with transaction.atomic():
        existants = {
            m.mediateur_id: m for m in MediateurCoop.objects.select_for_update().filter(mediateur_id__in=recus)
        }
        a_creer = []
        for mediateur_id, valeurs in recus.items():
            mediateur = existants.get(mediateur_id)
            if mediateur is None:
                a_creer.append(MediateurCoop(mediateur_id=mediateur_id, vu_le=maintenant, **valeurs))
                continue
            for name, value in valeurs.items():
                setattr(mediateur, name, value)
            mediateur.vu_le = maintenant
        MediateurCoop.objects.bulk_create(a_creer, ignore_conflicts=True)
        if existants:
            MediateurCoop.objects.bulk_update(
                list(existants.values()), ["utilisateur_id", "prenom", "nom", "email", "conum_id_pg", "vu_le"]
            )
        nouveaux = len(a_creer)
    return {"lus": lus, "mediateurs": len(recus), "nouveaux": nouveaux}


@dataclass
class Suggestion:
    conseiller: Conseiller
    raison: str


def _cle_personne(prenom, nom):
    return normalise_nom(f"{prenom} {nom}")


def suggestions(mediateurs):
    """{mediator pk: Suggestion} for the mediators not associated yet: the conseiller with the same e-mail (profile
    or account), else the only one with the same first and last names; a conseiller already associated is never
    suggested. Two queries. Nothing is saved."""
    pris = set(MediateurCoop.objects.filter(conseiller__isnull=False).values_list("conseiller_id", flat=True))
    par_email, par_nom = {}, defaultdict(list)
    for conseiller in Conseiller.objects.select_related("user").order_by("nom", "prenom", "pk"):
        if conseiller.pk in pris:
            continue
        for adresse in (conseiller.email, conseiller.user.email if conseiller.user else ""):
            if adresse:
                par_email.setdefault(adresse.strip().lower(), conseiller)
        par_nom[_cle_personne(conseiller.prenom, conseiller.nom)].append(conseiller)
    trouvees = {}
    for mediateur in mediateurs:
        if mediateur.conseiller_id:
            continue
        conseiller = par_email.get(mediateur.email.strip().lower()) if mediateur.email else None
        if conseiller is not None:
            trouvees[mediateur.pk] = Suggestion(conseiller, "même adresse e-mail")
            continue
        homonymes = par_nom.get(_cle_personne(mediateur.prenom, mediateur.nom)) if mediateur.nom else None
        if homonymes and len(homonymes) == 1:
            trouvees[mediateur.pk] = Suggestion(homonymes[0], "même prénom et nom")
    return trouvees


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


# --- Turning the API's activities into ours ----------------------------------------------------------------------
class _Rejet(Exception):
    """An activity that cannot even be read (French reason)."""


def _date(valeur):
    try:
        return datetime.date.fromisoformat(str(valeur)[:10])
    except (TypeError, ValueError):
        raise _Rejet(f"Date illisible : « {valeur} ».") from None


def _instant(valeur):
    try:
        instant = datetime.datetime.fromisoformat(str(valeur))
    except (TypeError, ValueError):
        return None
    return instant if instant.tzinfo else timezone.make_aware(instant, datetime.UTC)


def _nombre(valeur, libelle):
    if isinstance(valeur, bool) or not isinstance(valeur, int | float):
        raise _Rejet(f"{libelle} illisible : « {valeur} ».")
    return int(round(valeur))


def _vocabulaire_ordre(vocabulaire):
    return {code: rang for rang, (code, _label) in enumerate(vocabulaire)}


def _participants(attributs):
    """One dict per participant: anonymous, with the national attributes the API gives in aggregate
    (``beneficiaires``, in the upstream implementation though not in the bundled description), else « non
    communiqué »."""
    nombre = _nombre(attributs.get("accompagnements"), "Nombre d'accompagnements")
    if nombre < 0 or nombre > MAX_PARTICIPANTS:
        raise _Rejet(f"Nombre d'accompagnements hors limites ({nombre}, au plus {MAX_PARTICIPANTS}).")
    agregats = attributs.get("beneficiaires") if isinstance(attributs.get("beneficiaires"), dict) else {}
    colonnes = {}
    for attribut, cle, vocabulaire in AGREGATS:
        comptes = agregats.get(cle) if isinstance(agregats.get(cle), dict) else {}
        ordre = _vocabulaire_ordre(vocabulaire)
        valeurs = []
        for code in sorted(comptes, key=lambda code: (ordre.get(code, len(ordre)), code)):
            n = comptes[code]
            if code != c.NON_COMMUNIQUE and isinstance(n, int) and not isinstance(n, bool) and n > 0:
                valeurs.extend([code] * n)
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
    ``communes``: {INSEE code: Commune}. Raises ``_Rejet`` when the resource cannot be read."""
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


# --- A run -------------------------------------------------------------------------------------------------------
class _DejaEnCours(Exception):
    pass


class Lecture:
    """What one run read and wrote, page by page (within the run's transaction)."""

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
        self.plus_ancienne_rejetee = None

    def _rejeter(self, item, raison, *, redemander):
        """List a rejected activity. ``redemander``: what prevents it can be fixed here (its place created, the
        conseiller's post attached): the watermark is held at its modification so that it is asked for again.
        Otherwise (an unreadable value, a date or a duration out of bounds…), only a correction in the Coop can fix
        it, which modifies it there and so brings it back anyway: holding the watermark would only make every
        night read more."""
        attributs = item.get("attributes") or {}
        self.nombre_rejetees += 1
        modification = _instant(attributs.get("modification") or attributs.get("creation"))
        plus_ancienne = self.plus_ancienne_rejetee
        if redemander and modification is not None and (plus_ancienne is None or modification < plus_ancienne):
            self.plus_ancienne_rejetee = modification
        if len(self.rejetees) < REJETEES_MAX:
            entree = {
                "id": item.get("id"),
                "date": attributs.get("date"),
                "modification": attributs.get("modification"),
                "raison": raison,
                "redemandee": redemander,
            }
            nom_lieu = self.lieux.noms.get(attributs.get("structure_id"))
            if attributs.get("type_lieu") == c.LIEU_ACTIVITE and nom_lieu:
                entree["lieu"] = nom_lieu
            self.rejetees.append(entree)

    @staticmethod
    def _corrigeable_ici(externe):
        """Whether what refused an activity can be fixed on the platform: it is valid in itself (``planifier``
        refused it for its employer that day, or an id already here), or its only fault is an unknown place."""
        erreurs = externe.erreurs()
        return not erreurs or (externe.type_lieu == c.LIEU_ACTIVITE and externe.lieu is None and len(erreurs) == 1)

    def page(self, data):
        self.pages += 1
        self.recues += len(data)
        items, vus = [], set()
        for item in data:  # most recent first: a repeated id is an older version
            if item["id"] not in vus:
                vus.add(item["id"])
                items.append(item)
        a_lire, orphelines = [], []
        for item in items:
            attributs = item["attributes"]
            conseiller = self.mediateurs.get(str(_uuid(attributs.get("mediateur_id"))))
            if conseiller is not None:
                a_lire.append((item, conseiller))
            elif attributs.get("suppression"):
                orphelines.append(item)
            else:
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
                else:
                    self.ignorees += 1
        vivantes = [item["attributes"] for item, _conseiller in a_lire if not item["attributes"].get("suppression")]
        self.lieux.resoudre(a.get("structure_id") for a in vivantes if a.get("type_lieu") == c.LIEU_ACTIVITE)
        self.communes.resoudre(a.get("lieu_code_insee") for a in vivantes if a.get("type_lieu") != c.LIEU_ACTIVITE)
        externes, par_id = [], {}
        for item, conseiller in a_lire:
            try:
                externe = externe_depuis_api(item, conseiller, lieux=self.lieux, communes=self.communes)
            except _Rejet as rejet:
                self._rejeter(item, str(rejet), redemander=False)
                continue
            externes.append(externe)
            par_id[externe.id_externe] = item
        plans = externes_planifier(externes, reattribuer=True)
        for plan in plans:
            if plan.action == INVALIDE:
                externe = plan.externe
                self._rejeter(par_id[externe.id_externe], plan.raison, redemander=self._corrigeable_ici(externe))
            elif plan.action == INCHANGE:
                self.comptes[INCHANGE] += 1
        for action, nombre in externes_appliquer(plans, by=self.by).items():
            self.comptes[action] += nombre

    def reperes(self, debut):
        """The new watermark: the run's start, or earlier to ask again for the oldest rejected activity."""
        if self.plus_ancienne_rejetee is not None and self.plus_ancienne_rejetee < debut:
            return self.plus_ancienne_rejetee
        return debut

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


def synchroniser(*, by=None, tentative=1, reessai_possible=False):
    """One run (see the module's docstring). Returns the ``SynchroCoop`` (its ``reessayable`` attribute says whether
    a failure may pass on a later try), or None without a connection. Never raises for a failure: it is recorded."""
    conn = connexion()
    if conn is None:
        return None
    by = by if by is not None and by.is_authenticated else None
    debut = timezone.now()
    run = SynchroCoop.objects.create(depuis=conn.depuis, tentative=tentative, lancee_par=by)
    run.reessayable = False
    demande = conn.depuis - CHEVAUCHEMENT if conn.depuis else None
    lecture = None
    try:
        with client_de(conn) as client, transaction.atomic():
            # One run at a time (PostgreSQL; SQLite serialises writers anyway).
            if ConnexionCoop.objects.select_for_update(skip_locked=True).filter(pk=conn.pk).first() is None:
                raise _DejaEnCours
            lecture = Lecture(client, by=by)
            for data in client.activites(depuis=demande):
                lecture.page(data)
            ConnexionCoop.objects.filter(pk=conn.pk).update(depuis=lecture.reperes(debut))
            lecture.remplir(run)
            run.statut = StatutSynchro.REUSSIE
            run.termine_le = timezone.now()
            run.save()
    except _DejaEnCours:
        _echec(run, "Une autre synchronisation était en cours : celle-ci s'est arrêtée sans rien faire.", alerter=False)
    except CoopErreur as error:
        _echec(run, error.texte, lecture=lecture, reessayable=error.reessayable, reessai_possible=reessai_possible)
    except ChiffrementErreur as error:
        _echec(run, str(error), lecture=lecture)
    except SoftTimeLimitExceeded:
        _echec(run, "La synchronisation a dépassé sa durée maximale et a été interrompue.", lecture=lecture)
    except Exception as error:
        logger.exception("Synchronisation avec la Coop %s : erreur inattendue.", run.pk)
        _echec(
            run,
            f"Erreur inattendue pendant la synchronisation ({type(error).__name__}) : le détail est dans les journaux "
            "du serveur.",
            lecture=lecture,
        )
    return run


def _echec(run, message, *, lecture=None, reessayable=False, reessai_possible=False, alerter=True):
    """Record a failed run (outside its rolled-back transaction): nothing of it was written, the watermark did not
    move. Staff are told, once per failure streak, unless a retry of this run is planned."""
    run.statut = StatutSynchro.ECHEC
    run.erreur = message
    run.termine_le = timezone.now()
    run.pages = lecture.pages if lecture else 0
    run.recues = lecture.recues if lecture else 0
    run.creees = run.mises_a_jour = run.supprimees = run.inchangees = run.ignorees = 0
    run.rejetees = []
    run.reessayable = reessayable
    logger.warning("Synchronisation avec la Coop %s en échec (tentative %s) : %s", run.pk, run.tentative, message)
    with transaction.atomic():
        run.save()
        if alerter and not (reessayable and reessai_possible):
            alerter_equipe(run)


def debut_de_serie(run):
    """The first failed run of the failure streak ``run`` belongs to (since the last successful run)."""
    derniere_reussie = (
        SynchroCoop.objects.filter(statut=StatutSynchro.REUSSIE, pk__lt=run.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return (
        SynchroCoop.objects.filter(statut=StatutSynchro.ECHEC, pk__gt=derniere_reussie or 0, pk__lte=run.pk)
        .order_by("pk")
        .first()
        or run
    )


def alerter_equipe(run):
    """E-mail the staff about a failed run, once per failure streak (the outbox keeps one e-mail per recipient and
    streak). Returns the number of e-mails written."""
    premiere = debut_de_serie(run)
    echecs = SynchroCoop.objects.filter(statut=StatutSynchro.ECHEC, pk__gte=premiere.pk, pk__lte=run.pk).count()
    context = {
        "synchro": run,
        "premiere": premiere,
        "echecs": echecs,
        "erreur": run.erreur,
        "lien": settings.SITE_URL.rstrip("/") + reverse("imports:coop"),
        "platform_name": settings.PLATFORM_NAME,
        "territoire_nom": settings.TERRITOIRE_NOM,
    }
    ecrits = 0
    for adresse in staff_emails():
        ecrits += email_enqueue(
            destinataire=adresse,
            type=EMAIL_TYPE,
            objet=f"synchro_coop:{premiere.pk}",
            template=EMAIL_TEMPLATE,
            context=context,
        )
    return ecrits


def synchro_en_cours(maintenant=None):
    """A run started less than an hour ago and not finished (a run killed meanwhile no longer counts after that)."""
    maintenant = maintenant or timezone.now()
    return SynchroCoop.objects.filter(
        statut=StatutSynchro.EN_COURS, commence_le__gt=maintenant - datetime.timedelta(hours=1)
    ).exists()
