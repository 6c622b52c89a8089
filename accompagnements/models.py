"""The activity log of conseillers (compte rendu d'activité, CRA), field by field as in the national Coop tool.

- ``Activite``: what the conseiller typed (one individual accompaniment or one workshop). Its history keeps every
  change, except the free notes, which never leave the author's own views.
- ``Accompagnement``: one row per participant of an activity (a workshop of 8 gives 8), carrying the national
  beneficiary attributes at the time; statistics and the national export count these rows.
- ``ActiviteThematique``: one row per thématique of an activity, so that themes are counted with a plain GROUP BY.
  Both are derived from the activity by the services, in the same transaction.
- ``Beneficiaire``: a person followed by name, only with recorded consent. Anonymous people have no row: their
  attributes live on their accompaniment. Two years after the last contact the identity is erased (``anonymise_le``,
  ``services.purge``) but the row stays, so that the counts of people followed do not move.
- ``PartageStatistiques``: a revocable read-only link to a conseiller's figures for a period.
"""

import secrets
import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from conseillers.models import Conseiller
from structures.fields import ChoiceListField
from structures.models import Commune, Lieu, Structure

from . import choices as c


class ActiviteQuerySet(models.QuerySet):
    def actives(self):
        return self.filter(supprimee_le__isnull=True)


class Activite(models.Model):
    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    conseiller = models.ForeignKey(Conseiller, on_delete=models.PROTECT, related_name="activites")
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        related_name="activites",
        verbose_name="structure employeuse",
        help_text="L'employeur du conseiller à la date de l'activité.",
    )
    type = models.CharField("type", max_length=10, choices=c.TYPE_ACTIVITE)
    date = models.DateField("date")
    duree = models.PositiveSmallIntegerField("durée (minutes)")
    type_lieu = models.CharField("lieu", max_length=15, choices=c.TYPE_LIEU)
    lieu = models.ForeignKey(
        Lieu, on_delete=models.PROTECT, null=True, blank=True, related_name="activites", verbose_name="lieu d'activité"
    )
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="activites", verbose_name="commune"
    )
    thematiques = ChoiceListField("thématiques", item_choices=c.THEMATIQUES, blank=False)
    nom_demarche = models.CharField("nom de la démarche administrative", max_length=255, blank=True)
    materiel = ChoiceListField("matériel numérique utilisé", item_choices=c.MATERIEL)
    # Individual sessions only
    autonomie = models.CharField("niveau d'autonomie", max_length=25, choices=c.AUTONOMIE, blank=True)
    oriente = models.BooleanField("bénéficiaire réorienté", null=True, blank=True)
    structure_redirection = models.CharField(
        "structure de redirection", max_length=40, choices=c.STRUCTURE_REDIRECTION, blank=True
    )
    # Workshops only
    titre_atelier = models.CharField("titre de l'atelier", max_length=255, blank=True)
    niveau = models.CharField("niveau de l'atelier", max_length=15, choices=c.NIVEAU_ATELIER, blank=True)
    participants = models.PositiveSmallIntegerField("participants", default=1)
    participants_anonymes = models.JSONField(
        "participants anonymes",
        default=dict,
        blank=True,
        help_text="Ce qui a été saisi : nombre et répartitions des participants non identifiés.",
    )
    notes = models.TextField("notes", blank=True, help_text="Visibles de vous seul.")
    source = models.CharField("source", max_length=15, choices=c.Source.CHOICES, default=c.Source.SAISIE)
    id_externe = models.CharField("identifiant dans l'outil national", max_length=64, blank=True)
    empreinte_externe = models.CharField(
        "empreinte de la version importée",
        max_length=64,
        blank=True,
        editable=False,
        help_text="Ce qui a été importé, résumé : un nouvel import identique ne change rien.",
    )
    supprimee_le = models.DateTimeField("supprimée le", null=True, blank=True)
    created_at = models.DateTimeField("enregistrée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords(excluded_fields=["notes"])
    objects = ActiviteQuerySet.as_manager()

    class Meta:
        verbose_name = "activité"
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["conseiller", "-date"], name="activite_conseiller_date"),
            models.Index(fields=["structure", "-date"], name="activite_structure_date"),
            # The partner API's cursor pagination (``/api/v1/activites/``): a structure's activities by last change,
            # the id breaking ties, read in index order up to a page instead of sorting every activity of the
            # structure on each page; ``modified_since`` (updated_at >=) uses it too.
            models.Index(fields=["structure", "updated_at", "id"], name="activite_structure_maj"),
            models.Index(fields=["date"], name="activite_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duree__gte=1, duree__lte=c.DUREE_MAX),
                name="activite_duree_1_480",
                violation_error_message="La durée doit être comprise entre 1 et 480 minutes.",
            ),
            models.CheckConstraint(condition=Q(participants__gte=1), name="activite_au_moins_un_participant"),
            models.CheckConstraint(
                condition=~Q(type_lieu=c.LIEU_ACTIVITE) | Q(lieu__isnull=False),
                name="activite_lieu_si_lieu_activite",
                violation_error_message="Choisissez le lieu d'activité.",
            ),
            models.CheckConstraint(
                condition=Q(type=c.COLLECTIF) | Q(participants=1),
                name="activite_individuelle_un_participant",
            ),
            # The national tool's id is one key whatever the channel (file or API): never two copies.
            models.UniqueConstraint(
                fields=["id_externe"],
                condition=~Q(id_externe=""),
                name="activite_id_externe_unique",
            ),
        ]

    def __str__(self):
        label = self.titre_atelier if self.type == c.COLLECTIF and self.titre_atelier else self.get_type_display()
        return f"{label} du {self.date:%d/%m/%Y}"

    @property
    def est_collectif(self):
        return self.type == c.COLLECTIF

    @property
    def importee(self):
        return self.source != c.Source.SAISIE

    def thematique_labels(self):
        return [c.THEMATIQUE_LABELS.get(code, code) for code in self.thematiques]

    def materiel_labels(self):
        labels = dict(c.MATERIEL)
        return [labels.get(code, code) for code in self.materiel]


class ActiviteThematique(models.Model):
    """One thématique of an activity (derived from ``Activite.thematiques``, for counting)."""

    activite = models.ForeignKey(Activite, on_delete=models.CASCADE, related_name="thematiques_rows")
    thematique = models.CharField("thématique", max_length=40, choices=c.THEMATIQUES)

    class Meta:
        verbose_name = "thématique d'une activité"
        constraints = [
            models.UniqueConstraint(fields=["activite", "thematique"], name="activite_thematique_unique"),
        ]
        indexes = [models.Index(fields=["thematique"], name="activite_thematique_code")]

    def __str__(self):
        return self.get_thematique_display()


class Beneficiaire(models.Model):
    """A person a conseiller follows by name, only with their recorded consent. Minimal by design."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    conseiller = models.ForeignKey(
        Conseiller, on_delete=models.PROTECT, related_name="beneficiaires", verbose_name="suivi par"
    )
    prenom = models.CharField("prénom", max_length=150)
    nom = models.CharField("nom", max_length=150)
    annee_naissance = models.PositiveSmallIntegerField("année de naissance", null=True, blank=True)
    telephone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    commune_residence = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune de résidence",
    )
    genre = models.CharField("genre", max_length=20, choices=c.GENRE, default=c.NON_COMMUNIQUE)
    tranche_age = models.CharField("tranche d'âge", max_length=25, choices=c.TRANCHE_AGE, default=c.NON_COMMUNIQUE)
    statut_social = models.CharField("statut", max_length=20, choices=c.STATUT_SOCIAL, default=c.NON_COMMUNIQUE)
    consentement_le = models.DateTimeField("consentement recueilli le")
    dernier_contact = models.DateField("dernier contact", null=True, blank=True)
    anonymise_le = models.DateTimeField(
        "anonymisé le",
        null=True,
        blank=True,
        editable=False,
        help_text="Identité et coordonnées effacées (2 ans sans contact, ou à la demande de la personne).",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    # The last contact only dates the retention period: it moves with every activity, outside the history.
    history = HistoricalRecords(excluded_fields=["dernier_contact"])

    class Meta:
        verbose_name = "bénéficiaire suivi"
        verbose_name_plural = "bénéficiaires suivis"
        ordering = ["nom", "prenom"]
        indexes = [models.Index(fields=["conseiller", "nom"], name="beneficiaire_conseiller_nom")]

    def __str__(self):
        if self.anonymise_le is not None:
            return "Personne anonymisée"
        return f"{self.prenom} {self.nom}"

    @property
    def anonymise(self):
        return self.anonymise_le is not None


class Accompagnement(models.Model):
    """One participant of an activity: an identified beneficiary or an anonymous person, with the national
    attributes at the time (copied from the beneficiary, so that figures do not move when a file is corrected or
    purged)."""

    activite = models.ForeignKey(Activite, on_delete=models.CASCADE, related_name="accompagnements")
    rang = models.PositiveSmallIntegerField("rang")
    beneficiaire = models.ForeignKey(
        Beneficiaire, on_delete=models.SET_NULL, null=True, blank=True, related_name="accompagnements"
    )
    premier_accompagnement = models.BooleanField("premier accompagnement", default=True)
    genre = models.CharField("genre", max_length=20, choices=c.GENRE, default=c.NON_COMMUNIQUE)
    tranche_age = models.CharField("tranche d'âge", max_length=25, choices=c.TRANCHE_AGE, default=c.NON_COMMUNIQUE)
    statut_social = models.CharField("statut", max_length=20, choices=c.STATUT_SOCIAL, default=c.NON_COMMUNIQUE)
    commune_residence = models.ForeignKey(
        Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="commune de résidence"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "accompagnement"
        ordering = ["activite", "rang"]
        constraints = [
            models.UniqueConstraint(fields=["activite", "rang"], name="accompagnement_rang_unique"),
            models.UniqueConstraint(
                fields=["activite", "beneficiaire"],
                condition=Q(beneficiaire__isnull=False),
                name="accompagnement_beneficiaire_unique",
            ),
        ]

    def __str__(self):
        return f"Participant {self.rang} — {self.activite}"


def _token():
    return secrets.token_urlsafe(32)


class PartageStatistiques(models.Model):
    """A read-only link to a conseiller's figures for a period, for their employer; revocable at any time."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    conseiller = models.ForeignKey(Conseiller, on_delete=models.CASCADE, related_name="partages_statistiques")
    token = models.CharField("jeton", max_length=64, unique=True, default=_token, editable=False)
    date_debut = models.DateField("du")
    date_fin = models.DateField("au")
    libelle = models.CharField("destinataire", max_length=150, blank=True, help_text="Pour vous en souvenir.")
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    revoque_le = models.DateTimeField("révoqué le", null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = "partage de statistiques"
        verbose_name_plural = "partages de statistiques"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__gte=models.F("date_debut")),
                name="partage_periode_ordonnee",
                violation_error_message="La fin de la période doit suivre son début.",
            ),
        ]

    def __str__(self):
        return f"Statistiques de {self.conseiller} du {self.date_debut:%d/%m/%Y} au {self.date_fin:%d/%m/%Y}"

    @property
    def actif(self):
        return self.revoque_le is None
