"""The journal of staff's actions on one person's data (RGPD rights of access and erasure): who exported or erased,
when, found by what kind of criterion, and how many records of each kind. The criterion is stored masked
(``j***@example.org``): the journal proves the action without becoming a list of the people who asked.

A row is written in the same transaction as the erasure it records (or the export it hands over): there is no action
without its row, nor a row without its action. Rows are never changed nor deleted (the user is ``PROTECT``)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class TypeDemande(models.TextChoices):
    EXPORT_JSON = "export_json", "Export (JSON)"
    EXPORT_CSV = "export_csv", "Export (CSV)"
    EFFACEMENT = "effacement", "Effacement"


class TypeCritere(models.TextChoices):
    EMAIL = "email", "Adresse e-mail"
    TELEPHONE = "telephone", "Téléphone"
    NOM = "nom", "Prénom et nom"


class Demande(models.Model):
    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField("action", max_length=12, choices=TypeDemande.choices)
    par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="demandes_donnees_personnelles",
        verbose_name="par",
    )
    le = models.DateTimeField("le")
    type_critere = models.CharField("recherche par", max_length=10, choices=TypeCritere.choices)
    critere_masque = models.CharField("critère (masqué)", max_length=200)
    nombre_enregistrements = models.PositiveIntegerField("nombre d'enregistrements")
    detail = models.JSONField(
        "enregistrements par type", default=dict, blank=True, help_text="Par exemple {« inscriptions » : 2}."
    )

    class Meta:
        verbose_name = "demande sur des données personnelles"
        verbose_name_plural = "demandes sur des données personnelles"
        ordering = ["-le", "-pk"]
        indexes = [models.Index(fields=["-le"], name="demande_dp_recentes")]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=TypeDemande.values), name="demande_dp_type_connu"),
        ]

    def __str__(self):
        return f"{self.get_type_display()} du {self.le:%d/%m/%Y %H:%M}"
