"""Deployment checks of the imports: the secrets stored in the database (the Coop's client secret) are encrypted
with keys of their own in production, not with a key derived from the secret key."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def cles_de_chiffrement(app_configs, **kwargs):
    if getattr(settings, "CHIFFREMENT_CLES", None):
        return []
    return [
        checks.Warning(
            "CHIFFREMENT_CLES est vide : les secrets gardés en base (celui de la Coop) seraient chiffrés avec une clé "
            "dérivée de DJANGO_SECRET_KEY.",
            hint='Générez une clé : python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())", puis CHIFFREMENT_CLES=<clé>.',
            id="imports.W001",
        )
    ]
