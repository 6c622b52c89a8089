"""Planning services: programmes (thématiques as in the activity log, audiences), sessions (place or itinerant stop,
capacity, reservation, future only), weekly cycles, capacity changes with the waiting list, and cancellation with its
notifications."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Role
from ateliers import services
from ateliers.models import Atelier, Inscription, Seance, SourceInscription, StatutInscription
from notifications.models import Email
from tests import factories
from tests.ateliers.conftest import person


# --- helpers ---------------------------------------------------------------------------------------------------------
def atelier_data(**overrides):
    data = {
        "titre": "Premiers pas sur la tablette",
        "description": "Allumer, se connecter au wifi, installer une application.",
        "thematiques": ["prendre_en_main_du_materiel"],
        "niveau": "debutant",
        "publics": ["seniors"],
        "prevention": False,
        "formation_pass": False,
        "duree": 90,
    }
    data.update(overrides)
    return data


def in_days(days, hour=14, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def seance_data(atelier, **overrides):
    data = {
        "debut": in_days(7),
        "fin": None,
        "lieu": factories.LieuFactory(structure=atelier.structure),
        "arret": None,
        "animateur": None,
        "capacite": 8,
        "publique": True,
        "reservee_a": None,
    }
    data.update(overrides)
    return data


def field_errors(excinfo):
    return {name: " ".join(messages) for name, messages in excinfo.value.message_dict.items()}


@pytest.fixture
def referent(structure):
    return factories.MembershipFactory(structure=structure, role=Role.REFERENT).user


@pytest.fixture
def atelier(structure):
    return factories.AtelierFactory(structure=structure, duree=120)


@pytest.fixture
def facilitator(structure):
    return factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user


# --- programmes ------------------------------------------------------------------------------------------------------
def test_referent_creates_a_programme_of_their_structure(referent, structure):
    atelier = services.atelier_create(by=referent, structure=structure, data=atelier_data())
    atelier.refresh_from_db()
    assert atelier.structure == structure
    assert atelier.thematiques == ["prendre_en_main_du_materiel"]
    assert atelier.publics == ["seniors"]
    assert atelier.duree == 90
    assert atelier.history.first().history_user == referent


def test_staff_creates_for_any_structure(staff_user, structure):
    assert services.atelier_create(by=staff_user, structure=structure, data=atelier_data()).pk


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.AIDANT, Role.FINANCEUR])
def test_other_roles_cannot_create_a_programme(structure, role):
    user = factories.MembershipFactory(structure=structure, role=role).user
    with pytest.raises(PermissionDenied):
        services.atelier_create(by=user, structure=structure, data=atelier_data())
    assert not Atelier.objects.exists()


def test_referent_of_another_structure_cannot_create(referent):
    with pytest.raises(PermissionDenied):
        services.atelier_create(by=referent, structure=factories.StructureFactory(), data=atelier_data())


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"titre": "  "}, "titre", "Donnez un titre"),
        ({"thematiques": []}, "thematiques", "au moins une thématique"),
        ({"thematiques": ["inconnue"]}, "thematiques", "inconnue"),
        ({"thematiques": ["email", "email"]}, "thematiques", "deux fois"),
        ({"thematiques": ["email", "logement"]}, "thematiques", "Aide aux démarches administratives"),
        ({"publics": []}, "publics", "au moins un public"),
        ({"publics": ["martiens"]}, "publics", "inconnu"),
        ({"niveau": "expert"}, "niveau", "inconnu"),
        ({"duree": 10}, "duree", "15 à 480"),
        ({"duree": 481}, "duree", "15 à 480"),
        ({"duree": None}, "duree", "15 à 480"),
    ],
)
def test_programme_rules(referent, structure, overrides, field, message):
    with pytest.raises(ValidationError) as excinfo:
        services.atelier_create(by=referent, structure=structure, data=atelier_data(**overrides))
    assert message in field_errors(excinfo)[field]
    assert not Atelier.objects.exists()


def test_administrative_sub_themes_go_with_the_administrative_help(referent, structure):
    themes = ["aide_aux_demarches_administratives", "logement", "argent_impots"]
    atelier = services.atelier_create(by=referent, structure=structure, data=atelier_data(thematiques=themes))
    assert atelier.thematiques == themes


def test_update_keeps_what_is_not_given_and_checks_the_rules(referent, atelier):
    updated = services.atelier_update(atelier=atelier, by=referent, data={"titre": "Nouveau titre", "actif": False})
    assert updated.titre == "Nouveau titre"
    assert updated.actif is False
    assert updated.thematiques == atelier.thematiques
    assert updated.history.first().history_user == referent
    with pytest.raises(ValidationError):
        services.atelier_update(atelier=atelier, by=referent, data={"thematiques": ["justice"]})


def test_facilitator_cannot_change_the_programme(facilitator, atelier):
    factories.SeanceFactory(atelier=atelier, animateur=facilitator)
    with pytest.raises(PermissionDenied):
        services.atelier_update(atelier=atelier, by=facilitator, data={"titre": "Pris"})


# --- one session -----------------------------------------------------------------------------------------------------
def test_session_ends_after_the_programme_duration_by_default(referent, atelier):
    seance = services.seance_create(atelier=atelier, by=referent, data=seance_data(atelier))
    assert seance.fin - seance.debut == datetime.timedelta(minutes=120)
    assert seance.serie is None
    assert seance.history.first().history_user == referent


def test_session_with_explicit_end_and_facilitator(referent, atelier, facilitator):
    data = seance_data(atelier, fin=in_days(7, 15, 30), animateur=facilitator)
    seance = services.seance_create(atelier=atelier, by=referent, data=data)
    assert (seance.fin - seance.debut).total_seconds() == 90 * 60
    assert seance.animateur == facilitator


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"debut": None}, "debut", "date et l'heure"),
        ({"fin": "demain"}, "fin", "heure de fin"),
        ({"fin": "before"}, "fin", "doit suivre"),
        ({"fin": "too_short"}, "fin", "15 minutes à 8 heures"),
        ({"fin": "too_long"}, "fin", "15 minutes à 8 heures"),
        ({"lieu": None}, "lieu", "Choisissez un lieu"),
        ({"capacite": 0}, "capacite", "1 à 500"),
        ({"capacite": 501}, "capacite", "1 à 500"),
        ({"capacite": None}, "capacite", "1 à 500"),
        ({"publique": False}, "reservee_a", "réservée"),
    ],
)
def test_session_rules(referent, atelier, overrides, field, message):
    data = seance_data(atelier, **overrides)
    debut = data["debut"]
    if overrides.get("fin") == "before":
        data["fin"] = debut - datetime.timedelta(minutes=30)
    elif overrides.get("fin") == "too_short":
        data["fin"] = debut + datetime.timedelta(minutes=10)
    elif overrides.get("fin") == "too_long":
        data["fin"] = debut + datetime.timedelta(hours=9)
    with pytest.raises(ValidationError) as excinfo:
        services.seance_create(atelier=atelier, by=referent, data=data)
    assert message in field_errors(excinfo)[field]
    assert not Seance.objects.exists()


def test_session_in_the_past_is_refused(referent, atelier):
    with pytest.raises(ValidationError) as excinfo:
        services.seance_create(atelier=atelier, by=referent, data=seance_data(atelier, debut=in_days(-1)))
    assert "dans le futur" in field_errors(excinfo)["debut"]


def test_session_reserved_to_a_partner(referent, atelier):
    partner = factories.StructureFactory(nom="CCAS partenaire")
    data = seance_data(atelier, publique=False, reservee_a=partner)
    seance = services.seance_create(atelier=atelier, by=referent, data=data)
    assert seance.reservee_a == partner and not seance.publique
    public = services.seance_create(atelier=atelier, by=referent, data=seance_data(atelier, reservee_a=partner))
    assert public.reservee_a is None


def test_session_at_an_itinerant_stop_on_its_day(referent, atelier):
    arret = factories.ArretItinerantFactory(date=timezone.localdate() + datetime.timedelta(days=9))
    data = seance_data(atelier, lieu=None, arret=arret, debut=in_days(9, 10))
    assert services.seance_create(atelier=atelier, by=referent, data=data).arret == arret
    with pytest.raises(ValidationError) as excinfo:
        services.seance_create(atelier=atelier, by=referent, data={**data, "debut": in_days(10, 10)})
    assert "ce jour-là" in field_errors(excinfo)["arret"]
    with pytest.raises(ValidationError) as excinfo:
        services.seance_create(atelier=atelier, by=referent, data={**data, "lieu": factories.LieuFactory()})
    assert "pas les deux" in field_errors(excinfo)["arret"]


def test_inactive_programme_gets_no_new_session(referent, atelier):
    atelier.actif = False
    atelier.save()
    with pytest.raises(ValidationError, match="inactif"):
        services.seance_create(atelier=atelier, by=referent, data=seance_data(atelier))


def test_only_the_programme_managers_plan(facilitator, atelier):
    factories.SeanceFactory(atelier=atelier, animateur=facilitator)
    with pytest.raises(PermissionDenied):
        services.seance_create(atelier=atelier, by=facilitator, data=seance_data(atelier))
    outsider = factories.MembershipFactory(role=Role.REFERENT).user
    with pytest.raises(PermissionDenied):
        services.seances_create_serie(atelier=atelier, by=outsider, data=seance_data(atelier), nombre=3)


# --- weekly cycles ---------------------------------------------------------------------------------------------------
def test_weekly_cycle_in_one_action(referent, atelier, facilitator):
    data = seance_data(atelier, animateur=facilitator, capacite=6)
    seances = services.seances_create_serie(atelier=atelier, by=referent, data=data, nombre=6)
    assert len(seances) == 6
    assert Seance.objects.filter(atelier=atelier).count() == 6
    assert len({s.serie for s in seances}) == 1 and seances[0].serie is not None
    for index, seance in enumerate(seances):
        assert timezone.localtime(seance.debut).date() == timezone.localdate() + datetime.timedelta(days=7 + 7 * index)
        assert timezone.localtime(seance.debut).time() == datetime.time(14, 0)
        assert seance.fin - seance.debut == datetime.timedelta(minutes=120)
        assert (seance.capacite, seance.animateur, seance.lieu) == (6, facilitator, data["lieu"])


def test_cycle_keeps_the_local_time_across_a_clock_change(referent, atelier):
    """Sessions every week at 14:00 stay at 14:00 when France changes time (UTC offset moves by one hour)."""
    today = timezone.localdate()
    start = next(
        today + datetime.timedelta(days=d)
        for d in range(1, 400)
        if timezone.localtime(in_days(d)).utcoffset() != timezone.localtime(in_days(d + 28)).utcoffset()
    )
    days = (start - today).days
    seances = services.seances_create_serie(
        atelier=atelier, by=referent, data=seance_data(atelier, debut=in_days(days)), nombre=5
    )
    assert {timezone.localtime(s.debut).time() for s in seances} == {datetime.time(14, 0)}
    assert len({timezone.localtime(s.debut).utcoffset() for s in seances}) == 2


def test_cycle_with_another_interval(referent, atelier):
    seances = services.seances_create_serie(
        atelier=atelier, by=referent, data=seance_data(atelier), nombre=3, intervalle_jours=14
    )
    assert [(b.debut - a.debut).days for a, b in zip(seances, seances[1:], strict=False)] == [14, 14]


@pytest.mark.parametrize(("nombre", "intervalle"), [(0, 7), (53, 7), ("3", 7), (3, 0), (3, 32)])
def test_cycle_bounds(referent, atelier, nombre, intervalle):
    with pytest.raises(ValidationError):
        services.seances_create_serie(
            atelier=atelier, by=referent, data=seance_data(atelier), nombre=nombre, intervalle_jours=intervalle
        )
    assert not Seance.objects.exists()


def test_cycle_refuses_the_past_and_creates_nothing(referent, atelier):
    with pytest.raises(ValidationError) as excinfo:
        services.seances_create_serie(
            atelier=atelier, by=referent, data=seance_data(atelier, debut=in_days(-14)), nombre=5
        )
    assert "dans le passé" in field_errors(excinfo)["debut"]
    assert not Seance.objects.exists()


def test_cycle_at_an_itinerant_stop_is_refused(referent, atelier):
    arret = factories.ArretItinerantFactory(date=timezone.localdate() + datetime.timedelta(days=7))
    with pytest.raises(ValidationError) as excinfo:
        services.seances_create_serie(
            atelier=atelier, by=referent, data=seance_data(atelier, lieu=None, arret=arret), nombre=2
        )
    assert "une par une" in field_errors(excinfo)["arret"]


# --- changing a session ----------------------------------------------------------------------------------------------
@pytest.fixture
def full_seance(seance, register):
    """The conftest's 3-seat session, full, with two people waiting."""
    for n in range(1, 6):
        register(seance, n)
    return seance


def statuts(seance):
    return list(Inscription.objects.filter(seance=seance).order_by("rang").values_list("statut", flat=True))


def test_capacity_cannot_go_below_the_confirmed(staff_user, full_seance):
    with pytest.raises(ValidationError) as excinfo:
        services.seance_update(seance=full_seance, by=staff_user, data={"capacite": 2})
    assert "3 personnes ont déjà une place confirmée" in field_errors(excinfo)["capacite"]
    full_seance.refresh_from_db()
    assert full_seance.capacite == 3


def test_raising_capacity_promotes_the_waiting_in_order(
    staff_user, full_seance, register, django_capture_on_commit_callbacks
):
    register(full_seance, 6)
    with django_capture_on_commit_callbacks(execute=True):
        seance, promoted = services.seance_update(seance=full_seance, by=staff_user, data={"capacite": 5})
    assert seance.capacite == 5
    assert [p.email for p in promoted] == ["personne4@example.org", "personne5@example.org"]
    assert statuts(seance) == ["confirmee"] * 5 + ["attente"]
    promoted_rows = Inscription.objects.filter(email__in=["personne4@example.org", "personne5@example.org"])
    assert all(row.promue_le is not None for row in promoted_rows)
    assert promoted_rows.first().history.first().history_user == staff_user
    assert set(Email.objects.filter(type="place_liberee").values_list("destinataire", flat=True)) == {
        "personne4@example.org",
        "personne5@example.org",
    }


def test_walk_ins_hold_no_seat(staff_user, full_seance):
    Inscription.objects.create(
        seance=full_seance,
        prenom="Sur",
        nom="Place",
        telephone="+33600000000",
        cle_personne="tel:+33600000000",
        statut=StatutInscription.CONFIRMEE,
        source=SourceInscription.SUR_PLACE,
        rang=99,
        consentement_le=timezone.now(),
    )
    assert services.seats_taken(full_seance) == 3
    seance, promoted = services.seance_update(seance=full_seance, by=staff_user, data={"capacite": 4})
    assert len(promoted) == 1


def test_facilitator_edits_their_session_but_not_who_facilitates(full_seance, facilitator):
    Seance.objects.filter(pk=full_seance.pk).update(animateur=facilitator)
    full_seance.refresh_from_db()
    seance, _ = services.seance_update(seance=full_seance, by=facilitator, data={"capacite": 4})
    assert seance.capacite == 4
    with pytest.raises(PermissionDenied):
        services.seance_update(seance=seance, by=facilitator, data={"animateur": factories.UserFactory()})
    with pytest.raises(PermissionDenied):
        services.seance_update(seance=seance, by=factories.UserFactory(), data={"capacite": 5})


def test_moving_a_session_into_the_past_is_refused(staff_user, seance):
    with pytest.raises(ValidationError):
        services.seance_update(
            seance=seance, by=staff_user, data={"debut": in_days(-2), "fin": in_days(-2) + datetime.timedelta(hours=1)}
        )


# --- cancelling a session --------------------------------------------------------------------------------------------
def test_cancel_notifies_every_registrant_once(staff_user, full_seance, register, django_capture_on_commit_callbacks):
    cancelled = services.inscription_create(seance=full_seance, data=person(7))
    services.inscription_cancel(inscription=cancelled, by=staff_user)
    services.inscription_create(
        seance=full_seance,
        data=person(8, email="", telephone="06 11 22 33 44"),
        by=staff_user,
        source=SourceInscription.TELEPHONE,
    )
    with django_capture_on_commit_callbacks(execute=True):
        seance = services.seance_cancel(seance=full_seance, motif="Salle inondée", by=staff_user)
    assert seance.annulee and seance.motif_annulation == "Salle inondée"
    sent = Email.objects.filter(type="seance_annulee")
    # The 3 confirmed and the 2 waiting; not the cancelled registration, nor the person reached by phone only.
    assert sorted(sent.values_list("destinataire", flat=True)) == [f"personne{n}@example.org" for n in range(1, 6)]
    assert all("Salle inondée" in email.texte for email in sent)
    assert seance.history.first().history_user == staff_user

    with django_capture_on_commit_callbacks(execute=True):
        again = services.seance_cancel(seance=seance, motif="Autre motif", by=staff_user)
    assert again.motif_annulation == "Salle inondée"
    assert Email.objects.filter(type="seance_annulee").count() == 5
    # Registrations are kept as they were (who was registered stays known).
    assert statuts(seance).count("confirmee") == 3


def test_cancel_needs_a_reason_and_a_manager(full_seance, staff_user):
    with pytest.raises(ValidationError) as excinfo:
        services.seance_cancel(seance=full_seance, motif="  ", by=staff_user)
    assert "motif" in field_errors(excinfo)
    with pytest.raises(ValidationError):
        services.seance_cancel(seance=full_seance, motif="x" * 256, by=staff_user)
    with pytest.raises(PermissionDenied):
        services.seance_cancel(seance=full_seance, motif="Pas le droit", by=factories.UserFactory())
    full_seance.refresh_from_db()
    assert not full_seance.annulee
    assert not Email.objects.filter(type="seance_annulee").exists()


def test_cancelled_session_is_no_longer_edited(staff_user, seance):
    services.seance_cancel(seance=seance, motif="Grève", by=staff_user)
    with pytest.raises(ValidationError, match="annulée"):
        services.seance_update(seance=seance, by=staff_user, data={"capacite": 10})


def test_a_closed_session_cannot_be_cancelled(staff_user, seance):
    Seance.objects.filter(pk=seance.pk).update(appel_cloture_le=timezone.now())
    with pytest.raises(ValidationError, match="clos"):
        services.seance_cancel(seance=seance, motif="Trop tard", by=staff_user)


def test_a_change_of_date_or_place_is_sent_to_registrants_once_per_change(db):
    from django.core import mail

    from notifications.services import relay

    staff = factories.StaffUserFactory()
    seance = factories.SeanceFactory(capacite=1)
    services.inscription_create(seance=seance, data=_person(1))
    services.inscription_create(seance=seance, data=_person(2))  # waiting
    new_start = seance.debut + datetime.timedelta(days=1)
    end = new_start + datetime.timedelta(hours=2)
    services.seance_update(seance=seance, by=staff, data={"debut": new_start, "fin": end})
    services.seance_update(seance=seance, by=staff, data={"capacite": 1})  # no change of date nor place: no e-mail
    later = new_start + datetime.timedelta(days=1)
    services.seance_update(seance=seance, by=staff, data={"debut": later, "fin": later + datetime.timedelta(hours=2)})
    relay()
    changes = Email.objects.filter(type="seance_modifiee")
    assert changes.count() == 4  # two people, two changes
    sent = [m for m in mail.outbox if m.subject.startswith("Changement")]
    assert len(sent) == 4
    confirmed = [m for m in sent if m.to == ["personne1@example.org"]]
    assert all(m.attachments and "SEQUENCE:" in m.attachments[0][1] for m in confirmed)


def _person(n):
    return {"prenom": f"P{n}", "nom": f"N{n}", "email": f"personne{n}@example.org", "consentement": True}
