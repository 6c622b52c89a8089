from django.db import models


class TypeFinanceur(models.TextChoices):
    ETAT = "etat", "État (ANCT, DGCL, préfecture)"
    DEPARTEMENT = "departement", "Département"
    REGION = "region", "Région"
    EPCI = "epci", "Intercommunalité"
    COMMUNE = "commune", "Commune"
    ORGANISME_SOCIAL = "organisme_social", "Organisme de protection sociale (CAF, AG2R…)"
    AUTRE = "autre", "Autre"


class Enveloppe(models.TextChoices):
    V1 = "V1", "Conventionnement initial (V1)"
    V2 = "V2", "Reconventionnement (V2)"
    COFINANCEMENT = "cofinancement", "Cofinancement local"


class StatutConvention(models.TextChoices):
    EN_PREPARATION = "en_preparation", "En préparation"
    SIGNEE = "signee", "Signée"
    SOLDEE = "soldee", "Soldée"
    RESILIEE = "resiliee", "Résiliée"


class Secteur(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVE = "prive", "Privé"


class MotifAvoir(models.TextChoices):
    NON_JUSTIFIE = "non_justifie", "Dépenses non justifiées"
    RUPTURE = "rupture", "Rupture de contrat"
    VACANCE = "vacance", "Poste vacant"
    TROP_PERCU = "trop_percu", "Trop-perçu"
    AUTRE = "autre", "Autre"
