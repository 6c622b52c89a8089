"""The activity log in the admin: staff read activities, never their notes, and change nothing there."""

import pytest
from django.urls import reverse

from accompagnements.models import Activite
from tests import factories


@pytest.fixture
def admin_client(client, db):
    client.force_login(factories.StaffUserFactory(is_superuser=True))
    return client


def test_staff_read_activities_without_their_notes(admin_client, conseiller, record):
    activite = record(conseiller, notes="très privé")
    listing = admin_client.get(reverse("admin:accompagnements_activite_changelist"))
    assert listing.status_code == 200 and str(conseiller) in listing.content.decode()
    page = admin_client.get(reverse("admin:accompagnements_activite_change", args=[activite.pk]))
    assert page.status_code == 200
    assert "très privé" not in page.content.decode()


def test_nothing_is_changed_nor_deleted_in_the_admin(admin_client, conseiller, record):
    activite = record(conseiller)
    change = reverse("admin:accompagnements_activite_change", args=[activite.pk])
    admin_client.post(change, {"duree": 400})
    assert admin_client.post(reverse("admin:accompagnements_activite_delete", args=[activite.pk])).status_code == 403
    activite.refresh_from_db()
    assert activite.duree == 30 and Activite.objects.count() == 1
    assert admin_client.get(reverse("admin:accompagnements_activite_add")).status_code == 403
