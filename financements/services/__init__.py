"""Every write on funders, agreements, funding lines, instalments and repayments.

Money is Sicoval staff's business: each service refuses anyone else (PermissionDenied), validates with French
messages keyed by field (ValidationError), owns its transaction, locks the parent row before summing its children
(PostgreSQL refuses ``FOR UPDATE`` with aggregates) and records the acting user in the history.

The services live in one module per lifecycle; import them from this package.
"""

from ._common import CENT, CLOSED, PAYABLE, STATUT_TRANSITIONS, ZERO, Statut, euros
from .avoirs import avoir_record
from .baremes import bareme_for, is_outre_mer
from .conventions import (
    CONVENTION_EDITABLE_FIELDS,
    CONVENTION_FIELDS_FIXED_BY_LINES,
    convention_change_statut,
    convention_create,
    convention_sign,
    convention_update,
    financeur_create,
    financeur_update,
)
from .lignes import ligne_create, ligne_update
from .versements import versement_plan, versement_record, versements_plan_v2

__all__ = [
    "CENT",
    "ZERO",
    "Statut",
    "STATUT_TRANSITIONS",
    "CLOSED",
    "PAYABLE",
    "euros",
    "financeur_create",
    "financeur_update",
    "CONVENTION_EDITABLE_FIELDS",
    "CONVENTION_FIELDS_FIXED_BY_LINES",
    "convention_create",
    "convention_update",
    "convention_sign",
    "convention_change_statut",
    "is_outre_mer",
    "bareme_for",
    "ligne_create",
    "ligne_update",
    "versement_plan",
    "versement_record",
    "versements_plan_v2",
    "avoir_record",
]
