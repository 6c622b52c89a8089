"""The outbox of e-mails: every e-mail is a row written in the same transaction as the change that causes it, then
relayed by a Celery task. A row is unique per (recipient, kind, object): whatever runs twice, it leaves once. An
e-mail may carry a send-by moment (``envoyer_avant``): past it, the relay marks it missed instead of sending it late.

The reminders (``notifications.rappels``) are e-mails of this outbox; staff set each family's delays
(``ReglageRappel``) and see each run of its task (``ExecutionRappel``)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class StatutEmail(models.TextChoices):
    A_ENVOYER = "a_envoyer", "À envoyer"
    EN_COURS = "en_cours", "En cours d'envoi"
    ENVOYE = "envoye", "Envoyé"
    ECHEC = "echec", "Échec définitif"
    ANNULE = "annule", "Annulé"
    MANQUE = "manque", "Manqué (trop tard)"


class Email(models.Model):
    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    destinataire = models.EmailField("destinataire")
    type = models.CharField("type", max_length=60, help_text="Par exemple : inscription_confirmee, seance_annulee.")
    objet = models.CharField(
        "objet concerné", max_length=120, help_text="L'objet qui cause l'e-mail, par exemple inscription:<uuid>."
    )
    sujet = models.CharField("sujet", max_length=255)
    texte = models.TextField("texte")
    html = models.TextField("HTML", blank=True)
    pieces_jointes = models.JSONField(
        "pièces jointes", default=list, blank=True, help_text="Liste de {nom, type, contenu} (contenu texte)."
    )
    statut = models.CharField("statut", max_length=12, choices=StatutEmail.choices, default=StatutEmail.A_ENVOYER)
    tentatives = models.PositiveSmallIntegerField("tentatives", default=0)
    prochain_essai = models.DateTimeField("prochain essai", null=True, blank=True)
    pris_le = models.DateTimeField("pris en charge le", null=True, blank=True)
    envoye_le = models.DateTimeField("envoyé le", null=True, blank=True)
    envoyer_avant = models.DateTimeField(
        "à envoyer avant",
        null=True,
        blank=True,
        help_text="Passé ce moment, l'e-mail n'est plus envoyé : il devient « Manqué ». Vide : pas de limite.",
    )
    derniere_erreur = models.TextField("dernière erreur", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "e-mail"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["destinataire", "type", "objet"], name="email_unique_par_objet"),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="email_recents"),
            models.Index(
                fields=["prochain_essai"],
                name="email_a_envoyer",
                condition=Q(statut__in=["a_envoyer", "en_cours"]),
            ),
        ]

    def __str__(self):
        # Never the address: this shows in the admin's titles and in logs.
        return f"E-mail {self.type} {self.uuid}"


# --- Reminders ---------------------------------------------------------------------------------------------------
class ReglageRappel(models.Model):
    """Staff's settings of one family of reminders (``notifications.rappels``): on or off, and its delays
    (``parametres``, whose names, bounds and defaults the family declares). One row per family, seeded by a
    migration; changed through ``rappels.services.reglage_update``, which validates and keeps the history."""

    famille = models.CharField("famille de rappels", max_length=40, unique=True)
    actif = models.BooleanField("actif", default=True)
    parametres = models.JSONField("délais", default=dict, blank=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "réglage d'une famille de rappels"
        verbose_name_plural = "réglages des rappels"
        ordering = ["famille"]

    def __str__(self):
        return f"Rappels {self.famille}"


class StatutExecution(models.TextChoices):
    EN_COURS = "en_cours", "En cours"
    REUSSIE = "reussie", "Réussie"
    ERREURS = "erreurs", "Terminée avec des erreurs"
    ECHEC = "echec", "Échec"
    INACTIVE = "inactive", "Famille désactivée : rien n'est envoyé"


class Declenchement(models.TextChoices):
    AUTOMATIQUE = "automatique", "Automatique"
    MANUEL = "manuel", "Lancée par l'équipe"


class ExecutionRappel(models.Model):
    """One run of a family of reminders: when, how it was started, and what it did (counts only, never who)."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    famille = models.CharField("famille de rappels", max_length=40)
    declenchement = models.CharField(
        "déclenchement", max_length=12, choices=Declenchement.choices, default=Declenchement.AUTOMATIQUE
    )
    lance_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lancée par",
    )
    debut = models.DateTimeField("début")
    fin = models.DateTimeField("fin", null=True, blank=True)
    statut = models.CharField(
        "résultat", max_length=10, choices=StatutExecution.choices, default=StatutExecution.EN_COURS
    )
    envoyes = models.PositiveIntegerField("mis en file d'envoi", default=0)
    deja_traites = models.PositiveIntegerField("déjà traités", default=0)
    manques = models.PositiveIntegerField("manqués (trop tard)", default=0)
    erreurs = models.PositiveIntegerField("erreurs", default=0)
    message = models.TextField("message", blank=True)

    class Meta:
        verbose_name = "exécution de rappels"
        verbose_name_plural = "exécutions des rappels"
        ordering = ["-debut", "-pk"]
        indexes = [models.Index(fields=["famille", "-debut"], name="execution_rappel_recentes")]

    def __str__(self):
        return f"Rappels {self.famille} du {self.debut:%d/%m/%Y %H:%M}"
