"""Every write of the activity log: record, correct, duplicate and delete activities (``activites``); follow a
beneficiary (``beneficiaires``); share figures (``partages``). Each service validates with French messages, runs in
one transaction and keeps the history's author."""

from .activites import (
    ACTIVITE_FIELDS,
    MAX_PARTICIPANTS,
    Participants,
    activite_create,
    activite_delete,
    activite_update,
    conseiller_of,
    employeur,
    participants_of,
)
from .beneficiaires import (
    BENEFICIAIRE_FIELDS,
    beneficiaire_create,
    beneficiaire_update,
    beneficiaires_similaires,
    normalise_telephone,
)
from .partages import partage_create, partage_revoke

__all__ = [
    "ACTIVITE_FIELDS",
    "BENEFICIAIRE_FIELDS",
    "MAX_PARTICIPANTS",
    "Participants",
    "activite_create",
    "activite_delete",
    "activite_update",
    "beneficiaire_create",
    "beneficiaire_update",
    "beneficiaires_similaires",
    "conseiller_of",
    "employeur",
    "normalise_telephone",
    "participants_of",
    "partage_create",
    "partage_revoke",
]
