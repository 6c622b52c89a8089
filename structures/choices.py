"""National codes of the programme, stored verbatim (see shared DOMAIN.md), with French labels for display."""

from django.db import models


class TypeJuridique(models.TextChoices):
    COMMUNE = "commune", "Commune"
    EPCI = "epci", "EPCI"
    DEPARTEMENT = "departement", "Département"
    CCAS_CIAS = "ccas_cias", "CCAS / CIAS"
    MEDIATHEQUE = "mediatheque", "Médiathèque"
    FRANCE_SERVICES = "france_services", "France Services"
    ASSOCIATION = "association", "Association (loi 1901)"
    ENTREPRISE_ESS = "entreprise_ess", "Entreprise de l'ESS"
    AUTRE = "autre", "Autre"


PUBLIC_TYPES = {
    TypeJuridique.COMMUNE,
    TypeJuridique.EPCI,
    TypeJuridique.DEPARTEMENT,
    TypeJuridique.CCAS_CIAS,
    TypeJuridique.MEDIATHEQUE,
    TypeJuridique.FRANCE_SERVICES,
}


class Secteur(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVE = "prive", "Privé"


class Phase(models.IntegerChoices):
    PHASE_1 = 1, "Phase 1 (collectivités et organismes publics)"
    PHASE_2 = 2, "Phase 2 (associations et structures privées)"


class StatutCandidature(models.TextChoices):
    CREEE = "CREEE", "Non traitée"
    EXAMEN_COMPLEMENTAIRE_COSELEC = "EXAMEN_COMPLEMENTAIRE_COSELEC", "Examen complémentaire en comité de sélection"
    VALIDATION_COSELEC = "VALIDATION_COSELEC", "Validée"
    REFUS_COSELEC = "REFUS_COSELEC", "Refusée en comité de sélection"
    REFUS_COORDINATEUR = "REFUS_COORDINATEUR", "Refusée par le coordinateur"
    ABANDON = "ABANDON", "Abandon"
    ANNULEE = "ANNULEE", "Annulée"
    DOUBLON = "DOUBLON", "Doublon"


# Allowed transitions of the candidature status. Refusals and abandons may be reopened as a new candidature;
# a cancelled candidature or a duplicate is final.
STATUT_TRANSITIONS = {
    StatutCandidature.CREEE: {
        StatutCandidature.EXAMEN_COMPLEMENTAIRE_COSELEC,
        StatutCandidature.VALIDATION_COSELEC,
        StatutCandidature.REFUS_COSELEC,
        StatutCandidature.REFUS_COORDINATEUR,
        StatutCandidature.ABANDON,
        StatutCandidature.ANNULEE,
        StatutCandidature.DOUBLON,
    },
    StatutCandidature.EXAMEN_COMPLEMENTAIRE_COSELEC: {
        StatutCandidature.VALIDATION_COSELEC,
        StatutCandidature.REFUS_COSELEC,
        StatutCandidature.ABANDON,
        StatutCandidature.ANNULEE,
        StatutCandidature.DOUBLON,
    },
    StatutCandidature.VALIDATION_COSELEC: {StatutCandidature.ABANDON, StatutCandidature.ANNULEE},
    StatutCandidature.REFUS_COSELEC: {StatutCandidature.CREEE},
    StatutCandidature.REFUS_COORDINATEUR: {StatutCandidature.CREEE},
    StatutCandidature.ABANDON: {StatutCandidature.CREEE},
    StatutCandidature.ANNULEE: set(),
    StatutCandidature.DOUBLON: set(),
}


class Conventionnement(models.TextChoices):
    NON_INTERESSE = "NON_INTERESSÉ", "Non intéressée"
    CONVENTIONNEMENT_EN_COURS = "CONVENTIONNEMENT_EN_COURS", "Conventionnement en cours"
    CONVENTIONNEMENT_VALIDE = "CONVENTIONNEMENT_VALIDÉ", "Conventionnement validé"
    CONVENTIONNEMENT_VALIDE_PHASE_2 = "CONVENTIONNEMENT_VALIDÉ_PHASE_2", "Conventionnement validé (phase 2)"
    RECONVENTIONNEMENT_INITIE = "RECONVENTIONNEMENT_INITIÉ", "Reconventionnement initié"
    RECONVENTIONNEMENT_EN_COURS = "RECONVENTIONNEMENT_EN_COURS", "Reconventionnement en cours"
    RECONVENTIONNEMENT_VALIDE = "RECONVENTIONNEMENT_VALIDÉ", "Reconventionnement validé"
    RECONVENTIONNEMENT_REFUSE = "RECONVENTIONNEMENT_REFUSÉ", "Reconventionnement refusé"


# Allowed transitions of the agreement status. Only a structure whose candidature is validated may enter the
# agreement process (checked by the service).
CONVENTIONNEMENT_TRANSITIONS = {
    Conventionnement.NON_INTERESSE: {Conventionnement.CONVENTIONNEMENT_EN_COURS},
    Conventionnement.CONVENTIONNEMENT_EN_COURS: {
        Conventionnement.CONVENTIONNEMENT_VALIDE,
        Conventionnement.CONVENTIONNEMENT_VALIDE_PHASE_2,
        Conventionnement.NON_INTERESSE,
    },
    Conventionnement.CONVENTIONNEMENT_VALIDE: {
        Conventionnement.CONVENTIONNEMENT_VALIDE_PHASE_2,
        Conventionnement.RECONVENTIONNEMENT_INITIE,
    },
    Conventionnement.CONVENTIONNEMENT_VALIDE_PHASE_2: {Conventionnement.RECONVENTIONNEMENT_INITIE},
    Conventionnement.RECONVENTIONNEMENT_INITIE: {
        Conventionnement.RECONVENTIONNEMENT_EN_COURS,
        Conventionnement.NON_INTERESSE,
    },
    Conventionnement.RECONVENTIONNEMENT_EN_COURS: {
        Conventionnement.RECONVENTIONNEMENT_VALIDE,
        Conventionnement.RECONVENTIONNEMENT_REFUSE,
    },
    Conventionnement.RECONVENTIONNEMENT_VALIDE: {Conventionnement.RECONVENTIONNEMENT_INITIE},
    Conventionnement.RECONVENTIONNEMENT_REFUSE: set(),
}


# --- The national standard "Lieux de médiation numérique" v1.0.2: its values are stored verbatim. ------------
class Itinerance(models.TextChoices):
    FIXE = "Fixe", "Fixe"
    ITINERANT = "Itinérant", "Itinérant"


def _same(*values):
    return [(value, value) for value in values]


TYPOLOGIES = [  # the data·inclusion vocabulary of structure types, the subset met in digital mediation
    ("ASSO", "Association"),
    ("BIB", "Bibliothèque / médiathèque"),
    ("CCAS", "Centre communal d'action sociale"),
    ("CIAS", "Centre intercommunal d'action sociale"),
    ("CS", "Centre social"),
    ("DEPT", "Services sociaux du département"),
    ("EPCI", "Intercommunalité"),
    ("EPN", "Espace public numérique"),
    ("ESS", "Structure de l'économie sociale et solidaire"),
    ("FABLAB", "Fablab"),
    ("FT", "France Travail"),
    ("MDS", "Maison départementale des solidarités"),
    ("MJC", "Maison des jeunes et de la culture"),
    ("MUNI", "Mairie / services municipaux"),
    ("PIJ_BIJ", "Point / bureau information jeunesse"),
    ("PIMMS", "Point information médiation multi-services"),
    ("RFS", "France Services"),
    ("TIERS_LIEUX", "Tiers-lieu"),
    ("AUTRE", "Autre"),
]

SERVICES = _same(
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)
PUBLICS_SPECIFIQUEMENT_ADRESSES = _same("Jeunes", "Étudiants", "Familles et/ou enfants", "Seniors", "Femmes")
PRISE_EN_CHARGE_SPECIFIQUE = _same(
    "Surdité",
    "Handicaps moteurs",
    "Handicaps mentaux",
    "Illettrisme",
    "Langues étrangères (anglais)",
    "Langues étrangères (autres)",
    "Déficience visuelle",
)
FRAIS_A_CHARGE = _same("Gratuit", "Gratuit sous condition", "Payant")
DISPOSITIF_PROGRAMMES_NATIONAUX = _same(
    "Aidants Connect",
    "Bibliothèques numérique de référence",
    "Certification PIX",
    "Conseillers numériques",
    "Emmaüs Connect",
    "France Services",
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
)
FORMATIONS_LABELS = _same(
    "Formé à « Mon Espace Santé »",
    "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)",
    "Étapes numériques(La Poste)",
    "Fabriques de Territoire",
    "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)",
    "ORDI 3.0",
    "SUD LABS (PACA)",
)
MODALITES_ACCES = _same(
    "Se présenter",
    "Téléphoner",
    "Contacter par mail",
    "Prendre un RDV en ligne",
    "Ce lieu n'accueille pas de public",
    "Envoyer un mail avec une fiche de prescription",
)
MODALITES_ACCOMPAGNEMENT = _same(
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
)
