"""Secrets at rest (the Coop's client secret): encrypted with Fernet (AES-128-CBC and HMAC-SHA256, authenticated),
never stored or shown in clear.

Keys come from the setting ``CHIFFREMENT_CLES``: a list of Fernet keys (``python -c "from cryptography.fernet import
Fernet; print(Fernet.generate_key().decode())"``), from the environment variable of the same name, comma-separated.
The first key encrypts; every key decrypts. Rotation: put a new key first, keep the old ones after it, run
``rechiffrer`` over the stored secrets (or save them again), then drop the old keys.

Without ``CHIFFREMENT_CLES`` (quick start, tests), one key is derived from ``SECRET_KEY`` with HKDF-SHA256: changing
the ``SECRET_KEY`` then makes the stored secrets unreadable (they must be typed again). **Production must set
``CHIFFREMENT_CLES``**, so that the secrets' key is neither the session-signing key nor lost with it.

A token carries the moment it was made: ``date_chiffrement`` says when the secret was saved, without a column.
"""

import base64
import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

# Fixed salt and context of the derivation from SECRET_KEY: the derived key serves this purpose only.
HKDF_SEL = b"sicoval-numerique:imports"
HKDF_CONTEXTE = b"imports.chiffrement:v1"


class ChiffrementErreur(Exception):
    """A stored secret cannot be decrypted with the configured keys (French message)."""


def _cles_configurees():
    cles = getattr(settings, "CHIFFREMENT_CLES", None) or []
    if isinstance(cles, str):
        cles = cles.split(",")
    return [cle.strip() for cle in cles if cle and cle.strip()]


def _cle_derivee():
    secret_key = settings.SECRET_KEY
    if not secret_key:
        raise ImproperlyConfigured("Ni CHIFFREMENT_CLES ni SECRET_KEY ne sont définis : impossible de chiffrer.")
    derivee = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SEL, info=HKDF_CONTEXTE).derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derivee)


def _fernet():
    """The keys as a MultiFernet: read at each call, so that a changed setting (rotation, tests) applies at once."""
    cles = _cles_configurees()
    if not cles:
        return MultiFernet([Fernet(_cle_derivee())])
    try:
        return MultiFernet([Fernet(cle.encode("ascii")) for cle in cles])
    except (ValueError, UnicodeEncodeError) as error:
        raise ImproperlyConfigured(
            "CHIFFREMENT_CLES contient une clé invalide : chaque clé est une clé Fernet (32 octets en base64 url)."
        ) from error


def generer_cle():
    """A new random key, to put in ``CHIFFREMENT_CLES``."""
    return Fernet.generate_key().decode("ascii")


def chiffrer(texte):
    """The token (text, safe to store) of ``texte`` under the first key."""
    return _fernet().encrypt(str(texte).encode("utf-8")).decode("ascii")


def dechiffrer(jeton):
    """The clear text of a token made by ``chiffrer`` with any of the configured keys."""
    try:
        return _fernet().decrypt((jeton or "").encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as error:
        raise ChiffrementErreur(
            "Le secret enregistré ne peut pas être déchiffré avec les clés configurées (CHIFFREMENT_CLES ou "
            "SECRET_KEY modifiées ?) : enregistrez-le de nouveau."
        ) from error


def rechiffrer(jeton):
    """The same secret under the first key (rotation); the token keeps its original date."""
    try:
        return _fernet().rotate((jeton or "").encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise ChiffrementErreur("Le secret enregistré ne peut pas être rechiffré : aucune clé ne l'ouvre.") from error


def date_chiffrement(jeton):
    """When the secret in ``jeton`` was encrypted (an aware datetime), or None when no key opens it."""
    try:
        secondes = _fernet().extract_timestamp((jeton or "").encode("ascii"))
    except (InvalidToken, UnicodeError):
        return None
    return datetime.datetime.fromtimestamp(secondes, tz=datetime.UTC).astimezone(timezone.get_current_timezone())
