"""A small client of the Coop's public REST API v1 (La Coop de la médiation numérique), as described by the bundled
OpenAPI description (``fixtures/coop_api_v1.openapi.json``, see ``fixtures/PROVENANCE.md``).

- Authentication: ``Authorization: Bearer <client_id>:<client_secret>``; explicit connect and read timeouts.
- Lists are paged by an opaque cursor: ``page[size]`` (at most 500) and ``page[after]``, the next page's address in
  ``links.next`` and ``meta.has_next_page``. ``pages`` follows ``links.next`` (same server only: the bearer never
  leaves for another host), stops on an empty page, refuses a cursor that comes back (a loop) and a number of pages
  beyond ``PAGES_MAX``.
- Every page is checked against the description's schemas (``$ref`` resolved) before anything uses it. Two
  tolerances, both from the upstream implementation (``apps/web/src/app/api/v1``): the pagination links may come as
  ``{"href": …}`` objects, and vocabulary values (thématiques, matériel…) are not checked against the description's
  enums — the Coop adds codes over time (e.g. « associations »); an unknown code rejects one activity later, with its
  reason, instead of failing every night. ``valider(…, strict=True)`` checks the description exactly (the tests'
  fake server is held to it).
- Errors are ``CoopErreur`` with a French message and ``reessayable``: refused credentials (401/403) are not; a
  timeout, a connection error, 429 and 5xx are; a malformed page (not JSON, or not as described) is not retried within
  the run. No message quotes what the server answered (its address is staff's to set): the status, where in
  the page, and a fixed French sentence. Answers are read as a stream and refused beyond ``TAILLE_MAX``.
"""

import datetime
import json
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DESCRIPTION = Path(__file__).parent / "fixtures" / "coop_api_v1.openapi.json"
# (connect, read) in seconds: a hung Coop never holds a worker longer than this per request.
DELAIS = (5, 30)
TAILLE_PAGE = 500
# A hard cap on the pages of one listing (500 activities each): a cursor that never ends stops here.
PAGES_MAX = 4000
IDS_PAR_APPEL = 100
# A hard cap on one answer's size (a page of 500 activities is well under 2 MB): beyond, the reading stops.
TAILLE_MAX = 20 * 1024 * 1024
USER_AGENT = "SicovalNumerique/1.0 (synchronisation avec la Coop de la mediation numerique)"
URN = "urn:sicoval-numerique:coop-api-v1"
# The responses we read and check: name → path in the description.
REPONSES = {nom: f"/{nom}" for nom in ("activites", "utilisateurs", "structures", "health")}


# --- Errors ------------------------------------------------------------------------------------------------------
class CoopErreur(Exception):
    """A call to the Coop failed. ``message``: French, for staff; ``reessayable``: a later try may succeed."""

    reessayable = False

    def __init__(self, message, *, detail="", reessayable=None, statut=None):
        self.message = message
        self.detail = detail
        self.statut = statut
        if reessayable is not None:
            self.reessayable = reessayable
        super().__init__(self.texte)

    @property
    def texte(self):
        return f"{self.message} {self.detail}".strip()


class IdentifiantsRefuses(CoopErreur):
    reessayable = False


class CoopIndisponible(CoopErreur):
    reessayable = True


class PageMalFormee(CoopErreur):
    reessayable = False


# --- The description's schemas -----------------------------------------------------------------------------------
@cache
def description():
    return json.loads(DESCRIPTION.read_text("utf-8"))


_COMPOSES = ("allOf", "anyOf", "oneOf")


def _en_jsonschema(noeud):
    """An OpenAPI 3.0 schema as JSON Schema 2020-12: ``nullable`` becomes a "null" type (and a None in an enum);
    annotations without effect are dropped."""
    if not isinstance(noeud, dict):
        return noeud
    sortie = {}
    for cle, valeur in noeud.items():
        if cle in ("properties", "patternProperties"):
            sortie[cle] = {nom: _en_jsonschema(schema) for nom, schema in valeur.items()}
        elif cle in ("items", "additionalProperties", "not"):
            sortie[cle] = _en_jsonschema(valeur)
        elif cle in _COMPOSES:
            sortie[cle] = [_en_jsonschema(schema) for schema in valeur]
        elif cle in ("nullable", "example", "description", "xml", "externalDocs", "deprecated"):
            continue
        else:
            sortie[cle] = valeur
    if noeud.get("nullable") is True:
        if "$ref" in sortie:
            return {"anyOf": [sortie, {"type": "null"}]}
        if isinstance(sortie.get("type"), str):
            sortie["type"] = [sortie["type"], "null"]
        if "enum" in sortie and None not in sortie["enum"]:
            sortie["enum"] = [*sortie["enum"], None]
    return sortie


def _sans_enums(noeud):
    if isinstance(noeud, dict):
        return {cle: _sans_enums(valeur) for cle, valeur in noeud.items() if cle != "enum"}
    if isinstance(noeud, list):
        return [_sans_enums(valeur) for valeur in noeud]
    return noeud


def _lien_tolerant():
    uri = {"type": "string", "format": "uri"}
    return {"anyOf": [uri, {"type": "object", "required": ["href"], "properties": {"href": uri}}]}


@cache
def _validateur(nom, strict):
    doc = description()
    schemas = {nom_schema: _en_jsonschema(schema) for nom_schema, schema in doc["components"]["schemas"].items()}
    if not strict:
        attributs = schemas["Activite"]["properties"]["attributes"]
        schemas["Activite"]["properties"]["attributes"] = _sans_enums(attributs)
        schemas["PaginationLinks"]["properties"] = {
            lien: _lien_tolerant() for lien in schemas["PaginationLinks"]["properties"]
        }
    reponses = {
        cle: _en_jsonschema(doc["paths"][chemin]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
        for cle, chemin in REPONSES.items()
    }
    racine = {"$id": URN, "components": {"schemas": schemas}, "reponses": reponses}
    registre = Registry().with_resource(URN, Resource.from_contents(racine, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{URN}#/reponses/{nom}"}, registry=registre, format_checker=_formats())


def _formats():
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def date_heure(valeur):
        if not isinstance(valeur, str):
            return True
        if valeur[10:11] not in ("T", "t", " "):
            raise ValueError("heure manquante")
        return datetime.datetime.fromisoformat(valeur).tzinfo is not None

    @checker.checks("uri")
    def uri(valeur):
        if not isinstance(valeur, str):
            return True
        parts = urlsplit(valeur)
        return bool(parts.scheme and parts.netloc)

    return checker


TYPES = {
    "string": "texte",
    "number": "nombre",
    "integer": "entier",
    "boolean": "booléen",
    "array": "liste",
    "object": "objet",
    "null": "vide",
}


def _chemin(erreur):
    texte = ""
    for partie in erreur.absolute_path:
        texte += f"[{partie}]" if isinstance(partie, int) else (f".{partie}" if texte else str(partie))
    return texte or "la réponse"


def _en_francais(erreur):
    """One schema error as a French sentence: where, and what is wrong, never the value (the address is staff's to
    set: whatever a server answers is not copied into messages, the database or the logs)."""
    ou = _chemin(erreur)
    if erreur.validator == "required":
        manquants = [nom for nom in erreur.validator_value if nom not in (erreur.instance or {})]
        return f"{ou} : champ obligatoire absent ({', '.join(manquants)})"
    if erreur.validator == "type":
        attendus = erreur.validator_value if isinstance(erreur.validator_value, list) else [erreur.validator_value]
        return f"{ou} : la valeur n'est pas du type attendu ({' ou '.join(TYPES.get(t, t) for t in attendus)})"
    if erreur.validator == "format":
        return f"{ou} : la valeur n'est pas au format {erreur.validator_value}"
    if erreur.validator == "enum":
        return f"{ou} : la valeur ne fait pas partie des valeurs décrites"
    return f"{ou} : valeur non conforme à la description ({erreur.validator})"


def valider(corps, nom, *, strict=False, ou=""):
    """Check a decoded response against the description's schema of ``nom`` (a key of ``REPONSES``); raise
    ``PageMalFormee`` with the first error, in French."""
    erreur = best_match(_validateur(nom, strict).iter_errors(corps))
    if erreur is not None:
        raise PageMalFormee(f"Page mal formée renvoyée par la Coop{ou} :", detail=_en_francais(erreur) + ".")


def lien(valeur):
    """The address of a pagination link, written as a string (the description) or ``{"href": …}`` (upstream)."""
    if isinstance(valeur, dict):
        valeur = valeur.get("href")
    return valeur or None


# --- The client --------------------------------------------------------------------------------------------------
def _curseur(url):
    valeurs = parse_qs(urlsplit(url).query).get("page[after]")
    return valeurs[0] if valeurs else None


class ClientCoop:
    """One connection to the Coop's API. ``url``: the API's base address (``…/api/v1``)."""

    def __init__(self, url, client_id, secret, *, delais=None, taille_page=None, pages_max=None, session=None):
        self.base = url.rstrip("/") + "/"
        self.delais = delais or DELAIS
        self.taille_page = max(1, min(int(taille_page or TAILLE_PAGE), 500))
        self.pages_max = pages_max or PAGES_MAX
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {client_id}:{secret}",
                "Accept": "application/json",
                "User-Agent": getattr(settings, "COOP_USER_AGENT", USER_AGENT),
            }
        )

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _url(self, chemin):
        return urljoin(self.base, chemin.lstrip("/"))

    def _meme_serveur(self, url):
        attendu, lu = urlsplit(self.base), urlsplit(url)
        return (attendu.scheme, attendu.netloc) == (lu.scheme, lu.netloc)

    def _get(self, url, params=None, *, ou=""):
        """GET and decode JSON, or raise the ``CoopErreur`` that says why (in French). The body is read as a stream,
        up to ``TAILLE_MAX``, and never copied into a message."""
        try:
            reponse = self.session.get(url, params=params, timeout=self.delais, allow_redirects=False, stream=True)
        except requests.RequestException as error:
            raise self._indisponible(error, ou) from error
        try:
            self._verifier_statut(reponse.status_code, ou)
            contenu = self._lire(reponse, ou)
        finally:
            reponse.close()
        try:
            return json.loads(contenu)
        except (ValueError, RecursionError) as error:
            position = ""
            if isinstance(error, json.JSONDecodeError):
                position = f" (ligne {error.lineno}, colonne {error.colno})"
            message = f"Page mal formée renvoyée par la Coop{ou} :"
            raise PageMalFormee(message, detail=f"ce n'est pas du JSON valide{position}.") from error

    def _indisponible(self, error, ou):
        if isinstance(error, requests.Timeout):
            return CoopIndisponible(f"La Coop n'a pas répondu à temps{ou} (délai de {self.delais[1]} s dépassé).")
        if isinstance(error, requests.ConnectionError):
            return CoopIndisponible(f"La Coop est injoignable{ou} (connexion impossible).")
        return CoopIndisponible(f"L'appel à la Coop a échoué{ou} ({type(error).__name__}).")

    @staticmethod
    def _verifier_statut(statut, ou):
        if statut in (401, 403):
            raise IdentifiantsRefuses(
                f"La Coop a refusé les identifiants (HTTP {statut}) : vérifiez l'identifiant client et le secret, et "
                "que le client a accès à ces données.",
                statut=statut,
            )
        if statut == 429:
            raise CoopIndisponible(
                "La Coop limite le nombre de requêtes (HTTP 429) : nouvel essai plus tard.", statut=statut
            )
        if statut >= 500:
            raise CoopIndisponible(f"La Coop a répondu par une erreur (HTTP {statut}){ou}.", statut=statut)
        if statut != 200:
            raise CoopErreur(
                f"La Coop a refusé la requête (HTTP {statut}){ou} : vérifiez l'adresse de l'API.", statut=statut
            )

    def _lire(self, reponse, ou):
        """The body's bytes, at most ``TAILLE_MAX`` (announced or read)."""
        trop = PageMalFormee(
            f"Réponse trop volumineuse renvoyée par la Coop{ou} : plus de {TAILLE_MAX // (1024 * 1024)} Mo, lecture "
            "arrêtée."
        )
        try:
            annoncee = int(reponse.headers.get("Content-Length") or 0)
        except (TypeError, ValueError):
            annoncee = 0
        if annoncee > TAILLE_MAX:
            raise trop
        morceaux, taille = [], 0
        try:
            for morceau in reponse.iter_content(chunk_size=64 * 1024):
                taille += len(morceau)
                if taille > TAILLE_MAX:
                    raise trop
                morceaux.append(morceau)
        except requests.RequestException as error:
            raise self._indisponible(error, ou) from error
        return b"".join(morceaux)

    def pages(self, chemin, nom, params=None):
        """Each page's ``data`` list of a listing, following ``links.next``."""
        url = self._url(chemin)
        params = {"page[size]": self.taille_page, **(params or {})}
        vus = set()
        numero = 0
        while url:
            numero += 1
            if numero > self.pages_max:
                raise CoopErreur(
                    f"La Coop a renvoyé plus de {self.pages_max} pages pour {chemin} : lecture arrêtée (pagination "
                    "sans fin ?)."
                )
            ou = f" ({chemin}, page {numero})"
            corps = self._get(url, params, ou=ou)
            valider(corps, nom, ou=ou)
            data = corps["data"]
            yield data
            suivant = lien((corps.get("links") or {}).get("next"))
            if not data or not suivant or (corps.get("meta") or {}).get("has_next_page") is False:
                return
            suivant = urljoin(url, suivant)
            if not self._meme_serveur(suivant):
                raise PageMalFormee(
                    f"Page mal formée renvoyée par la Coop{ou} :",
                    detail="le lien vers la page suivante mène à un autre serveur.",
                )
            cle = _curseur(suivant) or suivant
            if cle in vus:
                raise PageMalFormee(
                    f"Page mal formée renvoyée par la Coop{ou} :", detail="le curseur de pagination se répète."
                )
            vus.add(cle)
            url, params = suivant, None

    def activites(self, depuis=None):
        """The activities modified since ``depuis`` (an aware datetime, or None for all), page by page (a list of
        resources each), most recently modified first."""
        params = {}
        if depuis is not None:
            params["filter[modification][depuis]"] = (
                depuis.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
        yield from self.pages("activites", "activites", params)

    def utilisateurs(self):
        """Every user (resources), one at a time."""
        for data in self.pages("utilisateurs", "utilisateurs"):
            yield from data

    def structures(self, ids):
        """The structures of these ids: {id: resource}. At most ``IDS_PAR_APPEL`` ids per call."""
        ids = sorted({str(i) for i in ids if i})
        trouvees = {}
        for debut in range(0, len(ids), IDS_PAR_APPEL):
            lot = ids[debut : debut + IDS_PAR_APPEL]
            for data in self.pages("structures", "structures", {"ids": ",".join(lot)}):
                trouvees.update({item["id"]: item for item in data})
        return trouvees

    def sante(self):
        """The ``/health`` answer (``{"status": "ok"}``)."""
        corps = self._get(self._url("health"), ou=" (/health)")
        valider(corps, "health", ou=" (/health)")
        return corps

    def premiere_page(self, chemin, nom):
        """The first page of a listing with one item (``data``, ``meta``): an authenticated call that reads little."""
        ou = f" (/{chemin})"
        corps = self._get(self._url(chemin), {"page[size]": 1}, ou=ou)
        valider(corps, nom, ou=ou)
        return corps
