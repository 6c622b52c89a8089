"""Posts granted to the territory, the people who hold them, their contracts, training and avenants.

A post's structure and occupant change over time: dated attachments (``Rattachement``) and assignments
(``Affectation``) keep that story, so that every figure can be computed at any date. ``Poste.structure`` and
``Poste.etat`` are the current values, kept consistent with those rows by ``conseillers.services``.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from structures.models import Structure

from . import choices

MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(0)]}


class Poste(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    typologie = models.CharField("typologie", max_length=10, choices=choices.Typologie.choices)
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="postes", verbose_name="structure de rattachement"
    )
    etat = models.CharField("état", max_length=10, choices=choices.EtatPoste.choices, default=choices.EtatPoste.VACANT)
    phase = models.PositiveSmallIntegerField("phase", choices=[(1, "Phase 1"), (2, "Phase 2")])
    date_attribution = models.DateField("date d'attribution")
    date_rendu = models.DateField("date de rendu", null=True, blank=True)
    coselec_date = models.DateField("date du comité de sélection", null=True, blank=True)
    coselec_reference = models.CharField("décision du comité de sélection", max_length=100, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "poste"
        ordering = ["structure__nom", "date_attribution", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(etat="rendu", date_rendu__isnull=False) | (~Q(etat="rendu") & Q(date_rendu__isnull=True)),
                name="poste_rendu_iff_date_rendu",
                violation_error_message="Un poste rendu a une date de rendu, et seul un poste rendu en a une.",
            ),
            models.CheckConstraint(
                condition=Q(date_rendu__isnull=True) | Q(date_rendu__gte=F("date_attribution")),
                name="poste_rendu_after_attribution",
                violation_error_message="Le rendu ne peut précéder l'attribution du poste.",
            ),
        ]
        indexes = [models.Index(fields=["etat", "typologie"])]

    def __str__(self):
        return f"{self.get_typologie_display()} — {self.structure} ({str(self.uuid)[:8]})"


class Rattachement(models.Model):
    """The structure a post belongs to from ``date_debut`` until ``date_fin`` (open when current)."""

    poste = models.ForeignKey(Poste, on_delete=models.PROTECT, related_name="rattachements")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="rattachements_postes")
    date_debut = models.DateField("du")
    date_fin = models.DateField("au", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "rattachement d'un poste"
        verbose_name_plural = "rattachements des postes"
        ordering = ["poste", "date_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gt=F("date_debut")),
                name="rattachement_fin_after_debut",
                violation_error_message="La fin du rattachement doit suivre son début.",
            ),
            models.UniqueConstraint(fields=["poste", "date_debut"], name="rattachement_unique_start"),
            models.UniqueConstraint(
                fields=["poste"], condition=Q(date_fin__isnull=True), name="rattachement_one_current"
            ),
        ]

    def __str__(self):
        return f"{self.poste} → {self.structure} depuis le {self.date_debut:%d/%m/%Y}"


class Conseiller(models.Model):
    """A conseiller or coordinator, with or without a user account. Contact data is professional only."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conseiller",
        verbose_name="compte",
    )
    prenom = models.CharField("prénom", max_length=150)
    nom = models.CharField("nom", max_length=150)
    email = models.EmailField("e-mail professionnel", blank=True)
    telephone = models.CharField("téléphone professionnel", max_length=20, blank=True)
    est_coordinateur = models.BooleanField("coordinateur", default=False)
    coordinateur = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coordonnes",
        limit_choices_to={"est_coordinateur": True},
        verbose_name="coordonné par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "conseiller"
        ordering = ["nom", "prenom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(coordinateur__isnull=True) | ~Q(coordinateur=F("pk")),
                name="conseiller_not_own_coordinator",
                violation_error_message="Un conseiller ne peut pas être son propre coordinateur.",
            ),
        ]

    def __str__(self):
        return f"{self.prenom} {self.nom}"


class Affectation(models.Model):
    """The occupant of a post from ``date_debut`` until ``date_fin`` (open when current)."""

    poste = models.ForeignKey(Poste, on_delete=models.PROTECT, related_name="affectations")
    conseiller = models.ForeignKey(Conseiller, on_delete=models.PROTECT, related_name="affectations")
    date_debut = models.DateField("du")
    date_fin = models.DateField("au", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "affectation"
        ordering = ["poste", "date_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gt=F("date_debut")),
                name="affectation_fin_after_debut",
                violation_error_message="La fin de l'affectation doit suivre son début.",
            ),
            models.UniqueConstraint(
                fields=["poste"], condition=Q(date_fin__isnull=True), name="affectation_one_current_per_poste"
            ),
            models.UniqueConstraint(
                fields=["conseiller"], condition=Q(date_fin__isnull=True), name="affectation_one_current_per_person"
            ),
        ]

    def __str__(self):
        return f"{self.conseiller} sur {self.poste}"


class MiseEnRelation(models.Model):
    """A recruitment record between a candidate and a structure, with the national statuses."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conseiller = models.ForeignKey(Conseiller, on_delete=models.PROTECT, related_name="mises_en_relation")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="mises_en_relation")
    statut = models.CharField(
        "statut",
        max_length=30,
        choices=choices.StatutMiseEnRelation.choices,
        default=choices.StatutMiseEnRelation.NOUVELLE,
    )
    date_recrutement = models.DateField("date de recrutement", null=True, blank=True)
    date_rupture = models.DateField("date de rupture", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "mise en relation"
        verbose_name_plural = "mises en relation"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conseiller", "structure"], name="mise_en_relation_unique"),
        ]

    def __str__(self):
        return f"{self.conseiller} ↔ {self.structure} ({self.get_statut_display()})"


class Contrat(models.Model):
    """An employment contract of a conseiller on a post; the employer is the post's host structure."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conseiller = models.ForeignKey(Conseiller, on_delete=models.PROTECT, related_name="contrats")
    poste = models.ForeignKey(Poste, on_delete=models.PROTECT, related_name="contrats")
    type = models.CharField("type de contrat", max_length=30, choices=choices.TypeContrat.choices)
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin prévue", null=True, blank=True)
    salaire_brut_mensuel = models.DecimalField("salaire brut mensuel (€)", **MONEY)
    cout_employeur_mensuel = models.DecimalField("coût employeur mensuel (€)", **MONEY)
    temps_plein = models.BooleanField("temps plein", default=True)
    date_rupture = models.DateField("date de rupture", null=True, blank=True)
    motif_rupture = models.CharField(
        "motif de rupture", max_length=30, choices=choices.MotifRupture.choices, blank=True
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "contrat"
        ordering = ["-date_debut"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(type="CDI") & Q(date_fin__isnull=True)) | (~Q(type="CDI") & Q(date_fin__isnull=False)),
                name="contrat_cdi_sans_fin_autres_avec_fin",
                violation_error_message="Un CDI n'a pas de date de fin ; tout autre contrat en a une.",
            ),
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gt=F("date_debut")),
                name="contrat_fin_after_debut",
                violation_error_message="La fin du contrat doit suivre son début.",
            ),
            models.CheckConstraint(
                condition=(Q(date_rupture__isnull=True) & Q(motif_rupture=""))
                | (Q(date_rupture__isnull=False) & ~Q(motif_rupture="")),
                name="contrat_rupture_date_and_motif",
                violation_error_message="Une rupture a une date et un motif, l'un n'allant pas sans l'autre.",
            ),
            models.CheckConstraint(
                condition=Q(date_rupture__isnull=True) | Q(date_rupture__gte=F("date_debut")),
                name="contrat_rupture_after_debut",
                violation_error_message="La rupture ne peut précéder le début du contrat.",
            ),
            models.CheckConstraint(
                condition=Q(cout_employeur_mensuel__gte=F("salaire_brut_mensuel")),
                name="contrat_cout_covers_salaire",
                violation_error_message="Le coût employeur comprend le salaire brut : il ne peut pas être inférieur.",
            ),
        ]
        indexes = [models.Index(fields=["date_fin"])]

    def __str__(self):
        return f"{self.get_type_display()} de {self.conseiller} ({self.date_debut:%d/%m/%Y})"

    @property
    def date_fin_effective(self):
        """The day the contract really ends: the rupture if any, else its planned end (None for a running CDI)."""
        if self.date_rupture and (self.date_fin is None or self.date_rupture < self.date_fin):
            return self.date_rupture
        return self.date_fin


class Formation(models.Model):
    """Initial certification (once) or a continuing-training module of a conseiller."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conseiller = models.ForeignKey(Conseiller, on_delete=models.PROTECT, related_name="formations")
    type = models.CharField("type", max_length=10, choices=choices.TypeFormation.choices)
    intitule = models.CharField("intitulé", max_length=255)
    date_debut = models.DateField("début")
    date_fin = models.DateField("fin", null=True, blank=True)
    heures = models.PositiveSmallIntegerField("durée (heures)", null=True, blank=True)
    parcours_heures = models.PositiveSmallIntegerField(
        "parcours (heures)", choices=choices.PARCOURS_HEURES, null=True, blank=True
    )
    certification = models.CharField("certification", max_length=15, choices=choices.Certification.choices, blank=True)
    titre = models.CharField("titre", max_length=5, choices=choices.Titre.choices, blank=True)
    date_certification = models.DateField("date de certification", null=True, blank=True)
    pix = models.BooleanField("certification PIX obtenue", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "formation"
        ordering = ["conseiller", "date_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gte=F("date_debut")),
                name="formation_fin_after_debut",
                violation_error_message="La fin de la formation ne peut précéder son début.",
            ),
            models.CheckConstraint(
                condition=Q(type="initiale")
                | (Q(parcours_heures__isnull=True) & Q(certification="") & Q(titre="") & Q(date_certification=None)),
                name="formation_continue_sans_certification",
                violation_error_message="Parcours, certification et titre concernent la seule formation initiale.",
            ),
            models.UniqueConstraint(fields=["conseiller"], condition=Q(type="initiale"), name="formation_one_initiale"),
        ]

    def __str__(self):
        return f"{self.intitule} — {self.conseiller}"


class Avenant(models.Model):
    """A request to add or return posts of a structure; one pending request per structure at a time."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="avenants")
    type = models.CharField("type", max_length=10, choices=choices.TypeAvenant.choices)
    typologie = models.CharField("typologie des postes", max_length=10, choices=choices.Typologie.choices)
    nombre_postes = models.PositiveSmallIntegerField("nombre de postes", validators=[MinValueValidator(1)])
    statut = models.CharField(
        "statut", max_length=10, choices=choices.StatutAvenant.choices, default=choices.StatutAvenant.EN_COURS
    )
    date_demande = models.DateField("date de la demande")
    date_decision = models.DateField("date de la décision", null=True, blank=True)
    motif = models.TextField("motif", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "avenant"
        ordering = ["-date_demande"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure"],
                condition=Q(statut="en_cours"),
                name="avenant_one_pending_per_structure",
                violation_error_message="Cette structure a déjà une demande d'avenant en cours.",
            ),
            models.CheckConstraint(
                condition=Q(nombre_postes__gte=1),
                name="avenant_at_least_one_post",
                violation_error_message="Un avenant porte sur au moins un poste.",
            ),
            models.CheckConstraint(
                condition=Q(statut="en_cours", date_decision__isnull=True)
                | (~Q(statut="en_cours") & Q(date_decision__isnull=False)),
                name="avenant_decision_date_iff_decided",
                violation_error_message="Une demande tranchée a une date de décision, une demande en cours n'en a pas.",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} ({self.nombre_postes}) — {self.structure}"
