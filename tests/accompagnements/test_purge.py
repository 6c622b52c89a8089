"""Followed people are anonymised two years after their last contact (or their consent, never seen since), in their
file and in its history, without moving any figure; the notes of activities older than two years are emptied. Each
run is idempotent and runs every night."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from accompagnements import services, statistiques
from accompagnements.models import Accompagnement, Activite, Beneficiaire
from accompagnements.services import purge
from accompagnements.tasks import donnees_anonymiser
from reporting import resume

UTC = datetime.UTC
CONSENT = datetime.datetime(2024, 1, 10, 10, tzinfo=UTC)
CONTACT = datetime.datetime(2024, 3, 11, 10, tzinfo=UTC)


def at(moment):
    return time_machine.travel(moment, tick=False)


def follow(conseiller, **data):
    values = {
        "prenom": "Léa",
        "nom": "Martin",
        "annee_naissance": 1958,
        "telephone": "06 12 34 56 78",
        "email": "lea.martin@example.org",
        "genre": "feminin",
        "tranche_age": "soixante_soixante_neuf",
        "statut_social": "retraite",
        "consentement": True,
        **data,
    }
    return services.beneficiaire_create(by=conseiller.user, data=values, confirme_doublon=True)


@pytest.fixture
def lea(conseiller):
    """Followed since CONSENT, her file corrected once (two versions in the history), last seen on CONTACT."""
    commune = conseiller.user.memberships.first().structure.commune
    with at(CONSENT):
        lea = follow(conseiller, commune_residence=commune)
        data = {name: getattr(lea, name) for name in services.BENEFICIAIRE_FIELDS}
        services.beneficiaire_update(beneficiaire=lea, by=conseiller.user, data={**data, "email": "lea@example.org"})
    return lea


def history_values(beneficiaire):
    return list(
        Beneficiaire.history.filter(id=beneficiaire.pk).values_list(
            "prenom", "nom", "annee_naissance", "telephone", "email", "commune_residence", "anonymise_le"
        )
    )


def anonymised(beneficiaire):
    beneficiaire.refresh_from_db()
    return beneficiaire.anonymise_le is not None


# --- When ---------------------------------------------------------------------------------------------------------
def test_a_person_is_anonymised_two_years_after_the_last_contact_and_not_a_day_before(conseiller, lea, record):
    with at(CONTACT):
        record(conseiller, services.Participants(beneficiaires=[lea]), date=CONTACT.date())
    lea.refresh_from_db()
    assert lea.dernier_contact == CONTACT.date()
    assert purge.beneficiaire_retention_until(lea) == datetime.date(2026, 3, 12)

    with at(CONTACT + datetime.timedelta(days=730 - 1)):  # two years minus a day: 10/03/2026
        assert purge.beneficiaires_anonymiser() == 0
    with at(datetime.datetime(2026, 3, 11, 22, tzinfo=UTC)):  # 23:00 in Paris on the last day: two years to the day
        assert purge.beneficiaires_anonymiser() == 0
    assert not anonymised(lea)
    with at(datetime.datetime(2026, 3, 12, 1, tzinfo=UTC)):  # two years and a day
        assert purge.beneficiaires_anonymiser() == 1
    assert anonymised(lea)


def test_a_person_never_seen_is_anonymised_two_years_after_the_consent(conseiller):
    with at(CONSENT):
        paul = follow(conseiller, prenom="Paul", telephone="", email="")
    with at(CONSENT + datetime.timedelta(days=731 - 1)):
        assert purge.beneficiaires_anonymiser() == 0
    with at(CONSENT + datetime.timedelta(days=731 + 1)):
        assert purge.beneficiaires_anonymiser() == 1
    assert anonymised(paul)


def test_a_file_opened_for_an_old_activity_is_not_anonymised_at_once(conseiller):
    """An activity typed today with an old date dates the last contact long ago: the fresh consent keeps the file."""
    with at(CONSENT):
        late = follow(conseiller, prenom="Tardive")
        Beneficiaire.objects.filter(pk=late.pk).update(dernier_contact=datetime.date(2021, 5, 1))
        assert purge.beneficiaires_anonymiser() == 0
    assert not anonymised(late)


# --- What -------------------------------------------------------------------------------------------------------
def test_identity_and_contact_details_are_erased_from_the_file_and_every_version_of_its_history(conseiller, lea):
    assert len(history_values(lea)) == 2
    assert any(row[4] == "lea.martin@example.org" for row in history_values(lea))
    with at(CONSENT + datetime.timedelta(days=800)):
        assert donnees_anonymiser.apply().get()["beneficiaires_anonymises"] == 1
        moment = datetime.datetime.now(tz=UTC)
    lea.refresh_from_db()
    assert (lea.prenom, lea.nom, lea.annee_naissance, lea.telephone, lea.email, lea.commune_residence) == (
        "Personne",
        "anonymisée",
        None,
        "",
        "",
        None,
    )
    assert lea.anonymise_le == moment
    assert str(lea) == "Personne anonymisée"
    # The anonymous profile stays: it is what the accompaniments copied for the statistics.
    assert (lea.genre, lea.tranche_age, lea.statut_social) == ("feminin", "soixante_soixante_neuf", "retraite")
    assert history_values(lea) == [("Personne", "anonymisée", None, "", "", None, moment)] * 2
    assert set(Beneficiaire.history.filter(id=lea.pk).values_list("history_change_reason", flat=True)) == {purge.REASON}


def test_a_run_is_idempotent(conseiller, lea):
    with at(CONSENT + datetime.timedelta(days=800)):
        assert purge.beneficiaires_anonymiser() == 1
    lea.refresh_from_db()
    first = lea.anonymise_le
    with at(CONSENT + datetime.timedelta(days=900)):
        assert purge.beneficiaires_anonymiser() == 0
        assert purge.beneficiaires_erase(Beneficiaire.objects.all()) == 0
    lea.refresh_from_db()
    assert lea.anonymise_le == first
    assert {row[6] for row in history_values(lea)} == {first}


def test_many_people_are_anonymised_in_batches(conseiller):
    with at(CONSENT):
        people = [follow(conseiller, prenom=f"Personne{n}", telephone="", email="") for n in range(5)]
    with at(CONSENT + datetime.timedelta(days=800)):
        assert purge.beneficiaires_anonymiser(batch=2) == 5
    assert all(anonymised(person) for person in people)


def _canon(stats):
    return {
        "chiffres": stats.chiffres,
        "figures": {f.key: [(ligne.code, ligne.value) for ligne in f.lignes] for f in stats.figures},
    }


def test_the_statistics_do_not_move(conseiller, lea, record):
    commune = conseiller.user.memberships.first().structure.commune
    with at(CONSENT):
        paul = follow(conseiller, prenom="Paul", nom="Durand", telephone="", email="", genre="masculin")
    with at(CONTACT):
        day = CONTACT.date()
        record(conseiller, services.Participants(beneficiaires=[lea]), date=day - datetime.timedelta(days=30))
        record(conseiller, services.Participants(beneficiaires=[lea]), date=day)
        record(
            conseiller,
            services.Participants(beneficiaires=[lea, paul], anonymes=3),
            type="collectif",
            titre_atelier="Premiers pas",
            niveau="debutant",
            autonomie="",
            date=day - datetime.timedelta(days=10),
        )
        record(conseiller, services.Participants(anonyme={"genre": "masculin", "commune_residence": commune}), date=day)
    du, au = datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)
    activites = Activite.objects.actives()

    def figures():
        resume.reconstruire()  # the summaries rebuilt from the facts as they are after the run
        return (
            _canon(statistiques.compute(activites, du, au)),
            _canon(resume.statistiques(du, au)),
            resume.beneficiaires_suivis(du, au),
            list(
                Accompagnement.objects.order_by("pk").values_list(
                    "activite_id", "beneficiaire_id", "genre", "tranche_age", "commune_residence"
                )
            ),
        )

    with at(CONTACT + datetime.timedelta(days=1)):
        before = figures()
    assert before[2] == 2
    with at(CONTACT + datetime.timedelta(days=800)):
        assert purge.beneficiaires_anonymiser() == 2
        assert figures() == before


def test_the_person_page_says_so_and_the_file_can_no_longer_be_edited(client, conseiller, lea):
    with at(CONSENT + datetime.timedelta(days=800)):
        purge.beneficiaires_anonymiser()
    lea.refresh_from_db()
    client.force_login(conseiller.user)
    page = client.get(reverse("accompagnements:beneficiaire", args=[lea.uuid])).content.decode()
    assert "<h1>Personne anonymisée</h1>" in page
    assert reverse("accompagnements:beneficiaire_edit", args=[lea.uuid]) not in page
    listing = client.get(reverse("accompagnements:beneficiaires")).content.decode()
    assert "Personne anonymisée" in listing and "Martin Léa" not in listing
    data = {name: getattr(lea, name) for name in services.BENEFICIAIRE_FIELDS}
    with pytest.raises(ValidationError):
        services.beneficiaire_update(beneficiaire=lea, by=conseiller.user, data={**data, "nom": "Martin"})
    assert Beneficiaire.objects.get(pk=lea.pk).nom == "anonymisée"


# --- Notes --------------------------------------------------------------------------------------------------------
def test_notes_of_activities_older_than_two_years_are_emptied(conseiller, record):
    with at(CONTACT):
        old = record(conseiller, date=CONTACT.date(), notes="Mme X, fille à Lyon, diabète")
        deleted = record(conseiller, date=CONTACT.date(), notes="Doublon")
        services.activite_delete(activite=deleted, by=conseiller.user)
    with at(CONTACT + datetime.timedelta(days=2)):
        newer = record(conseiller, date=CONTACT.date() + datetime.timedelta(days=2), notes="Revoir le mot de passe")
    updated_at = Activite.objects.get(pk=old.pk).updated_at
    with at(datetime.datetime(2026, 3, 11, 22, tzinfo=UTC)):
        assert purge.activites_notes_purger() == 0
    with at(datetime.datetime(2026, 3, 12, 1, tzinfo=UTC)):
        assert donnees_anonymiser.apply().get() == {"beneficiaires_anonymises": 0, "notes_effacees": 2}
        assert purge.activites_notes_purger() == 0  # idempotent
    assert Activite.objects.get(pk=old.pk).notes == ""
    assert Activite.objects.get(pk=deleted.pk).notes == ""
    assert Activite.objects.get(pk=newer.pk).notes == "Revoir le mot de passe"
    # Not a change of the activity: the partner API's « modified since » does not see it.
    assert Activite.objects.get(pk=old.pk).updated_at == updated_at
    # The notes were never in the history.
    assert "notes" not in {field.name for field in Activite.history.model._meta.get_fields()}


# --- Schedule -----------------------------------------------------------------------------------------------------
def test_the_anonymisation_is_scheduled_every_night():
    from django.conf import settings

    from sicoval_numerique.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["accompagnements-donnees-anonymiser"]
    assert entry["task"] == "accompagnements.tasks.donnees_anonymiser"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {55}


def test_nothing_recent_is_touched(conseiller, record):
    kept = follow(conseiller)
    activite = record(conseiller, services.Participants(beneficiaires=[kept]), notes="À rappeler")
    assert donnees_anonymiser.apply().get() == {"beneficiaires_anonymises": 0, "notes_effacees": 0}
    kept.refresh_from_db()
    assert (kept.prenom, kept.email, kept.anonymise_le) == ("Léa", "lea.martin@example.org", None)
    assert Activite.objects.get(pk=activite.pk).notes == "À rappeler"
