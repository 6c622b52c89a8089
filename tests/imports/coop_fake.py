"""A local fake of the Coop's public API v1, for the tests: a real HTTP server on 127.0.0.1 (a random port, a
``ThreadingHTTPServer`` in a thread) serving a mutable dataset.

It implements what the synchronisation reads, as the bundled OpenAPI description (``imports/fixtures``) says:
``/activites`` (``filter[modification][depuis]`` and ``filter[creation][depuis]``, most recently modified first,
``page[size]`` ≤ 500 and opaque ``page[after]`` cursors, ``links`` and ``meta``), ``/utilisateurs``,
``/structures`` (``ids``, at most 100) and ``/health``; the bearer ``client_id:secret`` (401 otherwise). Resources
are built from the description's schemas (every required attribute, typed), and a test checks that every answer
validates against them exactly.

Fault switches: ``lent`` (each answer waits ``delai`` seconds: beyond the client's timeout), ``page_malformee``
(page N of ``/activites`` breaks the schema, or is not JSON with ``malformation = "json"``), ``erreur_500`` (the
next request answers 500, once), ``liens_objets`` and ``suivant_toujours`` (the upstream implementation's ways:
links as ``{"href": …}``, a ``next`` link on every non-empty page). ``requetes`` logs every request and answer.
"""

import base64
import copy
import datetime
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from imports.coop_api import description

CLIENT_ID = "client-sicoval-test"
SECRET = "secret-de-test-5f1c9e0a"
BASE = "/api/v1"
TAILLE_DEFAUT = 500


def iso(instant):
    return instant.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _lire_instant(valeur):
    return datetime.datetime.fromisoformat(valeur)


def _schema(nom):
    return description()["components"]["schemas"][nom]


def _valeur_par_defaut(propriete):
    """A value of a property's type, from the description (None when it may be null)."""
    if propriete.get("nullable"):
        return None
    vides = {"string": "", "array": [], "boolean": False, "integer": 0, "number": 0, "object": {}}
    return vides.get(propriete.get("type"))


def attributs_par_defaut(nom):
    """Every required attribute of the schema ``nom`` with a value of its type."""
    attributs = _schema(nom)["properties"]["attributes"]
    proprietes = attributs.get("properties", {})
    return {cle: _valeur_par_defaut(proprietes.get(cle, {})) for cle in attributs.get("required", [])}


def curseur(*parties):
    """Opaque, as the Coop's: base64 of the parts joined by ``###``."""
    return base64.urlsafe_b64encode("###".join(parties).encode("utf-8")).decode("ascii")


def _lire_curseur(valeur):
    try:
        return tuple(base64.urlsafe_b64decode(valeur.encode("ascii")).decode("utf-8").split("###"))
    except (ValueError, UnicodeError):
        return None


@dataclass
class Requete:
    chemin: str
    params: dict
    statut: int
    corps: object = None
    entetes: dict = None

    @property
    def autorisation(self):
        return (self.entetes or {}).get("Authorization", "")


class CoopFake:
    def __init__(self):
        self.client_id, self.secret = CLIENT_ID, SECRET
        self.activites = {}  # id → resource
        self.utilisateurs = {}  # id → resource
        self.structures = {}  # id → resource
        self.requetes = []
        self.lent = False
        self.delai = 2.0
        self.page_malformee = None
        self.malformation = "schema"
        self.erreur_500 = False
        self.liens_objets = False
        self.suivant_toujours = False
        self._dernier = None
        self._verrou = threading.Lock()
        self.server = None
        self.thread = None
        self.url = ""

    # --- The dataset ------------------------------------------------------------------------------------------
    def instant(self, decalage=datetime.timedelta(0)):
        """Now (minus ``decalage``), strictly after the previous instant given: modifications are ordered."""
        with self._verrou:
            instant = datetime.datetime.now(datetime.UTC) - decalage
            instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
            if self._dernier is not None and instant <= self._dernier:
                instant = self._dernier + datetime.timedelta(milliseconds=1)
            self._dernier = instant
            return instant

    def activite(self, *, mediateur_id, id=None, il_y_a=datetime.timedelta(days=1), **attributs):
        """Add an activity (individual, at home, in Castanet-Tolosan by default); ``il_y_a``: how long ago it was
        created and last modified. Returns the resource."""
        moment = iso(self.instant() - il_y_a)
        donnees = attributs_par_defaut("Activite")
        donnees.update(
            {
                "type": "individuel",
                "mediateur_id": str(mediateur_id),
                "accompagnements": 1,
                "date": (datetime.date.today() - datetime.timedelta(days=3)).isoformat(),
                "duree": 30,
                "type_lieu": "domicile",
                "lieu_code_postal": "31320",
                "lieu_commune": "Castanet-Tolosan",
                "lieu_code_insee": "31113",
                "creation": moment,
                "modification": moment,
                "autonomie": "partiellement_autonome",
                "oriente_vers_structure": False,
                "materiel": ["ordinateur"],
                "thematiques": ["email"],
                "tags": ["atelier du mardi"],
            }
        )
        donnees.update(attributs)
        ressource = {"type": "activite", "id": str(id or uuid.uuid4()), "attributes": donnees}
        self.activites[ressource["id"]] = ressource
        return ressource

    def modifier(self, id, **attributs):
        """Change an activity upstream: it is modified now."""
        ressource = self.activites[str(id)]
        ressource["attributes"].update(attributs)
        ressource["attributes"]["modification"] = iso(self.instant())
        return ressource

    def supprimer(self, id):
        """Soft-delete an activity upstream, as the Coop does (``suppression`` set, modified now)."""
        moment = iso(self.instant())
        ressource = self.activites[str(id)]
        ressource["attributes"].update(suppression=moment, modification=moment)
        return ressource

    def utilisateur(self, *, email, prenom, nom, mediateur_id=None, id_pg=None, id=None):
        """Add a user; with ``mediateur_id``, a mediator. Returns the resource."""
        moment = iso(self.instant(datetime.timedelta(days=30)))
        mediateur = None
        if mediateur_id is not None:
            mediateur = {
                "id": str(mediateur_id),
                "creation": moment,
                "modification": moment,
                "en_activite": [],
                "coordinations": [],
            }
        ressource = {
            "type": "utilisateur",
            "id": str(id or uuid.uuid4()),
            "attributes": {
                "email": email,
                "prenom": prenom,
                "nom": nom,
                "inscription_validee": moment,
                "telephone": None,
                "creation": moment,
                "modification": moment,
                "suppression": None,
                "dataspace_id": None,
                "emplois": [],
                "mediateur": mediateur,
                "coordinateur": None,
                "conseiller_numerique": {"is_conseiller_numerique": id_pg is not None, "id_pg": id_pg},
            },
        }
        self.utilisateurs[ressource["id"]] = ressource
        return ressource

    def structure(self, *, nom, id=None, siret=None, code_insee="31113", carto_id=None, commune="Castanet-Tolosan"):
        """Add a structure (a place of activity in the Coop). Returns the resource."""
        moment = iso(self.instant(datetime.timedelta(days=60)))
        donnees = attributs_par_defaut("Structure")
        donnees.update(
            {
                "structure_cartographie_nationale_id": carto_id,
                "creation": moment,
                "modification": moment,
                "nom": nom,
                "adresse": "1 place de la Mairie",
                "commune": commune,
                "code_postal": "31320",
                "code_insee": code_insee,
                "siret": siret,
                "visible_pour_cartographie_nationale": True,
                "typologies": ["MUNI"],
            }
        )
        ressource = {"type": "structure", "id": str(id or uuid.uuid4()), "attributes": donnees}
        self.structures[ressource["id"]] = ressource
        return ressource

    # --- Serving ----------------------------------------------------------------------------------------------
    def demarrer(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._repondre(self)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="coop-fake", daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{BASE}"
        return self

    def arreter(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)

    def requetes_vers(self, chemin):
        return [r for r in self.requetes if r.chemin == chemin]

    def _repondre(self, handler):
        parts = urlsplit(handler.path)
        chemin = parts.path[len(BASE) :] if parts.path.startswith(BASE) else parts.path
        params = {cle: valeurs[0] for cle, valeurs in parse_qs(parts.query, keep_blank_values=True).items()}
        entetes = dict(handler.headers.items())
        statut, corps, brut = self._traiter(chemin, params, entetes.get("Authorization", ""))
        self.requetes.append(Requete(chemin, params, statut, corps, entetes))
        if self.lent:
            time.sleep(self.delai)
        contenu = brut if brut is not None else json.dumps(corps, ensure_ascii=False).encode("utf-8")
        try:
            handler.send_response(statut)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(contenu)))
            handler.end_headers()
            handler.wfile.write(contenu)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def _traiter(self, chemin, params, autorisation):
        """(status, JSON body, raw bytes or None)."""
        if self.erreur_500:
            self.erreur_500 = False
            return 500, {"error": "Internal Server Error"}, None
        if chemin == "/health":
            return 200, {"status": "ok"}, None
        if autorisation != f"Bearer {self.client_id}:{self.secret}":
            return 401, {"error": "Unauthorized"}, None
        try:
            taille = int(params.get("page[size]", TAILLE_DEFAUT))
        except ValueError:
            return 400, {"error": "page[size] invalide"}, None
        if not 1 <= taille <= 500:
            return 400, {"error": "page[size] invalide"}, None
        if chemin == "/activites":
            items = list(self.activites.values())
            for filtre, attribut in (
                ("filter[modification][depuis]", "modification"),
                ("filter[creation][depuis]", "creation"),
            ):
                if params.get(filtre):
                    try:
                        depuis = _lire_instant(params[filtre])
                    except ValueError:
                        return 400, {"error": f"{filtre} invalide"}, None
                    items = [i for i in items if _lire_instant(i["attributes"][attribut]) >= depuis]
            cle = lambda item: (item["attributes"]["modification"], item["id"])  # noqa: E731
        elif chemin == "/utilisateurs":
            items = list(self.utilisateurs.values())
            cle = lambda item: (item["attributes"]["creation"], item["id"])  # noqa: E731
        elif chemin == "/structures":
            items = list(self.structures.values())
            if params.get("ids"):
                ids = [i for i in params["ids"].split(",") if i]
                if len(ids) > 100:
                    return 400, {"error": "100 identifiants au plus"}, None
                items = [i for i in items if i["id"] in set(ids)]
            cle = lambda item: (item["attributes"]["creation"], item["id"])  # noqa: E731
        else:
            return 404, {"error": "Not Found"}, None
        return self._page(chemin, params, sorted(items, key=cle, reverse=True), cle, taille)

    def _page(self, chemin, params, items, cle, taille):
        debut = 0
        if params.get("page[after]"):
            position = _lire_curseur(params["page[after]"])
            if position is None or len(position) != 2:
                return 400, {"error": "Invalid cursor"}, None
            debut = next((rang for rang, item in enumerate(items) if cle(item) < position), len(items))
        page = copy.deepcopy(items[debut : debut + taille])
        numero = debut // taille + 1
        reste = len(items) > debut + taille
        suivant = page and (reste or self.suivant_toujours)
        base = {k: v for k, v in params.items() if k not in ("page[after]", "page[before]")}

        def adresse(extra=None):
            query = urlencode({**base, **(extra or {})})
            return f"{self.url}{chemin}" + (f"?{query}" if query else "")

        liens = {"self": adresse({"page[after]": params["page[after]"]} if params.get("page[after]") else None)}
        if suivant:
            liens["next"] = adresse({"page[after]": curseur(*cle(page[-1]))})
        if debut:
            liens["prev"] = adresse({"page[before]": curseur(*cle(page[0]))} if page else None)
        if self.liens_objets:
            liens = {nom: {"href": valeur} for nom, valeur in liens.items()}
        corps = {
            "data": page,
            "links": liens,
            "meta": {
                "total_count": len(items),
                "items_per_page": taille,
                "total_pages": math.ceil(len(items) / taille),
                "has_next_page": bool(suivant),
                "has_prev_page": bool(debut),
            },
        }
        if chemin == "/activites" and self.page_malformee == numero:
            if self.malformation == "json":
                return 200, None, json.dumps(corps).encode("utf-8")[:-20]
            if page:
                page[0]["attributes"]["duree"] = "trente minutes"
            else:
                corps["data"] = "rien"
        return 200, corps, None
