"""The outbox of e-mails: every e-mail is a row written in the same transaction as the change that causes it, then
relayed by a Celery task. A row is unique per (recipient, kind, object): whatever runs twice, it leaves once."""

import uuid

from django.db import models
from django.db.models import Q


class StatutEmail(models.TextChoices):
    A_ENVOYER = "a_envoyer", "À envoyer"
    EN_COURS = "en_cours", "En cours d'envoi"
    ENVOYE = "envoye", "Envoyé"
    ECHEC = "echec", "Échec définitif"
    ANNULE = "annule", "Annulé"


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
