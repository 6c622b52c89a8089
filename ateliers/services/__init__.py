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
