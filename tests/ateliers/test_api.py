"""The workshops' partner API, through its URLs with real tokens: programmes, sessions (seats, cancellation,
attendance) and registrations (seats then waiting list, promotion, duplicates), each scoped to the client's
structure; another structure's objects answer 404 and never appear in lists."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ateliers import services
from ateliers.models import Atelier, Inscription, Seance, StatutInscription
from notifications.models import Email
from partenaires.actor import ActeurAPI
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

JSON = "application/json"
HORS_PERIMETRE = "Aucun objet de votre périmètre"


# --- fixtures and helpers ------------------------------------------------------------------------------------------
@pytest.fixture
def structure():
    return factories.StructureFactory(nom="Médiathèque de Labège")


@pytest.fixture
def autre():
    return factories.StructureFactory(nom="CCAS de Castanet")


@pytest.fixture
def partenaire(structure):
    """The structure's partner client, every scope granted; ``partenaire.headers`` carry a fresh token."""
    client_api, _secret = api_client_for(structure)
    client_api.headers = bearer(client_api)
    return client_api


@pytest.fixture
def lieu(structure):
    return factories.LieuFactory(structure=structure)


@pytest.fixture
def atelier(structure):
    return factories.AtelierFactory(structure=structure, titre="Se protéger des arnaques")


@pytest.fixture
def seance(atelier, lieu):
    return factories.SeanceFactory(atelier=atelier, lieu=lieu, capacite=2)


@pytest.fixture
def seance_autre(autre):
    return factories.SeanceFactory(atelier__structure=autre, capacite=5)


def future(days=10, hour=14):
    moment = timezone.localtime() + datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def get(client, headers, path, params=None):
    return client.get(path, params or {}, **headers)


def post(client, headers, path, data=None, **extra):
    return client.post(path, data if data is not None else {}, content_type=JSON, **headers, **extra)


def patch(client, headers, path, data):
    return client.patch(path, data, content_type=JSON, **headers)


def uuids(response):
    assert response.status_code == 200, response.content
    return {item["uuid"] for item in response.json()["results"]}


def person(n, **overrides):
    return {
        "prenom": f"Prénom{n}",
        "nom": f"Nom{n}",
        "email": f"personne{n}@example.org",
        "consentement": True,
        **overrides,
    }


def register(client, headers, seance, n, **overrides):
    return post(client, headers, "/api/v1/inscriptions/", {"seance": str(seance.uuid), **person(n, **overrides)})


def messages(response):
    """Every message of an error answer, flattened."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            found.append(str(value))

    walk(response.json())
    return " ".join(found)


def move_to_today(seance):
    """A session started an hour ago (or at midnight): its attendance sheet is open."""
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(0, 0)))
    debut = max(midnight, timezone.now() - datetime.timedelta(hours=1))
    Seance.objects.filter(pk=seance.pk).update(debut=debut, fin=debut + datetime.timedelta(hours=2))
    seance.refresh_from_db()
    return seance


# --- authentication and scopes -------------------------------------------------------------------------------------
LISTS = ["/api/v1/ateliers/", "/api/v1/seances/", "/api/v1/inscriptions/"]


@pytest.mark.parametrize("path", LISTS)
def test_no_token_answers_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert "Authentification requise" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "granted"),
    [
        ("/api/v1/ateliers/", ["inscriptions:read", "inscriptions:write"]),
        ("/api/v1/seances/", ["inscriptions:read", "lieux:read"]),
        ("/api/v1/inscriptions/", ["ateliers:read", "ateliers:write"]),
    ],
)
def test_token_without_the_family_read_scope_answers_403(client, structure, path, granted):
    client_api, _ = api_client_for(structure, granted)
    response = client.get(path, **bearer(client_api))
    assert response.status_code == 403
    assert "n'a pas le droit" in response.json()["detail"]


def test_read_scope_does_not_write(client, structure, atelier, seance):
    client_api, _ = api_client_for(structure, ["ateliers:read", "inscriptions:read"])
    headers = bearer(client_api)
    assert post(client, headers, "/api/v1/ateliers/", {"titre": "X"}).status_code == 403
    assert patch(client, headers, f"/api/v1/ateliers/{atelier.uuid}/", {"titre": "X"}).status_code == 403
    assert post(client, headers, f"/api/v1/seances/{seance.uuid}/annuler/", {"motif": "x"}).status_code == 403
    assert register(client, headers, seance, 1).status_code == 403
    assert Inscription.objects.count() == 0 and not Seance.objects.filter(statut="annulee").exists()


def test_attendance_needs_the_inscriptions_write_scope(client, structure, seance):
    client_api, _ = api_client_for(structure, ["ateliers:read", "ateliers:write", "inscriptions:read"])
    response = post(client, bearer(client_api), f"/api/v1/seances/{seance.uuid}/presences/", {"presences": []})
    assert response.status_code == 403
    assert "inscriptions:write" in response.json()["detail"]


# --- ateliers ------------------------------------------------------------------------------------------------------
def test_ateliers_list_only_the_structure_own(client, partenaire, atelier, autre):
    other = factories.AtelierFactory(structure=autre)
    response = get(client, partenaire.headers, "/api/v1/ateliers/")
    assert uuids(response) == {str(atelier.uuid)}
    item = response.json()["results"][0]
    assert item["titre"] == "Se protéger des arnaques"
    assert item["structure"] == str(atelier.structure.uuid)
    assert item["thematiques"] == ["securite_numerique"]
    assert get(client, partenaire.headers, f"/api/v1/ateliers/{other.uuid}/").status_code == 404
    assert get(client, partenaire.headers, f"/api/v1/ateliers/{atelier.uuid}/").status_code == 200


def test_ateliers_filter_by_thematique_and_actif(client, partenaire, structure, atelier):
    inactive = factories.AtelierFactory(structure=structure, actif=False, thematiques=["parentalite"])
    headers = partenaire.headers
    assert uuids(get(client, headers, "/api/v1/ateliers/", {"actif": "false"})) == {str(inactive.uuid)}
    assert uuids(get(client, headers, "/api/v1/ateliers/", {"thematique": "securite_numerique"})) == {str(atelier.uuid)}
    for params in ({"actif": "peut-etre"}, {"thematique": "inconnue"}, {"thematique": ""}, {"ordering": "nom"}):
        assert get(client, headers, "/api/v1/ateliers/", params).status_code == 400, params


ATELIER = {
    "titre": "Premiers pas sur la tablette",
    "thematiques": ["prendre_en_main_du_materiel"],
    "publics": ["seniors"],
    "niveau": "debutant",
    "duree": 90,
}


def test_create_atelier_through_the_service_with_api_history(client, partenaire, structure):
    response = post(client, partenaire.headers, "/api/v1/ateliers/", ATELIER)
    assert response.status_code == 201, response.content
    data = response.json()
    atelier = Atelier.objects.get(uuid=data["uuid"])
    assert atelier.structure == structure
    assert (data["titre"], data["duree"], data["actif"]) == ("Premiers pas sur la tablette", 90, True)
    record = atelier.history.get()
    assert record.history_change_reason.startswith("API : ")
    assert record.history_user is None


def test_create_atelier_without_duration_lasts_two_hours(client, partenaire):
    data = {key: value for key, value in ATELIER.items() if key != "duree"}
    response = post(client, partenaire.headers, "/api/v1/ateliers/", data)
    assert response.status_code == 201, response.content
    assert response.json()["duree"] == 120


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"titre": None}, "titre"),
        ({"titre": "   "}, "titre"),
        ({"titre": "Atelier\x00"}, "caractère nul"),
        ({"thematiques": []}, "thematiques"),
        ({"thematiques": ["inconnue"]}, "choix valide"),
        ({"thematiques": "securite_numerique"}, "liste"),
        ({"thematiques": ["social_sante"]}, "Aide aux démarches administratives"),
        ({"thematiques": ["securite_numerique", "securite_numerique"]}, "deux fois"),
        ({"publics": ["martiens"]}, "choix valide"),
        ({"duree": "deux heures"}, "entier"),
        ({"duree": 600}, "480"),
        ({"niveau": "expert"}, "choix valide"),
    ],
)
def test_create_atelier_refuses_bad_input_in_french(client, partenaire, changes, expected):
    data = {**ATELIER, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    response = post(client, partenaire.headers, "/api/v1/ateliers/", data)
    assert response.status_code == 400, response.content
    assert expected in messages(response) or expected in response.json(), response.json()
    assert not Atelier.objects.exists()


def test_partial_update_atelier(client, partenaire, atelier):
    response = patch(
        client, partenaire.headers, f"/api/v1/ateliers/{atelier.uuid}/", {"titre": "Arnaques : les éviter"}
    )
    assert response.status_code == 200, response.content
    atelier.refresh_from_db()
    assert atelier.titre == "Arnaques : les éviter"
    assert atelier.thematiques == ["securite_numerique"]  # untouched
    assert atelier.history.first().history_change_reason.startswith("API : ")


def test_other_structure_atelier_is_404_on_write(client, partenaire, autre):
    other = factories.AtelierFactory(structure=autre, titre="Pas à vous")
    assert patch(client, partenaire.headers, f"/api/v1/ateliers/{other.uuid}/", {"titre": "Pris"}).status_code == 404
    other.refresh_from_db()
    assert other.titre == "Pas à vous"


# --- seances -------------------------------------------------------------------------------------------------------
def test_seances_list_own_sessions_with_seats_and_no_personal_data(client, partenaire, seance, seance_autre):
    factories.InscriptionFactory(seance=seance, statut="confirmee")
    factories.InscriptionFactory(seance=seance, statut="confirmee")
    factories.InscriptionFactory(seance=seance, statut="attente")
    factories.InscriptionFactory(seance=seance, statut="confirmee", source="sur_place")  # beyond capacity
    factories.InscriptionFactory(seance=seance, statut="annulee")
    response = get(client, partenaire.headers, "/api/v1/seances/")
    assert uuids(response) == {str(seance.uuid)}
    item = response.json()["results"][0]
    assert (item["capacite"], item["places_prises"], item["places_restantes"], item["nb_attente"]) == (2, 2, 0, 1)
    assert item["atelier"] == str(seance.atelier.uuid)
    assert item["lieu"] == str(seance.lieu.uuid) and item["arret"] is None
    assert item["commune"] == seance.lieu.commune.code_insee
    assert not {"prenom", "nom", "email", "telephone", "inscriptions"} & set(item)
    assert get(client, partenaire.headers, f"/api/v1/seances/{seance_autre.uuid}/").status_code == 404


def test_seances_filters(client, partenaire, atelier, lieu, structure):
    soon = factories.SeanceFactory(atelier=atelier, lieu=lieu, debut=future(3))
    later = factories.SeanceFactory(atelier=atelier, lieu=lieu, debut=future(20))
    cancelled = factories.SeanceFactory(atelier=atelier, lieu=lieu, statut="annulee", motif_annulation="Pluie")
    other_atelier = factories.SeanceFactory(atelier__structure=structure, lieu=lieu, debut=future(5))
    headers = partenaire.headers
    assert uuids(get(client, headers, "/api/v1/seances/", {"atelier": str(other_atelier.atelier.uuid)})) == {
        str(other_atelier.uuid)
    }
    window = {"debut_apres": future(4).isoformat(), "debut_avant": future(15).isoformat()}
    assert str(later.uuid) not in uuids(get(client, headers, "/api/v1/seances/", window))
    assert str(soon.uuid) not in uuids(get(client, headers, "/api/v1/seances/", window))
    assert uuids(get(client, headers, "/api/v1/seances/", {"statut": "annulee"})) == {str(cancelled.uuid)}
    assert len(uuids(get(client, headers, "/api/v1/seances/", {"commune": lieu.commune.code_insee}))) == 4
    assert uuids(get(client, headers, "/api/v1/seances/", {"commune": "99999"})) == set()
    for params in ({"statut": "reportee"}, {"atelier": "pas-un-uuid"}, {"debut_apres": "demain"}, {"taille": "0"}):
        assert get(client, headers, "/api/v1/seances/", params).status_code == 400, params


def test_seances_ordered_by_debut(client, partenaire, atelier, lieu):
    late = factories.SeanceFactory(atelier=atelier, lieu=lieu, debut=future(20))
    early = factories.SeanceFactory(atelier=atelier, lieu=lieu, debut=future(2))
    response = get(client, partenaire.headers, "/api/v1/seances/", {"ordering": "debut"})
    assert [item["uuid"] for item in response.json()["results"]] == [str(early.uuid), str(late.uuid)]


def test_create_seance_through_the_service(client, partenaire, atelier, lieu):
    debut = future(10)
    data = {"atelier": str(atelier.uuid), "debut": debut.isoformat(), "lieu": str(lieu.uuid), "capacite": 8}
    response = post(client, partenaire.headers, "/api/v1/seances/", data)
    assert response.status_code == 201, response.content
    body = response.json()
    seance = Seance.objects.get(uuid=body["uuid"])
    assert seance.fin == debut + datetime.timedelta(minutes=atelier.duree)
    assert (body["capacite"], body["places_prises"], body["places_restantes"], body["nb_attente"]) == (8, 0, 8, 0)
    assert body["statut"] == "planifiee" and body["publique"] is True
    assert seance.history.get().history_change_reason.startswith("API : ")


@pytest.mark.parametrize("related", ["atelier", "lieu", "arret"])
def test_create_seance_naming_another_structure_object_is_400(client, partenaire, atelier, lieu, autre, related):
    others = {
        "atelier": lambda: factories.AtelierFactory(structure=autre),
        "lieu": lambda: factories.LieuFactory(structure=autre),
        "arret": lambda: factories.ArretItinerantFactory(lieu__structure=autre),
    }
    data = {"atelier": str(atelier.uuid), "debut": future(7).isoformat(), "lieu": str(lieu.uuid), "capacite": 8}
    if related == "arret":
        data.pop("lieu")
    data[related] = str(others[related]().uuid)
    response = post(client, partenaire.headers, "/api/v1/seances/", data)
    assert response.status_code == 400
    assert HORS_PERIMETRE in response.json()[related][0]
    assert not Seance.objects.exists()


def test_create_seance_at_own_itinerant_stop(client, partenaire, structure, atelier):
    arret = factories.ArretItinerantFactory(lieu__structure=structure)
    debut = timezone.make_aware(datetime.datetime.combine(arret.date, datetime.time(9, 30)))
    data = {"atelier": str(atelier.uuid), "debut": debut.isoformat(), "arret": str(arret.uuid), "capacite": 6}
    response = post(client, partenaire.headers, "/api/v1/seances/", data)
    assert response.status_code == 201, response.content
    assert response.json()["commune"] == arret.commune.code_insee


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"debut": None}, "debut"),
        ({"debut": "hier"}, "format"),
        ({"debut": "past"}, "dans le futur"),
        ({"debut": "9999-12-31T23:59:59-14:00"}, "debut"),
        ({"capacite": 0}, "capacite"),
        ({"capacite": 501}, "capacite"),
        ({"capacite": "dix"}, "entier"),
        ({"lieu": None}, "Choisissez un lieu"),
        ({"lieu": "pas-un-uuid"}, "UUID"),
        ({"fin": "before"}, "La fin de la séance doit suivre son début"),
        ({"publique": False}, "réservée"),
        ({"atelier": "00000000-0000-0000-0000-000000000000"}, HORS_PERIMETRE),
    ],
)
def test_create_seance_refuses_bad_input_in_french(client, partenaire, atelier, lieu, changes, expected):
    debut = future(7)
    data = {"atelier": str(atelier.uuid), "debut": debut.isoformat(), "lieu": str(lieu.uuid), "capacite": 8}
    for key, value in changes.items():
        if value == "past":
            value = (timezone.now() - datetime.timedelta(days=1)).isoformat()
        elif value == "before":
            value = (debut - datetime.timedelta(hours=1)).isoformat()
        if value is None:
            data.pop(key)
            if key == "lieu":
                data[key] = None
        else:
            data[key] = value
    response = post(client, partenaire.headers, "/api/v1/seances/", data)
    assert response.status_code == 400, response.content
    assert expected in messages(response) or expected in response.json(), response.json()
    assert not Seance.objects.exists()


def test_create_seance_of_an_inactive_atelier_is_400(client, partenaire, atelier, lieu):
    Atelier.objects.filter(pk=atelier.pk).update(actif=False)
    data = {"atelier": str(atelier.uuid), "debut": future(7).isoformat(), "lieu": str(lieu.uuid), "capacite": 8}
    response = post(client, partenaire.headers, "/api/v1/seances/", data)
    assert response.status_code == 400
    assert "inactif" in messages(response)


def test_partial_update_seance_moves_it_keeping_its_length_and_tells_registrants(client, partenaire, seance):
    headers = partenaire.headers
    assert register(client, headers, seance, 1).status_code == 201
    length = seance.fin - seance.debut
    new_debut = future(12, hour=10)
    response = patch(client, headers, f"/api/v1/seances/{seance.uuid}/", {"debut": new_debut.isoformat()})
    assert response.status_code == 200, response.content
    seance.refresh_from_db()
    assert (seance.debut, seance.fin - seance.debut) == (new_debut, length)
    assert Email.objects.filter(type="seance_modifiee", destinataire="personne1@example.org").count() == 1


def test_partial_update_capacity_below_confirmed_is_400_and_raising_it_promotes(client, partenaire, seance):
    headers = partenaire.headers
    for n in (1, 2, 3):
        assert register(client, headers, seance, n).status_code == 201
    path = f"/api/v1/seances/{seance.uuid}/"
    response = patch(client, headers, path, {"capacite": 1})
    assert response.status_code == 400
    assert "2 personnes ont déjà une place confirmée" in response.json()["capacite"][0]
    response = patch(client, headers, path, {"capacite": 3})
    assert response.status_code == 200
    assert (response.json()["places_prises"], response.json()["nb_attente"]) == (3, 0)


def test_other_structure_seance_is_404_on_every_write(client, partenaire, seance_autre):
    headers = partenaire.headers
    base = f"/api/v1/seances/{seance_autre.uuid}/"
    assert patch(client, headers, base, {"capacite": 50}).status_code == 404
    assert post(client, headers, f"{base}annuler/", {"motif": "Pris"}).status_code == 404
    assert post(client, headers, f"{base}presences/", {"presences": []}).status_code == 404
    seance_autre.refresh_from_db()
    assert (seance_autre.capacite, seance_autre.statut) == (5, "planifiee")


def test_cancel_seance_needs_a_motif_and_tells_registrants(client, partenaire, seance):
    headers = partenaire.headers
    register(client, headers, seance, 1)
    register(client, headers, seance, 2)
    register(client, headers, seance, 3)  # waiting
    path = f"/api/v1/seances/{seance.uuid}/annuler/"
    response = post(client, headers, path, {})
    assert response.status_code == 400 and "motif" in response.json()
    assert post(client, headers, path, {"motif": "   "}).status_code == 400
    response = post(client, headers, path, {"motif": "Salle indisponible"})
    assert response.status_code == 200, response.content
    assert (response.json()["statut"], response.json()["motif_annulation"]) == ("annulee", "Salle indisponible")
    assert Email.objects.filter(type="seance_annulee").count() == 3
    assert post(client, headers, path, {"motif": "Encore"}).status_code == 200  # twice: nothing more
    assert Email.objects.filter(type="seance_annulee").count() == 3
    response = patch(client, headers, f"/api/v1/seances/{seance.uuid}/", {"capacite": 10})
    assert response.status_code == 400 and "annulée" in messages(response)


def test_an_api_client_is_never_taken_for_a_session_facilitator(partenaire, seance_autre):
    """A session nobody facilitates has no facilitator id, and an API client has no user id: both are None, which
    must not read as "the client facilitates it"."""
    assert seance_autre.animateur_id is None
    actor = ActeurAPI(partenaire)
    assert not services.can_manage_seance(actor, seance_autre)
    with pytest.raises(PermissionDenied):
        services.seance_update(seance=seance_autre, by=actor, data={"capacite": 50})
    with pytest.raises(PermissionDenied):
        services.appel_enregistrer(seance=seance_autre, presences={}, by=actor)


# --- attendance ----------------------------------------------------------------------------------------------------
def test_attendance_on_the_day(client, partenaire, seance):
    headers = partenaire.headers
    first = register(client, headers, seance, 1).json()["uuid"]
    second = register(client, headers, seance, 2).json()["uuid"]
    move_to_today(seance)
    marks = [{"inscription": first, "presence": "present"}, {"inscription": second, "presence": "absent"}]
    response = post(client, headers, f"/api/v1/seances/{seance.uuid}/presences/", {"presences": marks})
    assert response.status_code == 200, response.content
    assert response.json()["modifiees"] == 2
    assert dict(Inscription.objects.values_list("email", "presence")) == {
        "personne1@example.org": "present",
        "personne2@example.org": "absent",
    }
    row = Inscription.objects.get(uuid=first)
    assert row.history.first().history_change_reason.startswith("API : ")
    assert get(client, headers, f"/api/v1/inscriptions/{first}/").json()["presence"] == "present"


def test_attendance_refusals_are_400_with_the_service_message(client, partenaire, seance, seance_autre):
    headers = partenaire.headers
    mine = register(client, headers, seance, 1).json()["uuid"]
    path = f"/api/v1/seances/{seance.uuid}/presences/"
    response = post(client, headers, path, {"presences": [{"inscription": mine, "presence": "present"}]})
    assert response.status_code == 400
    assert "L'appel se fait le jour de la séance" in messages(response)
    move_to_today(seance)
    foreign = factories.InscriptionFactory(seance=seance_autre)
    cases = [
        ({"presences": [{"inscription": str(foreign.uuid), "presence": "present"}]}, "pas (ou plus) inscrite"),
        ({"presences": [{"inscription": mine, "presence": "en_retard"}]}, "choix valide"),
        ({"presences": [{"inscription": "x", "presence": "present"}]}, "UUID"),
        ({"presences": [{"inscription": mine, "presence": "present"}] * 2}, "deux fois"),
        ({"presences": []}, "vide"),
        ({}, "obligatoire"),
    ]
    for data, expected in cases:
        response = post(client, headers, path, data)
        assert response.status_code == 400, data
        assert expected in messages(response), (data, response.json())
    assert Inscription.objects.get(uuid=mine).presence == ""
    assert foreign.presence == "" and Inscription.objects.get(pk=foreign.pk).presence == ""


# --- inscriptions --------------------------------------------------------------------------------------------------
def test_registration_fills_the_seats_then_the_waiting_list(client, partenaire, seance):
    headers = partenaire.headers
    answers = [register(client, headers, seance, n) for n in (1, 2, 3, 4)]
    assert [a.status_code for a in answers] == [201] * 4
    assert [a.json()["statut"] for a in answers] == ["confirmee", "confirmee", "attente", "attente"]
    assert [a.json()["position_attente"] for a in answers] == [None, None, 1, 2]
    assert answers[0].json()["source"] == "api"
    seats = get(client, headers, f"/api/v1/seances/{seance.uuid}/").json()
    assert (seats["places_prises"], seats["places_restantes"], seats["nb_attente"]) == (2, 0, 2)
    assert Email.objects.filter(type="inscription_confirmee").count() == 2
    assert Email.objects.filter(type="inscription_attente").count() == 2
    record = Inscription.objects.get(uuid=answers[0].json()["uuid"]).history.get()
    assert record.history_change_reason.startswith("API : ") and record.history_user is None


def test_organiser_sees_the_registrants_contact_details(client, partenaire, seance):
    register(client, partenaire.headers, seance, 1, telephone="06 12 34 56 78")
    response = get(client, partenaire.headers, "/api/v1/inscriptions/")
    item = response.json()["results"][0]
    assert (item["prenom"], item["nom"], item["email"], item["telephone"]) == (
        "Prénom1",
        "Nom1",
        "personne1@example.org",
        "+33612345678",
    )
    assert item["seance"] == str(seance.uuid)
    assert not {"genre", "tranche_age", "statut_social", "commune", "cle_personne"} & set(item)


def test_duplicate_registration_is_400_in_french(client, partenaire, seance):
    headers = partenaire.headers
    assert register(client, headers, seance, 1).status_code == 201
    response = register(client, headers, seance, 1, prenom="Autre", email="PERSONNE1@example.org")
    assert response.status_code == 400
    assert "déjà inscrite à cette séance" in messages(response)
    assert Inscription.objects.count() == 1


def test_cancel_registration_promotes_the_first_waiting(client, partenaire, seance):
    headers = partenaire.headers
    first, _second, third, fourth = (register(client, headers, seance, n).json() for n in (1, 2, 3, 4))
    response = post(client, headers, f"/api/v1/inscriptions/{first['uuid']}/annuler/")
    assert response.status_code == 200, response.content
    assert response.json()["statut"] == "annulee" and response.json()["annulee_le"]
    assert Inscription.objects.get(uuid=third["uuid"]).statut == StatutInscription.CONFIRMEE
    assert Inscription.objects.get(uuid=fourth["uuid"]).statut == StatutInscription.ATTENTE
    assert get(client, headers, f"/api/v1/inscriptions/{fourth['uuid']}/").json()["position_attente"] == 1
    assert Email.objects.filter(type="place_liberee", destinataire="personne3@example.org").exists()
    assert post(client, headers, f"/api/v1/inscriptions/{first['uuid']}/annuler/").status_code == 200  # idempotent
    assert Inscription.objects.filter(statut="confirmee").count() == 2


def test_registrations_of_a_cancelled_session_no_longer_change(client, partenaire, seance):
    headers = partenaire.headers
    mine = register(client, headers, seance, 1).json()["uuid"]
    post(client, headers, f"/api/v1/seances/{seance.uuid}/annuler/", {"motif": "Grève"})
    response = post(client, headers, f"/api/v1/inscriptions/{mine}/annuler/")
    assert response.status_code == 400 and "annulée" in messages(response)
    response = register(client, headers, seance, 2)
    assert response.status_code == 400 and "annulée" in messages(response)


def test_other_structure_registrations_are_404_and_absent_from_lists(client, partenaire, seance, seance_autre):
    register(client, partenaire.headers, seance, 1)
    foreign = factories.InscriptionFactory(seance=seance_autre)
    headers = partenaire.headers
    listed = uuids(get(client, headers, "/api/v1/inscriptions/"))
    assert len(listed) == 1 and str(foreign.uuid) not in listed
    assert get(client, headers, f"/api/v1/inscriptions/{foreign.uuid}/").status_code == 404
    assert post(client, headers, f"/api/v1/inscriptions/{foreign.uuid}/annuler/").status_code == 404
    assert Inscription.objects.get(pk=foreign.pk).statut == "confirmee"
    response = register(client, headers, seance_autre, 2)
    assert response.status_code == 400 and HORS_PERIMETRE in response.json()["seance"][0]
    assert not Inscription.objects.filter(seance=seance_autre, email="personne2@example.org").exists()
    assert get(client, headers, "/api/v1/inscriptions/", {"seance": str(seance_autre.uuid)}).json()["results"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prenom": ""}, "prenom"),
        ({"nom": "Nom\x00"}, "nom"),
        ({"email": "", "telephone": ""}, "email"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"email": f"{'a' * 245}@example.org"}, "email"),
        ({"email": "", "telephone": "appelez-moi"}, "telephone"),
        ({"email": "", "telephone": "0" * 25}, "telephone"),
        ({"consentement": False}, "consentement"),
        ({"consentement": None}, "consentement"),
        ({"seance": "pas-un-uuid"}, "seance"),
        ({"seance": None}, "seance"),
    ],
)
def test_registration_refuses_bad_input_in_french(client, partenaire, seance, changes, field):
    data = {"seance": str(seance.uuid), **person(1)}
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    response = post(client, partenaire.headers, "/api/v1/inscriptions/", data)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Inscription.objects.exists()


def test_registration_to_a_started_session_is_400(client, partenaire, seance):
    move_to_today(seance)
    response = register(client, partenaire.headers, seance, 1)
    assert response.status_code == 400 and "commencé" in messages(response)


def test_idempotent_registration_creates_one(client, partenaire, seance):
    data = {"seance": str(seance.uuid), **person(1)}
    headers = {**partenaire.headers, "HTTP_IDEMPOTENCY_KEY": "inscription-josiane-1"}
    first = client.post("/api/v1/inscriptions/", data, content_type=JSON, **headers)
    again = client.post("/api/v1/inscriptions/", data, content_type=JSON, **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Inscription.objects.count() == 1
    assert Email.objects.filter(type="inscription_confirmee").count() == 1


# --- sessions reserved to a partner structure's public ---------------------------------------------------------------
@pytest.fixture
def reservee(atelier, lieu, autre):
    """A session of the structure, reserved to the public of ``autre``."""
    return factories.SeanceFactory(atelier=atelier, lieu=lieu, capacite=3, publique=False, reservee_a=autre)


def test_organiser_registers_people_to_its_reserved_session(client, partenaire, reservee):
    response = register(client, partenaire.headers, reservee, 1)
    assert response.status_code == 201, response.content
    assert response.json()["statut"] == "confirmee"


def test_reserved_structure_registers_its_public_without_seeing_contacts(client, partenaire, reservee, autre):
    register(client, partenaire.headers, reservee, 1)
    client_autre, _ = api_client_for(autre)
    headers = bearer(client_autre)
    assert uuids(get(client, headers, "/api/v1/seances/")) == {str(reservee.uuid)}
    response = register(client, headers, reservee, 2)
    assert response.status_code == 201, response.content
    assert (response.json()["prenom"], response.json()["email"]) == (None, None)
    assert Inscription.objects.get(uuid=response.json()["uuid"]).email == "personne2@example.org"
    items = get(client, headers, "/api/v1/inscriptions/").json()["results"]
    assert len(items) == 2
    assert {(item["nom"], item["email"], item["telephone"]) for item in items} == {(None, None, None)}
    # …and cancels its own people, but does not plan nor take attendance of another structure's session.
    assert post(client, headers, f"/api/v1/inscriptions/{response.json()['uuid']}/annuler/").status_code == 200
    assert patch(client, headers, f"/api/v1/seances/{reservee.uuid}/", {"capacite": 30}).status_code == 404
    assert post(client, headers, f"/api/v1/seances/{reservee.uuid}/annuler/", {"motif": "x"}).status_code == 404
    assert post(client, headers, f"/api/v1/seances/{reservee.uuid}/presences/", {"presences": []}).status_code == 404


def test_a_third_structure_neither_sees_nor_registers_to_a_reserved_session(client, reservee):
    client_tiers, _ = api_client_for(factories.StructureFactory())
    headers = bearer(client_tiers)
    assert uuids(get(client, headers, "/api/v1/seances/")) == set()
    assert get(client, headers, f"/api/v1/seances/{reservee.uuid}/").status_code == 404
    response = register(client, headers, reservee, 1)
    assert response.status_code == 400 and HORS_PERIMETRE in response.json()["seance"][0]


def test_public_session_of_another_structure_is_out_of_scope_for_registration(client, partenaire, seance_autre):
    response = register(client, partenaire.headers, seance_autre, 1)
    assert response.status_code == 400 and HORS_PERIMETRE in response.json()["seance"][0]


# --- query budgets -------------------------------------------------------------------------------------------------
def _count_queries(client, headers, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, {"taille": 200}, **headers)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


def _row_maker(kind, structure, lieu):
    if kind == "ateliers":
        return lambda: factories.AtelierFactory(structure=structure)
    atelier = factories.AtelierFactory(structure=structure)
    if kind == "seances":

        def seance_with_registrations():
            row = factories.SeanceFactory(atelier=atelier, lieu=lieu, capacite=1)
            factories.InscriptionFactory(seance=row, statut="confirmee")
            factories.InscriptionFactory(seance=row, statut="attente")

        return seance_with_registrations
    seance = factories.SeanceFactory(atelier=atelier, lieu=lieu, capacite=1)
    return lambda: factories.InscriptionFactory(seance=seance, statut="attente")


@pytest.mark.parametrize("kind", ["ateliers", "seances", "inscriptions"])
def test_list_query_budget_does_not_grow_with_rows(client, partenaire, structure, lieu, kind):
    path = f"/api/v1/{kind}/"
    client.get(path, **partenaire.headers)  # a client's first call records its last use: not part of the budget
    make = _row_maker(kind, structure, lieu)
    for _ in range(2):
        make()
    small, rows_small = _count_queries(client, partenaire.headers, path)
    for _ in range(48):
        make()
    large, rows_large = _count_queries(client, partenaire.headers, path)
    assert (rows_small, rows_large) == (2, 50)
    assert small == large <= 6, (small, large)
