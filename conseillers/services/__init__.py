"""Every write on posts, conseillers, recruitment, contracts, training and avenants.

Each service checks the actor, validates with French messages, owns its transaction, takes the locks it needs and
records the acting user in the history. ``Poste.structure`` and ``Poste.etat`` are caches of the dated attachments
and assignments: they change here only, in the same transaction as those rows.

Who writes: Sicoval staff, everything; a structure's référent, the conseillers of their structure, their
recruitment records, contracts on the posts attached to their structure, trainings of their conseillers and avenant
requests; nobody else.

The services live in one module per lifecycle; import them from this package.
"""

from .avenants import PENDING_AVENANT, avenant_decide, avenant_request
from .contrats import CONTRAT_FIELDS, contrat_check, contrat_create, contrat_rupture, contrat_update
from .formations import TITRE_MN_SINCE, formation_add, formation_check
from .postes import COSELEC_AFTER_ATTRIBUTION, poste_assign, poste_create, poste_move, poste_release, poste_return
from .recrutement import (
    CONSEILLER_FIELDS,
    CONSEILLER_STAFF_ONLY_FIELDS,
    conseiller_create,
    conseiller_update,
    mise_en_relation_create,
    mise_en_relation_transition,
)

__all__ = [
    "COSELEC_AFTER_ATTRIBUTION",
    "poste_create",
    "poste_move",
    "poste_assign",
    "poste_release",
    "poste_return",
    "CONSEILLER_FIELDS",
    "CONSEILLER_STAFF_ONLY_FIELDS",
    "conseiller_create",
    "conseiller_update",
    "mise_en_relation_create",
    "mise_en_relation_transition",
    "CONTRAT_FIELDS",
    "contrat_check",
    "contrat_create",
    "contrat_update",
    "contrat_rupture",
    "TITRE_MN_SINCE",
    "formation_check",
    "formation_add",
    "PENDING_AVENANT",
    "avenant_request",
    "avenant_decide",
]
