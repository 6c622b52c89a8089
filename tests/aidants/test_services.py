"""Rules of the aidants network: who records aidants, the Aidants Connect habilitation rules, trainings, accounts,
and the habilitation requests' workflow with the structure's flag kept in step."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Role
from aidants import services
from aidants.models import Aidant, DemandeHabilitation, FormationAidant, StatutHabilitation, TypeAidant
from structures.models import Structure
from tests import factories

from .conftest import AidantFactory, FormationAidantFactory, member

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def messages_of(excinfo):
    error = excinfo.value
    return " ".join(error.messages)


def fields(**overrides):
    data = {
        "prenom": "Léa",
        "nom": "Durand",
        "email": "lea.durand@mairie.example.org",
        "telephone": "+33561000000",
        "profession": "Secrétaire de mairie",
        "type": TypeAidant.PROFESSIONNEL,
        "thematiques": ["aide_aux_demarches_administratives", "logement"],
    }
    data.update(overrides)
    return data


# --- Who records aidants ------------------------------------------------------------------------------------------
def test_staff_and_referent_create_an_aidant_with_history(staff, habilitee, referent_of):
    commune = factories.CommuneFactory()
    aidant = services.aidant_create(by=referent_of, structure=habilitee, communes=[commune], **fields())
    assert list(aidant.communes.all()) == [commune]
    assert aidant.history.first().history_user == referent_of
    other = services.aidant_create(by=staff, structure=habilitee, communes=[commune.code_insee], **fields(nom="B"))
    assert other.history.first().history_user == staff


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.AIDANT, Role.FINANCEUR])
def test_other_roles_and_other_referents_cannot_create(habilitee, role):
    with pytest.raises(PermissionDenied, match="référents de la structure"):
        services.aidant_create(by=member(role, habilitee), structure=habilitee, **fields())
    with pytest.raises(PermissionDenied):
        services.aidant_create(by=member(Role.REFERENT), structure=habilitee, **fields())
    assert not Aidant.objects.exists()


def test_unknown_commune_and_thematique_are_refused(staff, habilitee):
    with pytest.raises(ValidationError, match="Commune\\(s\\) inconnue\\(s\\) du référentiel : 99999"):
        services.aidant_create(by=staff, structure=habilitee, communes=["99999"], **fields())
    with pytest.raises(ValidationError, match="hors de la liste nationale : cuisine"):
        services.aidant_create(by=staff, structure=habilitee, **fields(thematiques=["cuisine"]))
    assert not Aidant.objects.exists()


# --- Habilitation rules -------------------------------------------------------------------------------------------
def test_habilitation_needs_a_recorded_aidants_connect_training(staff, habilitee):
    with pytest.raises(ValidationError, match="formation Aidants Connect \\(7 h ou 14 h\\)"):
        services.aidant_create(by=staff, structure=habilitee, **fields(habilite_aidants_connect=True))
    aidant = services.aidant_create(by=staff, structure=habilitee, **fields())
    services.formation_add(aidant=aidant, by=staff, type="pix", date=datetime.date(2024, 1, 5), heures=2)
    with pytest.raises(ValidationError, match="formation Aidants Connect"):
        services.aidant_update(aidant=aidant, by=staff, habilite_aidants_connect=True)
    services.formation_add(aidant=aidant, by=staff, type="aidants_connect_7h", date=datetime.date(2024, 2, 5))
    aidant = services.aidant_update(aidant=aidant, by=staff, habilite_aidants_connect=True)
    assert aidant.habilite_aidants_connect and aidant.date_habilitation == TODAY()


@pytest.mark.parametrize("kind", [TypeAidant.BENEVOLE, TypeAidant.SERVICE_CIVIQUE])
def test_only_professionals_are_habilitated(staff, habilitee, kind):
    aidant = AidantFactory(structure=habilitee, type=kind)
    FormationAidantFactory(aidant=aidant)
    with pytest.raises(ValidationError) as excinfo:
        services.aidant_update(aidant=aidant, by=staff, habilite_aidants_connect=True)
    assert "Seuls les professionnels peuvent être habilités Aidants Connect" in messages_of(excinfo)
    aidant.refresh_from_db()
    assert not aidant.habilite_aidants_connect


def test_only_in_a_habilitated_structure(staff):
    structure = factories.StructureFactory(nom="Mairie sans habilitation")
    aidant = AidantFactory(structure=structure)
    FormationAidantFactory(aidant=aidant)
    with pytest.raises(ValidationError) as excinfo:
        services.aidant_update(aidant=aidant, by=staff, habilite_aidants_connect=True)
    assert "La structure « Mairie sans habilitation » n'est pas habilitée Aidants Connect" in messages_of(excinfo)


def test_a_habilitated_professional_cannot_become_a_volunteer(staff, habilitee):
    aidant = AidantFactory(structure=habilitee)
    FormationAidantFactory(aidant=aidant)
    services.aidant_update(aidant=aidant, by=staff, habilite_aidants_connect=True)
    with pytest.raises(ValidationError, match="Seuls les professionnels"):
        services.aidant_update(aidant=aidant, by=staff, type=TypeAidant.BENEVOLE)
    aidant = services.aidant_update(aidant=aidant, by=staff, type=TypeAidant.BENEVOLE, habilite_aidants_connect=False)
    assert aidant.date_habilitation is None


def test_habilitation_date_not_in_the_future(staff, habilitee):
    aidant = AidantFactory(structure=habilitee)
    FormationAidantFactory(aidant=aidant)
    with pytest.raises(ValidationError, match="date d'habilitation ne peut pas être dans le futur"):
        services.aidant_update(
            aidant=aidant,
            by=staff,
            habilite_aidants_connect=True,
            date_habilitation=TODAY() + datetime.timedelta(days=1),
        )


def test_deactivating_withdraws_the_habilitation(staff, habilitee):
    aidant = AidantFactory(structure=habilitee)
    FormationAidantFactory(aidant=aidant)
    services.aidant_update(aidant=aidant, by=staff, habilite_aidants_connect=True)
    aidant = services.aidant_set_active(aidant=aidant, actif=False, by=staff)
    assert not aidant.actif and not aidant.habilite_aidants_connect
    with pytest.raises(PermissionDenied):
        services.aidant_set_active(aidant=aidant, actif=True, by=member(Role.CONSEILLER, habilitee))


# --- Trainings ----------------------------------------------------------------------------------------------------
def test_training_hours_and_date(staff, habilitee):
    aidant = AidantFactory(structure=habilitee)
    with pytest.raises(ValidationError, match="supérieure à 0"):
        services.formation_add(aidant=aidant, by=staff, type="pix", date=datetime.date(2024, 1, 1), heures=0)
    with pytest.raises(ValidationError, match="Indiquez la durée"):
        services.formation_add(aidant=aidant, by=staff, type="reseau", date=datetime.date(2024, 1, 1))
    with pytest.raises(ValidationError, match="ne peut pas être dans le futur"):
        services.formation_add(aidant=aidant, by=staff, type="pix", date=TODAY() + datetime.timedelta(days=1), heures=2)
    with pytest.raises(PermissionDenied):
        services.formation_add(
            aidant=aidant, by=member(Role.AIDANT, habilitee), type="pix", date=datetime.date(2024, 1, 1), heures=2
        )
    formation = services.formation_add(
        aidant=aidant, by=staff, type="aidants_connect_14h", date=datetime.date(2024, 1, 1)
    )
    assert formation.heures == 14
    assert FormationAidant.objects.count() == 1


# --- Accounts -----------------------------------------------------------------------------------------------------
def test_link_account_needs_the_aidant_role_in_the_structure(staff, habilitee):
    aidant = AidantFactory(structure=habilitee)
    with pytest.raises(ValidationError, match="n'a pas le rôle « Aidant »"):
        services.aidant_link_account(aidant=aidant, user=member(Role.CONSEILLER, habilitee), by=staff)
    with pytest.raises(ValidationError, match="n'a pas le rôle « Aidant »"):
        services.aidant_link_account(aidant=aidant, user=member(Role.AIDANT), by=staff)  # another structure
    user = member(Role.AIDANT, habilitee)
    services.aidant_link_account(aidant=aidant, user=user, by=staff)
    assert Aidant.objects.get(user=user) == aidant
    with pytest.raises(ValidationError, match="déjà lié"):
        services.aidant_link_account(aidant=AidantFactory(structure=habilitee), user=user, by=staff)
    services.aidant_link_account(aidant=aidant, user=None, by=staff)
    aidant.refresh_from_db()
    assert aidant.user is None


# --- Habilitation requests ----------------------------------------------------------------------------------------
@pytest.fixture
def mairie(db):
    return factories.StructureFactory(nom="Mairie à habiliter")


@pytest.fixture
def referent_mairie(mairie):
    return member(Role.REFERENT, mairie)


def transition(demande, statut, by, **kwargs):
    return services.demande_transition(demande=demande, statut=statut, by=by, **kwargs)


def test_one_open_request_per_structure(mairie, referent_mairie, staff):
    demande = services.demande_create(structure=mairie, by=referent_mairie)
    assert demande.statut == StatutHabilitation.BROUILLON
    with pytest.raises(ValidationError, match="déjà une demande en cours"):
        services.demande_create(structure=mairie, by=staff)
    transition(demande, "en_attente", referent_mairie)
    with pytest.raises(ValidationError, match="déjà une demande en cours"):
        services.demande_create(structure=mairie, by=staff)
    transition(demande, "refusee", staff, motif="Pas de professionnel formé.")
    assert services.demande_create(structure=mairie, by=referent_mairie).statut == "brouillon"


def test_request_rights(mairie):
    for user in (member(Role.CONSEILLER, mairie), member(Role.AIDANT, mairie), member(Role.REFERENT)):
        with pytest.raises(PermissionDenied, match="demandent son habilitation"):
            services.demande_create(structure=mairie, by=user)
    assert not DemandeHabilitation.objects.exists()


def test_pressentis_are_active_professionals_of_the_structure(mairie, referent_mairie):
    volunteer = AidantFactory(structure=mairie, type=TypeAidant.BENEVOLE)
    with pytest.raises(ValidationError, match="Seuls les professionnels actifs de la structure"):
        services.demande_create(structure=mairie, by=referent_mairie, aidants_pressentis=[volunteer])
    with pytest.raises(ValidationError, match="Seuls les professionnels actifs"):
        services.demande_create(structure=mairie, by=referent_mairie, aidants_pressentis=[AidantFactory()])
    pro = AidantFactory(structure=mairie)
    demande = services.demande_create(structure=mairie, by=referent_mairie, aidants_pressentis=[pro])
    assert list(demande.aidants_pressentis.all()) == [pro]


def test_already_habilitated_structure_cannot_ask(habilitee, staff):
    with pytest.raises(ValidationError, match="déjà habilitée"):
        services.demande_create(structure=habilitee, by=staff)


def test_full_workflow_keeps_the_structure_flag_in_step(mairie, referent_mairie, staff):
    demande = services.demande_create(structure=mairie, by=referent_mairie)
    transition(demande, "en_attente", referent_mairie, date=TODAY() - datetime.timedelta(days=10))
    demande.refresh_from_db()
    assert demande.date_depot == TODAY() - datetime.timedelta(days=10)
    with pytest.raises(PermissionDenied, match="Seule l'équipe Sicoval valide ou refuse"):
        transition(demande, "validee", referent_mairie)
    with pytest.raises(ValidationError, match="précéder le dépôt"):
        transition(demande, "validee", staff, date=TODAY() - datetime.timedelta(days=11))
    transition(demande, "validee", staff)
    mairie.refresh_from_db()
    assert mairie.habilitee_aidants_connect
    assert mairie.history.first().history_user == staff

    aidant = AidantFactory(structure=mairie)
    FormationAidantFactory(aidant=aidant)
    services.aidant_update(aidant=aidant, by=referent_mairie, habilite_aidants_connect=True)
    transition(demande, "cloturee", referent_mairie, motif="Fin de convention")
    mairie.refresh_from_db()
    aidant.refresh_from_db()
    assert not mairie.habilitee_aidants_connect
    assert not aidant.habilite_aidants_connect and aidant.date_habilitation is None
    assert aidant.history.first().history_user == referent_mairie
    assert Structure.history.filter(id=mairie.pk).first().history_user == referent_mairie
    with pytest.raises(ValidationError, match="Passage impossible de « Clôturée » à « En attente de validation »"):
        transition(demande, "en_attente", staff)


def test_refusal_needs_a_motif_and_never_habilitates(mairie, referent_mairie, staff):
    demande = services.demande_create(structure=mairie, by=referent_mairie)
    with pytest.raises(ValidationError, match="Passage impossible de « Brouillon » à « Éligibilité validée »"):
        transition(demande, "validee", staff)
    transition(demande, "en_attente", staff)
    with pytest.raises(ValidationError, match="Indiquez le motif du refus"):
        transition(demande, "refusee", staff)
    transition(demande, "refusee", staff, motif="Dossier incomplet")
    demande.refresh_from_db()
    mairie.refresh_from_db()
    assert demande.date_decision == TODAY() and not mairie.habilitee_aidants_connect
    with pytest.raises(ValidationError, match="Passage impossible"):
        transition(demande, "cloturee", staff)


def test_closing_a_draft_leaves_the_flag(mairie, referent_mairie, staff):
    demande = services.demande_create(structure=mairie, by=referent_mairie)
    transition(demande, "cloturee", referent_mairie)
    mairie.refresh_from_db()
    assert not mairie.habilitee_aidants_connect


def test_transition_rights_and_bad_values(mairie, referent_mairie, staff):
    demande = services.demande_create(structure=mairie, by=referent_mairie)
    for user in (member(Role.CONSEILLER, mairie), member(Role.REFERENT)):
        with pytest.raises(PermissionDenied):
            transition(demande, "en_attente", user)
    with pytest.raises(ValidationError, match="Choisissez un statut"):
        transition(demande, "n_importe_quoi", staff)
    with pytest.raises(ValidationError, match="dans le futur"):
        transition(demande, "en_attente", staff, date=TODAY() + datetime.timedelta(days=2))
    demande.refresh_from_db()
    assert demande.statut == "brouillon"
