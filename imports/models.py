"""Imports of files from the national tools, and the synchronisation with the Coop's API.

- ``Import``: one uploaded file (the Coop's activity export, or places in the national standard), analysed into a
  preview, then applied on confirmation, both by Celery tasks that report their progress. The file is kept in the
  database (web and workers share no disk) and dropped once the import is done.
- ``ConnexionCoop``: the territory's client credentials for the Coop's API v1, the secret encrypted at rest, and
  the watermark of the last successful synchronisation.
- ``MediateurCoop``: a mediator of the Coop (from ``/utilisateurs``) and the conseiller of the territory they are.
- ``SynchroCoop``: one synchronisation run, with its counts or its error, for staff.
- ``ActiviteCoopEnAttente``: an activity of the Coop the synchronisation rejected, kept as received and tried again
  by every run until it passes (its place created, its conseiller's post attached) or is modified upstream.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from conseillers.models import Conseiller


class TypeImport(models.TextChoices):
    ACTIVITES_COOP = "activites_coop", "Activités exportées de la Coop (XLSX)"
    LIEUX = "lieux", "Lieux au standard national (CSV ou JSON)"


class StatutImport(models.TextChoices):
    ANALYSE = "analyse", "Analyse en cours"
    APERCU = "apercu", "Aperçu prêt"
    APPLICATION = "application", "Import en cours"
    TERMINE = "termine", "Importé"
    ECHEC = "echec", "Échec"
    ABANDONNE = "abandonne", "Abandonné"


class Import(models.Model):
    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField("type", max_length=20, choices=TypeImport.choices)
    statut = models.CharField("statut", max_length=12, choices=StatutImport.choices, default=StatutImport.ANALYSE)
    progression = models.PositiveSmallIntegerField("progression (%)", default=0)
    etape = models.CharField("étape", max_length=120, blank=True)
    erreur = models.TextField("erreur", blank=True)
    nom_fichier = models.CharField("fichier", max_length=255)
    taille = models.PositiveIntegerField("taille (octets)", default=0)
    fichier = models.BinaryField("contenu du fichier", null=True, blank=True, editable=False)
    options = models.JSONField("options", default=dict, blank=True)
    conseiller = models.ForeignKey(
        Conseiller,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="imports",
        help_text="Pour un import de ses propres activités : le conseiller à qui elles sont attribuées.",
    )
    demande_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="par"
    )
    lignes = models.PositiveIntegerField("lignes lues", default=0)
    apercu = models.JSONField("aperçu", default=dict, blank=True)
    resultat = models.JSONField("résultat", default=dict, blank=True)
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    commence_le = models.DateTimeField("étape commencée le", null=True, blank=True)
    termine_le = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "import"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progression__lte=100), name="import_progression_max_100"),
        ]

    def __str__(self):
        return f"{self.get_type_display()} — {self.nom_fichier}"

    @property
    def en_cours(self):
        return self.statut in (StatutImport.ANALYSE, StatutImport.APPLICATION)


class ConnexionCoop(models.Model):
    """The territory's one connection to the Coop's API (a singleton: ``ConnexionCoop.objects.first()``)."""

    url = models.URLField("adresse de l'API", default="https://coop-numerique.anct.gouv.fr/api/v1")
    client_id = models.CharField("identifiant client", max_length=200)
    secret_chiffre = models.TextField("secret client (chiffré)", editable=False)
    active = models.BooleanField("synchronisation nocturne active", default=True)
    depuis = models.DateTimeField(
        "modifications prises jusqu'au",
        null=True,
        blank=True,
        help_text="La prochaine synchronisation demande les activités modifiées depuis cette date (vide : toutes).",
    )
    modifie_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mediateurs_vus = models.PositiveIntegerField(
        "médiateurs lus dans la Coop", default=0, help_text="À la dernière actualisation de la liste des médiateurs."
    )
    mediateurs_actualises_le = models.DateTimeField("médiateurs actualisés le", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "connexion à la Coop"
        verbose_name_plural = "connexions à la Coop"

    def __str__(self):
        return f"Coop ({self.client_id})"


class MediateurCoop(models.Model):
    """A mediator of the Coop and, once staff have said so, the territory's conseiller they are."""

    mediateur_id = models.UUIDField("identifiant du médiateur dans la Coop", unique=True)
    utilisateur_id = models.UUIDField("identifiant de l'utilisateur dans la Coop", null=True, blank=True)
    prenom = models.CharField("prénom", max_length=150, blank=True)
    nom = models.CharField("nom", max_length=150, blank=True)
    email = models.EmailField("e-mail", blank=True)
    conum_id_pg = models.PositiveIntegerField("identifiant conseiller numérique (v1)", null=True, blank=True)
    conseiller = models.OneToOneField(
        Conseiller,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mediateur_coop",
        verbose_name="conseiller du territoire",
    )
    associe_le = models.DateTimeField("associé le", null=True, blank=True)
    vu_le = models.DateTimeField("vu dans la Coop le", null=True, blank=True)

    class Meta:
        verbose_name = "médiateur de la Coop"
        verbose_name_plural = "médiateurs de la Coop"
        ordering = ["nom", "prenom"]

    def __str__(self):
        return f"{self.prenom} {self.nom}".strip() or str(self.mediateur_id)


class StatutSynchro(models.TextChoices):
    EN_COURS = "en_cours", "En cours"
    REUSSIE = "reussie", "Réussie"
    ECHEC = "echec", "Échec"


class SynchroCoop(models.Model):
    """One run of the synchronisation: what it asked for, what it did, or why it failed (nothing applied)."""

    statut = models.CharField("statut", max_length=10, choices=StatutSynchro.choices, default=StatutSynchro.EN_COURS)
    depuis = models.DateTimeField("modifications depuis", null=True, blank=True)
    commence_le = models.DateTimeField("commencée le", auto_now_add=True)
    termine_le = models.DateTimeField("terminée le", null=True, blank=True)
    pages = models.PositiveIntegerField("pages lues", default=0)
    recues = models.PositiveIntegerField("activités reçues", default=0)
    creees = models.PositiveIntegerField("créées", default=0)
    mises_a_jour = models.PositiveIntegerField("mises à jour", default=0)
    supprimees = models.PositiveIntegerField("supprimées", default=0)
    inchangees = models.PositiveIntegerField("inchangées", default=0)
    ignorees = models.PositiveIntegerField("ignorées (médiateur hors territoire)", default=0)
    rejetees = models.JSONField("rejetées", default=list, blank=True, help_text="Activités refusées et pourquoi.")
    erreur = models.TextField("erreur", blank=True)
    tentative = models.PositiveSmallIntegerField("tentative", default=1)
    lancee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "synchronisation avec la Coop"
        verbose_name_plural = "synchronisations avec la Coop"
        ordering = ["-commence_le"]

    def __str__(self):
        return f"Synchronisation du {self.commence_le:%d/%m/%Y %H:%M} ({self.get_statut_display()})"


class ActiviteCoopEnAttente(models.Model):
    """An activity of the Coop a run rejected, as the API gave it (the Coop's activity is anonymous: no personal
    data), tried again by each following run until it passes; a newer version upstream replaces it."""

    id_coop = models.CharField("identifiant dans la Coop", max_length=64, unique=True)
    donnees = models.JSONField("activité reçue de la Coop")
    modification = models.DateTimeField("modifiée dans la Coop le")
    raison = models.TextField("raison du rejet")
    premiere_fois = models.DateTimeField("rejetée pour la première fois le", auto_now_add=True)
    derniere_fois = models.DateTimeField("rejetée pour la dernière fois le")

    class Meta:
        verbose_name = "activité de la Coop en attente"
        verbose_name_plural = "activités de la Coop en attente"
        ordering = ["-modification", "pk"]

    def __str__(self):
        return f"Activité {self.id_coop} de la Coop ({self.raison[:60]})"
