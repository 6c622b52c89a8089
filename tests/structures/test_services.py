"""Writes on structures, places and memberships: validation, French messages, no partial write, history."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import Role
from structures import choices, services
from structures.models import ArretItinerant, Lieu, Membership, Structure
from tests import factories

pytestmark = pytest.mark.django_db

Statut = choices.StatutCandidature
Conv = choices.Conventionnement


@pytest.fixture
def commune():
    return factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"])


def structure_fields(commune, **overrides):
    fields = {
        "nom": "Mairie de Labège",
        "siret": factories.valid_siret(),
        "type_juridique": choices.TypeJuridique.COMMUNE,
        "secteur": choices.Secteur.PUBLIC,
        "phase": 1,
        "commune": commune,
        "adresse": "Place Saint-Barthélemy",
        "code_postal": "31670",
    }
    fields.update(overrides)
    return fields


def counts():
    return (
        Structure.objects.count(),
        Structure.history.count(),
        Lieu.objects.count(),
        ArretItinerant.objects.count(),
        Membership.objects.count(),
    )


# --- structure_create --------------------------------------------------------------------------------------------
def test_structure_create_saves_and_records_the_author(commune, staff_user):
    structure = services.structure_create(by=staff_user, **structure_fields(commune))
    assert structure.pk
    assert structure.statut == Statut.CREEE
    record = structure.history.get()
    assert record.history_type == "+"
    assert record.history_user == staff_user


def test_structure_create_refuses_a_duplicate_siret_and_writes_nothing(commune, staff_user):
    existing = factories.StructureFactory(nom="Centre social", commune=commune)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.structure_create(by=staff_user, **structure_fields(commune, nom="Autre nom", siret=existing.siret))
    assert error.value.message_dict["siret"] == ["Une structure avec ce SIRET existe déjà."]
    assert counts() == before


def test_structure_create_refuses_a_duplicate_rna_and_writes_nothing(commune, staff_user):
    factories.StructureFactory(nom="Association A", siret=None, rna="W313000123", commune=commune)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.structure_create(
            by=staff_user, **structure_fields(commune, nom="Tout autre chose", siret=None, rna="W313000123")
        )
    assert error.value.message_dict["rna"] == ["Une structure avec ce numéro RNA existe déjà."]
    assert counts() == before


def test_structure_create_refuses_an_invalid_siret_key(commune, staff_user):
    siret = factories.valid_siret()
    wrong = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.structure_create(by=staff_user, **structure_fields(commune, siret=wrong))
    assert "clé de contrôle" in error.value.message_dict["siret"][0]
    assert counts() == before


def test_structure_create_needs_a_siret_or_an_rna(commune, staff_user):
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.structure_create(by=staff_user, **structure_fields(commune, siret=None, rna=None))
    assert "Renseignez le SIRET, ou le numéro RNA pour une association sans SIRET." in error.value.messages
    assert counts() == before


def test_structure_create_refuses_a_similar_name_in_the_same_commune(commune, staff_user):
    factories.StructureFactory(nom="Mairie de Labège", commune=commune)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.structure_create(by=staff_user, **structure_fields(commune, nom="Mairie  de LABEGE"))
    assert error.value.error_dict["nom"][0].code == "possible_duplicate"
    assert "Doublon possible dans cette commune : Mairie de Labège." in error.value.message_dict["nom"][0]
    assert counts() == before


def test_structure_create_accepts_a_similar_name_once_confirmed(commune, staff_user):
    factories.StructureFactory(nom="Mairie de Labège", commune=commune)
    structure = services.structure_create(
        by=staff_user, confirm_not_duplicate=True, **structure_fields(commune, nom="Mairie Labège")
    )
    assert Structure.objects.filter(commune=commune).count() == 2
    assert structure.nom == "Mairie Labège"


def test_structure_create_accepts_the_same_name_in_another_commune(commune, staff_user):
    factories.StructureFactory(nom="Centre communal d'action sociale", commune=commune)
    other = factories.CommuneFactory(code_insee="31169", nom="Escalquens", codes_postaux=["31750"])
    services.structure_create(
        by=staff_user,
        **structure_fields(other, nom="Centre communal d'action sociale", code_postal="31750"),
    )
    assert Structure.objects.filter(nom="Centre communal d'action sociale").count() == 2


def test_structure_update_refuses_renaming_into_a_neighbour(commune, staff_user):
    factories.StructureFactory(nom="Médiathèque Labège", commune=commune)
    structure = factories.StructureFactory(nom="Espace jeunes", commune=commune)
    with pytest.raises(ValidationError) as error:
        services.structure_update(structure=structure, by=staff_user, nom="Mediatheque de Labege")
    assert error.value.error_dict["nom"][0].code == "possible_duplicate"
    structure.refresh_from_db()
    assert structure.nom == "Espace jeunes"


def test_structure_update_cannot_change_the_statut(structure, staff_user):
    with pytest.raises(ValueError, match="statut"):
        services.structure_update(structure=structure, by=staff_user, statut=Statut.VALIDATION_COSELEC)
    structure.refresh_from_db()
    assert structure.statut == Statut.CREEE


# --- statut of the candidature -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        [Statut.VALIDATION_COSELEC],
        [Statut.EXAMEN_COMPLEMENTAIRE_COSELEC, Statut.VALIDATION_COSELEC, Statut.ABANDON, Statut.CREEE],
        [Statut.REFUS_COSELEC, Statut.CREEE, Statut.DOUBLON],
        [Statut.REFUS_COORDINATEUR, Statut.CREEE, Statut.ANNULEE],
    ],
)
def test_allowed_statut_transitions_succeed_and_each_is_in_the_history(structure, staff_user, path):
    other_staff = factories.StaffUserFactory()
    actors = [staff_user, other_staff]
    for step, statut in enumerate(path):
        services.structure_change_statut(structure=structure, statut=statut, by=actors[step % 2])
    structure.refresh_from_db()
    assert structure.statut == path[-1]
    changes = list(structure.history.filter(history_type="~").order_by("history_date", "history_id"))
    assert [record.statut for record in changes] == [str(statut) for statut in path]
    assert [record.history_user for record in changes] == [actors[step % 2] for step in range(len(path))]


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        (Statut.VALIDATION_COSELEC, Statut.CREEE, "Passage impossible du statut « Validée » à « Non traitée »."),
        (Statut.VALIDATION_COSELEC, Statut.REFUS_COSELEC, "« Validée » à « Refusée en comité de sélection »"),
        (Statut.ANNULEE, Statut.CREEE, "Passage impossible du statut « Annulée » à « Non traitée »."),
        (Statut.DOUBLON, Statut.VALIDATION_COSELEC, "« Doublon » à « Validée »"),
        (Statut.REFUS_COSELEC, Statut.VALIDATION_COSELEC, "« Refusée en comité de sélection » à « Validée »"),
        (Statut.CREEE, Statut.CREEE, "« Non traitée » à « Non traitée »"),
    ],
)
def test_forbidden_statut_transitions_raise_in_french_and_change_nothing(staff_user, start, target, message):
    structure = factories.StructureFactory(statut=start)
    history_before = structure.history.count()
    with pytest.raises(ValidationError) as error:
        services.structure_change_statut(structure=structure, statut=target, by=staff_user)
    assert error.value.code == "invalid_transition"
    assert message in error.value.messages[0]
    structure.refresh_from_db()
    assert structure.statut == start
    assert structure.history.count() == history_before


@pytest.mark.parametrize("role", [Role.REFERENT, Role.FINANCEUR, Role.CONSEILLER])
def test_only_staff_change_the_statut(structure, role):
    member = factories.MembershipFactory(structure=structure, role=role).user
    with pytest.raises(PermissionDenied):
        services.structure_change_statut(structure=structure, statut=Statut.VALIDATION_COSELEC, by=member)
    structure.refresh_from_db()
    assert structure.statut == Statut.CREEE


# --- conventionnement --------------------------------------------------------------------------------------------
def test_conventionnement_requires_a_validated_candidature(structure, staff_user):
    with pytest.raises(ValidationError) as error:
        services.structure_change_conventionnement(
            structure=structure, conventionnement=Conv.CONVENTIONNEMENT_EN_COURS, by=staff_user
        )
    assert error.value.code == "candidature_not_validated"
    assert "candidature validée en comité de sélection" in error.value.messages[0]
    structure.refresh_from_db()
    assert structure.conventionnement == Conv.NON_INTERESSE


def test_conventionnement_of_a_validated_candidature_follows_the_workflow(structure, staff_user):
    services.structure_change_statut(structure=structure, statut=Statut.VALIDATION_COSELEC, by=staff_user)
    for step in (Conv.CONVENTIONNEMENT_EN_COURS, Conv.CONVENTIONNEMENT_VALIDE, Conv.RECONVENTIONNEMENT_INITIE):
        services.structure_change_conventionnement(structure=structure, conventionnement=step, by=staff_user)
    structure.refresh_from_db()
    assert structure.conventionnement == Conv.RECONVENTIONNEMENT_INITIE
    latest = structure.history.latest("history_date")
    assert latest.conventionnement == Conv.RECONVENTIONNEMENT_INITIE
    assert latest.history_user == staff_user


def test_conventionnement_cannot_skip_steps(staff_user):
    structure = factories.StructureFactory(statut=Statut.VALIDATION_COSELEC)
    with pytest.raises(ValidationError) as error:
        services.structure_change_conventionnement(
            structure=structure, conventionnement=Conv.RECONVENTIONNEMENT_VALIDE, by=staff_user
        )
    assert error.value.code == "invalid_transition"
    assert "Passage impossible du conventionnement « Non intéressée »" in error.value.messages[0]


def test_only_staff_change_the_conventionnement(referent):
    structure = referent.memberships.get().structure
    with pytest.raises(PermissionDenied):
        services.structure_change_conventionnement(
            structure=structure, conventionnement=Conv.CONVENTIONNEMENT_EN_COURS, by=referent
        )


# --- places and itinerant stops ----------------------------------------------------------------------------------
def lieu_fields(commune, **overrides):
    fields = {
        "nom": "Espace numérique de Labège",
        "commune": commune,
        "code_postal": "31670",
        "adresse": "Rue de la Mairie",
        "services": ["Aide aux démarches administratives"],
    }
    fields.update(overrides)
    return fields


def test_lieu_create_records_the_author(commune, staff_user):
    structure = factories.StructureFactory(commune=commune)
    lieu = services.lieu_create(structure=structure, by=staff_user, **lieu_fields(commune))
    assert lieu.history.get().history_user == staff_user


def test_lieu_code_postal_must_match_the_commune(commune, staff_user):
    structure = factories.StructureFactory(commune=commune)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.lieu_create(structure=structure, by=staff_user, **lieu_fields(commune, code_postal="31320"))
    assert error.value.message_dict["code_postal"] == ["Ce code postal ne correspond pas à Labège (31670)."]
    assert counts() == before


def test_lieu_update_checks_the_code_postal_too(commune, staff_user):
    lieu = factories.LieuFactory(structure__commune=commune, code_postal="31670")
    with pytest.raises(ValidationError) as error:
        services.lieu_update(lieu=lieu, by=staff_user, code_postal="31000")
    assert "ne correspond pas à Labège" in error.value.message_dict["code_postal"][0]
    lieu.refresh_from_db()
    assert lieu.code_postal == "31670"


def test_lieu_create_refuses_unknown_service_values(commune, staff_user):
    structure = factories.StructureFactory(commune=commune)
    with pytest.raises(ValidationError) as error:
        services.lieu_create(
            structure=structure, by=staff_user, **lieu_fields(commune, services=["Réparation de vélos"])
        )
    assert "Valeur(s) inconnue(s) : Réparation de vélos." in error.value.message_dict["services"]


def test_arret_only_on_an_itinerant_place(staff_user):
    lieu = factories.LieuFactory(itinerance=choices.Itinerance.FIXE)
    with pytest.raises(ValidationError) as error:
        services.arret_create(
            lieu=lieu,
            by=staff_user,
            commune=lieu.commune,
            emplacement="Place du marché",
            date=datetime.date(2030, 5, 6),
            heure_debut=datetime.time(9),
            heure_fin=datetime.time(12),
        )
    assert error.value.code == "not_itinerant"
    assert error.value.messages == ["Seul un lieu itinérant a des arrêts."]
    assert not ArretItinerant.objects.exists()


@pytest.fixture
def bus(staff_user):
    lieu = factories.LieuFactory(itinerance=choices.Itinerance.ITINERANT, nom="Bus numérique")
    services.arret_create(
        lieu=lieu,
        by=staff_user,
        commune=lieu.commune,
        emplacement="Parking de la mairie",
        date=datetime.date(2030, 5, 6),
        heure_debut=datetime.time(9),
        heure_fin=datetime.time(12),
    )
    return lieu


def add_stop(lieu, by, day, start, end):
    return services.arret_create(
        lieu=lieu,
        by=by,
        commune=lieu.commune,
        emplacement="Salle des fêtes",
        date=day,
        heure_debut=datetime.time(*start),
        heure_fin=datetime.time(*end),
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [((11, 0), (14, 0)), ((8, 0), (9, 30)), ((9, 30), (10, 0)), ((8, 0), (13, 0)), ((9, 0), (12, 0))],
)
def test_arrets_of_one_place_cannot_overlap(bus, staff_user, start, end):
    with pytest.raises(ValidationError) as error:
        add_stop(bus, staff_user, datetime.date(2030, 5, 6), start, end)
    assert error.value.code == "overlap"
    assert "chevauche" in error.value.messages[0]
    assert bus.arrets.count() == 1


def test_back_to_back_arrets_and_other_days_are_fine(bus, staff_user):
    after = add_stop(bus, staff_user, datetime.date(2030, 5, 6), (12, 0), (14, 0))
    add_stop(bus, staff_user, datetime.date(2030, 5, 7), (9, 0), (12, 0))
    assert bus.arrets.count() == 3
    assert after.history.get().history_user == staff_user


def test_arret_end_must_follow_start(bus, staff_user):
    with pytest.raises(ValidationError) as error:
        add_stop(bus, staff_user, datetime.date(2030, 6, 1), (14, 0), (13, 0))
    assert "L'heure de fin doit suivre l'heure de début." in error.value.messages
    assert bus.arrets.count() == 1


def test_lieu_update_refuses_to_make_fixed_a_place_with_stops(bus, staff_user):
    with pytest.raises(ValidationError) as error:
        services.lieu_update(lieu=bus, by=staff_user, itinerance=choices.Itinerance.FIXE)
    assert "supprimez-les avant de le rendre fixe" in error.value.message_dict["itinerance"][0]
    bus.refresh_from_db()
    assert bus.is_itinerant


def test_lieu_update_makes_fixed_a_place_once_its_stops_are_gone(bus, staff_user):
    services.arret_delete(arret=bus.arrets.get(), by=staff_user)
    lieu = services.lieu_update(lieu=bus, by=staff_user, itinerance=choices.Itinerance.FIXE)
    lieu.refresh_from_db()
    assert not lieu.is_itinerant
    assert lieu.history.latest("history_date").history_user == staff_user


def test_lieu_set_active_unpublishes_without_deleting(staff_user):
    lieu = factories.LieuFactory()
    services.lieu_set_active(lieu=lieu, is_active=False, by=staff_user)
    lieu.refresh_from_db()
    assert lieu.is_active is False
    assert lieu.history.latest("history_date").history_user == staff_user


# --- memberships -------------------------------------------------------------------------------------------------
def test_membership_is_unique_per_user_structure_and_role(structure, staff_user):
    person = factories.UserFactory()
    membership = services.membership_add(structure=structure, user=person, role=Role.REFERENT, by=staff_user)
    assert membership.history.get().history_user == staff_user
    with pytest.raises(ValidationError) as error:
        services.membership_add(structure=structure, user=person, role=Role.REFERENT, by=staff_user)
    assert error.value.messages == ["Cette personne a déjà ce rôle dans la structure."]
    assert Membership.objects.filter(user=person).count() == 1


def test_same_person_may_hold_another_role_or_another_structure(structure, staff_user):
    person = factories.UserFactory()
    services.membership_add(structure=structure, user=person, role=Role.REFERENT, by=staff_user)
    services.membership_add(structure=structure, user=person, role=Role.CONSEILLER, by=staff_user)
    services.membership_add(structure=factories.StructureFactory(), user=person, role=Role.REFERENT, by=staff_user)
    assert Membership.objects.filter(user=person).count() == 3


def test_membership_remove_keeps_a_trace_of_who_removed_it(structure, staff_user):
    membership = factories.MembershipFactory(structure=structure)
    pk = membership.pk
    services.membership_remove(membership=membership, by=staff_user)
    assert not Membership.objects.filter(pk=pk).exists()
    deletion = Membership.history.get(id=pk, history_type="-")
    assert deletion.history_user == staff_user


# --- database constraints hold even when a write bypasses the services ---------------------------------------------
def _integrity_error(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_db_refuses_a_structure_without_siret_nor_rna(commune):
    _integrity_error(lambda: Structure.objects.create(**structure_fields(commune, siret=None, rna=None)))
    assert not Structure.objects.exists()


@pytest.mark.parametrize("phase", [0, 3])
def test_db_refuses_a_phase_other_than_1_or_2(commune, phase):
    _integrity_error(lambda: Structure.objects.create(**structure_fields(commune, phase=phase)))
    assert not Structure.objects.exists()


def test_db_refuses_a_malformed_siret_or_rna(commune):
    _integrity_error(lambda: Structure.objects.create(**structure_fields(commune, siret="1234")))
    _integrity_error(lambda: Structure.objects.create(**structure_fields(commune, siret=None, rna="W12")))
    assert not Structure.objects.exists()


def test_db_refuses_a_duplicate_siret(commune):
    existing = factories.StructureFactory(commune=commune)
    _integrity_error(lambda: Structure.objects.create(**structure_fields(commune, siret=existing.siret)))
    assert Structure.objects.count() == 1


def test_db_refuses_a_duplicate_membership(structure):
    membership = factories.MembershipFactory(structure=structure)
    _integrity_error(lambda: Membership.objects.create(structure=structure, user=membership.user, role=membership.role))
    assert Membership.objects.count() == 1


def test_db_refuses_an_arret_ending_before_it_starts():
    lieu = factories.LieuFactory(itinerance=choices.Itinerance.ITINERANT)
    _integrity_error(
        lambda: ArretItinerant.objects.create(
            lieu=lieu,
            commune=lieu.commune,
            emplacement="Place",
            date=datetime.date(2030, 1, 1),
            heure_debut=datetime.time(12),
            heure_fin=datetime.time(9),
        )
    )
    assert not ArretItinerant.objects.exists()


def test_db_refuses_a_latitude_without_longitude():
    _integrity_error(lambda: factories.LieuFactory(latitude="43.5", longitude=None))
    assert not Lieu.objects.exists()


# --- concurrency (PostgreSQL: SQLite serialises every write anyway) -----------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_arrets_leave_exactly_one():
    if connection.vendor != "postgresql":
        pytest.skip("concurrence réelle : nécessite PostgreSQL (DATABASE_URL)")
    staff = factories.StaffUserFactory(with_totp=False)
    lieu = factories.LieuFactory(itinerance=choices.Itinerance.ITINERANT)
    day = datetime.date(2030, 9, 1)
    attempts = 8
    barrier = threading.Barrier(attempts)
    outcomes = []

    def attempt(minute):
        try:
            barrier.wait(timeout=10)
            add_stop(lieu, staff, day, (9, minute), (12, 0))
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(5 * i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created"] + ["refused"] * (attempts - 1)
    assert ArretItinerant.objects.filter(lieu=lieu, date=day).count() == 1
