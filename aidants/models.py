"""The network of aidants: the people of partner structures who help the public first (``Aidant``), their trainings
(``FormationAidant``), and the structures' Aidants Connect habilitation requests (``DemandeHabilitation``).

Aidants Connect habilitation is held by the structure (DOMAIN.md): an aidant can be habilitated only as a
professional of a habilitated structure, after a 7 h or 14 h training. The territory tracks habilitation and training,
never the mandates' personal data.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accompagnements import choices as cra
from structures.fields import ChoiceListField
from structures.models import Commune, Structure


class TypeAidant(models.TextChoices):
    PROFESSIONNEL = "professionnel", "Professionnel"
    BENEVOLE = "benevole", "Bénévole"
    SERVICE_CIVIQUE = "service_civique", "Service civique"


class Aidant(models.Model):
    """A person of a structure who helps the public with digital procedures. Professional contact data only."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="aidants")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aidant",
        verbose_name="compte",
    )
    prenom = models.CharField("prénom", max_length=150)
    nom = models.CharField("nom", max_length=150)
    email = models.EmailField("e-mail professionnel", blank=True)
    telephone = models.CharField("téléphone professionnel", max_length=20, blank=True)
    profession = models.CharField("profession", max_length=150, help_text="Par exemple : secrétaire de mairie.")
    type = models.CharField("statut", max_length=20, choices=TypeAidant.choices)
    communes = models.ManyToManyField(Commune, related_name="aidants", blank=True, verbose_name="communes couvertes")
    thematiques = ChoiceListField("aide pour", item_choices=cra.THEMATIQUES)
    habilite_aidants_connect = models.BooleanField("habilité Aidants Connect", default=False)
    date_habilitation = models.DateField("habilité depuis le", null=True, blank=True)
    actif = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords(m2m_fields=[communes])

    class Meta:
        verbose_name = "aidant"
        ordering = ["nom", "prenom"]
        indexes = [models.Index(fields=["structure", "actif"], name="aidant_structure_actif")]
        constraints = [
            models.CheckConstraint(
                condition=Q(habilite_aidants_connect=False) | Q(type="professionnel"),
                name="aidant_habilite_professionnel",
                violation_error_message="Seuls les professionnels peuvent être habilités Aidants Connect.",
            ),
            models.CheckConstraint(
                condition=Q(habilite_aidants_connect=False) | Q(date_habilitation__isnull=False),
                name="aidant_habilite_avec_date",
                violation_error_message="Indiquez la date d'habilitation.",
            ),
        ]

    def __str__(self):
        return f"{self.prenom} {self.nom}"


class TypeFormationAidant(models.TextChoices):
    AIDANTS_CONNECT_7H = "aidants_connect_7h", "Aidants Connect (7 h)"
    AIDANTS_CONNECT_14H = "aidants_connect_14h", "Aidants Connect (14 h)"
    PIX = "pix", "Test PIX"
    RESEAU = "reseau", "Formation du réseau"
    AUTRE = "autre", "Autre formation"


class FormationAidant(models.Model):
    """A training an aidant followed (a network training attended adds one)."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    aidant = models.ForeignKey(Aidant, on_delete=models.CASCADE, related_name="formations")
    type = models.CharField("type", max_length=25, choices=TypeFormationAidant.choices)
    intitule = models.CharField("intitulé", max_length=255, blank=True)
    date = models.DateField("date")
    heures = models.DecimalField("durée (heures)", max_digits=5, decimal_places=1, null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "formation d'un aidant"
        verbose_name_plural = "formations des aidants"
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(heures__isnull=True) | Q(heures__gt=0, heures__lte=500),
                name="formation_aidant_heures",
                violation_error_message="La durée d'une formation est comprise entre 0 et 500 heures.",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} — {self.date:%d/%m/%Y}"


class StatutHabilitation(models.TextChoices):
    """The national statuses of an Aidants Connect habilitation request (DOMAIN.md)."""

    BROUILLON = "brouillon", "Brouillon"
    EN_ATTENTE = "en_attente", "En attente de validation"
    VALIDEE = "validee", "Éligibilité validée"
    REFUSEE = "refusee", "Éligibilité refusée"
    CLOTUREE = "cloturee", "Clôturée"


TRANSITIONS_HABILITATION = {
    StatutHabilitation.BROUILLON: {StatutHabilitation.EN_ATTENTE, StatutHabilitation.CLOTUREE},
    StatutHabilitation.EN_ATTENTE: {StatutHabilitation.VALIDEE, StatutHabilitation.REFUSEE},
    StatutHabilitation.VALIDEE: {StatutHabilitation.CLOTUREE},
    StatutHabilitation.REFUSEE: set(),
    StatutHabilitation.CLOTUREE: set(),
}


class DemandeHabilitation(models.Model):
    """A structure's request to be habilitated Aidants Connect, and its decision."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="demandes_habilitation")
    statut = models.CharField(
        "statut", max_length=12, choices=StatutHabilitation.choices, default=StatutHabilitation.BROUILLON
    )
    aidants_pressentis = models.ManyToManyField(
        Aidant, related_name="demandes_habilitation", blank=True, verbose_name="aidants à habiliter"
    )
    date_depot = models.DateField("déposée le", null=True, blank=True)
    date_decision = models.DateField("décidée le", null=True, blank=True)
    motif = models.TextField("motif ou commentaire", blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords(m2m_fields=[aidants_pressentis])

    class Meta:
        verbose_name = "demande d'habilitation Aidants Connect"
        verbose_name_plural = "demandes d'habilitation Aidants Connect"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure"],
                condition=Q(statut__in=["brouillon", "en_attente"]),
                name="habilitation_une_demande_ouverte",
                violation_error_message="Cette structure a déjà une demande en cours.",
            ),
            models.CheckConstraint(
                condition=~Q(statut__in=["validee", "refusee"]) | Q(date_decision__isnull=False),
                name="habilitation_decision_datee",
                violation_error_message="Une décision a une date.",
            ),
        ]

    def __str__(self):
        return f"Habilitation Aidants Connect — {self.structure} ({self.get_statut_display()})"
