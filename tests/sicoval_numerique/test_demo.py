"""The demo of `make run`: real Sicoval communes, valid data, one login per role, and idempotent."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Role, User
from conseillers import selectors as postes
from conseillers.models import Conseiller, Contrat, Formation, Poste
from financements import selectors as finances
from financements.models import Avoir, Convention, LigneFinancement, Versement
from reporting.models import Rapport, ResumeActivite, StatutRapport, TypeRapport
from reporting.rapports import mois_precedent
from sicoval_numerique.demo import DEMO_PASSWORD
from structures import lieux_standard
from structures.models import ArretItinerant, Commune, Lieu, Membership, Structure
from structures.selectors import communes_territoire, lieux_publics

pytestmark = pytest.mark.django_db


def counts():
    models = (
        Structure,
        Lieu,
        ArretItinerant,
        User,
        Membership,
        Commune,
        Poste,
        Conseiller,
        Contrat,
        Formation,
        Convention,
        LigneFinancement,
        Versement,
        Avoir,
        Rapport,
    )
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


def test_demo_archive_holds_last_months_report_built_from_the_summaries(capsys):
    call_command("load_demo", "--force")
    du, au = mois_precedent(timezone.localdate())
    rapport = Rapport.objects.get()
    assert (rapport.type, rapport.du, rapport.au, rapport.statut) == (TypeRapport.MENSUEL, du, au, StatutRapport.PRET)
    assert bytes(rapport.pdf).startswith(b"%PDF-") and bytes(rapport.xlsx).startswith(b"PK")
    assert ResumeActivite.objects.exists()
    assert "Rapport mensuel de démonstration" in capsys.readouterr().out


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


def test_demo_posts_people_and_money_tell_the_issue_story():
    call_command("load_demo", "--force")
    today = timezone.localdate()

    counts_today = postes.postes_counts_at(today)
    assert (counts_today["granted"], counts_today["occupied"], counts_today["vacant"]) == (6, 5, 1)
    assert Poste.objects.filter(structure__nom="Communauté d'agglomération du Sicoval").count() == 3
    assert Poste.objects.get(structure__nom="Mairie de Ramonville-Saint-Agne").rattachements.count() == 2
    assert Conseiller.objects.filter(est_coordinateur=True, coordonnes__isnull=False).distinct().count() == 1
    rupture = Contrat.objects.get(date_rupture__isnull=False)
    assert rupture.date_rupture == today - relativedelta(months=5)
    vacant = Poste.objects.get(etat="vacant")
    assert postes.vacant_since(vacant, today=today) == (today - rupture.date_rupture).days
    staff = User.objects.get(is_staff=True)
    assert postes.contrats_ending_between(today, today + datetime.timedelta(days=60), user=staff).exists()
    assert {"V1", "V2", "cofinancement"} <= set(Convention.objects.values_list("enveloppe", flat=True))
    figures = finances.figures_territoire(on_date=today)
    assert figures.paid > 0 and figures.repaid > 0 and figures.overdue_count == 1
