"""Avenant requests and their decision."""

from django.core.exceptions import ValidationError
from django.db import transaction

from conseillers import choices
from conseillers.choices import EtatPoste
from conseillers.models import Avenant, Poste
from structures.models import Structure

from ._common import _require_staff, _require_structure_editor, _save

PENDING_AVENANT = "Cette structure a déjà une demande d'avenant en cours."


@transaction.atomic
def avenant_request(*, structure, type, typologie, nombre_postes, date_demande, motif="", by):
    """Ask to add posts (not in phase 1) or return some (no more than the structure's non-returned posts of that
    typology). One pending request per structure: the structure's row is locked, and a constraint backs it."""
    _require_structure_editor(by, structure, "Vous ne pouvez demander un avenant que pour votre structure.")
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if Avenant.objects.filter(structure=structure, statut=choices.StatutAvenant.EN_COURS).exists():
        raise ValidationError(PENDING_AVENANT, code="pending")
    if nombre_postes is None or nombre_postes < 1:
        raise ValidationError({"nombre_postes": "Un avenant porte sur au moins un poste."})
    if type == choices.TypeAvenant.AJOUT and structure.phase == 1:
        raise ValidationError(
            {"type": "Une structure de la phase 1 ne peut pas demander d'ajout de postes."}, code="phase_1"
        )
    if type == choices.TypeAvenant.RETRAIT:
        held = Poste.objects.filter(structure=structure, typologie=typologie).exclude(etat=EtatPoste.RENDU).count()
        if nombre_postes > held:
            label = choices.Typologie(typologie).label.lower()
            raise ValidationError(
                {
                    "nombre_postes": f"La structure n'a que {held} poste(s) de {label} non rendu(s) : "
                    f"elle ne peut pas en retirer {nombre_postes}."
                },
                code="too_many",
            )
    avenant = Avenant(
        structure=structure,
        type=type,
        typologie=typologie,
        nombre_postes=nombre_postes,
        date_demande=date_demande,
        motif=motif,
    )
    return _save(avenant, by, conflict=PENDING_AVENANT)


@transaction.atomic
def avenant_decide(*, avenant, statut, date, by):
    """Validate or refuse a pending request (Sicoval staff). Posts themselves change through the post services."""
    _require_staff(by, "tranche les demandes d'avenant")
    avenant = Avenant.objects.select_for_update().get(pk=avenant.pk)
    if avenant.statut != choices.StatutAvenant.EN_COURS:
        raise ValidationError("Cette demande a déjà été tranchée.", code="decided")
    if statut not in {choices.StatutAvenant.VALIDEE, choices.StatutAvenant.REFUSEE}:
        raise ValidationError({"statut": "Une demande se valide ou se refuse."})
    if date is None or date < avenant.date_demande:
        raise ValidationError({"date_decision": "La décision ne peut pas précéder la demande."})
    avenant.statut = statut
    avenant.date_decision = date
    return _save(avenant, by)
