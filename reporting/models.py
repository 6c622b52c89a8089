"""Summary tables of the activity log, and the reports built from them.

The statistics pages, the dashboards, the reports and the statistics API read the summary tables, never the activity
table at request time. Every summary row is one slice of the facts at the grain

    month × employer structure × conseiller × commune of the activity × activity type

(the commune is null for a remote activity or one without commune, as the statistics count them), and carries every
measure the figures need as a column: counts of activities, accompaniments (one per participant), time, and the
breakdowns by place type, duration band, genre, age band and status. A slice is recomputed from the facts as a whole
(``reporting.resume``): a change to an activity marks its (month, conseiller) to update, in the same transaction, and
a Celery task recomputes the marked slices; beat rebuilds everything every night. New activities are added by the
task as rows of their own (on PostgreSQL): a grain may hold several rows until its slice is recomputed or the
nightly rebuild folds them, and every reading sums them.

- ``ResumeActivite``: the slices themselves.
- ``ResumeThematique``: the same measures per thématique (an activity counts under each of its thématiques), for the
  figures of the activities that addressed one thématique.
- Both carry, in ``avec_<code>`` columns, the activities that addressed each thématique: the thématique breakdown is
  read with the other measures, from the same rows (a table per thématique read whole for the breakdown took
  seconds at national scale; a row per pair of thématiques made a table larger than the facts).
- ``ResumeBeneficiaire``: which followed beneficiaries (by consent) each slice and thématique saw, to count distinct
  people over a period.
- ``ResumeDepartement`` and ``ResumeDepartementThematique``: the same measures added up by month × département × type
  (and thématique), for the figures of the nation and of a département without reading every conseiller's rows.
- ``ResumeAMettreAJour``: the (month, conseiller) slices waiting for the update task; ``ResumeAjout``: the activities
  created since, whose figures the task adds to the rows (a day's new activities touch nearly every slice of the
  month: recomputing them took seconds at national scale).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import slugify

from accompagnements import choices as c
from accompagnements.models import Beneficiaire
from conseillers.models import Conseiller
from structures.models import Commune, Structure

# The measure columns, from the national vocabulary: (column, what it counts). A change of vocabulary changes the
# columns, and ``makemigrations --check`` then asks for a migration.
MESURES_ACTIVITES = [
    ("activites", "activités"),
    ("participants_ateliers", "participants des ateliers"),
    ("duree", "minutes"),
    *[(f"lieu_{code}", f"activités « {label} »") for code, label in c.TYPE_LIEU],
    *[(f"tranche_{code}", f"activités « {label} »") for code, label, _low, _high in c.TRANCHES_DUREE],
]
MESURES_ACCOMPAGNEMENTS = [
    ("accompagnements", "accompagnements"),
    ("nouveaux", "accompagnements de personnes accompagnées pour la première fois"),
    *[
        (f"{attribut}__{code}".replace("__", "_"), f"accompagnements « {label} »")
        for attribut, vocabulary, _label in c.ATTRIBUTS_BENEFICIAIRE
        for code, label in vocabulary
    ],
]
MESURES = [name for name, _label in MESURES_ACTIVITES + MESURES_ACCOMPAGNEMENTS]


def colonne(attribut, code):
    """The column of an accompaniment breakdown: ``genre_feminin``, ``tranche_age_non_communique``…"""
    return f"{attribut}_{code}"


class Tranche(models.Model):
    """The grain every summary shares."""

    # No index of its own on each foreign key: the models' composite indexes serve the readings, and every index
    # is written for each row the update task adds (a day of national activity adds tens of thousands). No foreign
    # key constraint in the database either: the rows are derived from the facts (rebuilt every night) and deleted
    # with what they refer to by the ORM (``on_delete``), and checking three keys per row at commit cost a quarter
    # of the update of a day.
    mois = models.DateField("mois", help_text="Le premier jour du mois.")
    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="structure",
        db_index=False,
        db_constraint=False,
    )
    conseiller = models.ForeignKey(
        Conseiller,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="conseiller",
        db_index=False,
        db_constraint=False,
    )
    commune = models.ForeignKey(
        Commune,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
        help_text="Vide pour les activités à distance ou sans commune.",
        db_index=False,
        db_constraint=False,
    )
    type = models.CharField("type", max_length=10, choices=c.TYPE_ACTIVITE)

    class Meta:
        abstract = True


def avec(code):
    """The column counting the activities of a summary row that addressed the thématique ``code`` (in a row of
    ``ResumeThematique``: that also addressed it)."""
    return f"avec_{code}"


class Colonnes(models.Model):
    """The measure columns every summary carries: plain integers, without the « >= 0 » check of a positive field
    (sums the code writes, which the tests compare with the facts; checking sixty columns of every row written made
    a tenth of the update of a day)."""

    for _name, _label in MESURES_ACTIVITES + MESURES_ACCOMPAGNEMENTS:
        locals()[_name] = models.IntegerField(_label, default=0)
    # The thématique breakdown of the row's activities, read with the other measures (an activity counts once per
    # thématique it addressed).
    for _name, _label in c.THEMATIQUES:
        locals()[avec(_name)] = models.IntegerField(f"activités abordant « {_label} »", default=0)
    del _name, _label

    class Meta:
        abstract = True


COLONNES = [*MESURES, *(avec(code) for code, _label in c.THEMATIQUES)]


class Mesures(Tranche, Colonnes):
    class Meta:
        abstract = True


class ResumeActivite(Mesures):
    class Meta:
        verbose_name = "résumé d'activité"
        verbose_name_plural = "résumés d'activité"
        indexes = [
            models.Index(fields=["mois", "structure"], name="resume_activite_mois_struct"),
            # The communes of a period (the nation's, a département's) read from this index alone.
            models.Index(fields=["mois", "type", "commune", "accompagnements"], name="resume_activite_communes"),
            models.Index(fields=["conseiller", "mois"], name="resume_activite_conseiller"),
            models.Index(fields=["commune", "mois"], name="resume_activite_commune"),
        ]

    def __str__(self):
        return f"{self._meta.verbose_name} {self.mois:%m/%Y} #{self.conseiller_id}"


class ResumeThematique(Mesures):
    thematique = models.CharField("thématique", max_length=40, choices=c.THEMATIQUES)

    class Meta:
        verbose_name = "résumé par thématique"
        verbose_name_plural = "résumés par thématique"
        indexes = [
            # The communes of a period for a thématique read from this index alone (month by month: the readings
            # ask for a list of months), and the rows of a month found by the nightly rebuild.
            models.Index(
                fields=["mois", "thematique", "type", "commune", "accompagnements"], name="resume_thematique_mois"
            ),
            models.Index(fields=["conseiller", "mois"], name="resume_thematique_conseiller"),
        ]

    def __str__(self):
        return f"{self._meta.verbose_name} {self.mois:%m/%Y} #{self.conseiller_id}"


class ResumeBeneficiaire(Tranche):
    thematique = models.CharField("thématique", max_length=40, choices=c.THEMATIQUES)
    beneficiaire = models.ForeignKey(Beneficiaire, on_delete=models.CASCADE, related_name="+", db_constraint=False)

    class Meta:
        verbose_name = "bénéficiaire suivi d'un résumé"
        verbose_name_plural = "bénéficiaires suivis des résumés"
        constraints = [
            models.UniqueConstraint(
                fields=["mois", "conseiller", "structure", "commune", "type", "thematique", "beneficiaire"],
                name="resume_beneficiaire_unique",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["conseiller", "mois"], name="resume_beneficiaire_cons")]

    def __str__(self):
        return f"{self._meta.verbose_name} {self.mois:%m/%Y} #{self.conseiller_id}"


class TrancheDepartement(Colonnes):
    """The grain of the summaries by département: month × département of the activity's commune × type."""

    mois = models.DateField("mois", help_text="Le premier jour du mois.")
    departement = models.CharField("département", max_length=3, blank=True)
    type = models.CharField("type", max_length=10, choices=c.TYPE_ACTIVITE)

    class Meta:
        abstract = True


class ResumeDepartement(TrancheDepartement):
    """The summaries added up by month × département of the activity's commune × type (département '' for the
    activities without commune): the figures of the nation and of a département, a few hundred rows a month."""

    class Meta:
        verbose_name = "résumé par département"
        verbose_name_plural = "résumés par département"
        constraints = [
            models.UniqueConstraint(fields=["mois", "departement", "type"], name="resume_departement_unique"),
        ]

    def __str__(self):
        return f"{self._meta.verbose_name} {self.mois:%m/%Y} {self.departement or '—'}"


class ResumeDepartementThematique(TrancheDepartement):
    """``ResumeDepartement`` per thématique (from ``ResumeThematique``)."""

    thematique = models.CharField("thématique", max_length=40, choices=c.THEMATIQUES)

    class Meta:
        verbose_name = "résumé par département et thématique"
        verbose_name_plural = "résumés par département et thématique"
        constraints = [
            models.UniqueConstraint(
                fields=["thematique", "mois", "departement", "type"], name="resume_departement_th_unique"
            ),
        ]

    def __str__(self):
        return f"{self._meta.verbose_name} {self.mois:%m/%Y} {self.departement or '—'} {self.thematique}"


class ResumeAjout(models.Model):
    """An activity created since the last update: its figures are added to the summaries (``reporting.resume``),
    without recomputing its whole slice. Written in the transaction that creates it."""

    activite = models.OneToOneField(
        "accompagnements.Activite", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    class Meta:
        verbose_name = "activité à ajouter aux résumés"
        verbose_name_plural = "activités à ajouter aux résumés"

    def __str__(self):
        return f"{self._meta.verbose_name} #{self.activite_id}"


class ResumeAMettreAJour(models.Model):
    """A (month, conseiller) slice whose facts changed: written in the transaction of the change, removed by the
    task that recomputed it (only if it was not marked again meanwhile)."""

    mois = models.DateField("mois")
    conseiller = models.ForeignKey(Conseiller, on_delete=models.CASCADE, related_name="+")
    marque_le = models.DateTimeField("marqué le", auto_now=True)

    class Meta:
        verbose_name = "résumé à mettre à jour"
        verbose_name_plural = "résumés à mettre à jour"
        constraints = [models.UniqueConstraint(fields=["mois", "conseiller"], name="resume_a_jour_unique")]

    def __str__(self):
        return f"{self._meta.verbose_name} {self.mois:%m/%Y} #{self.conseiller_id}"


# --- Reports -----------------------------------------------------------------------------------------------------
class TypeRapport(models.TextChoices):
    MENSUEL = "mensuel", "Rapport mensuel"
    ANNUEL = "annuel", "Rapport annuel (État et Département)"
    PERIODE = "periode", "Rapport sur une période"


class StatutRapport(models.TextChoices):
    EN_ATTENTE = "en_attente", "En attente"
    EN_COURS = "en_cours", "En cours de préparation"
    PRET = "pret", "Prêt"
    ECHEC = "echec", "Échec"


def date_longue(day):
    """« 1er octobre 2026 », « 31 octobre 2026 »."""
    from accompagnements.statistiques import MOIS

    return f"{'1er' if day.day == 1 else day.day} {MOIS[day.month - 1]} {day.year}"


class Rapport(models.Model):
    """A territorial report for a period, built by a Celery task into a PDF and an XLSX kept in the database (so
    that the web and the workers need no shared disk)."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField("type", max_length=10, choices=TypeRapport.choices)
    du = models.DateField("du")
    au = models.DateField("au")
    statut = models.CharField("statut", max_length=12, choices=StatutRapport.choices, default=StatutRapport.EN_ATTENTE)
    progression = models.PositiveSmallIntegerField("progression (%)", default=0)
    etape = models.CharField("étape", max_length=120, blank=True)
    erreur = models.TextField("erreur", blank=True)
    demande_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="demandé par",
        help_text="Vide pour un rapport produit automatiquement.",
    )
    pdf = models.BinaryField("PDF", null=True, blank=True, editable=False)
    xlsx = models.BinaryField("classeur XLSX", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    commence_le = models.DateTimeField("commencé le", null=True, blank=True)
    termine_le = models.DateTimeField("terminé le", null=True, blank=True)
    envoye_le = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "rapport"
        ordering = ["-du", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(au__gte=models.F("du")), name="rapport_periode_ordonnee"),
            models.CheckConstraint(condition=Q(progression__lte=100), name="rapport_progression_max_100"),
            # One automatic report per month or year: the beat task can run twice, the report is made once.
            models.UniqueConstraint(
                fields=["type", "du", "au"],
                condition=Q(type__in=["mensuel", "annuel"]),
                name="rapport_automatique_unique",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} du {self.du:%d/%m/%Y} au {self.au:%d/%m/%Y}"

    @property
    def mois(self):
        """The number of months of the period (reports always cover whole months)."""
        return (self.au.year - self.du.year) * 12 + self.au.month - self.du.month + 1

    @property
    def periode_libelle(self):
        """« octobre 2026 », « année 2026 », « octobre 2025 à mars 2026 »."""
        from accompagnements.statistiques import month_label

        if self.mois == 1:
            return month_label(self.du)
        if self.mois == 12 and self.du.month == 1:
            return f"année {self.du.year}"
        return f"{month_label(self.du)} à {month_label(self.au)}"

    @property
    def periode_dates(self):
        """« du 1er octobre 2026 au 31 octobre 2026 »."""
        return f"du {date_longue(self.du)} au {date_longue(self.au)}"

    def nom_fichier(self, extension):
        """``rapport-sicoval-2026-10.pdf``, ``rapport-annuel-sicoval-2026.xlsx``,
        ``rapport-sicoval-2025-10-a-2026-03.pdf``."""
        territoire = slugify(settings.TERRITOIRE_NOM) or "territoire"
        if self.type == TypeRapport.ANNUEL:
            return f"rapport-annuel-{territoire}-{self.du.year}.{extension}"
        periode = f"{self.du:%Y-%m}" if self.mois == 1 else f"{self.du:%Y-%m}-a-{self.au:%Y-%m}"
        return f"rapport-{territoire}-{periode}.{extension}"

    @property
    def en_preparation(self):
        return self.statut in (StatutRapport.EN_ATTENTE, StatutRapport.EN_COURS)

    @property
    def pret(self):
        return self.statut == StatutRapport.PRET

    @property
    def duree_construction(self):
        """How long the build took (a timedelta), once finished."""
        if self.commence_le and self.termine_le:
            return self.termine_le - self.commence_le
        return None
