"""Partner API clients (one or more per structure, OAuth2 client credentials) and the idempotency records that make
retried POSTs safe."""

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from structures.models import Structure

from . import scopes


class ClientAPI(models.Model):
    """A partner system's credentials, bound to one structure: every request made with its tokens sees only that
    structure's data. The OAuth2 application (client id, hashed secret) is django-oauth-toolkit's."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="clients_api")
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.PROTECT, related_name="client_partenaire"
    )
    nom = models.CharField("nom", max_length=100, help_text="Le logiciel ou le service qui appellera l'API.")
    scopes = models.CharField("droits", max_length=500, help_text="Les droits accordés, séparés par des espaces.")
    statistiques_detaillees = models.BooleanField(
        "statistiques détaillées",
        default=False,
        help_text="Réservé à l'équipe Sicoval : les statistiques montrent aussi les effectifs de moins de 5 personnes.",
    )
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="créé par"
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    revoque_le = models.DateTimeField("révoqué le", null=True, blank=True)
    revoque_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="révoqué par",
    )
    derniere_utilisation_le = models.DateTimeField("dernière utilisation", null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["derniere_utilisation_le"])

    class Meta:
        verbose_name = "client de l'API"
        verbose_name_plural = "clients de l'API"
        ordering = ["structure__nom", "nom"]

    def __str__(self):
        return f"{self.nom} ({self.structure})"

    @property
    def actif(self):
        return self.revoque_le is None

    @property
    def scopes_list(self):
        return scopes.parse(self.scopes)

    def scope_labels(self):
        return [scopes.SCOPES[name] for name in self.scopes_list]


class CleIdempotence(models.Model):
    """The answer to a POST sent with an ``Idempotency-Key`` header, kept 24 hours: the same key with the same
    request gets the same answer without doing the work twice; with another request, a 422."""

    client = models.ForeignKey(ClientAPI, on_delete=models.CASCADE, related_name="cles_idempotence")
    cle = models.CharField("clé", max_length=255)
    empreinte = models.CharField("empreinte de la requête", max_length=64)
    statut = models.PositiveSmallIntegerField("statut HTTP")
    reponse = models.JSONField("réponse", null=True)
    created_at = models.DateTimeField("reçue le", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "clé d'idempotence"
        verbose_name_plural = "clés d'idempotence"
        constraints = [models.UniqueConstraint(fields=["client", "cle"], name="cle_idempotence_unique_par_client")]

    def __str__(self):
        return self.cle
