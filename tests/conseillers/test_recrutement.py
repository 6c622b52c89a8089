"""Conseillers and recruitment: who may record them, the national workflow, and hired ≤ granted posts."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from conseillers import services
from conseillers.choices import StatutMiseEnRelation as S
from conseillers.models import Conseiller, MiseEnRelation
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


# --- conseiller_create / conseiller_update -----------------------------------------------------------------------
def test_staff_create_a_conseiller_with_history(staff):
    conseiller = services.conseiller_create(prenom="Léa", nom="Martin", email="lea@example.org", by=staff)
    assert conseiller.history.first().history_user == staff
    assert not conseiller.mises_en_relation.exists()


def test_referent_creates_a_conseiller_for_their_structure(structure, referent):
    conseiller = services.conseiller_create(prenom="Léa", nom="Martin", structure=structure, by=referent)
    mer = conseiller.mises_en_relation.get()
    assert (mer.structure, mer.statut) == (structure, S.NOUVELLE)
    assert mer.history.first().history_user == referent


def test_referent_cannot_create_a_conseiller_for_another_structure(referent, other_structure):
    with pytest.raises(PermissionDenied):
        services.conseiller_create(prenom="Léa", nom="Martin", structure=other_structure, by=referent)
    with pytest.raises(PermissionDenied):
        services.conseiller_create(prenom="Léa", nom="Martin", by=referent)
    assert not Conseiller.objects.exists()


def test_conseiller_user_cannot_create_conseillers(structure, conseiller_user):
    with pytest.raises(PermissionDenied):
        services.conseiller_create(prenom="Léa", nom="Martin", structure=structure, by=conseiller_user)


def test_referent_updates_their_conseiller_only(structure, referent, other_structure):
    own = factories.MiseEnRelationFactory(structure=structure).conseiller
    other = factories.MiseEnRelationFactory(structure=other_structure).conseiller
    services.conseiller_update(conseiller=own, telephone="0561000000", by=referent)
    own.refresh_from_db()
    assert own.telephone == "0561000000"
    assert own.history.first().history_user == referent
    with pytest.raises(PermissionDenied):
        services.conseiller_update(conseiller=other, telephone="0561000000", by=referent)


def test_only_staff_link_a_conseiller_to_an_account(structure, referent):
    own = factories.MiseEnRelationFactory(structure=structure).conseiller
    with pytest.raises(PermissionDenied):
        services.conseiller_update(conseiller=own, user=factories.UserFactory(), by=referent)


def test_coordinator_must_be_a_coordinator(staff):
    plain = factories.ConseillerFactory(prenom="Paul", nom="Durand")
    with pytest.raises(ValidationError) as error:
        services.conseiller_create(prenom="Léa", nom="Martin", coordinateur=plain, by=staff)
    assert error.value.message_dict["coordinateur"] == ["Paul Durand n'est pas coordinateur."]
    coordo = factories.ConseillerFactory(est_coordinateur=True)
    conseiller = services.conseiller_create(prenom="Léa", nom="Martin", coordinateur=coordo, by=staff)
    assert conseiller.coordinateur == coordo


def test_a_coordinator_cannot_coordinate_themselves(staff):
    coordo = factories.ConseillerFactory(est_coordinateur=True)
    with pytest.raises(ValidationError) as error:
        services.conseiller_update(conseiller=coordo, coordinateur=coordo, by=staff)
    assert error.value.message_dict["coordinateur"] == ["Un conseiller ne peut pas être son propre coordinateur."]


def test_a_coordinator_still_coordinating_keeps_the_flag(staff):
    coordo = factories.ConseillerFactory(est_coordinateur=True)
    factories.ConseillerFactory(coordinateur=coordo)
    with pytest.raises(ValidationError, match="coordonne encore"):
        services.conseiller_update(conseiller=coordo, est_coordinateur=False, by=staff)


# --- mise en relation --------------------------------------------------------------------------------------------
def test_mise_en_relation_create_refuses_a_duplicate(structure, referent):
    conseiller = factories.ConseillerFactory()
    services.mise_en_relation_create(conseiller=conseiller, structure=structure, by=referent)
    with pytest.raises(ValidationError) as error:
        services.mise_en_relation_create(conseiller=conseiller, structure=structure, by=referent)
    assert error.value.messages == ["Cette candidature existe déjà pour cette structure."]


def test_mise_en_relation_follows_the_national_workflow(structure, staff):
    factories.PosteFactory(structure=structure)
    mer = factories.MiseEnRelationFactory(structure=structure)
    for statut in [S.INTERESSEE, S.RECRUTEE, S.FINALISEE, S.NOUVELLE_RUPTURE, S.FINALISEE_RUPTURE]:
        mer = services.mise_en_relation_transition(mise_en_relation=mer, statut=statut, date=D(2022, 1, 3), by=staff)
    assert mer.statut == S.FINALISEE_RUPTURE
    assert (mer.date_recrutement, mer.date_rupture) == (D(2022, 1, 3), D(2022, 1, 3))
    assert mer.history.first().history_user == staff


def test_mise_en_relation_refuses_a_jump_with_a_french_message(structure, staff):
    mer = factories.MiseEnRelationFactory(structure=structure)
    with pytest.raises(ValidationError) as error:
        services.mise_en_relation_transition(mise_en_relation=mer, statut=S.FINALISEE, by=staff)
    assert error.value.messages == ["Passage impossible du statut « Nouvelle candidature » à « En poste »."]
    mer.refresh_from_db()
    assert mer.statut == S.NOUVELLE


def test_mise_en_relation_refuses_an_unknown_status(structure, staff):
    mer = factories.MiseEnRelationFactory(structure=structure)
    with pytest.raises(ValidationError) as error:
        services.mise_en_relation_transition(mise_en_relation=mer, statut="embauchee", by=staff)
    assert error.value.message_dict["statut"] == ["Statut de mise en relation inconnu."]


def test_referent_cannot_move_another_structures_recruitment(referent, other_structure):
    mer = factories.MiseEnRelationFactory(structure=other_structure)
    with pytest.raises(PermissionDenied):
        services.mise_en_relation_transition(mise_en_relation=mer, statut=S.INTERESSEE, by=referent)


def test_withdrawn_rupture_clears_its_date(structure, staff):
    factories.PosteFactory(structure=structure)
    mer = factories.MiseEnRelationFactory(structure=structure, statut=S.FINALISEE)
    mer = services.mise_en_relation_transition(mise_en_relation=mer, statut=S.NOUVELLE_RUPTURE, by=staff)
    assert mer.date_rupture
    mer = services.mise_en_relation_transition(mise_en_relation=mer, statut=S.FINALISEE, by=staff)
    assert mer.date_rupture is None


# --- hired ≤ granted ---------------------------------------------------------------------------------------------
def test_hiring_beyond_the_granted_posts_is_refused(structure, referent):
    factories.PosteFactory(structure=structure)
    factories.PosteFactory(structure=structure, etat="rendu", date_rendu=D(2022, 1, 1))  # does not count
    first = factories.MiseEnRelationFactory(structure=structure, statut=S.INTERESSEE)
    second = factories.MiseEnRelationFactory(structure=structure, statut=S.INTERESSEE)
    services.mise_en_relation_transition(mise_en_relation=first, statut=S.RECRUTEE, by=referent)
    with pytest.raises(ValidationError) as error:
        services.mise_en_relation_transition(mise_en_relation=second, statut=S.RECRUTEE, by=referent)
    assert error.value.messages == [
        f"{structure} a déjà 1 personne(s) recrutée(s) pour 1 poste(s) attribué(s) : "
        "un recrutement de plus dépasserait ses postes."
    ]
    second.refresh_from_db()
    assert second.statut == S.INTERESSEE


def test_a_structure_without_posts_hires_nobody(structure, staff):
    mer = factories.MiseEnRelationFactory(structure=structure, statut=S.INTERESSEE)
    with pytest.raises(ValidationError, match="pour 0 poste"):
        services.mise_en_relation_transition(mise_en_relation=mer, statut=S.RECRUTEE, by=staff)


def test_moving_between_hired_statuses_does_not_count_twice(structure, staff):
    factories.PosteFactory(structure=structure)
    mer = factories.MiseEnRelationFactory(structure=structure, statut=S.RECRUTEE)
    mer = services.mise_en_relation_transition(mise_en_relation=mer, statut=S.FINALISEE, by=staff)
    assert mer.statut == S.FINALISEE


def test_a_finished_recruitment_frees_its_post(structure, staff):
    factories.PosteFactory(structure=structure)
    done = factories.MiseEnRelationFactory(structure=structure, statut=S.NOUVELLE_RUPTURE)
    services.mise_en_relation_transition(mise_en_relation=done, statut=S.FINALISEE_RUPTURE, by=staff)
    newcomer = factories.MiseEnRelationFactory(structure=structure, statut=S.INTERESSEE)
    assert services.mise_en_relation_transition(mise_en_relation=newcomer, statut=S.RECRUTEE, by=staff).statut == (
        S.RECRUTEE
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_hires_never_exceed_the_granted_posts():
    if connection.vendor != "postgresql":
        pytest.skip("concurrence réelle : nécessite PostgreSQL (DATABASE_URL)")
    staff = factories.StaffUserFactory(with_totp=False)
    structure = factories.StructureFactory()
    factories.PosteFactory(structure=structure)
    factories.PosteFactory(structure=structure)
    attempts = 8
    candidates = [factories.MiseEnRelationFactory(structure=structure, statut=S.INTERESSEE) for _ in range(attempts)]
    barrier = threading.Barrier(attempts)
    outcomes = []

    def attempt(mer):
        try:
            barrier.wait(timeout=10)
            services.mise_en_relation_transition(mise_en_relation=mer, statut=S.RECRUTEE, by=staff)
            outcomes.append("hired")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(mer,)) for mer in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["hired"] * 2 + ["refused"] * (attempts - 2)
    assert MiseEnRelation.objects.filter(structure=structure, statut=S.RECRUTEE).count() == 2
