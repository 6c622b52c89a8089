"""Every write of the workshops: registrations (``inscriptions``), planning (``planning``), attendance (``appel``)
and the Pass numérique (``pass_numerique``)."""

from .appel import (
    animateur_conseiller,
    appel_cloturer,
    appel_enregistrer,
    appel_ouvert,
    participant_sur_place_add,
)
from .inscriptions import (
    cancel_token,
    cle_personne,
    inscription_cancel,
    inscription_create,
    inscription_from_token,
    inscription_move,
    lock_seance,
    next_rang,
    places_restantes,
    promote_waiting,
    seats_taken,
)
from .pass_numerique import (
    carnet_remettre,
    carnets_attribuer,
    commande_create,
    pass_annuler,
    pass_rembourser,
    pass_utiliser,
    passes_expirer,
)
from .permissions import (
    can_manage_atelier,
    can_manage_seance,
    can_register_to,
    require_atelier_manager,
    require_registrar,
    require_seance_manager,
)
from .planning import (
    atelier_create,
    atelier_update,
    seance_cancel,
    seance_create,
    seance_update,
    seances_create_serie,
)
from .purge import inscriptions_purger

__all__ = [
    "inscriptions_purger",
    "animateur_conseiller",
    "appel_cloturer",
    "appel_enregistrer",
    "appel_ouvert",
    "atelier_create",
    "atelier_update",
    "can_manage_atelier",
    "can_manage_seance",
    "can_register_to",
    "cancel_token",
    "carnet_remettre",
    "carnets_attribuer",
    "cle_personne",
    "commande_create",
    "inscription_cancel",
    "inscription_create",
    "inscription_from_token",
    "inscription_move",
    "lock_seance",
    "next_rang",
    "participant_sur_place_add",
    "pass_annuler",
    "pass_rembourser",
    "pass_utiliser",
    "passes_expirer",
    "places_restantes",
    "promote_waiting",
    "require_atelier_manager",
    "require_registrar",
    "require_seance_manager",
    "seance_cancel",
    "seance_create",
    "seance_update",
    "seances_create_serie",
    "seats_taken",
]
