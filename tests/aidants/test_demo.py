"""The aidants' demo: valid data through the services, the rules held, idempotent."""

import pytest
from django.core.management import call_command

from aidants.models import Aidant, DemandeHabilitation, FormationAidant, StatutHabilitation

pytestmark = pytest.mark.django_db


def counts():
    return {model.__name__: model.objects.count() for model in (Aidant, FormationAidant, DemandeHabilitation)}


def test_aidants_demo_is_valid_and_idempotent():
    call_command("load_demo", "--force")
    first = counts()
    assert first["Aidant"] == 8
    habilites = Aidant.objects.filter(habilite_aidants_connect=True).select_related("structure")
    assert habilites.count() == 2
    for aidant in habilites:
        assert aidant.type == "professionnel" and aidant.structure.habilitee_aidants_connect
        assert aidant.formations.filter(type__startswith="aidants_connect").exists()
    assert (
        Aidant.objects.get(user__email="aidant@sicoval-numerique.example").structure.nom == "CCAS de Castanet-Tolosan"
    )
    demande = DemandeHabilitation.objects.get()
    assert demande.statut == StatutHabilitation.EN_ATTENTE and not demande.structure.habilitee_aidants_connect
    for model in (Aidant, FormationAidant, DemandeHabilitation):
        for instance in model.objects.all():
            instance.full_clean()
    call_command("load_demo", "--force")
    assert counts() == first
