"""National codes of posts, recruitment, contracts, training and avenants, stored verbatim (shared DOMAIN.md)."""

from django.db import models


class Typologie(models.TextChoices):
    CONUM = "conum", "Conseiller numérique"
    COORDO = "coordo", "Coordinateur"


class EtatPoste(models.TextChoices):
    VACANT = "vacant", "Vacant"
    OCCUPE = "occupe", "Occupé"
    RENDU = "rendu", "Rendu"


class StatutMiseEnRelation(models.TextChoices):
    NOUVELLE = "nouvelle", "Nouvelle candidature"
    INTERESSEE = "interessee", "Présélectionnée"
    NON_INTERESSEE = "nonInteressee", "Non retenue"
    RECRUTEE = "recrutee", "Recrutement validé"
    FINALISEE = "finalisee", "En poste"
    NOUVELLE_RUPTURE = "nouvelle_rupture", "Rupture demandée"
    FINALISEE_RUPTURE = "finalisee_rupture", "Rupture actée"
    RENOUVELLEMENT_INITIEE = "renouvellement_initiee", "Renouvellement initié"
    TERMINEE = "terminee", "Terminée"
    TERMINEE_NATURELLE = "terminee_naturelle", "Terminée (fin de contrat)"


S = StatutMiseEnRelation
MISE_EN_RELATION_TRANSITIONS = {
    S.NOUVELLE: {S.INTERESSEE, S.NON_INTERESSEE},
    S.INTERESSEE: {S.RECRUTEE, S.NON_INTERESSEE},
    S.NON_INTERESSEE: {S.INTERESSEE},
    S.RECRUTEE: {S.FINALISEE, S.TERMINEE},
    S.FINALISEE: {S.NOUVELLE_RUPTURE, S.RENOUVELLEMENT_INITIEE, S.TERMINEE, S.TERMINEE_NATURELLE},
    S.NOUVELLE_RUPTURE: {S.FINALISEE_RUPTURE, S.FINALISEE},
    S.RENOUVELLEMENT_INITIEE: {S.FINALISEE, S.TERMINEE_NATURELLE},
    S.FINALISEE_RUPTURE: set(),
    S.TERMINEE: set(),
    S.TERMINEE_NATURELLE: set(),
}
# Statuses that hold one of the posts granted to the structure.
STATUTS_RECRUTES = {S.RECRUTEE, S.FINALISEE, S.NOUVELLE_RUPTURE, S.RENOUVELLEMENT_INITIEE}


class TypeContrat(models.TextChoices):
    CDI = "CDI", "CDI"
    CDD = "CDD", "CDD"
    PEC = "PEC", "Parcours emploi compétences (PEC)"
    CONTRAT_DE_PROJET_PUBLIC = "contrat_de_projet_public", "Contrat de projet (fonction publique)"


class MotifRupture(models.TextChoices):
    LICENCIEMENT = "licenciement", "Licenciement"
    NON_RECONDUCTION_CDD = "nonReconductionCDD", "Non-reconduction du CDD"
    DEMISSION = "demission", "Démission"
    CDISATION = "CDIsation", "CDIsation"
    FIN_DE_SUBVENTIONNEMENT = "FinDeSubventionnement", "Fin de subventionnement"


class TypeFormation(models.TextChoices):
    INITIALE = "initiale", "Certification initiale"
    CONTINUE = "continue", "Module de formation continue"


class Certification(models.TextChoices):
    CCP1 = "CCP1", "CCP1"
    CCP2 = "CCP2", "CCP2"
    CCP2_CCP3 = "CCP2 & CCP3", "CCP2 & CCP3"


class Titre(models.TextChoices):
    REMN = "REMN", "Responsable d'espace de médiation numérique"
    MN = "MN", "Médiateur numérique (depuis le 13/07/2025)"


PARCOURS_HEURES = [(h, f"{h} heures") for h in (70, 105, 175, 280, 315, 350, 420)]


class TypeAvenant(models.TextChoices):
    AJOUT = "ajout", "Ajout de postes"
    RETRAIT = "retrait", "Retrait (rendu) de postes"


class StatutAvenant(models.TextChoices):
    EN_COURS = "en_cours", "En cours"
    VALIDEE = "validee", "Validée"
    REFUSEE = "refusee", "Refusée"
