"""Public workshops: programmes (``Atelier``), their dated sessions (``Seance``), registrations with a waiting list
(``Inscription``), and the Pass numérique (``CommandePass`` → ``Carnet`` → ``PassNumerique``).

Capacity is guarded by the services: they lock the session row, count its confirmed registrations and decide
confirmed or waiting list in the same transaction. The database refuses a person registered twice to a session.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from accompagnements import choices as cra
from structures.fields import ChoiceListField
from structures.models import ArretItinerant, Lieu, Structure


class Public(models.TextChoices):
    TOUT_PUBLIC = "tout_public", "Tout public"
    SENIORS = "seniors", "Seniors"
    DEMANDEURS_EMPLOI = "demandeurs_emploi", "Demandeurs d'emploi"
    JEUNES = "jeunes", "Jeunes"
    FAMILLES = "familles", "Familles et parents"


class Atelier(models.Model):
    """A workshop programme, run in one or more sessions."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="ateliers", verbose_name="structure organisatrice"
    )
    titre = models.CharField("titre", max_length=200)
    description = models.TextField("description", blank=True)
    thematiques = ChoiceListField("thématiques", item_choices=cra.THEMATIQUES, blank=False)
    niveau = models.CharField("niveau", max_length=15, choices=cra.NIVEAU_ATELIER, blank=True)
    publics = ChoiceListField("publics", item_choices=Public.choices, blank=False)
    prevention = models.BooleanField("atelier de prévention", default=False)
    formation_pass = models.BooleanField(
        "formation payable en Pass numérique", default=False, help_text="Une inscription peut être réglée en Pass."
    )
    duree = models.PositiveSmallIntegerField("durée d'une séance (minutes)", default=120)
    actif = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "atelier"
        ordering = ["titre"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duree__gte=15, duree__lte=480),
                name="atelier_duree_15_480",
                violation_error_message="Une séance dure de 15 minutes à 8 heures.",
            ),
        ]

    def __str__(self):
        return self.titre


class StatutSeance(models.TextChoices):
    PLANIFIEE = "planifiee", "Planifiée"
    ANNULEE = "annulee", "Annulée"


class Seance(models.Model):
    """A dated session of a workshop, at a place or a stop of the itinerant unit, with a capacity."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    atelier = models.ForeignKey(Atelier, on_delete=models.PROTECT, related_name="seances")
    debut = models.DateTimeField("début")
    fin = models.DateTimeField("fin")
    lieu = models.ForeignKey(Lieu, on_delete=models.PROTECT, null=True, blank=True, related_name="seances")
    arret = models.ForeignKey(
        ArretItinerant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seances",
        verbose_name="arrêt du lieu itinérant",
    )
    animateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seances_animees",
        verbose_name="animateur ou animatrice",
        help_text="Un conseiller ou un aidant ; la séance rejoint son journal d'activité à la clôture de l'appel.",
    )
    capacite = models.PositiveSmallIntegerField("places")
    publique = models.BooleanField("ouverte au public", default=True)
    reservee_a = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seances_reservees",
        verbose_name="réservée à",
    )
    statut = models.CharField("statut", max_length=10, choices=StatutSeance.choices, default=StatutSeance.PLANIFIEE)
    motif_annulation = models.CharField("motif d'annulation", max_length=255, blank=True)
    serie = models.UUIDField("cycle", null=True, blank=True, help_text="Les séances créées ensemble.")
    appel_cloture_le = models.DateTimeField("appel clos le", null=True, blank=True)
    activite = models.OneToOneField(
        "accompagnements.Activite",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seance",
        verbose_name="activité enregistrée",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "séance"
        ordering = ["debut"]
        indexes = [models.Index(fields=["statut", "debut"], name="seance_agenda")]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin__gt=F("debut")),
                name="seance_fin_apres_debut",
                violation_error_message="La fin de la séance doit suivre son début.",
            ),
            models.CheckConstraint(
                condition=Q(capacite__gte=1, capacite__lte=500),
                name="seance_capacite_1_500",
                violation_error_message="Une séance compte de 1 à 500 places.",
            ),
            models.CheckConstraint(
                condition=Q(lieu__isnull=False) | Q(arret__isnull=False),
                name="seance_lieu_ou_arret",
                violation_error_message="Choisissez un lieu ou un arrêt du lieu itinérant.",
            ),
            models.CheckConstraint(
                condition=~Q(statut="annulee") | ~Q(motif_annulation=""),
                name="seance_annulee_avec_motif",
                violation_error_message="Indiquez le motif de l'annulation.",
            ),
            models.CheckConstraint(
                condition=Q(publique=True) | Q(reservee_a__isnull=False),
                name="seance_reservee_a_une_structure",
                violation_error_message="Une séance non publique est réservée à une structure.",
            ),
        ]

    def __str__(self):
        return f"{self.atelier} — {self.debut:%d/%m/%Y %H:%M}"

    @property
    def annulee(self):
        return self.statut == StatutSeance.ANNULEE


class StatutInscription(models.TextChoices):
    CONFIRMEE = "confirmee", "Confirmée"
    ATTENTE = "attente", "Liste d'attente"
    ANNULEE = "annulee", "Annulée"


class SourceInscription(models.TextChoices):
    EN_LIGNE = "en_ligne", "En ligne"
    TELEPHONE = "telephone", "Par téléphone"
    SUR_PLACE = "sur_place", "Sur place (le jour même)"
    API = "api", "Par le logiciel d'une structure partenaire (API)"


class Presence(models.TextChoices):
    PRESENT = "present", "Présent"
    ABSENT = "absent", "Absent"


class Inscription(models.Model):
    """A person registered to a session: confirmed, on the waiting list (in order of arrival) or cancelled. Only
    what is needed to reach them; their optional profile feeds the anonymous statistics of the workshop."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    seance = models.ForeignKey(Seance, on_delete=models.PROTECT, related_name="inscriptions")
    prenom = models.CharField("prénom", max_length=150)
    nom = models.CharField("nom", max_length=150)
    email = models.EmailField("e-mail", blank=True)
    telephone = models.CharField("téléphone", max_length=20, blank=True)
    cle_personne = models.CharField(
        "clé de la personne", max_length=255, editable=False, help_text="E-mail ou téléphone normalisé."
    )
    statut = models.CharField("statut", max_length=10, choices=StatutInscription.choices)
    source = models.CharField(
        "source", max_length=10, choices=SourceInscription.choices, default=SourceInscription.EN_LIGNE
    )
    rang = models.PositiveIntegerField("ordre d'arrivée", editable=False, help_text="Pour la liste d'attente.")
    promue_le = models.DateTimeField("sortie de la liste d'attente le", null=True, blank=True)
    annulee_le = models.DateTimeField("annulée le", null=True, blank=True)
    consentement_le = models.DateTimeField("consentement le")
    presence = models.CharField("présence", max_length=10, choices=Presence.choices, blank=True)
    genre = models.CharField("genre", max_length=20, choices=cra.GENRE, blank=True)
    tranche_age = models.CharField("tranche d'âge", max_length=25, choices=cra.TRANCHE_AGE, blank=True)
    statut_social = models.CharField("statut", max_length=20, choices=cra.STATUT_SOCIAL, blank=True)
    commune = models.ForeignKey(
        "structures.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune de résidence",
    )
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="inscrit par",
    )
    created_at = models.DateTimeField("inscrite le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "inscription"
        ordering = ["seance", "rang"]
        constraints = [
            models.UniqueConstraint(
                fields=["seance", "cle_personne"],
                condition=~Q(statut="annulee"),
                name="inscription_une_par_personne",
                violation_error_message="Cette personne est déjà inscrite à cette séance.",
            ),
            models.UniqueConstraint(fields=["seance", "rang"], name="inscription_rang_unique"),
            models.CheckConstraint(
                # A walk-in may leave no contact; a registration past its retention period has none left.
                condition=~Q(email="")
                | ~Q(telephone="")
                | Q(source="sur_place")
                | Q(cle_personne__startswith="purge:"),
                name="inscription_contact",
                violation_error_message="Indiquez un e-mail ou un téléphone.",
            ),
        ]
        indexes = [models.Index(fields=["seance", "statut", "rang"], name="inscription_seance_statut")]

    def __str__(self):
        return f"{self.prenom} {self.nom} — {self.seance}"


# --- Pass numérique ------------------------------------------------------------------------------------------------
class CommandePass(models.Model):
    """An order of Pass numériques by a funder (AG2R: 100 passes of 10 €), valid until 31/12 of a year, accepted
    until 31/01 of the next."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    financeur = models.ForeignKey("financements.Financeur", on_delete=models.PROTECT, related_name="commandes_pass")
    reference = models.CharField("référence", max_length=100, blank=True)
    date_commande = models.DateField("date de commande")
    nombre = models.PositiveIntegerField("nombre de pass")
    valeur_faciale = models.DecimalField("valeur d'un pass (€)", max_digits=6, decimal_places=2)
    taille_carnet = models.PositiveSmallIntegerField("pass par carnet", choices=[(10, "10"), (5, "5")], default=10)
    valide_jusqu_au = models.DateField("valable jusqu'au")
    tolerance_jusqu_au = models.DateField("accepté jusqu'au")
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "commande de Pass numériques"
        verbose_name_plural = "commandes de Pass numériques"
        ordering = ["-date_commande"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tolerance_jusqu_au__gte=F("valide_jusqu_au")),
                name="commande_tolerance_apres_validite",
            ),
            models.CheckConstraint(condition=Q(nombre__gte=1), name="commande_au_moins_un_pass"),
            models.CheckConstraint(condition=Q(valeur_faciale__gt=0), name="commande_valeur_positive"),
        ]

    def __str__(self):
        return f"{self.nombre} Pass — {self.financeur} ({self.date_commande:%d/%m/%Y})"


class CategoriePass(models.TextChoices):
    DEMANDEUR_EMPLOI = "demandeur_emploi", "Demandeur d'emploi"
    SENIOR = "senior", "Senior"


class Carnet(models.Model):
    """A booklet of passes, handed out by a distributor structure to an eligible person (only the category and the
    date are kept, never who)."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    commande = models.ForeignKey(CommandePass, on_delete=models.PROTECT, related_name="carnets")
    numero = models.CharField("numéro", max_length=30, unique=True)
    distributeur = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carnets_pass",
        verbose_name="structure distributrice",
    )
    remis_le = models.DateField("remis le", null=True, blank=True)
    categorie = models.CharField("public", max_length=20, choices=CategoriePass.choices, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "carnet de Pass"
        verbose_name_plural = "carnets de Pass"
        ordering = ["numero"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remis_le__isnull=True) | (~Q(categorie="") & Q(distributeur__isnull=False)),
                name="carnet_remis_avec_public_et_distributeur",
                violation_error_message="Un carnet remis a une structure distributrice et un public.",
            ),
        ]

    def __str__(self):
        return f"Carnet {self.numero}"


class StatutPass(models.TextChoices):
    EMIS = "emis", "Émis"
    REMIS = "remis", "Remis"
    UTILISE = "utilise", "Utilisé"
    REMBOURSE = "rembourse", "Remboursé"
    EXPIRE = "expire", "Expiré"
    ANNULE = "annule", "Annulé"


class PassNumerique(models.Model):
    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    carnet = models.ForeignKey(Carnet, on_delete=models.PROTECT, related_name="pass_numeriques")
    numero = models.CharField("numéro", max_length=40, unique=True)
    statut = models.CharField("statut", max_length=10, choices=StatutPass.choices, default=StatutPass.EMIS)
    inscription = models.OneToOneField(
        Inscription, on_delete=models.PROTECT, null=True, blank=True, related_name="pass_numerique"
    )
    lieu = models.ForeignKey(
        Lieu,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pass_encaisses",
        verbose_name="lieu qualifié",
    )
    utilise_le = models.DateField("utilisé le", null=True, blank=True)
    rembourse_le = models.DateField("remboursé le", null=True, blank=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "Pass numérique"
        verbose_name_plural = "Pass numériques"
        ordering = ["numero"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(statut__in=["utilise", "rembourse"])
                | (Q(lieu__isnull=False) & Q(utilise_le__isnull=False)),
                name="pass_utilise_avec_lieu_et_date",
                violation_error_message="Un pass utilisé l'a été dans un lieu qualifié, à une date.",
            ),
            models.CheckConstraint(
                condition=~Q(statut="rembourse") | Q(rembourse_le__isnull=False),
                name="pass_rembourse_avec_date",
            ),
        ]

    def __str__(self):
        return f"Pass {self.numero}"
