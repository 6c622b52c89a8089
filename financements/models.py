"""Funding of the posts: funders, agreements (conventions), one funding line per post and agreement, the
instalments paid on each line and the repayments (avoirs). Amounts are euros with cents; policy amounts are
``Bareme`` rows, never constants. Money rows are never deleted (PROTECT) and keep their history."""

import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from conseillers.models import Poste
from structures.models import Structure

from . import choices

MONEY = {"max_digits": 12, "decimal_places": 2}


class Financeur(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    nom = models.CharField("nom", max_length=255, unique=True)
    type = models.CharField("type", max_length=20, choices=choices.TypeFinanceur.choices)
    structure = models.OneToOneField(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="financeur",
        help_text="La structure du financeur sur la plateforme, s'il y en a une (ses membres « financeur » lisent "
        "ses financements).",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "financeur"
        ordering = ["nom"]

    def __str__(self):
        return self.nom


class Bareme(models.Model):
    """A reference amount set by policy, for a period of validity: it pre-fills new funding lines."""

    code = models.SlugField("code", max_length=60, unique=True)
    libelle = models.CharField("libellé", max_length=255)
    enveloppe = models.CharField("enveloppe", max_length=15, choices=choices.Enveloppe.choices)
    secteur = models.CharField("secteur", max_length=10, choices=choices.Secteur.choices)
    annee = models.PositiveSmallIntegerField(
        "année de la convention", null=True, blank=True, help_text="Pour une enveloppe versée par annuités (V2)."
    )
    montant = models.DecimalField("montant par poste (€)", validators=[MinValueValidator(0)], **MONEY)
    bonus_qpv_zrr = models.DecimalField(
        "bonification QPV/ZRR (€)", default=0, validators=[MinValueValidator(0)], **MONEY
    )
    duree_mois = models.PositiveSmallIntegerField("durée (mois)")
    outre_mer = models.BooleanField(
        "outre-mer", default=False, help_text="Montant propre aux structures d'outre-mer (départements 97x)."
    )
    valide_du = models.DateField("valable du")
    valide_au = models.DateField("valable au", null=True, blank=True)
    source = models.CharField("source", max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "barème"
        ordering = ["enveloppe", "secteur", "annee"]

    def __str__(self):
        return self.libelle


class Convention(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField("référence", max_length=100, blank=True)
    financeur = models.ForeignKey(Financeur, on_delete=models.PROTECT, related_name="conventions")
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="conventions", verbose_name="structure bénéficiaire"
    )
    enveloppe = models.CharField("enveloppe", max_length=15, choices=choices.Enveloppe.choices)
    phase = models.PositiveSmallIntegerField("phase", choices=[(1, "Phase 1"), (2, "Phase 2")], null=True, blank=True)
    statut = models.CharField(
        "statut",
        max_length=20,
        choices=choices.StatutConvention.choices,
        default=choices.StatutConvention.EN_PREPARATION,
    )
    date_signature = models.DateField("date de signature", null=True, blank=True)
    date_debut = models.DateField("début de la convention")
    date_fin = models.DateField("fin de la convention")
    date_debut_financement = models.DateField("début du financement")
    date_fin_financement = models.DateField("fin du financement")
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "convention"
        ordering = ["-date_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__gt=F("date_debut")),
                name="convention_fin_after_debut",
                violation_error_message="La fin de la convention doit suivre son début.",
            ),
            models.CheckConstraint(
                condition=Q(date_fin_financement__gt=F("date_debut_financement")),
                name="convention_financement_fin_after_debut",
                violation_error_message="La fin du financement doit suivre son début.",
            ),
            models.CheckConstraint(
                condition=Q(statut="en_preparation") | Q(date_signature__isnull=False),
                name="convention_signed_has_date",
                violation_error_message="Une convention signée a une date de signature.",
            ),
        ]

    def __str__(self):
        return f"{self.get_enveloppe_display()} — {self.financeur} → {self.structure}"


class LigneFinancement(models.Model):
    """What one agreement grants for one post: a base amount and a QPV/ZRR bonus. A post may be co-funded by
    several agreements (several funders)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    convention = models.ForeignKey(Convention, on_delete=models.PROTECT, related_name="lignes")
    poste = models.ForeignKey(Poste, on_delete=models.PROTECT, related_name="lignes_financement")
    bareme = models.ForeignKey(Bareme, on_delete=models.PROTECT, null=True, blank=True, related_name="lignes")
    montant_base = models.DecimalField("montant de base (€)", validators=[MinValueValidator(0)], **MONEY)
    bonus_qpv_zrr = models.DecimalField(
        "bonification QPV/ZRR (€)", default=0, validators=[MinValueValidator(0)], **MONEY
    )
    montant_total = models.DecimalField("montant accordé (€)", editable=False, **MONEY)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "ligne de financement"
        verbose_name_plural = "lignes de financement"
        ordering = ["convention", "poste"]
        constraints = [
            models.UniqueConstraint(fields=["convention", "poste"], name="ligne_one_per_poste_and_convention"),
            models.CheckConstraint(
                condition=Q(montant_base__gte=0) & Q(bonus_qpv_zrr__gte=0),
                name="ligne_amounts_not_negative",
                violation_error_message="Les montants ne peuvent pas être négatifs.",
            ),
            models.CheckConstraint(
                condition=Q(montant_total=F("montant_base") + F("bonus_qpv_zrr")),
                name="ligne_total_is_base_plus_bonus",
                violation_error_message="Le montant accordé est la somme du montant de base et de la bonification.",
            ),
        ]

    def __str__(self):
        return f"{self.poste} — {self.montant_total} €"


class Versement(models.Model):
    """An instalment of a funding line: planned (date and amount), then paid (actual date and amount)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ligne = models.ForeignKey(LigneFinancement, on_delete=models.PROTECT, related_name="versements")
    numero = models.PositiveSmallIntegerField("numéro d'échéance", validators=[MinValueValidator(1)])
    date_prevue = models.DateField("date prévue")
    montant_prevu = models.DecimalField("montant prévu (€)", validators=[MinValueValidator(0)], **MONEY)
    date_versement = models.DateField("date du versement", null=True, blank=True)
    montant_verse = models.DecimalField(
        "montant versé (€)", null=True, blank=True, validators=[MinValueValidator(0)], **MONEY
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "versement"
        ordering = ["ligne", "numero"]
        constraints = [
            models.UniqueConstraint(fields=["ligne", "numero"], name="versement_unique_numero"),
            models.CheckConstraint(
                condition=Q(montant_prevu__gte=0) & (Q(montant_verse__isnull=True) | Q(montant_verse__gte=0)),
                name="versement_amounts_not_negative",
                violation_error_message="Les montants ne peuvent pas être négatifs.",
            ),
            models.CheckConstraint(
                condition=Q(date_versement__isnull=True, montant_verse__isnull=True)
                | Q(date_versement__isnull=False, montant_verse__isnull=False),
                name="versement_paid_has_date_and_amount",
                violation_error_message="Un versement effectué a une date et un montant.",
            ),
        ]

    def __str__(self):
        return f"Échéance {self.numero} — {self.ligne}"


class Avoir(models.Model):
    """A repayment to the funder on a funding line (unjustified spending, rupture, vacancy…)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ligne = models.ForeignKey(LigneFinancement, on_delete=models.PROTECT, related_name="avoirs")
    date = models.DateField("date")
    montant = models.DecimalField("montant (€)", validators=[MinValueValidator(0.01)], **MONEY)
    motif = models.CharField("motif", max_length=20, choices=choices.MotifAvoir.choices)
    commentaire = models.TextField("commentaire", blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "avoir (reversement)"
        verbose_name_plural = "avoirs (reversements)"
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant__gt=0),
                name="avoir_amount_positive",
                violation_error_message="Le montant d'un avoir est positif.",
            ),
        ]

    def __str__(self):
        return f"Avoir de {self.montant} € — {self.ligne}"
