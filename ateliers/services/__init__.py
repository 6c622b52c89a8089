"""Every write of the workshops: registrations (``inscriptions``), planning (``planning``), attendance (``appel``)
and the Pass numérique (``pass_numerique``)."""

from .inscriptions import (
    cancel_token,
    cle_personne,
    inscription_cancel,
    inscription_create,
    inscription_from_token,
    inscription_move,
    places_restantes,
)
from .permissions import can_manage_atelier, can_manage_seance, require_atelier_manager, require_seance_manager

__all__ = [
    "can_manage_atelier",
    "can_manage_seance",
    "cancel_token",
    "cle_personne",
    "inscription_cancel",
    "inscription_create",
    "inscription_from_token",
    "inscription_move",
    "places_restantes",
    "require_atelier_manager",
    "require_seance_manager",
]

from .pass_numerique import (
    carnet_remettre,
    carnets_attribuer,
    commande_create,
    pass_annuler,
    pass_rembourser,
    pass_utiliser,
    passes_expirer,
)

__all__ += [
    "carnet_remettre",
    "carnets_attribuer",
    "commande_create",
    "pass_annuler",
    "pass_rembourser",
    "pass_utiliser",
    "passes_expirer",
]

from .appel import (  # noqa: E402
    animateur_conseiller,
    appel_cloturer,
    appel_enregistrer,
    appel_ouvert,
    participant_sur_place_add,
)
from .planning import (  # noqa: E402
    atelier_create,
    atelier_update,
    seance_cancel,
    seance_create,
    seance_update,
    seances_create_serie,
    seats_taken,
)

__all__ += [
    "animateur_conseiller",
    "appel_cloturer",
    "appel_enregistrer",
    "appel_ouvert",
    "atelier_create",
    "atelier_update",
    "participant_sur_place_add",
    "seance_cancel",
    "seance_create",
    "seance_update",
    "seances_create_serie",
    "seats_taken",
]
