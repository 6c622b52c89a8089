import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import Role

from . import choices
from .fields import ChoiceListField
from .validators import validate_horaires, validate_rna, validate_siret

code_postal_validator = RegexValidator(r"^\d{5}$", "Le code postal compte 5 chiffres.")
telephone_validator = RegexValidator(
    r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)\d{6,9}$",
    "Format international sans espace attendu, par exemple +33561000000.",
)


class Epci(models.Model):
    """An intercommunal body (établissement public de coopération intercommunale), identified by its SIREN."""

    siren = models.CharField("SIREN", max_length=9, unique=True, validators=[RegexValidator(r"^\d{9}$")])
    nom = models.CharField("nom", max_length=200)
    type = models.CharField("type", max_length=10, blank=True, help_text="CA, CC, CU ou METRO.")
    population = models.PositiveIntegerField("population totale", null=True, blank=True)

    class Meta:
        verbose_name = "EPCI"
        verbose_name_plural = "EPCI"
        ordering = ["nom"]

    def __str__(self):
        return self.nom


class Commune(models.Model):
    """A commune by its INSEE code (code officiel géographique)."""

    code_insee = models.CharField(
        "code INSEE", max_length=5, unique=True, validators=[RegexValidator(r"^([013-9]\d|2[AB1-9])\d{3}$")]
    )
    nom = models.CharField("nom", max_length=200)
    siren = models.CharField("SIREN", max_length=9, blank=True)
    codes_postaux = models.JSONField("codes postaux", default=list, blank=True)
    population = models.PositiveIntegerField("population", null=True, blank=True)
    departement = models.CharField("département", max_length=3, blank=True)
    epci = models.ForeignKey(Epci, on_delete=models.PROTECT, null=True, blank=True, related_name="communes")

    class Meta:
        verbose_name = "commune"
        ordering = ["nom"]

    def __str__(self):
        return self.nom

    @property
    def code_postal_principal(self):
        return self.codes_postaux[0] if self.codes_postaux else ""


class Structure(models.Model):
    """A host or partner structure of the territory. Status changes go through ``structures.services``."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    nom = models.CharField("nom", max_length=255)
    siret = models.CharField(
        "SIRET",
        max_length=14,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_siret],
        error_messages={"unique": "Une structure avec ce SIRET existe déjà."},
    )
    rna = models.CharField(
        "RNA",
        max_length=10,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_rna],
        help_text="Pour une association sans SIRET : W suivi de 9 chiffres.",
        error_messages={"unique": "Une structure avec ce numéro RNA existe déjà."},
    )
    type_juridique = models.CharField("type juridique", max_length=20, choices=choices.TypeJuridique.choices)
    secteur = models.CharField("secteur", max_length=10, choices=choices.Secteur.choices)
    phase = models.PositiveSmallIntegerField("phase du programme", choices=choices.Phase.choices)
    statut = models.CharField(
        "statut de la candidature",
        max_length=40,
        choices=choices.StatutCandidature.choices,
        default=choices.StatutCandidature.CREEE,
    )
    conventionnement = models.CharField(
        "conventionnement",
        max_length=40,
        choices=choices.Conventionnement.choices,
        default=choices.Conventionnement.NON_INTERESSE,
    )
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="structures")
    adresse = models.CharField("adresse", max_length=255)
    code_postal = models.CharField("code postal", max_length=5, validators=[code_postal_validator])
    contact_nom = models.CharField("nom du contact", max_length=150, blank=True)
    contact_email = models.EmailField("e-mail de contact", blank=True)
    contact_telephone = models.CharField(
        "téléphone de contact", max_length=15, blank=True, validators=[telephone_validator]
    )
    site_web = models.URLField("site web", blank=True)
    qpv = models.BooleanField("en quartier prioritaire (QPV)", default=False)
    zrr = models.BooleanField("en zone de revitalisation rurale (ZRR/FRR)", default=False)
    # The roles a structure plays on the territory: plain flags, cheap to filter and count.
    accueille_conseillers = models.BooleanField("accueille des conseillers numériques", default=False)
    france_services = models.BooleanField("labellisée France Services", default=False)
    habilitee_aidants_connect = models.BooleanField("habilitée Aidants Connect", default=False)
    distributeur_pass = models.BooleanField("distributrice de Pass numériques", default=False)
    lieu_qualifie_pass = models.BooleanField("lieu qualifié Pass numérique", default=False)
    reseau_aidants = models.BooleanField("membre du réseau des aidants", default=False)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    history = HistoricalRecords()

    ROLE_FIELDS = (
        "accueille_conseillers",
        "france_services",
        "habilitee_aidants_connect",
        "distributeur_pass",
        "lieu_qualifie_pass",
        "reseau_aidants",
    )

    class Meta:
        verbose_name = "structure"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(siret__isnull=False) | Q(rna__isnull=False),
                name="structure_has_siret_or_rna",
                violation_error_message="Renseignez le SIRET, ou le numéro RNA pour une association sans SIRET.",
            ),
            models.CheckConstraint(
                condition=Q(siret__isnull=True) | Q(siret__regex=r"^[0-9]{14}$"),
                name="structure_siret_14_digits",
                violation_error_message="Le SIRET compte exactement 14 chiffres.",
            ),
            models.CheckConstraint(
                condition=Q(rna__isnull=True) | Q(rna__regex=r"^W[0-9]{9}$"),
                name="structure_rna_format",
                violation_error_message="Le numéro RNA s'écrit W suivi de 9 chiffres.",
            ),
            models.CheckConstraint(
                condition=Q(phase__in=[1, 2]),
                name="structure_phase_1_or_2",
                violation_error_message="La phase du programme est 1 ou 2.",
            ),
        ]
        indexes = [models.Index(fields=["commune", "nom"])]

    def __str__(self):
        return self.nom

    @property
    def identifiant(self):
        return self.siret or self.rna

    @property
    def roles_display(self):
        return [self._meta.get_field(name).verbose_name for name in self.ROLE_FIELDS if getattr(self, name)]


class Membership(models.Model):
    """A user's role in a structure. Sicoval staff need none: they are territory-wide (``User.is_staff``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    created_at = models.DateTimeField("depuis le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "rôle dans une structure"
        verbose_name_plural = "rôles dans les structures"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure", "role"],
                name="membership_unique_role",
                violation_error_message="Cette personne a déjà ce rôle dans la structure.",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.structure}"


class Lieu(models.Model):
    """A place of digital mediation, with every field of the national standard "Lieux de médiation numérique"
    v1.0.2. Multi-valued fields hold the standard's values verbatim."""

    uuid = models.UUIDField("identifiant", default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="lieux")
    pivot = models.CharField(
        "SIRET de l'établissement",
        max_length=14,
        blank=True,
        validators=[validate_siret],
        help_text="À renseigner si le lieu a son propre SIRET ; sinon celui de la structure est utilisé.",
    )
    nom = models.CharField("nom", max_length=255)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="lieux")
    code_postal = models.CharField("code postal", max_length=5, validators=[code_postal_validator])
    adresse = models.CharField("adresse", max_length=255)
    complement_adresse = models.CharField("complément d'adresse", max_length=255, blank=True)
    latitude = models.DecimalField(
        "latitude",
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        "longitude",
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    typologie = ChoiceListField("typologie", item_choices=choices.TYPOLOGIES)
    telephone = models.CharField("téléphone", max_length=15, blank=True, validators=[telephone_validator])
    courriels = models.JSONField("courriels", default=list, blank=True)
    site_web = models.JSONField("sites web", default=list, blank=True)
    horaires = models.CharField(
        "horaires",
        max_length=500,
        blank=True,
        validators=[validate_horaires],
        help_text="Format OpenStreetMap, par exemple « Mo-Fr 09:00-12:00,14:00-18:30; Sa 09:00-12:00 ».",
    )
    presentation_resume = models.CharField("présentation courte", max_length=280, blank=True)
    presentation_detail = models.TextField("présentation détaillée", blank=True)
    source = models.CharField("source", max_length=200, blank=True)
    id_source = models.CharField(
        "identifiant chez le producteur",
        max_length=100,
        blank=True,
        db_index=True,
        help_text="L'« id » du lieu dans le fichier importé (cartographie nationale ou autre producteur).",
    )
    itinerance = models.CharField(
        "itinérance", max_length=10, choices=choices.Itinerance.choices, default=choices.Itinerance.FIXE
    )
    structure_parente = models.CharField("structure parente", max_length=255, blank=True)
    services = ChoiceListField("services", item_choices=choices.SERVICES, blank=False)
    publics_specifiquement_adresses = ChoiceListField(
        "publics spécifiquement adressés", item_choices=choices.PUBLICS_SPECIFIQUEMENT_ADRESSES
    )
    prise_en_charge_specifique = ChoiceListField(
        "prise en charge spécifique", item_choices=choices.PRISE_EN_CHARGE_SPECIFIQUE
    )
    frais_a_charge = ChoiceListField("frais à charge", item_choices=choices.FRAIS_A_CHARGE)
    dispositif_programmes_nationaux = ChoiceListField(
        "dispositifs et programmes nationaux", item_choices=choices.DISPOSITIF_PROGRAMMES_NATIONAUX
    )
    formations_labels = ChoiceListField("formations et labels", item_choices=choices.FORMATIONS_LABELS)
    autres_formations_labels = models.CharField("autres formations et labels", max_length=500, blank=True)
    modalites_acces = ChoiceListField("modalités d'accès", item_choices=choices.MODALITES_ACCES)
    modalites_accompagnement = ChoiceListField(
        "modalités d'accompagnement", item_choices=choices.MODALITES_ACCOMPAGNEMENT
    )
    fiche_acces_libre = models.URLField("fiche Acceslibre", blank=True)
    prise_rdv = models.URLField("prise de rendez-vous en ligne", blank=True)
    is_active = models.BooleanField("publié", default=True, help_text="Un lieu retiré n'est plus publié.")
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "lieu"
        verbose_name_plural = "lieux"
        ordering = ["commune__nom", "nom"]
        indexes = [models.Index(fields=["is_active", "commune"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="lieu_coordinates_both_or_none",
                violation_error_message="Renseignez la latitude et la longitude, ou aucune des deux.",
            ),
        ]

    def __str__(self):
        return self.nom

    @property
    def is_itinerant(self):
        return self.itinerance == choices.Itinerance.ITINERANT

    @property
    def is_free(self):
        return "Gratuit" in self.frais_a_charge


class ArretItinerant(models.Model):
    """A dated stop of an itinerant place (the bus numérique) in a commune."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lieu = models.ForeignKey(Lieu, on_delete=models.CASCADE, related_name="arrets")
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="arrets_itinerants")
    emplacement = models.CharField("emplacement", max_length=255, help_text="Par exemple : parking de la mairie.")
    date = models.DateField("date")
    heure_debut = models.TimeField("début")
    heure_fin = models.TimeField("fin")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "arrêt itinérant"
        verbose_name_plural = "arrêts itinérants"
        ordering = ["date", "heure_debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(heure_fin__gt=models.F("heure_debut")),
                name="arret_fin_after_debut",
                violation_error_message="L'heure de fin doit suivre l'heure de début.",
            ),
            models.UniqueConstraint(
                fields=["lieu", "date", "heure_debut"],
                name="arret_unique_start",
                violation_error_message="Un arrêt commence déjà à cette heure ce jour-là.",
            ),
        ]

    def __str__(self):
        return f"{self.lieu} — {self.commune} le {self.date:%d/%m/%Y}"
