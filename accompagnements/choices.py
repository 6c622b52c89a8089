"""The national activity-log vocabulary (La Coop de la médiation numérique), read from the bundled fixture.

Codes are stored verbatim; labels are the national tool's. See ``fixtures/PROVENANCE.md``.
"""

import json
from pathlib import Path

VOCABULAIRE = json.loads((Path(__file__).parent / "fixtures" / "coop_cra_vocabulaire.json").read_text("utf-8"))


def _choices(key):
    return list(VOCABULAIRE[key].items())


TYPE_ACTIVITE = _choices("type_activite")
INDIVIDUEL, COLLECTIF = "individuel", "collectif"

TYPE_LIEU = _choices("type_lieu")
LIEU_ACTIVITE, DOMICILE, A_DISTANCE, AUTRE_LIEU = "lieu_activite", "domicile", "a_distance", "autre"

THEMATIQUES_GENERALES = _choices("thematiques")
THEMATIQUES_ADMINISTRATIVES = _choices("thematiques_administratives")
THEMATIQUES = THEMATIQUES_GENERALES + THEMATIQUES_ADMINISTRATIVES
AIDE_DEMARCHES = "aide_aux_demarches_administratives"
CODES_ADMINISTRATIFS = frozenset(code for code, _label in THEMATIQUES_ADMINISTRATIVES)
THEMATIQUE_LABELS = dict(THEMATIQUES)

MATERIEL = _choices("materiel")
AUCUN_MATERIEL = "aucun"
AUTONOMIE = _choices("autonomie")
STRUCTURE_REDIRECTION = _choices("structure_de_redirection")
NIVEAU_ATELIER = _choices("niveau_atelier")

NON_COMMUNIQUE = "non_communique"
GENRE = _choices("genre")
TRANCHE_AGE = _choices("tranche_age")
STATUT_SOCIAL = _choices("statut_social")

# The attribute sets of a beneficiary, in the national tool's order: (field, vocabulary, label).
ATTRIBUTS_BENEFICIAIRE = (
    ("genre", GENRE, "Genre"),
    ("tranche_age", TRANCHE_AGE, "Tranche d’âge"),
    ("statut_social", STATUT_SOCIAL, "Statut"),
)

# Quick duration picks (minutes) of the national form; anything else between 1 and 480 is typed.
DUREES_RAPIDES = (15, 30, 45, 60, 90, 120)
DUREE_MAX = 480
# Duration bands of the national indicators: < 30 min, 30 min–1 h, 1–2 h, ≥ 2 h.
TRANCHES_DUREE = (
    ("moins_30", "Moins de 30 min", 0, 30),
    ("30_60", "De 30 min à 1 h", 30, 60),
    ("60_120", "De 1 h à 2 h", 60, 120),
    ("120_plus", "2 h et plus", 120, None),
)

# The stars of "Niveau d’autonomie (ou de l’atelier)" in the national export.
ETOILES = {
    "entierement_accompagne": 1,
    "partiellement_autonome": 2,
    "autonome": 3,
    "debutant": 1,
    "intermediaire": 2,
    "avance": 3,
}


class Source:
    """Where an activity was recorded: typed here, or imported from the national tool (file or API)."""

    SAISIE = "saisie"
    IMPORT_COOP = "import_coop"
    API_COOP = "api_coop"
    CHOICES = [
        (SAISIE, "Saisie sur la plateforme"),
        (IMPORT_COOP, "Import d'un export de la Coop"),
        (API_COOP, "Synchronisation avec la Coop"),
    ]


EXPORT_COLONNES = VOCABULAIRE["export_activites_colonnes"]
EXPORT_COLONNES_EQUIPE = VOCABULAIRE["export_activites_colonnes_equipe"]
