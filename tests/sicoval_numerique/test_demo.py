"""The demo of `make run`: real Sicoval communes, valid data, one login per role, and idempotent."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from sicoval_numerique.demo import DEMO_PASSWORD
from structures import lieux_standard
from structures.models import ArretItinerant, Commune, Lieu, Membership, Structure
from structures.selectors import communes_territoire, lieux_publics

pytestmark = pytest.mark.django_db


def counts():
    models = (Structure, Lieu, ArretItinerant, User, Membership, Commune)
    return {model.__name__: model.objects.count() for model in models}


def test_demo_loads_the_sicoval_with_one_login_per_role(capsys):
    call_command("load_demo", "--force")

    output = capsys.readouterr().out
    assert communes_territoire().count() == 36
    assert Structure.objects.filter(nom="Communauté d'agglomération du Sicoval").exists()
    assert Lieu.objects.filter(itinerance="Itinérant").get().arrets.count() > 0
    assert User.objects.get(email="coordination@sicoval-numerique.example").is_staff
    for role in Role:
        assert Membership.objects.filter(role=role).exists(), role
    for user in User.objects.all():
        assert user.check_password(DEMO_PASSWORD)
        assert user.email in output
    assert DEMO_PASSWORD in output


def test_demo_twice_changes_nothing():
    call_command("load_demo", "--force")
    first = counts()
    call_command("load_demo", "--force")
    assert counts() == first


def test_demo_data_passes_model_validation_and_the_national_standard():
    call_command("load_demo", "--force")

    for model in (Structure, Lieu, ArretItinerant):
        for instance in model.objects.all():
            instance.full_clean()
    assert lieux_standard.validate_rows(lieux_standard.rows(lieux_publics())) == []


def test_demo_is_refused_outside_debug_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")
    assert Structure.objects.count() == 0
