"""Back-office pages of the workshops: scoping (staff everything, a référent their structure's workshops, a
facilitator their sessions, anyone else 404 on objects and 403 on creation), planning forms, a session's lists,
registration by phone, moves and cancellations, the attendance sheet on a phone, closing it; every bad input answers
400 with French errors; list pages keep the same number of queries whatever their number of rows."""

import datetime
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accompagnements.models import Activite
from accounts.models import Role
from ateliers import services
from ateliers.models import Atelier, Inscription, Seance
from notifications.models import Email
from tests import factories
from tests.ateliers.conftest import person


# --- helpers ---------------------------------------------------------------------------------------------------------
def url(name, *args):
    return reverse(f"ateliers:{name}", args=args)


def text(response):
    return response.content.decode()


def conseiller_user(structure):
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)
    return user


def move_to_today(seance):
    now = timezone.now()
    midnight = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(0, 0)))
    debut = max(midnight, now - datetime.timedelta(hours=1))
    Seance.objects.filter(pk=seance.pk).update(debut=debut, fin=debut + datetime.timedelta(minutes=90))
    seance.refresh_from_db()
    return seance


def count_queries(client, path):
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context)


def in_days(days, hour=14):
    return timezone.localdate() + datetime.timedelta(days=days), datetime.time(hour, 0)


@pytest.fixture
def atelier(structure):
    return factories.AtelierFactory(structure=structure, titre="Atelier de A", duree=120)


@pytest.fixture
def facilitator(structure):
    return conseiller_user(structure)


@pytest.fixture
def seance_a(atelier, facilitator):
    return factories.SeanceFactory(atelier=atelier, animateur=facilitator, capacite=2)


@pytest.fixture
def seance_b(db):
    """A session of another structure's workshop."""
    return factories.SeanceFactory(atelier__titre="Atelier de B", capacite=2)


@pytest.fixture
def referent_client(client, referent):
    client.force_login(referent)
    return client


# --- the list --------------------------------------------------------------------------------------------------------
def test_anonymous_is_sent_to_login(client, seance_a):
    for path in (url("gestion_ateliers"), url("gestion_seance", seance_a.uuid), url("gestion_appel", seance_a.uuid)):
        response = client.get(path)
        assert response.status_code == 302 and "/comptes/" in response["Location"]


def test_list_is_scoped(client, staff_client, seance_a, seance_b, facilitator, referent):
    page = text(staff_client.get(url("gestion_ateliers")))
    assert "Atelier de A" in page and "Atelier de B" in page

    client.force_login(referent)
    page = text(client.get(url("gestion_ateliers")))
    assert "Atelier de A" in page and "Atelier de B" not in page
    assert url("gestion_atelier_create") in page

    client.force_login(facilitator)
    page = text(client.get(url("gestion_ateliers")))
    assert "Atelier de A" in page and "Atelier de B" not in page
    assert url("gestion_atelier_create") not in page

    client.force_login(factories.MembershipFactory(role=Role.FINANCEUR).user)
    response = client.get(url("gestion_ateliers"))
    assert response.status_code == 200
    assert "Atelier de A" not in text(response) and "Atelier de B" not in text(response)


def test_facilitator_sees_only_their_sessions(client, atelier, seance_a, facilitator):
    other = factories.SeanceFactory(atelier=atelier, debut=timezone.now() + datetime.timedelta(days=3))
    client.force_login(facilitator)
    page = text(client.get(url("gestion_ateliers")))
    assert url("gestion_seance", seance_a.uuid) in page
    assert url("gestion_seance", other.uuid) not in page
    assert client.get(url("gestion_seance", other.uuid)).status_code == 404
    page = text(client.get(url("gestion_atelier", atelier.uuid)))
    assert url("gestion_seance", seance_a.uuid) in page and url("gestion_seance", other.uuid) not in page


def test_list_filters(staff_client, seance_a, seance_b):
    Atelier.objects.filter(pk=seance_b.atelier_id).update(thematiques=["email"])
    page = text(staff_client.get(url("gestion_ateliers"), {"thematique": "email"}))
    assert "Atelier de B" in page and "Atelier de A" not in page
    page = text(staff_client.get(url("gestion_ateliers"), {"q": "de A"}))
    assert "Atelier de A" in page and "Atelier de B" not in page
    page = text(staff_client.get(url("gestion_ateliers"), {"periode": "passees"}))
    assert url("gestion_seance", seance_a.uuid) not in page
    page = text(staff_client.get(url("gestion_ateliers"), {"structure": str(seance_b.atelier.structure.uuid)}))
    assert url("gestion_seance", seance_b.uuid) in page and url("gestion_seance", seance_a.uuid) not in page


@pytest.mark.parametrize(
    "params",
    [{"thematique": "inconnue"}, {"periode": "demain"}, {"structure": "pas-un-uuid"}, {"structure": str(uuid.uuid4())}],
)
def test_bad_filters_answer_400_in_french(staff_client, seance_a, params):
    response = staff_client.get(url("gestion_ateliers"), params)
    assert response.status_code == 400
    assert "Le formulaire n'a pas pu être enregistré" in text(response)


def make_rows(count, structure, staff_user):
    """``count`` sessions of different workshops, places, stops, facilitators and reservations, with people."""
    for n in range(count):
        atelier = factories.AtelierFactory(structure=structure)
        kwargs = {"animateur": conseiller_user(structure), "capacite": 3}
        if n % 3 == 1:
            kwargs.update(publique=False, reservee_a=factories.StructureFactory())
        if n % 3 == 2:
            arret = factories.ArretItinerantFactory(date=timezone.localdate() + datetime.timedelta(days=7))
            kwargs.update(lieu=None, arret=arret)
        seance = factories.SeanceFactory(atelier=atelier, **kwargs)
        if n % 3 == 2:
            debut = timezone.make_aware(datetime.datetime.combine(seance.arret.date, datetime.time(10, 0)))
            Seance.objects.filter(pk=seance.pk).update(debut=debut, fin=debut + datetime.timedelta(hours=2))
        for person_n in range(4):
            services.inscription_create(
                seance=seance, data=person(f"{n}-{person_n}"), by=staff_user, source="telephone"
            )


@pytest.mark.parametrize("who", ["staff", "referent"])
def test_list_query_count_does_not_grow_with_rows(client, structure, referent, staff_user, who):
    client.force_login(staff_user if who == "staff" else referent)
    path = url("gestion_ateliers")
    make_rows(2, structure, staff_user)
    with_2 = count_queries(client, path)
    make_rows(28, structure, staff_user)
    assert Seance.objects.count() == 30
    with_30 = count_queries(client, path)
    assert with_2 == with_30
    page = text(client.get(path))
    assert page.count('class="card activity"') == 30


def test_workshop_page_query_count_does_not_grow_with_sessions(referent_client, atelier):
    def plan(count):
        for _ in range(count):
            seance = factories.SeanceFactory(atelier=atelier, animateur=conseiller_user(atelier.structure))
            services.inscription_create(seance=seance, data=person(uuid.uuid4().hex[:8]))

    plan(2)
    with_2 = count_queries(referent_client, url("gestion_atelier", atelier.uuid))
    plan(28)
    assert with_2 == count_queries(referent_client, url("gestion_atelier", atelier.uuid))


def test_registrations_of_a_cancelled_or_closed_session_are_frozen(referent_client, seance_a, referent):
    target = factories.SeanceFactory(atelier=seance_a.atelier)
    inscription = services.inscription_create(seance=seance_a, data=person(1))
    services.seance_cancel(seance=seance_a, motif="Grève", by=referent)
    response = referent_client.post(url("gestion_inscription_cancel", inscription.uuid))
    assert response.status_code == 400 and "La séance est annulée" in text(response)
    response = referent_client.post(url("gestion_inscription_move", inscription.uuid), {"seance": str(target.uuid)})
    assert response.status_code == 400
    assert Inscription.objects.get(pk=inscription.pk).statut == "confirmee"


def test_session_and_sheet_query_counts_do_not_grow_with_people(staff_client, atelier, facilitator):
    seance = factories.SeanceFactory(atelier=atelier, animateur=facilitator, capacite=20)
    factories.SeanceFactory(atelier=atelier, capacite=5)  # a destination for moves
    for n in range(2):
        services.inscription_create(seance=seance, data=person(n))
    move_to_today(seance)
    few = (
        count_queries(staff_client, url("gestion_seance", seance.uuid)),
        count_queries(staff_client, url("gestion_appel", seance.uuid)),
    )
    for n in range(2, 30):
        Inscription.objects.create(
            seance=seance,
            prenom=f"P{n}",
            nom="N",
            email=f"p{n}@example.org",
            cle_personne=f"email:p{n}@example.org",
            statut="confirmee" if n < 20 else "attente",
            rang=n + 10,
            consentement_le=timezone.now(),
            commune=factories.CommuneFactory(),
        )
    many = (
        count_queries(staff_client, url("gestion_seance", seance.uuid)),
        count_queries(staff_client, url("gestion_appel", seance.uuid)),
    )
    assert few == many


# --- workshops -------------------------------------------------------------------------------------------------------
def atelier_post(organisatrice, **overrides):
    data = {
        "structure": str(organisatrice.uuid),
        "titre": "Découvrir la messagerie",
        "description": "Envoyer un e-mail, joindre une photo.",
        "thematiques": ["email"],
        "publics": ["seniors", "tout_public"],
        "niveau": "debutant",
        "duree": "90",
        "prevention": "on",
    }
    data.update(overrides)
    return data


def test_referent_creates_a_workshop(referent_client, structure, referent):
    assert referent_client.get(url("gestion_atelier_create")).status_code == 200
    response = referent_client.post(
        url("gestion_atelier_create"),
        atelier_post(
            structure, thematiques=["aide_aux_demarches_administratives"], thematiques_administratives=["logement"]
        ),
    )
    atelier = Atelier.objects.get()
    assert response.status_code == 302 and response["Location"] == url("gestion_atelier", atelier.uuid)
    assert atelier.thematiques == ["aide_aux_demarches_administratives", "logement"]
    assert (atelier.structure, atelier.duree, atelier.prevention) == (structure, 90, True)
    assert atelier.publics == ["seniors", "tout_public"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"thematiques": []}, "Choisissez au moins une thématique."),
        ({"thematiques": ["email"], "thematiques_administratives": ["logement"]}, "Aide aux démarches administratives"),
        ({"publics": []}, "Choisissez au moins un public."),
        ({"thematiques": ["inconnue"]}, "Thématique inconnue."),
        ({"duree": "5"}, "Une séance dure de 15 à 480 minutes."),
        ({"duree": "beaucoup"}, "Saisissez un nombre de minutes."),
        ({"titre": ""}, "Donnez un titre à l&#x27;atelier."),
        ({"structure": str(uuid.uuid4())}, "Choisissez une de vos structures."),
        ({"structure": "<script>"}, "Choisissez une de vos structures."),
    ],
)
def test_workshop_form_errors(referent_client, structure, overrides, message):
    response = referent_client.post(url("gestion_atelier_create"), atelier_post(structure, **overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert not Atelier.objects.exists()


def test_referent_cannot_create_for_another_structure(referent_client):
    response = referent_client.post(url("gestion_atelier_create"), atelier_post(factories.StructureFactory()))
    assert response.status_code == 400
    assert not Atelier.objects.exists()


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.AIDANT, Role.FINANCEUR])
def test_other_roles_get_403_on_creation(client, structure, role):
    client.force_login(factories.MembershipFactory(structure=structure, role=role).user)
    assert client.get(url("gestion_atelier_create")).status_code == 403
    assert client.post(url("gestion_atelier_create"), atelier_post(structure)).status_code == 403
    assert not Atelier.objects.exists()


def test_workshop_pages_are_scoped(client, referent_client, atelier, seance_a, seance_b, facilitator):
    b = seance_b.atelier
    assert referent_client.get(url("gestion_atelier", atelier.uuid)).status_code == 200
    for path in (
        url("gestion_atelier", b.uuid),
        url("gestion_atelier_edit", b.uuid),
        url("gestion_seance_create", b.uuid),
    ):
        assert referent_client.get(path).status_code == 404
    assert referent_client.post(url("gestion_atelier_edit", b.uuid), {"titre": "Pris"}).status_code == 404
    assert referent_client.get(url("gestion_atelier", uuid.uuid4())).status_code == 404
    assert referent_client.get("/gestion/ateliers/pas-un-uuid/").status_code == 404

    client.force_login(facilitator)
    assert client.get(url("gestion_atelier", atelier.uuid)).status_code == 200
    assert client.get(url("gestion_atelier_edit", atelier.uuid)).status_code == 403
    assert client.get(url("gestion_seance_create", atelier.uuid)).status_code == 403


def test_workshop_edit(referent_client, atelier):
    page = text(referent_client.get(url("gestion_atelier_edit", atelier.uuid)))
    assert re.search(r'value="securite_numerique"[^>]*checked', page)
    data = atelier_post(atelier.structure, titre="Titre modifié", actif="")
    response = referent_client.post(url("gestion_atelier_edit", atelier.uuid), data)
    assert response.status_code == 302
    atelier.refresh_from_db()
    assert atelier.titre == "Titre modifié" and atelier.actif is False and atelier.structure_id
    response = referent_client.post(url("gestion_atelier_edit", atelier.uuid), {**data, "publics": []})
    assert response.status_code == 400


# --- planning --------------------------------------------------------------------------------------------------------
def seance_post(atelier, days=7, **overrides):
    day, hour = in_days(days)
    data = {
        "date": day.isoformat(),
        "heure_debut": hour.strftime("%H:%M"),
        "heure_fin": "",
        "lieu": str(factories.LieuFactory(structure=atelier.structure).uuid),
        "arret": "",
        "animateur": "",
        "capacite": "8",
        "publique": "on",
        "reservee_a": "",
        "nombre": "1",
    }
    data.update(overrides)
    return data


def test_plan_one_session(referent_client, atelier, facilitator):
    assert referent_client.get(url("gestion_seance_create", atelier.uuid)).status_code == 200
    data = seance_post(atelier, animateur=str(facilitator.uuid), heure_fin="15:30")
    response = referent_client.post(url("gestion_seance_create", atelier.uuid), data)
    seance = Seance.objects.get()
    assert response.status_code == 302 and response["Location"] == url("gestion_seance", seance.uuid)
    assert timezone.localtime(seance.debut).time() == datetime.time(14, 0)
    assert timezone.localtime(seance.fin).time() == datetime.time(15, 30)
    assert (seance.animateur, seance.capacite, seance.publique, seance.serie) == (facilitator, 8, True, None)


def test_plan_a_weekly_cycle(referent_client, atelier):
    response = referent_client.post(url("gestion_seance_create", atelier.uuid), seance_post(atelier, nombre="10"))
    assert response.status_code == 302 and response["Location"] == url("gestion_atelier", atelier.uuid)
    seances = list(Seance.objects.order_by("debut"))
    assert len(seances) == 10 and len({s.serie for s in seances}) == 1
    assert all((b.debut.date() - a.debut.date()).days == 7 for a, b in zip(seances, seances[1:], strict=False))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date": ""}, "Indiquez la date."),
        ({"date": "31/02/2030"}, "Saisissez une date valide"),
        ({"heure_debut": "25:00"}, "Saisissez une heure valide"),
        ({"heure_fin": "13:00"}, "L&#x27;heure de fin doit suivre"),
        ({"lieu": ""}, "Choisissez un lieu ou un arrêt"),
        ({"lieu": str(uuid.uuid4())}, "Ce lieu n&#x27;existe pas"),
        ({"capacite": "0"}, "Une séance compte de 1 à 500 places."),
        ({"capacite": "x"}, "Saisissez un nombre de places."),
        ({"publique": ""}, "Choisissez la structure à laquelle la séance est réservée."),
        ({"nombre": "53"}, "Un cycle compte de 1 à 52 séances."),
        ({"animateur": "pas-un-uuid"}, "Choisissez une personne de la liste."),
    ],
)
def test_planning_form_errors(referent_client, atelier, overrides, message):
    response = referent_client.post(url("gestion_seance_create", atelier.uuid), seance_post(atelier, **overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert not Seance.objects.exists()


def test_planning_in_the_past_is_refused(referent_client, atelier):
    response = referent_client.post(
        url("gestion_seance_create", atelier.uuid), seance_post(atelier, days=-3, nombre="4")
    )
    assert response.status_code == 400
    assert "dans le passé" in text(response)
    assert not Seance.objects.exists()


def test_facilitators_offered_are_the_structures_people(referent_client, atelier, facilitator):
    stranger = conseiller_user(factories.StructureFactory())
    page = text(referent_client.get(url("gestion_seance_create", atelier.uuid)))
    assert str(facilitator.uuid) in page and str(stranger.uuid) not in page
    response = referent_client.post(
        url("gestion_seance_create", atelier.uuid), seance_post(atelier, animateur=str(stranger.uuid))
    )
    assert response.status_code == 400


def test_edit_a_session_capacity(client, seance_a, facilitator, django_capture_on_commit_callbacks):
    for n in range(1, 5):
        services.inscription_create(seance=seance_a, data=person(n))
    client.force_login(facilitator)
    data = seance_post(seance_a.atelier, capacite="1", lieu=str(seance_a.lieu.uuid), animateur=str(facilitator.uuid))
    debut = timezone.localtime(seance_a.debut)
    data.update(date=debut.date().isoformat(), heure_debut=debut.strftime("%H:%M"))
    data.pop("nombre")
    response = client.post(url("gestion_seance_edit", seance_a.uuid), data)
    assert response.status_code == 400
    assert "2 personnes ont déjà une place confirmée" in text(response)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("gestion_seance_edit", seance_a.uuid), {**data, "capacite": "3"})
    assert response.status_code == 302
    assert Inscription.objects.filter(seance=seance_a, statut="confirmee").count() == 3
    assert Email.objects.filter(type="place_liberee", destinataire="personne3@example.org").exists()
    page = text(client.get(url("gestion_seance", seance_a.uuid)))
    assert "Venu(e) de la liste d'attente le" in page


def test_facilitator_cannot_change_who_facilitates(client, seance_a, facilitator):
    client.force_login(facilitator)
    other = conseiller_user(seance_a.atelier.structure)
    debut = timezone.localtime(seance_a.debut)
    data = seance_post(seance_a.atelier, lieu=str(seance_a.lieu.uuid), animateur=str(other.uuid))
    data.update(date=debut.date().isoformat(), heure_debut=debut.strftime("%H:%M"))
    response = client.post(url("gestion_seance_edit", seance_a.uuid), data)
    seance_a.refresh_from_db()
    assert response.status_code == 302  # the field is disabled: the posted value is ignored
    assert seance_a.animateur == facilitator


# --- a session's page ------------------------------------------------------------------------------------------------
def test_session_page_lists_confirmed_waiting_and_cancelled(client, seance_a, facilitator):
    first = services.inscription_create(seance=seance_a, data=person(1))
    services.inscription_create(seance=seance_a, data=person(2))
    services.inscription_create(seance=seance_a, data=person(3))
    services.inscription_create(seance=seance_a, data=person(4))
    services.inscription_cancel(inscription=first, by=facilitator)  # personne3 gets the seat
    client.force_login(facilitator)
    page = text(client.get(url("gestion_seance", seance_a.uuid)))
    assert "Inscrits (2)" in page and "Liste d'attente (1)" in page and "Inscriptions annulées (1)" in page
    assert page.count("Venu(e) de la liste d'attente le") == 1
    assert page.index("Prénom3") < page.index("Liste d'attente (1)") < page.index("Prénom4")


def test_session_pages_are_scoped(referent_client, seance_b):
    b = seance_b.uuid
    for name in (
        "gestion_seance",
        "gestion_seance_edit",
        "gestion_seance_cancel",
        "gestion_inscrire",
        "gestion_appel",
        "gestion_appel_cloturer",
    ):
        assert referent_client.get(url(name, b)).status_code == 404, name
    for name in (
        "gestion_seance_cancel",
        "gestion_inscrire",
        "gestion_appel",
        "gestion_appel_sur_place",
        "gestion_appel_cloturer",
    ):
        assert referent_client.post(url(name, b), {"motif": "x", "prenom": "x"}).status_code == 404, name
    inscription = services.inscription_create(seance=seance_b, data=person(1))
    assert referent_client.post(url("gestion_inscription_cancel", inscription.uuid)).status_code == 404
    assert referent_client.post(url("gestion_inscription_move", inscription.uuid), {}).status_code == 404
    seance_b.refresh_from_db()
    assert not seance_b.annulee and Inscription.objects.get().statut == "confirmee"


def test_cancel_a_session(referent_client, seance_a, django_capture_on_commit_callbacks):
    for n in range(1, 4):
        services.inscription_create(seance=seance_a, data=person(n))
    page = text(referent_client.get(url("gestion_seance_cancel", seance_a.uuid)))
    assert "3 personnes inscrites" in page
    assert referent_client.post(url("gestion_seance_cancel", seance_a.uuid), {"motif": " "}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = referent_client.post(url("gestion_seance_cancel", seance_a.uuid), {"motif": "Animateur malade"})
    assert response.status_code == 302
    seance_a.refresh_from_db()
    assert seance_a.annulee and seance_a.motif_annulation == "Animateur malade"
    assert Email.objects.filter(type="seance_annulee").count() == 3
    page = text(referent_client.get(url("gestion_seance", seance_a.uuid)))
    assert "Séance annulée : Animateur malade" in page
    assert url("gestion_inscrire", seance_a.uuid) not in page


# --- registrations ---------------------------------------------------------------------------------------------------
def phone_post(**overrides):
    data = {"prenom": "Marcel", "nom": "Dupont", "telephone": "05 61 00 00 00", "email": "", "consentement": "on"}
    data.update(overrides)
    return data


def test_register_by_phone(client, seance_a, facilitator):
    client.force_login(facilitator)
    assert client.get(url("gestion_inscrire", seance_a.uuid)).status_code == 200
    response = client.post(url("gestion_inscrire", seance_a.uuid), phone_post(genre="masculin"))
    assert response.status_code == 302
    inscription = Inscription.objects.get()
    assert (inscription.source, inscription.cree_par, inscription.statut) == ("telephone", facilitator, "confirmee")
    assert (inscription.telephone, inscription.genre) == ("+33561000000", "masculin")
    client.post(url("gestion_inscrire", seance_a.uuid), phone_post(telephone="0600000001"))
    response = client.post(url("gestion_inscrire", seance_a.uuid), phone_post(telephone="0600000002"), follow=True)
    assert "liste d&#x27;attente (position 1)" in text(response)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consentement": ""}, "Cochez la case"),
        ({"telephone": "", "email": ""}, "Indiquez un e-mail ou un numéro de téléphone"),
        ({"telephone": "appelez-moi"}, "Saisissez un numéro de téléphone valide"),
        ({"email": "pas-un-email"}, "Saisissez une adresse e-mail valide."),
        ({"prenom": ""}, "Indiquez le prénom."),
        ({"nom": "x" * 151}, "Nom"),
        ({"genre": "autre"}, "Sélectionnez un choix valide"),
        ({"commune": "99999"}, "Cette commune n&#x27;existe pas"),
    ],
)
def test_register_by_phone_errors(referent_client, seance_a, overrides, message):
    response = referent_client.post(url("gestion_inscrire", seance_a.uuid), phone_post(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert not Inscription.objects.exists()


def test_register_twice_is_refused(referent_client, seance_a):
    referent_client.post(url("gestion_inscrire", seance_a.uuid), phone_post())
    response = referent_client.post(url("gestion_inscrire", seance_a.uuid), phone_post(telephone="0561000000"))
    assert response.status_code == 400
    assert "déjà inscrit" in text(response)


def test_cancel_a_registration_gives_the_seat(referent_client, seance_a, django_capture_on_commit_callbacks):
    first = services.inscription_create(seance=seance_a, data=person(1))
    for n in (2, 3):
        services.inscription_create(seance=seance_a, data=person(n))
    assert referent_client.get(url("gestion_inscription_cancel", first.uuid)).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = referent_client.post(url("gestion_inscription_cancel", first.uuid), follow=True)
    assert "Prénom3 Nom3 passe de la liste d&#x27;attente à une place confirmée." in text(response)
    assert Inscription.objects.get(pk=first.pk).statut == "annulee"
    assert Email.objects.filter(type="place_liberee", destinataire="personne3@example.org").exists()


def test_move_a_registration(referent_client, seance_a):
    target = factories.SeanceFactory(atelier=seance_a.atelier, capacite=5)
    inscription = services.inscription_create(seance=seance_a, data=person(1))
    page = text(referent_client.get(url("gestion_seance", seance_a.uuid)))
    assert f'value="{target.uuid}"' in page
    response = referent_client.post(url("gestion_inscription_move", inscription.uuid), {"seance": str(target.uuid)})
    assert response.status_code == 302
    assert Inscription.objects.get(pk=inscription.pk).statut == "annulee"
    moved = Inscription.objects.get(seance=target)
    assert (moved.email, moved.statut) == ("personne1@example.org", "confirmee")


@pytest.mark.parametrize("target", ["other_workshop", "garbage", "missing", "same"])
def test_move_errors(referent_client, seance_a, atelier, target):
    inscription = services.inscription_create(seance=seance_a, data=person(1))
    value = {
        "other_workshop": lambda: str(factories.SeanceFactory(atelier__structure=atelier.structure).uuid),
        "garbage": lambda: "n'importe quoi",
        "missing": lambda: "",
        "same": lambda: str(seance_a.uuid),
    }[target]()
    response = referent_client.post(url("gestion_inscription_move", inscription.uuid), {"seance": value})
    assert response.status_code == 400
    assert "séance" in text(response)
    assert Inscription.objects.get(pk=inscription.pk).statut == "confirmee"


# --- the attendance sheet --------------------------------------------------------------------------------------------
@pytest.fixture
def under_way(seance_a):
    for n in range(1, 4):
        services.inscription_create(seance=seance_a, data=person(n, genre="feminin"))
    return move_to_today(seance_a)


def presence_field(inscription):
    return f"presence_{inscription.uuid}"


def test_sheet_on_a_phone(client, under_way, facilitator):
    client.force_login(facilitator)
    page = text(client.get(url("gestion_appel", under_way.uuid)))
    rows = list(Inscription.objects.filter(seance=under_way).order_by("rang"))
    for row in rows:
        assert f'name="{presence_field(row)}"' in page
    assert 'class="chip"' in page and "clôturer l'appel" in page
    assert "style=" not in page and "<script>" not in page
    assert "En liste d&#x27;attente (position 1)" in page

    response = client.post(
        url("gestion_appel", under_way.uuid),
        {presence_field(rows[0]): "present", presence_field(rows[1]): "absent", "action": "enregistrer"},
    )
    assert response.status_code == 302
    assert [r.presence for r in Inscription.objects.filter(seance=under_way).order_by("rang")] == [
        "present",
        "absent",
        "",
    ]


def test_sheet_garbage_is_400(client, under_way, facilitator):
    client.force_login(facilitator)
    row = Inscription.objects.filter(seance=under_way).first()
    response = client.post(url("gestion_appel", under_way.uuid), {presence_field(row): "peut-être"})
    assert response.status_code == 400
    assert "Choisissez présent(e) ou absent(e)." in text(response)
    assert Inscription.objects.get(pk=row.pk).presence == ""


def test_sheet_before_the_day(client, seance_a, facilitator):
    row = services.inscription_create(seance=seance_a, data=person(1))
    client.force_login(facilitator)
    page = text(client.get(url("gestion_appel", seance_a.uuid)))
    assert "La feuille d'appel s'ouvre le jour de la séance" in page
    response = client.post(url("gestion_appel", seance_a.uuid), {presence_field(row): "present"})
    assert response.status_code == 400
    assert "L&#x27;appel se fait le jour de la séance" in text(response)
    response = client.post(url("gestion_appel_cloturer", seance_a.uuid))
    assert response.status_code == 400
    seance_a.refresh_from_db()
    assert seance_a.appel_cloture_le is None


def test_walk_in_on_the_sheet(client, under_way, facilitator):
    client.force_login(facilitator)
    data = {"prenom": "Jeanne", "nom": "Passante", "telephone": "06 12 34 56 78", "consentement": "on"}
    response = client.post(url("gestion_appel_sur_place", under_way.uuid), data)
    assert response.status_code == 302
    walk_in = Inscription.objects.get(source="sur_place")
    assert (walk_in.presence, walk_in.statut) == ("present", "confirmee")
    response = client.post(
        url("gestion_appel_sur_place", under_way.uuid), {**data, "prenom": "", "telephone": "0700000000"}
    )
    assert response.status_code == 400
    assert "Indiquez le prénom." in text(response)
    # Someone who came on the day may leave no contact details at all.
    response = client.post(url("gestion_appel_sur_place", under_way.uuid), {"prenom": "Rose", "nom": "Daran"})
    assert response.status_code == 302
    assert Inscription.objects.filter(source="sur_place", nom="Daran", telephone="", email="").exists()


def test_close_the_sheet_through_its_confirmation(client, under_way, facilitator):
    client.force_login(facilitator)
    rows = list(Inscription.objects.filter(seance=under_way).order_by("rang"))
    response = client.post(
        url("gestion_appel", under_way.uuid),
        {presence_field(rows[0]): "present", presence_field(rows[1]): "present", "action": "cloturer"},
    )
    assert response.status_code == 302 and response["Location"] == url("gestion_appel_cloturer", under_way.uuid)
    page = text(client.get(response["Location"]))
    assert "2</strong> présents" in page and "journal d'activité de" in page
    assert not Activite.objects.exists()

    response = client.post(url("gestion_appel_cloturer", under_way.uuid), follow=True)
    assert "Appel clos : l&#x27;atelier est enregistré dans le journal d&#x27;activité" in text(response)
    activite = Activite.objects.get()
    assert activite.participants == 2 and activite.conseiller.user == facilitator

    response = client.post(url("gestion_appel_cloturer", under_way.uuid), follow=True)
    assert "L&#x27;appel était déjà clos." in text(response)
    assert Activite.objects.count() == 1
    page = text(client.get(url("gestion_seance", under_way.uuid)))
    assert "Appel clos le" in page
    assert reverse("accompagnements:detail", args=[activite.uuid]) in page
    response = client.post(url("gestion_appel", under_way.uuid), {presence_field(rows[2]): "present"})
    assert response.status_code == 400
    assert "clos" in text(response)


def test_close_with_an_aidant_facilitator(client, seance_a):
    aidant = factories.MembershipFactory(structure=seance_a.atelier.structure, role=Role.AIDANT).user
    Seance.objects.filter(pk=seance_a.pk).update(animateur=aidant)
    row = services.inscription_create(seance=seance_a, data=person(1))
    seance = move_to_today(seance_a)
    client.force_login(aidant)
    assert "Ateliers" in text(client.get(url("gestion_ateliers")))
    client.post(url("gestion_appel", seance.uuid), {presence_field(row): "present"})
    page = text(client.get(url("gestion_appel_cloturer", seance.uuid)))
    assert "n'a pas de profil de conseiller numérique" in page
    response = client.post(url("gestion_appel_cloturer", seance.uuid), follow=True)
    assert "aucune activité n&#x27;est ajoutée" in text(response)
    assert not Activite.objects.exists()
    seance.refresh_from_db()
    assert seance.appel_cloture_le is not None


def test_pages_render_without_inline_styles_or_scripts(referent_client, under_way):
    for path in (
        url("gestion_ateliers"),
        url("gestion_atelier", under_way.atelier.uuid),
        url("gestion_atelier_create"),
        url("gestion_atelier_edit", under_way.atelier.uuid),
        url("gestion_seance_create", under_way.atelier.uuid),
        url("gestion_seance", under_way.uuid),
        url("gestion_seance_edit", under_way.uuid),
        url("gestion_seance_cancel", under_way.uuid),
        url("gestion_inscrire", under_way.uuid),
        url("gestion_appel", under_way.uuid),
        url("gestion_appel_cloturer", under_way.uuid),
    ):
        response = referent_client.get(path)
        assert response.status_code == 200, path
        page = text(response)
        assert "style=" not in page and "<script>" not in page, path
        assert page.count("<h1") == 1, path
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), (path, sorted({i for i in ids if ids.count(i) > 1}))


# --- the demo territory ----------------------------------------------------------------------------------------------
def test_demo_workshops_from_planning_to_the_activity_log(client, staff_client):
    """Every demo session's pages answer for staff; Inès takes yesterday's attendance on her phone and closes it: the
    workshop lands in her activity log."""
    from sicoval_numerique.demo import load_demo

    data = load_demo(activites=False)
    seances = list(Seance.objects.filter(pk__in=[s.pk for s in data["seances"]]))  # as dated by the demo
    assert seances
    assert staff_client.get(url("gestion_ateliers"), {"periode": "toutes"}).status_code == 200
    for seance in seances:
        for name in ("gestion_seance", "gestion_appel", "gestion_seance_edit", "gestion_appel_cloturer"):
            assert staff_client.get(url(name, seance.uuid)).status_code == 200, (name, seance)
    ines = next(user for user in data["users"] if user.email.startswith("conseiller@"))
    yesterday = next(s for s in seances if timezone.localtime(s.debut).date() < timezone.localdate())
    client.force_login(ines)
    rows = list(Inscription.objects.filter(seance=yesterday).exclude(statut="annulee").order_by("rang"))
    marks = {presence_field(row): "present" for row in rows[:2]}
    response = client.post(url("gestion_appel", yesterday.uuid), {**marks, "action": "cloturer"})
    assert response.status_code == 302
    response = client.post(url("gestion_appel_cloturer", yesterday.uuid), follow=True)
    assert response.status_code == 200
    yesterday.refresh_from_db()
    activite = yesterday.activite
    assert activite is not None and activite.conseiller.user == ines
    assert activite.participants == 2 and activite.date == timezone.localdate() - datetime.timedelta(days=1)
