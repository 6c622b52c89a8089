"""Unit tests of the activity-log services: the rules (French messages on the right field), the rows derived from an
activity, the history, who may write what, the employer of an activity, followed beneficiaries and shared figures."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accompagnements import services
from accompagnements.models import Accompagnement, Activite, ActiviteThematique, Beneficiaire
from accompagnements.services import Participants
from accounts.models import Role
from conseillers.models import Affectation
from tests import factories

from .conftest import activite_data

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


# --- Helpers ---------------------------------------------------------------------------------------------------------
def create(conseiller, participants=None, **overrides):
    """Record an activity through the service, at home in the commune of the conseiller's structure by default."""
    overrides.setdefault("commune", conseiller.user.memberships.first().structure.commune)
    return services.activite_create(by=conseiller.user, data=activite_data(**overrides), participants=participants)


def update(activite, by, participants=None, **overrides):
    overrides.setdefault("commune", activite.commune)
    return services.activite_update(
        activite=activite, by=by, data=activite_data(**overrides), participants=participants
    )


def refused(conseiller, participants=None, **overrides):
    """The ``message_dict`` of the ValidationError raised when recording these data (nothing is saved)."""
    with pytest.raises(ValidationError) as excinfo:
        create(conseiller, participants, **overrides)
    assert not Activite.objects.exists()
    return excinfo.value.message_dict


def workshop(**overrides):
    return {"type": "collectif", "titre_atelier": "Découvrir la messagerie", "niveau": "debutant", **overrides}


def follow(conseiller, **data):
    values = {"prenom": "Léa", "nom": "Martin", "consentement": True, **data}
    return services.beneficiaire_create(by=conseiller.user, data=values, confirme_doublon=True)


def rows(activite):
    return list(Accompagnement.objects.filter(activite=activite).order_by("rang"))


def themes(activite):
    return sorted(ActiviteThematique.objects.filter(activite=activite).values_list("thematique", flat=True))


# --- Rules: date ---------------------------------------------------------------------------------------------------
def test_date_in_the_future_is_refused(conseiller):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    assert refused(conseiller, date=tomorrow) == {"date": ["La date ne peut pas être dans le futur."]}


def test_date_today_is_accepted(conseiller):
    activite = create(conseiller, date=timezone.localdate())

    assert activite.date == timezone.localdate()


def test_date_before_the_programme_start_is_refused(conseiller, settings):
    start = timezone.localdate() - datetime.timedelta(days=10)
    settings.PROGRAMME_DATE_DEBUT = start

    errors = refused(conseiller, date=start - datetime.timedelta(days=1))

    assert errors == {"date": [f"La date ne peut pas précéder le début du programme ({start:%d/%m/%Y})."]}


def test_date_on_the_programme_start_is_accepted(conseiller, settings):
    start = timezone.localdate() - datetime.timedelta(days=10)
    settings.PROGRAMME_DATE_DEBUT = start

    assert create(conseiller, date=start).date == start


def test_missing_date_is_refused(conseiller):
    assert refused(conseiller, date=None) == {"date": ["Indiquez la date."]}


# --- Rules: duration -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("duree", [0, 481, None])
def test_duration_out_of_1_to_480_is_refused(conseiller, duree):
    assert refused(conseiller, duree=duree) == {"duree": ["La durée doit être comprise entre 1 et 480 minutes."]}


@pytest.mark.parametrize("duree", [1, 480])
def test_duration_bounds_1_and_480_are_accepted(conseiller, duree):
    assert create(conseiller, duree=duree).duree == duree


# --- Rules: thématiques, démarche, matériel ------------------------------------------------------------------------
def test_no_thematique_is_refused(conseiller):
    assert refused(conseiller, thematiques=[]) == {"thematiques": ["Choisissez au moins une thématique."]}


def test_a_thematique_ticked_twice_is_refused(conseiller):
    assert refused(conseiller, thematiques=["email", "email"]) == {
        "thematiques": ["Une thématique est cochée deux fois."]
    }


def test_administrative_sub_theme_without_aide_aux_demarches_is_refused(conseiller):
    errors = refused(conseiller, thematiques=["logement"])

    assert list(errors) == ["thematiques"]
    assert "« Aide aux démarches administratives »" in errors["thematiques"][0]


def test_administrative_sub_theme_with_aide_aux_demarches_is_accepted(conseiller):
    activite = create(conseiller, thematiques=["aide_aux_demarches_administratives", "logement"])

    assert activite.thematiques == ["aide_aux_demarches_administratives", "logement"]
    assert themes(activite) == ["aide_aux_demarches_administratives", "logement"]


def test_nom_demarche_without_aide_aux_demarches_is_refused(conseiller):
    errors = refused(conseiller, thematiques=["email"], nom_demarche="Demande d'APL")

    assert errors == {
        "nom_demarche": ["Le nom de la démarche ne s'indique que pour une aide aux démarches administratives."]
    }


def test_nom_demarche_with_aide_aux_demarches_is_kept_stripped(conseiller):
    activite = create(conseiller, thematiques=["aide_aux_demarches_administratives"], nom_demarche="  Demande d'APL  ")

    assert activite.nom_demarche == "Demande d'APL"


def test_blank_nom_demarche_without_aide_aux_demarches_is_accepted_and_stored_empty(conseiller):
    activite = create(conseiller, thematiques=["email"], nom_demarche="   ")

    assert activite.nom_demarche == ""


def test_nom_demarche_is_cleared_when_an_update_drops_aide_aux_demarches(conseiller):
    activite = create(conseiller, thematiques=["aide_aux_demarches_administratives"], nom_demarche="Carte grise")

    update(activite, conseiller.user, thematiques=["email"], nom_demarche="")

    activite.refresh_from_db()
    assert activite.nom_demarche == ""
    assert activite.thematiques == ["email"]


def test_aucun_materiel_combined_with_another_is_refused(conseiller):
    assert refused(conseiller, materiel=["aucun", "ordinateur"]) == {
        "materiel": ["« Pas de matériel » ne se combine pas avec un autre matériel."]
    }


def test_aucun_materiel_alone_is_accepted(conseiller):
    assert create(conseiller, materiel=["aucun"]).materiel == ["aucun"]


# --- Rules: place --------------------------------------------------------------------------------------------------
def test_lieu_activite_without_lieu_is_refused(conseiller):
    assert refused(conseiller, type_lieu="lieu_activite", lieu=None) == {"lieu": ["Choisissez le lieu d'activité."]}


def test_lieu_activite_takes_the_commune_of_the_lieu(conseiller, lieu):
    elsewhere = factories.CommuneFactory()
    assert lieu.commune != elsewhere

    activite = create(conseiller, type_lieu="lieu_activite", lieu=lieu, commune=elsewhere)

    activite.refresh_from_db()
    assert activite.lieu == lieu
    assert activite.commune == lieu.commune


@pytest.mark.parametrize("type_lieu", ["domicile", "autre"])
def test_domicile_or_autre_without_commune_is_refused(conseiller, type_lieu):
    assert refused(conseiller, type_lieu=type_lieu, commune=None) == {
        "commune": ["Indiquez la commune où l'activité a eu lieu."]
    }


def test_a_distance_without_commune_is_accepted(conseiller):
    activite = create(conseiller, type_lieu="a_distance", commune=None)

    activite.refresh_from_db()
    assert activite.type_lieu == "a_distance"
    assert activite.commune is None


def test_a_place_other_than_lieu_activite_drops_the_lieu(conseiller, lieu):
    activite = create(conseiller, type_lieu="domicile", lieu=lieu)

    activite.refresh_from_db()
    assert activite.lieu is None


# --- Rules: type and participants ----------------------------------------------------------------------------------
@pytest.mark.parametrize("type", ["atelier", "", None])
def test_unknown_type_is_refused(conseiller, type):
    assert refused(conseiller, type=type) == {
        "type": ["Choisissez un accompagnement individuel ou un atelier collectif."]
    }


def test_workshop_without_participants_is_refused(conseiller):
    errors = refused(conseiller, Participants(anonymes=0), **workshop())

    assert errors == {
        "anonymes": ["Un atelier compte au moins un participant : indiquez leur nombre ou choisissez-les."]
    }


@pytest.mark.parametrize("titre", ["", "   ", None])
def test_workshop_without_title_is_refused(conseiller, titre):
    errors = refused(conseiller, Participants(anonymes=3), **workshop(titre_atelier=titre))

    assert errors == {"titre_atelier": ["Donnez un titre à l'atelier."]}


def test_breakdown_exceeding_the_anonymous_total_is_refused_with_the_numbers(conseiller):
    participants = Participants(anonymes=3, repartition={"genre": {"feminin": 2, "masculin": 2}})

    errors = refused(conseiller, participants, **workshop())

    assert errors == {
        "repartition_genre": ["La répartition par genre (4) dépasse le nombre de participants anonymes (3)."]
    }


def test_each_breakdown_is_checked_on_its_own_field(conseiller):
    participants = Participants(
        anonymes=2,
        repartition={
            "genre": {"feminin": 2},
            "tranche_age": {"douze_dix_huit": 2, "soixante_dix_plus": 1},
            "statut_social": {"retraite": 5},
        },
    )

    errors = refused(conseiller, participants, **workshop())

    assert set(errors) == {"repartition_tranche_age", "repartition_statut_social"}
    assert errors["repartition_tranche_age"] == [
        "La répartition par tranche d’âge (3) dépasse le nombre de participants anonymes (2)."
    ]
    assert errors["repartition_statut_social"] == [
        "La répartition par statut (5) dépasse le nombre de participants anonymes (2)."
    ]


def test_breakdown_equal_to_the_anonymous_total_is_accepted(conseiller):
    participants = Participants(anonymes=3, repartition={"genre": {"feminin": 2, "masculin": 1}})

    activite = create(conseiller, participants, **workshop())

    assert activite.participants == 3


def test_negative_anonymous_count_is_refused(conseiller):
    errors = refused(conseiller, Participants(anonymes=-1), **workshop())

    assert errors == {"anonymes": ["Le nombre de participants ne peut pas être négatif."]}


def test_negative_count_in_a_breakdown_is_refused(conseiller):
    participants = Participants(anonymes=3, repartition={"genre": {"feminin": -1}})

    errors = refused(conseiller, participants, **workshop())

    assert errors == {"repartition_genre": ["Répartition par genre invalide."]}


def test_unknown_code_in_a_breakdown_is_refused(conseiller):
    participants = Participants(anonymes=3, repartition={"statut_social": {"astronaute": 1}})

    errors = refused(conseiller, participants, **workshop())

    assert errors == {"repartition_statut_social": ["Répartition par statut invalide."]}


@pytest.mark.parametrize("type", ["individuel", "collectif"])
def test_beneficiary_followed_by_another_conseiller_is_refused(conseiller, other_conseiller, type):
    someone_else = follow(other_conseiller)
    data = workshop() if type == "collectif" else {}

    errors = refused(conseiller, Participants(beneficiaires=[someone_else]), **data)

    assert errors == {"beneficiaires": ["Vous ne pouvez choisir que les bénéficiaires que vous suivez."]}


def test_individual_session_with_two_beneficiaries_is_refused(conseiller):
    first, second = follow(conseiller), follow(conseiller, prenom="Paul")

    errors = refused(conseiller, Participants(beneficiaires=[first, second]))

    assert errors == {"beneficiaires": ["Un accompagnement individuel concerne une seule personne."]}


def test_more_than_500_participants_is_refused(conseiller):
    errors = refused(conseiller, Participants(anonymes=501), **workshop())

    assert errors == {"anonymes": ["Un atelier compte au plus 500 participants."]}


def test_more_than_500_participants_counting_the_followed_ones_is_refused(conseiller):
    participants = Participants(beneficiaires=[follow(conseiller)], anonymes=500)

    errors = refused(conseiller, participants, **workshop())

    assert errors == {"anonymes": ["Un atelier compte au plus 500 participants."]}


def test_500_participants_are_accepted(conseiller):
    activite = create(conseiller, Participants(anonymes=500), **workshop())

    assert activite.participants == 500
    assert Accompagnement.objects.filter(activite=activite).count() == 500


# --- Derived rows --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("deja_accompagne", [False, True])
def test_individual_anonymous_session_gives_one_accompaniment_with_the_typed_attributes(conseiller, deja_accompagne):
    commune = factories.CommuneFactory()
    participants = Participants(
        anonyme={
            "genre": "masculin",
            "tranche_age": "soixante_dix_plus",
            "statut_social": "retraite",
            "commune_residence": commune,
        },
        deja_accompagne=deja_accompagne,
    )

    activite = create(conseiller, participants)

    [row] = rows(activite)
    assert row.rang == 1
    assert row.beneficiaire is None
    assert (row.genre, row.tranche_age, row.statut_social) == ("masculin", "soixante_dix_plus", "retraite")
    assert row.commune_residence == commune
    assert row.premier_accompagnement is (not deja_accompagne)
    assert activite.participants == 1
    assert activite.participants_anonymes == {}


def test_individual_anonymous_session_without_attributes_is_non_communique(conseiller):
    activite = create(conseiller)

    [row] = rows(activite)
    assert (row.genre, row.tranche_age, row.statut_social) == ("non_communique",) * 3
    assert row.commune_residence is None
    assert row.premier_accompagnement is True


def test_individual_session_with_a_followed_beneficiary_copies_their_attributes(conseiller):
    commune = factories.CommuneFactory()
    person = follow(
        conseiller,
        genre="feminin",
        tranche_age="quarante_cinquante_neuf",
        statut_social="en_emploi",
        commune_residence=commune,
    )

    activite = create(conseiller, Participants(beneficiaires=[person]))

    [row] = rows(activite)
    assert row.beneficiaire == person
    assert (row.genre, row.tranche_age, row.statut_social) == ("feminin", "quarante_cinquante_neuf", "en_emploi")
    assert row.commune_residence == commune
    assert row.premier_accompagnement is True


def test_workshop_rows_are_the_followed_then_the_anonymous_ranked_1_to_7(conseiller):
    first = follow(conseiller, genre="masculin", tranche_age="douze_dix_huit", statut_social="scolarise")
    second = follow(conseiller, prenom="Paul", genre="feminin", statut_social="retraite")
    participants = Participants(beneficiaires=[first, second], anonymes=5, repartition={"genre": {"feminin": 3}})

    activite = create(conseiller, participants, **workshop())

    result = rows(activite)
    assert [row.rang for row in result] == [1, 2, 3, 4, 5, 6, 7]
    assert [row.beneficiaire for row in result] == [first, second, None, None, None, None, None]
    assert (result[0].genre, result[0].tranche_age, result[0].statut_social) == (
        "masculin",
        "douze_dix_huit",
        "scolarise",
    )
    assert (result[1].genre, result[1].statut_social) == ("feminin", "retraite")
    assert [row.genre for row in result[2:]] == ["feminin"] * 3 + ["non_communique"] * 2
    assert {row.tranche_age for row in result[2:]} == {"non_communique"}
    assert {row.statut_social for row in result[2:]} == {"non_communique"}
    assert all(row.premier_accompagnement for row in result)
    assert activite.participants == 7


def test_workshop_breakdowns_are_spread_in_vocabulary_order(conseiller):
    participants = Participants(
        anonymes=4,
        repartition={"genre": {"feminin": 2, "masculin": 1}, "tranche_age": {"soixante_dix_plus": 1}},
    )

    activite = create(conseiller, participants, **workshop())

    result = rows(activite)
    # The national vocabulary lists « masculin » before « féminin ».
    assert [row.genre for row in result] == ["masculin", "feminin", "feminin", "non_communique"]
    assert [row.tranche_age for row in result] == ["soixante_dix_plus"] + ["non_communique"] * 3


def test_thematique_rows_match_the_thematiques(conseiller):
    activite = create(conseiller, thematiques=["email", "sante", "securite_numerique"])

    assert themes(activite) == ["email", "sante", "securite_numerique"]


def test_changing_the_thematiques_rewrites_the_thematique_rows(conseiller):
    activite = create(conseiller, thematiques=["email", "sante"])

    update(activite, conseiller.user, thematiques=["bureautique"])

    assert themes(activite) == ["bureautique"]


def test_an_update_keeping_the_thematiques_keeps_the_thematique_rows(conseiller):
    activite = create(conseiller, thematiques=["email", "sante"])
    before = set(ActiviteThematique.objects.filter(activite=activite).values_list("pk", flat=True))

    update(activite, conseiller.user, thematiques=["email", "sante"], duree=45)

    assert set(ActiviteThematique.objects.filter(activite=activite).values_list("pk", flat=True)) == before


def test_a_followed_beneficiarys_second_activity_is_not_a_first_accompaniment(conseiller):
    person = follow(conseiller)
    first = create(conseiller, Participants(beneficiaires=[person]), date=YESTERDAY - datetime.timedelta(days=7))

    second = create(conseiller, Participants(beneficiaires=[person]))

    assert rows(first)[0].premier_accompagnement is True
    assert rows(second)[0].premier_accompagnement is False


def test_a_deleted_activity_does_not_count_as_a_previous_accompaniment(conseiller):
    person = follow(conseiller)
    first = create(conseiller, Participants(beneficiaires=[person]), date=YESTERDAY - datetime.timedelta(days=7))
    services.activite_delete(activite=first, by=conseiller.user)

    second = create(conseiller, Participants(beneficiaires=[person]))

    assert rows(second)[0].premier_accompagnement is True


def test_correcting_the_first_activity_keeps_it_a_first_accompaniment(conseiller):
    person = follow(conseiller)
    first = create(conseiller, Participants(beneficiaires=[person]), date=YESTERDAY - datetime.timedelta(days=7))
    create(conseiller, Participants(beneficiaires=[person]))

    update(first, conseiller.user, Participants(beneficiaires=[person]), date=first.date, duree=45)

    assert rows(first)[0].premier_accompagnement is True


def test_recording_a_followed_beneficiary_moves_their_last_contact(conseiller):
    person = follow(conseiller)

    create(conseiller, Participants(beneficiaires=[person]), date=YESTERDAY)

    person.refresh_from_db()
    assert person.dernier_contact == YESTERDAY


@pytest.mark.parametrize(("before", "after"), [(5, 3), (3, 6)])
def test_updating_a_workshops_anonymous_count_resizes_its_rows(conseiller, before, after):
    activite = create(conseiller, Participants(anonymes=before), **workshop())

    update(activite, conseiller.user, Participants(anonymes=after), **workshop())

    activite.refresh_from_db()
    assert [row.rang for row in rows(activite)] == list(range(1, after + 1))
    assert activite.participants == after
    assert activite.participants_anonymes["total"] == after


def test_updating_a_workshops_breakdown_rewrites_the_rows_in_place(conseiller):
    activite = create(conseiller, Participants(anonymes=3, repartition={"genre": {"feminin": 3}}), **workshop())
    pks = [row.pk for row in rows(activite)]

    update(activite, conseiller.user, Participants(anonymes=3, repartition={"genre": {"masculin": 1}}), **workshop())

    result = rows(activite)
    assert [row.pk for row in result] == pks
    assert [row.genre for row in result] == ["masculin", "non_communique", "non_communique"]


def test_removing_the_first_followed_participant_of_a_workshop(conseiller):
    first, second = follow(conseiller), follow(conseiller, prenom="Paul")
    activite = create(conseiller, Participants(beneficiaires=[first, second], anonymes=1), **workshop())

    update(activite, conseiller.user, Participants(beneficiaires=[second], anonymes=1), **workshop())

    assert [row.beneficiaire for row in rows(activite)] == [second, None]


def test_reordering_the_followed_participants_of_a_workshop(conseiller):
    first, second = follow(conseiller), follow(conseiller, prenom="Paul")
    activite = create(conseiller, Participants(beneficiaires=[first, second]), **workshop())

    update(activite, conseiller.user, Participants(beneficiaires=[second, first]), **workshop())

    assert [row.beneficiaire for row in rows(activite)] == [second, first]


def test_switching_a_workshop_to_an_individual_session_blanks_the_workshop_fields(conseiller):
    activite = create(conseiller, Participants(anonymes=5, repartition={"genre": {"feminin": 2}}), **workshop())

    update(activite, conseiller.user, Participants(anonyme={"genre": "masculin"}), type="individuel")

    activite.refresh_from_db()
    assert (activite.titre_atelier, activite.niveau) == ("", "")
    assert activite.participants == 1
    assert activite.participants_anonymes == {}
    [row] = rows(activite)
    assert (row.rang, row.genre, row.beneficiaire) == (1, "masculin", None)


def test_switching_an_individual_session_to_a_workshop_blanks_the_individual_fields(conseiller):
    activite = create(conseiller, oriente=True, structure_redirection="aide_sociale")

    update(activite, conseiller.user, Participants(anonymes=2), **workshop(oriente=True))

    activite.refresh_from_db()
    assert (activite.autonomie, activite.oriente, activite.structure_redirection) == ("", None, "")
    assert activite.participants == 2


def test_a_redirection_is_kept_only_when_oriented(conseiller):
    oriented = create(conseiller, oriente=True, structure_redirection="aide_sociale")
    not_oriented = create(conseiller, oriente=False, structure_redirection="aide_sociale")

    assert oriented.structure_redirection == "aide_sociale"
    assert not_oriented.structure_redirection == ""


def test_participants_equals_the_number_of_accompaniment_rows(conseiller):
    participants = Participants(beneficiaires=[follow(conseiller)], anonymes=4)

    activite = create(conseiller, participants, **workshop())

    activite.refresh_from_db()
    assert activite.participants == 5 == Accompagnement.objects.filter(activite=activite).count()


def test_participants_anonymes_stores_what_was_typed(conseiller):
    participants = Participants(
        anonymes=5,
        repartition={"genre": {"feminin": 3, "masculin": 0}, "statut_social": {"retraite": 2, "en_emploi": 1}},
    )

    activite = create(conseiller, participants, **workshop())

    activite.refresh_from_db()
    assert activite.participants_anonymes == {
        "total": 5,
        "genre": {"feminin": 3},
        "tranche_age": {},
        "statut_social": {"retraite": 2, "en_emploi": 1},
    }


def test_participants_of_gives_back_what_was_typed(conseiller):
    person = follow(conseiller)
    typed = Participants(beneficiaires=[person], anonymes=3, repartition={"genre": {"feminin": 2}})
    activite = create(conseiller, typed, **workshop())

    again = services.participants_of(activite)

    assert again.beneficiaires == [person]
    assert again.anonymes == 3
    assert again.repartition == {"genre": {"feminin": 2}, "tranche_age": {}, "statut_social": {}}


# --- History -------------------------------------------------------------------------------------------------------
def test_create_then_update_gives_two_historical_records_by_the_author(conseiller):
    activite = create(conseiller)

    update(activite, conseiller.user, duree=90)

    records = list(activite.history.order_by("history_date"))
    assert [record.history_type for record in records] == ["+", "~"]
    assert [record.history_user for record in records] == [conseiller.user, conseiller.user]
    assert [record.duree for record in records] == [30, 90]


def test_notes_are_not_in_the_history(conseiller):
    activite = create(conseiller, notes="Mme X. a des soucis personnels")

    assert activite.notes == "Mme X. a des soucis personnels"
    assert "notes" not in {f.name for f in Activite.history.model._meta.get_fields()}
    assert not hasattr(activite.history.get(), "notes")


def test_accompaniment_rows_are_historised_by_the_author(conseiller):
    activite = create(conseiller, Participants(anonymes=2), **workshop())

    histories = Accompagnement.history.filter(activite_id=activite.pk)
    assert histories.count() == 2
    assert {h.history_user for h in histories} == {conseiller.user}


def test_delete_is_soft_and_recorded_in_the_history(conseiller):
    activite = create(conseiller)

    services.activite_delete(activite=activite, by=conseiller.user)

    activite.refresh_from_db()
    assert activite.supprimee_le is not None
    assert Activite.objects.filter(pk=activite.pk).exists()
    assert not Activite.objects.actives().filter(pk=activite.pk).exists()
    last = activite.history.order_by("-history_date").first()
    assert last.history_type == "~"
    assert last.supprimee_le == activite.supprimee_le
    assert last.history_user == conseiller.user
    assert activite.history.count() == 2


# --- Permissions ---------------------------------------------------------------------------------------------------
@pytest.fixture
def not_authors(other_conseiller, colleague, referent, staff_user):
    return {
        "other_conseiller": other_conseiller.user,
        "colleague": colleague.user,
        "referent": referent,
        "staff": staff_user,
    }


@pytest.mark.parametrize("who", ["other_conseiller", "colleague", "referent", "staff"])
def test_only_the_author_updates(conseiller, not_authors, who):
    activite = create(conseiller)

    with pytest.raises(PermissionDenied):
        update(activite, not_authors[who], duree=90)

    activite.refresh_from_db()
    assert activite.duree == 30
    assert activite.history.count() == 1


@pytest.mark.parametrize("who", ["other_conseiller", "colleague", "referent", "staff"])
def test_only_the_author_deletes(conseiller, not_authors, who):
    activite = create(conseiller)

    with pytest.raises(PermissionDenied):
        services.activite_delete(activite=activite, by=not_authors[who])

    activite.refresh_from_db()
    assert activite.supprimee_le is None


def test_an_imported_activity_cannot_be_updated_by_its_author(conseiller):
    activite = create(conseiller)
    Activite.objects.filter(pk=activite.pk).update(source="import_coop")

    with pytest.raises(PermissionDenied, match="outil national"):
        update(activite, conseiller.user, duree=90)

    activite.refresh_from_db()
    assert activite.duree == 30


def test_an_imported_activity_cannot_be_deleted_by_its_author(conseiller):
    activite = create(conseiller)
    Activite.objects.filter(pk=activite.pk).update(source="import_coop")

    with pytest.raises(PermissionDenied, match="outil national"):
        services.activite_delete(activite=activite, by=conseiller.user)

    activite.refresh_from_db()
    assert activite.supprimee_le is None


def test_a_deleted_activity_cannot_be_updated(conseiller):
    activite = create(conseiller)
    services.activite_delete(activite=activite, by=conseiller.user)

    with pytest.raises(PermissionDenied, match="supprimée"):
        update(activite, conseiller.user, duree=90)

    activite.refresh_from_db()
    assert activite.duree == 30


def test_a_deleted_activity_cannot_be_deleted_again(conseiller):
    activite = create(conseiller)
    services.activite_delete(activite=activite, by=conseiller.user)
    deleted_at = Activite.objects.get(pk=activite.pk).supprimee_le

    with pytest.raises(PermissionDenied):
        services.activite_delete(activite=activite, by=conseiller.user)

    assert Activite.objects.get(pk=activite.pk).supprimee_le == deleted_at


def test_conseiller_of_refuses_a_user_without_conseiller_profile(referent):
    with pytest.raises(PermissionDenied, match="Seuls les conseillers numériques"):
        services.conseiller_of(referent)


def test_conseiller_of_refuses_an_anonymous_user(db):
    with pytest.raises(PermissionDenied):
        services.conseiller_of(AnonymousUser())


def test_conseiller_of_returns_the_profile(conseiller):
    assert services.conseiller_of(conseiller.user) == conseiller


def test_staff_without_conseiller_profile_cannot_record(staff_user, structure):
    with pytest.raises(PermissionDenied):
        services.activite_create(by=staff_user, data=activite_data(commune=structure.commune))

    assert not Activite.objects.exists()


# --- Employer ------------------------------------------------------------------------------------------------------
def hold_post(conseiller, structure, date_debut=datetime.date(2022, 1, 1), date_fin=None):
    """The conseiller holds a post attached to ``structure`` since 2021-06-01."""
    poste = factories.PosteFactory(structure=structure)
    Affectation.objects.create(poste=poste, conseiller=conseiller, date_debut=date_debut, date_fin=date_fin)
    return poste


def test_employer_is_the_structure_of_the_post_held_that_day(conseiller, structure):
    employer = factories.StructureFactory()
    hold_post(conseiller, employer)

    assert services.employeur(conseiller, datetime.date(2023, 6, 15)) == employer


def test_employer_is_the_old_structure_before_a_move_of_the_post(conseiller):
    old, new = factories.StructureFactory(), factories.StructureFactory()
    poste = hold_post(conseiller, old)
    moved_on = datetime.date(2024, 1, 1)
    poste.rattachements.update(date_fin=moved_on)
    factories.RattachementFactory(poste=poste, structure=new, date_debut=moved_on)

    assert services.employeur(conseiller, datetime.date(2023, 12, 31)) == old
    assert services.employeur(conseiller, datetime.date(2024, 1, 2)) == new


def test_employer_is_the_new_structure_on_the_day_of_the_move(conseiller):
    old, new = factories.StructureFactory(), factories.StructureFactory()
    poste = hold_post(conseiller, old)
    moved_on = datetime.date(2024, 1, 1)
    poste.rattachements.update(date_fin=moved_on)
    factories.RattachementFactory(poste=poste, structure=new, date_debut=moved_on)

    assert services.employeur(conseiller, moved_on) == new


def test_employer_follows_the_post_held_on_the_day(conseiller):
    first, second = factories.StructureFactory(), factories.StructureFactory()
    hold_post(conseiller, first, date_debut=datetime.date(2022, 1, 1), date_fin=datetime.date(2023, 1, 1))
    hold_post(conseiller, second, date_debut=datetime.date(2023, 2, 1))

    assert services.employeur(conseiller, datetime.date(2022, 6, 1)) == first
    assert services.employeur(conseiller, datetime.date(2023, 6, 1)) == second


def test_employer_is_the_post_structure_of_a_covering_contract(conseiller):
    employer = factories.StructureFactory()
    factories.ContratFactory(conseiller=conseiller, poste=factories.PosteFactory(structure=employer))

    assert services.employeur(conseiller, datetime.date(2023, 6, 15)) == employer


def test_employer_falls_back_to_the_conseillers_membership(conseiller, structure):
    assert services.employeur(conseiller, YESTERDAY) == structure


def test_employer_membership_fallback_ignores_other_roles(db):
    user = factories.MembershipFactory(role=Role.REFERENT).user
    conseiller = factories.ConseillerFactory(user=user)

    with pytest.raises(ValidationError) as excinfo:
        services.employeur(conseiller, YESTERDAY)

    assert excinfo.value.code == "no_employer"


def test_no_employer_is_a_french_validation_error(db):
    conseiller = factories.ConseillerFactory(user=factories.UserFactory())

    with pytest.raises(ValidationError) as excinfo:
        services.employeur(conseiller, YESTERDAY)

    assert excinfo.value.code == "no_employer"
    assert excinfo.value.messages == [
        "Vous n'êtes rattaché(e) à aucune structure employeuse à cette date : demandez à votre référent de vous "
        "rattacher."
    ]


def test_an_activity_is_recorded_for_the_employer_of_its_day(conseiller, structure):
    employer = factories.StructureFactory()
    hold_post(conseiller, employer, date_debut=YESTERDAY - datetime.timedelta(days=5))

    recent = create(conseiller, date=YESTERDAY)
    older = create(conseiller, date=YESTERDAY - datetime.timedelta(days=30))

    assert recent.structure == employer
    assert older.structure == structure


def test_changing_the_date_of_an_activity_recomputes_its_employer(conseiller, structure):
    employer = factories.StructureFactory()
    hold_post(conseiller, employer, date_debut=YESTERDAY - datetime.timedelta(days=5))
    activite = create(conseiller, date=YESTERDAY)

    update(activite, conseiller.user, date=YESTERDAY - datetime.timedelta(days=30))

    activite.refresh_from_db()
    assert activite.structure == structure


# --- Followed beneficiaries ----------------------------------------------------------------------------------------
def test_following_someone_requires_their_consent(conseiller):
    with pytest.raises(ValidationError) as excinfo:
        services.beneficiaire_create(by=conseiller.user, data={"prenom": "Léa", "nom": "Martin"})

    assert list(excinfo.value.message_dict) == ["consentement"]
    assert "consentement de la personne" in excinfo.value.message_dict["consentement"][0]
    assert not Beneficiaire.objects.exists()


def test_following_someone_with_consent_records_the_consent_date(conseiller):
    person = services.beneficiaire_create(
        by=conseiller.user, data={"prenom": " Léa ", "nom": "Martin", "consentement": True}
    )

    assert person.conseiller == conseiller
    assert (person.prenom, person.nom) == ("Léa", "Martin")
    assert person.consentement_le is not None
    assert (person.genre, person.tranche_age, person.statut_social) == ("non_communique",) * 3
    assert person.history.get().history_user == conseiller.user


@pytest.mark.parametrize(
    "data",
    [
        {"prenom": "léa", "nom": "MARTIN", "annee_naissance": 1958},
        {"prenom": "Léa", "nom": "Martin", "annee_naissance": None},
    ],
)
def test_a_likely_duplicate_by_name_and_birth_year_is_refused(conseiller, data):
    follow(conseiller, prenom="Léa", nom="Martin", annee_naissance=1958)

    with pytest.raises(ValidationError) as excinfo:
        services.beneficiaire_create(by=conseiller.user, data={**data, "consentement": True})

    assert excinfo.value.code == "doublon"
    assert Beneficiaire.objects.count() == 1


def test_same_name_with_another_birth_year_is_not_a_duplicate(conseiller):
    follow(conseiller, annee_naissance=1958)

    services.beneficiaire_create(
        by=conseiller.user, data={"prenom": "Léa", "nom": "Martin", "annee_naissance": 1990, "consentement": True}
    )

    assert Beneficiaire.objects.count() == 2


PHONES = ["06 12 34 56 78", "+33612345678", "0612345678"]


@pytest.mark.parametrize("stored", PHONES)
@pytest.mark.parametrize("typed", PHONES)
def test_a_likely_duplicate_by_phone_is_refused_whatever_the_writing(conseiller, stored, typed):
    follow(conseiller, prenom="Léa", nom="Martin", telephone=stored)

    with pytest.raises(ValidationError) as excinfo:
        services.beneficiaire_create(
            by=conseiller.user, data={"prenom": "Jean", "nom": "Dupont", "telephone": typed, "consentement": True}
        )

    assert excinfo.value.code == "doublon"


def test_a_confirmed_duplicate_is_recorded(conseiller):
    follow(conseiller, annee_naissance=1958)

    services.beneficiaire_create(
        by=conseiller.user,
        data={"prenom": "Léa", "nom": "Martin", "annee_naissance": 1958, "consentement": True},
        confirme_doublon=True,
    )

    assert Beneficiaire.objects.count() == 2


def test_a_duplicate_is_only_searched_among_the_conseillers_own_people(conseiller, other_conseiller):
    follow(other_conseiller, telephone="0612345678")

    services.beneficiaire_create(
        by=conseiller.user, data={"prenom": "Léa", "nom": "Martin", "telephone": "0612345678", "consentement": True}
    )

    assert Beneficiaire.objects.filter(conseiller=conseiller).count() == 1


@pytest.mark.parametrize("offset", [-121, 1])
def test_birth_year_out_of_range_is_refused(conseiller, offset):
    this_year = timezone.localdate().year

    with pytest.raises(ValidationError) as excinfo:
        services.beneficiaire_create(
            by=conseiller.user,
            data={"prenom": "Léa", "nom": "Martin", "annee_naissance": this_year + offset, "consentement": True},
        )

    assert excinfo.value.message_dict == {
        "annee_naissance": [f"L'année de naissance doit être comprise entre {this_year - 120} et {this_year}."]
    }


@pytest.mark.parametrize("offset", [-120, 0])
def test_birth_year_bounds_are_accepted(conseiller, offset):
    year = timezone.localdate().year + offset

    person = follow(conseiller, annee_naissance=year)

    assert person.annee_naissance == year


def test_the_following_conseiller_updates_the_person(conseiller):
    person = follow(conseiller)

    services.beneficiaire_update(
        beneficiaire=person, by=conseiller.user, data={"prenom": "Léa", "nom": "Martin-Durand", "genre": "feminin"}
    )

    person.refresh_from_db()
    assert (person.nom, person.genre) == ("Martin-Durand", "feminin")


@pytest.mark.parametrize("who", ["other_conseiller", "colleague", "referent", "staff"])
def test_only_the_following_conseiller_updates_the_person(conseiller, not_authors, who):
    person = follow(conseiller)

    with pytest.raises(PermissionDenied):
        services.beneficiaire_update(beneficiaire=person, by=not_authors[who], data={"prenom": "X", "nom": "Y"})

    person.refresh_from_db()
    assert (person.prenom, person.nom) == ("Léa", "Martin")


# --- Shared figures ------------------------------------------------------------------------------------------------
def test_share_with_end_before_start_is_refused(conseiller):
    with pytest.raises(ValidationError) as excinfo:
        services.partage_create(
            by=conseiller.user, date_debut=datetime.date(2024, 6, 1), date_fin=datetime.date(2024, 5, 31)
        )

    assert excinfo.value.message_dict == {"date_fin": ["La fin de la période doit suivre son début."]}


def test_share_is_created_for_the_conseiller(conseiller):
    partage = services.partage_create(
        by=conseiller.user, date_debut=datetime.date(2024, 1, 1), date_fin=datetime.date(2024, 1, 1), libelle=" DG "
    )

    assert partage.conseiller == conseiller
    assert partage.libelle == "DG"
    assert partage.actif
    assert len(partage.token) >= 40


def test_share_revoked_by_another_user_is_refused(conseiller, other_conseiller):
    partage = services.partage_create(
        by=conseiller.user, date_debut=datetime.date(2024, 1, 1), date_fin=datetime.date(2024, 12, 31)
    )

    with pytest.raises(PermissionDenied):
        services.partage_revoke(partage=partage, by=other_conseiller.user)

    partage.refresh_from_db()
    assert partage.revoque_le is None


def test_share_revoked_by_its_author(conseiller):
    partage = services.partage_create(
        by=conseiller.user, date_debut=datetime.date(2024, 1, 1), date_fin=datetime.date(2024, 12, 31)
    )

    services.partage_revoke(partage=partage, by=conseiller.user)

    partage.refresh_from_db()
    assert partage.revoque_le is not None
    assert not partage.actif
