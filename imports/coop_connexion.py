"""The territory's connection to the Coop's API (staff): its address, the client credentials (the secret encrypted
at rest, ``imports.chiffrement``), and a test of it by real authenticated calls.

The secret is sent only to the address it was typed for: changing the address requires typing the secret again,
so that nobody can send the saved secret to a server of their choosing. Only ``https://`` addresses of the
Internet are accepted; a local address (``localhost``, a loopback or private IP) only with the setting
``COOP_API_ADRESSES_LOCALES`` (the tests' fake Coop serves on 127.0.0.1).
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from .chiffrement import ChiffrementErreur, chiffrer, dechiffrer
from .coop_api import ClientCoop, CoopErreur
from .models import ConnexionCoop

REFUS = "La synchronisation avec la Coop est réservée à l'équipe Sicoval."
HOTES_LOCAUX = {"localhost", "localhost.localdomain", "127.0.0.1", "::1"}
RESAISIE_EXIGEE = "Saisissez de nouveau le secret client : il n'est envoyé qu'à l'adresse pour laquelle il a été saisi."


def _require_staff(by):
    if by is None or not by.is_authenticated or not by.is_staff:
        raise PermissionDenied(REFUS)


def connexion():
    """The territory's one connection to the Coop, or None."""
    return ConnexionCoop.objects.order_by("pk").first()


def client_de(conn, **options):
    """A ``ClientCoop`` with the connection's credentials (the secret decrypted in memory only)."""
    return ClientCoop(conn.url, conn.client_id, dechiffrer(conn.secret_chiffre), **options)


def adresses_locales_permises():
    return bool(getattr(settings, "COOP_API_ADRESSES_LOCALES", False))


def _hote_local(hote):
    """Whether ``hote`` names this machine or a private network (an IP literal; names are not resolved)."""
    hote = (hote or "").strip("[]").lower().rstrip(".")
    if hote in HOTES_LOCAUX or hote.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(hote)
    except ValueError:
        return False
    return not ip.is_global


def _url_verifiee(url):
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"url": "Indiquez l'adresse de l'API, par exemple https://coop-numerique.anct.gouv.fr/api/v1."}
        ) from None
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValidationError({"url": "L'adresse de l'API ne contient ni « ? » ni « # »."})
    if parts.username or parts.password:
        raise ValidationError({"url": "L'adresse de l'API ne contient ni identifiant ni mot de passe."})
    locale = _hote_local(parts.hostname)
    if locale and not adresses_locales_permises():
        raise ValidationError({"url": "L'adresse de l'API doit être celle d'un serveur de la Coop sur Internet."})
    if parts.scheme != "https" and not locale:
        raise ValidationError({"url": "L'adresse de l'API doit commencer par https:// : le secret y circule."})
    return url.rstrip("/")


def connexion_enregistrer(*, by, url, client_id, secret=None, active=None):
    """Create or update the connection (staff). ``secret`` may be left empty on an update at the same address: the
    saved one is kept; another address requires it (the secret goes only where it was typed for). ``active`` (None:
    unchanged) switches the nightly run on or off. Pointing at another API sends the watermark back to the
    beginning."""
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
            if not secret:
                raise ValidationError({"secret": RESAISIE_EXIGEE})
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
        return False, f"Échec du test de connexion : {texte_erreur(error)}"
    total = (activites.get("meta") or {}).get("total_count")
    if isinstance(total, int) and not isinstance(total, bool):
        nombre = f"{total:,}".replace(",", "\u202f")
        return True, f"Connexion réussie : la Coop répond et accepte les identifiants ({nombre} activités accessibles)."
    return True, "Connexion réussie : la Coop répond et accepte les identifiants."


def texte_erreur(error):
    return error.texte if isinstance(error, CoopErreur) else str(error)
