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


# --- Referrals (orientations) --------------------------------------------------------------------------------------
class Urgence(models.TextChoices):
    NORMALE = "normale", "Dans les prochains jours"
    URGENTE = "urgente", "Urgent"


class ContactPrefere(models.TextChoices):
    TELEPHONE = "telephone", "Par téléphone"
    EMAIL = "email", "Par e-mail"
    VIA_AIDANT = "via_aidant", "En passant par l'aidant"


class StatutOrientation(models.TextChoices):
    NOUVELLE = "nouvelle", "Nouvelle"
    ACCEPTEE = "acceptee", "Prise en charge"
    REALISEE = "realisee", "Accompagnement réalisé"
    REORIENTEE = "reorientee", "Réorientée"
    ANNULEE = "annulee", "Annulée"


TRANSITIONS_ORIENTATION = {
    StatutOrientation.NOUVELLE: {StatutOrientation.ACCEPTEE, StatutOrientation.REORIENTEE, StatutOrientation.ANNULEE},
    StatutOrientation.ACCEPTEE: {StatutOrientation.REALISEE, StatutOrientation.REORIENTEE, StatutOrientation.ANNULEE},
    StatutOrientation.REALISEE: set(),
    StatutOrientation.REORIENTEE: set(),
    StatutOrientation.ANNULEE: set(),
}


class Orientation(models.Model):
    """A person's need an aidant refers to the network: to a conseiller (chosen, or the one covering the commune) or
    to a workshop session. Only what is needed to reach the person, with their consent; erased on the retention
    schedule once closed."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    aidant = models.ForeignKey(Aidant, on_delete=models.PROTECT, related_name="orientations")
    thematiques = ChoiceListField("besoin", item_choices=cra.THEMATIQUES, blank=False)
    precision = models.CharField(
        "précision", max_length=280, blank=True, help_text="Facultatif, sans information sensible."
    )
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="orientations")
    prenom = models.CharField("prénom de la personne", max_length=150)
    telephone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    contact_prefere = models.CharField("contact préféré", max_length=12, choices=ContactPrefere.choices)
    urgence = models.CharField("urgence", max_length=10, choices=Urgence.choices, default=Urgence.NORMALE)
    consentement_le = models.DateTimeField("accord de la personne recueilli le")
    conseiller = models.ForeignKey(
        "conseillers.Conseiller", on_delete=models.PROTECT, null=True, blank=True, related_name="orientations"
    )
    seance = models.ForeignKey(
        "ateliers.Seance",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orientations",
        verbose_name="séance proposée",
    )
    statut = models.CharField(
        "statut", max_length=12, choices=StatutOrientation.choices, default=StatutOrientation.NOUVELLE
    )
    resultat = models.CharField(
        "suite donnée", max_length=280, blank=True, help_text="Ce que l'aidant voit de la suite, sans détail personnel."
    )
    activite = models.OneToOneField(
        "accompagnements.Activite",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orientation",
        verbose_name="activité enregistrée",
    )
    acceptee_le = models.DateTimeField("prise en charge le", null=True, blank=True)
    cloturee_le = models.DateTimeField("close le", null=True, blank=True)
    anonymisee_le = models.DateTimeField("coordonnées effacées le", null=True, blank=True)
    created_at = models.DateTimeField("envoyée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "orientation"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["statut", "created_at"], name="orientation_statut"),
            models.Index(fields=["conseiller", "statut"], name="orientation_conseiller"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(conseiller__isnull=False) | Q(seance__isnull=False),
                name="orientation_destinataire",
                violation_error_message="Choisissez un conseiller ou une séance d'atelier.",
            ),
            models.CheckConstraint(
                condition=~Q(telephone="")
                | ~Q(email="")
                | Q(contact_prefere="via_aidant")
                | Q(anonymisee_le__isnull=False),
                name="orientation_contact",
                violation_error_message="Indiquez comment joindre la personne.",
            ),
        ]

    def __str__(self):
        return f"Orientation du {self.created_at:%d/%m/%Y}" if self.created_at else "Orientation"


# --- Network events ------------------------------------------------------------------------------------------------
class TypeEvenement(models.TextChoices):
    REUNION = "reunion", "Réunion du réseau"
    FORMATION = "formation", "Formation"
    WEBINAIRE = "webinaire", "Webinaire"
    VISITE = "visite", "Visite"


class PublicEvenement(models.TextChoices):
    AIDANTS = "aidants", "Aidants"
    CONSEILLERS = "conseillers", "Conseillers numériques"
    RESEAU = "reseau", "Tout le réseau"


class Evenement(models.Model):
    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField("type", max_length=12, choices=TypeEvenement.choices)
    titre = models.CharField("titre", max_length=200)
    description = models.TextField("description", blank=True)
    debut = models.DateTimeField("début")
    fin = models.DateTimeField("fin")
    lieu = models.ForeignKey(
        "structures.Lieu", on_delete=models.PROTECT, null=True, blank=True, related_name="evenements_reseau"
    )
    adresse = models.CharField("adresse", max_length=255, blank=True)
    lien = models.URLField("lien de connexion", blank=True)
    public = models.CharField("public", max_length=12, choices=PublicEvenement.choices, default=PublicEvenement.RESEAU)
    capacite = models.PositiveSmallIntegerField("places", null=True, blank=True)
    formation = models.CharField(
        "formation au dossier des aidants",
        max_length=25,
        choices=TypeFormationAidant.choices,
        blank=True,
        help_text="Une formation suivie s'ajoute au dossier de chaque aidant présent.",
    )
    heures = models.DecimalField(
        "durée de la formation (heures)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    annule = models.BooleanField("annulé", default=False)
    appel_clos_le = models.DateTimeField("présences closes le", null=True, blank=True)
    organisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "événement du réseau"
        verbose_name_plural = "événements du réseau"
        ordering = ["-debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin__gt=models.F("debut")),
                name="evenement_fin_apres_debut",
                violation_error_message="La fin doit suivre le début.",
            ),
            models.CheckConstraint(
                condition=Q(lieu__isnull=False) | ~Q(adresse="") | ~Q(lien=""),
                name="evenement_ou",
                violation_error_message="Indiquez un lieu, une adresse ou un lien de connexion.",
            ),
            models.CheckConstraint(
                condition=Q(capacite__isnull=True) | Q(capacite__gte=1),
                name="evenement_capacite",
            ),
        ]

    def __str__(self):
        return f"{self.titre} — {self.debut:%d/%m/%Y}"


class StatutParticipation(models.TextChoices):
    INVITE = "invite", "Invité"
    INSCRIT = "inscrit", "Inscrit"
    ATTENTE = "attente", "Liste d'attente"
    DECLINE = "decline", "Ne vient pas"


class ParticipationEvenement(models.Model):
    """A member of the network invited to an event: their answer, then their presence."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    evenement = models.ForeignKey(Evenement, on_delete=models.CASCADE, related_name="participations")
    aidant = models.ForeignKey(Aidant, on_delete=models.CASCADE, null=True, blank=True, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="participations_reseau"
    )
    statut = models.CharField("réponse", max_length=10, choices=StatutParticipation.choices)
    present = models.BooleanField("présent", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "participation à un événement"
        ordering = ["evenement", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(aidant__isnull=False) | Q(user__isnull=False), name="participation_quelqu_un"
            ),
            models.UniqueConstraint(
                fields=["evenement", "aidant"], condition=Q(aidant__isnull=False), name="participation_aidant_unique"
            ),
            models.UniqueConstraint(
                fields=["evenement", "user"], condition=Q(user__isnull=False), name="participation_user_unique"
            ),
        ]

    def __str__(self):
        return f"{self.aidant or self.user} — {self.evenement}"


# --- Coordination log (as the national tool defines it) -----------------------------------------------------------
class TypeCoordination(models.TextChoices):
    ANIMATION = "animation", "Animation"
    EVENEMENT = "evenement", "Événement"
    PARTENARIAT = "partenariat", "Partenariat"


class EchelleTerritoriale(models.TextChoices):
    COMMUNALE = "communale", "Communale"
    INTERCOMMUNALE = "intercommunale", "Intercommunale"
    DEPARTEMENTALE = "departementale", "Départementale"
    REGIONALE = "regionale", "Régionale"
    NATIONALE = "nationale", "Nationale"


class ActiviteCoordination(models.Model):
    """A coordination activity of staff: animating the network, an event, a partnership."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coordinations")
    type = models.CharField("type", max_length=12, choices=TypeCoordination.choices)
    date = models.DateField("date")
    duree = models.PositiveSmallIntegerField("durée (minutes)", null=True, blank=True)
    intitule = models.CharField("intitulé", max_length=200)
    echelle = models.CharField("échelle territoriale", max_length=15, choices=EchelleTerritoriale.choices, blank=True)
    participants = models.PositiveIntegerField("participants", null=True, blank=True)
    structures_partenaires = models.ManyToManyField(
        Structure, blank=True, related_name="coordinations", verbose_name="structures partenaires"
    )
    thematiques = ChoiceListField("thématiques", item_choices=cra.THEMATIQUES)
    notes = models.TextField("notes", blank=True)
    supprimee_le = models.DateTimeField("supprimée le", null=True, blank=True)
    created_at = models.DateTimeField("enregistrée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords(m2m_fields=[structures_partenaires])

    class Meta:
        verbose_name = "activité de coordination"
        verbose_name_plural = "activités de coordination"
        ordering = ["-date", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duree__isnull=True) | Q(duree__gte=1, duree__lte=1440),
                name="coordination_duree",
                violation_error_message="La durée est comprise entre 1 minute et 24 heures.",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} — {self.intitule} ({self.date:%d/%m/%Y})"
