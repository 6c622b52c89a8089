"""Who may change what, enforced by the services themselves (every caller: views, admin actions, API, commands)."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Role
from structures import services
from structures.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def test_referent_updates_contacts_of_their_structure(structure, referent):
    services.structure_update(structure=structure, by=referent, contact_nom="Accueil numérique")

    structure.refresh_from_db()
    assert structure.contact_nom == "Accueil numérique"


@pytest.mark.parametrize(
    ("field", "value"), [("france_services", True), ("qpv", True), ("phase", 2), ("type_juridique", "association")]
)
def test_referent_cannot_change_official_fields(structure, referent, field, value):
    before = getattr(structure, field)

    with pytest.raises(PermissionDenied, match="Seule l'équipe Sicoval"):
        services.structure_update(structure=structure, by=referent, **{field: value})

    structure.refresh_from_db()
    assert getattr(structure, field) == before


def test_referent_may_resubmit_official_fields_unchanged(structure, referent):
    services.structure_update(structure=structure, by=referent, siret=structure.siret, nom="Mairie rénovée")

    structure.refresh_from_db()
    assert structure.nom == "Mairie rénovée"


def test_referent_cannot_update_another_structure(referent):
    other = factories.StructureFactory()

    with pytest.raises(PermissionDenied):
        services.structure_update(structure=other, by=referent, contact_nom="Intrus")


def test_staff_changes_official_fields(structure, staff_user):
    services.structure_update(structure=structure, by=staff_user, france_services=True)

    structure.refresh_from_db()
    assert structure.france_services is True


def test_referent_adds_a_conseiller_to_their_structure(structure, referent):
    newcomer = factories.UserFactory()

    services.membership_add(structure=structure, user=newcomer, role=Role.CONSEILLER, by=referent)

    assert Membership.objects.filter(structure=structure, user=newcomer, role=Role.CONSEILLER).exists()


def test_referent_cannot_grant_the_funder_role(structure, referent):
    with pytest.raises(PermissionDenied):
        services.membership_add(structure=structure, user=referent, role=Role.FINANCEUR, by=referent)

    assert not Membership.objects.filter(role=Role.FINANCEUR).exists()


def test_referent_cannot_add_members_to_another_structure(referent):
    other = factories.StructureFactory()

    with pytest.raises(PermissionDenied):
        services.membership_add(structure=other, user=referent, role=Role.REFERENT, by=referent)

    assert not Membership.objects.filter(structure=other).exists()


def test_referent_cannot_remove_a_funder(structure, referent):
    funder = factories.MembershipFactory(structure=structure, role=Role.FINANCEUR)

    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=funder, by=referent)

    assert Membership.objects.filter(pk=funder.pk).exists()


def test_staff_grants_the_funder_role(structure, staff_user):
    funder = factories.UserFactory()

    services.membership_add(structure=structure, user=funder, role=Role.FINANCEUR, by=staff_user)

    assert Membership.objects.filter(user=funder, role=Role.FINANCEUR).exists()
