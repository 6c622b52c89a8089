"""Rules of the referrals (orientations): who sends, what is required, where it goes (chosen, the conseiller covering
the commune, a workshop session), the transitions and who may make them, closing as done with the activity in one
step, the status history, the 3-working-days flag, the scoping selectors and the purge of personal data."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accompagnements.models import Accompagnement, Activite
from accounts.models import Role
from aidants import selectors_orientations as sel
from aidants import services_orientations as services
from aidants.models import Orientation, StatutOrientation
from aidants.tasks import orientations_purger
from notifications.models import Email
from tests import factories

from .conftest import AidantFactory

pytestmark = pytest.mark.django_db
THEME = "prendre_en_main_du_materiel"
PARIS = datetime.timezone(datetime.timedelta(hours=2))


# --- Helpers and fixtures (also used by test_orientation_pages.py) ------------------------------------------------
def aidant_with_account(structure=None):
    membership = factories.MembershipFactory(role=Role.AIDANT, **({"structure": structure} if structure else {}))
    return AidantFactory(structure=membership.structure, user=membership.user)


def conseiller_with_account(structure=None, **kwargs):
    membership = factories.MembershipFactory(role=Role.CONSEILLER, **({"structure": structure} if structure else {}))
    return factories.ConseillerFactory(user=membership.user, **kwargs)


def make_orientation(aidant, conseiller, commune, **kwargs):
    """A referral written directly (the services are tested through ``orientation_create``)."""
    values = {
        "aidant": aidant,
        "conseiller": conseiller,
        "commune": commune,
        "thematiques": [THEME],
        "prenom": "Zéphyrine",
        "telephone": "+33612345678",
        "contact_prefere": "telephone",
        "consentement_le": timezone.now(),
    }
    values.update(kwargs)
    return Orientation.objects.create(**values)


def activity_in(conseiller, commune, date=None):
    return Activite.objects.create(
        conseiller=conseiller,
        structure=factories.StructureFactory(),
        type="individuel",
        date=date or timezone.localdate(),
        duree=30,
        type_lieu="domicile",
        commune=commune,
        thematiques=[THEME],
    )


def make_commune():
    return factories.CommuneFactory(nom="Pechbusque", code_insee="31411")


def make_conseiller(commune):
    """Inès, conseillère employed by a structure located in ``commune``."""
    return conseiller_with_account(factories.StructureFactory(commune=commune), prenom="Inès", nom="Conseillère")


@pytest.fixture
def commune(db):
    return make_commune()


@pytest.fixture
def aidant(db):
    return aidant_with_account()


@pytest.fixture
def conseiller(db, commune):
    return make_conseiller(commune)


@pytest.fixture
def other_conseiller(db):
    return conseiller_with_account(prenom="Autre", nom="Conseiller")


def create(sender, commune, **kwargs):
    values = {
        "by": sender.user,
        "thematiques": [THEME],
        "commune": commune,
        "prenom": "Zéphyrine",
        "contact_prefere": "telephone",
        "telephone": "06 12 34 56 78",
        "consentement": True,
    }
    values.update(kwargs)
    return services.orientation_create(**values)


def errors_of(excinfo):
    return excinfo.value.message_dict


# --- Creation -----------------------------------------------------------------------------------------------------
def test_an_aidant_refers_a_person_to_a_chosen_conseiller_who_gets_an_email(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller, precision="  Nouveau téléphone  ")
    assert orientation.statut == StatutOrientation.NOUVELLE
    assert orientation.aidant == aidant and orientation.conseiller == conseiller
    assert orientation.telephone == "+33612345678"
    assert orientation.precision == "Nouveau téléphone"
    assert orientation.consentement_le is not None
    assert orientation.history.first().history_user == aidant.user
    email = Email.objects.get(type="orientation_recue")
    assert email.destinataire == conseiller.user.email and email.objet == f"orientation:{orientation.uuid}"
    # The e-mail names the need and the commune, never the person.
    assert "Pechbusque" in email.texte and "Zéphyrine" not in email.texte and "0612" not in email.texte


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"consentement": False}, "consentement"),
        ({"consentement": "oui"}, "consentement"),
        ({"thematiques": []}, "thematiques"),
        ({"thematiques": ["pas_un_theme"]}, "thematiques"),
        ({"thematiques": "prendre_en_main_du_materiel"}, "thematiques"),
        ({"prenom": "  "}, "prenom"),
        ({"prenom": "x" * 151}, "prenom"),
        ({"precision": "x" * 281}, "precision"),
        ({"urgence": "demain"}, "urgence"),
        ({"commune": None}, "commune"),
        ({"contact_prefere": "pigeon"}, "contact_prefere"),
        ({"contact_prefere": "telephone", "telephone": ""}, "telephone"),
        ({"contact_prefere": "telephone", "telephone": "appelez-moi"}, "telephone"),
        ({"contact_prefere": "email", "telephone": "", "email": ""}, "email"),
        ({"contact_prefere": "email", "email": "pas-une-adresse"}, "email"),
    ],
)
def test_creation_is_refused_in_french_without_a_write(aidant, conseiller, commune, changes, field):
    with pytest.raises(ValidationError) as excinfo:
        create(aidant, changes.pop("commune", commune), conseiller=conseiller, **changes)
    assert field in errors_of(excinfo)
    assert not Orientation.objects.exists() and not Email.objects.exists()


def test_an_unknown_commune_is_refused(aidant, conseiller):
    ghost = factories.CommuneFactory.build(code_insee="99999")
    with pytest.raises(ValidationError) as excinfo:
        create(aidant, ghost, conseiller=conseiller)
    assert "commune" in errors_of(excinfo)


def test_contact_through_the_aidant_needs_no_phone_or_email(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller, contact_prefere="via_aidant", telephone="")
    assert orientation.telephone == "" and orientation.email == ""


def test_an_administrative_procedure_brings_its_parent_theme(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller, thematiques=["transports_mobilite", THEME, THEME])
    assert orientation.thematiques == ["aide_aux_demarches_administratives", "transports_mobilite", THEME]


def test_only_aidants_with_an_account_or_staff_send(aidant, conseiller, commune, staff):
    for user in (factories.UserFactory(), conseiller.user):
        with pytest.raises(PermissionDenied):
            create(aidant, commune, by=user, conseiller=conseiller)
    inactive = aidant_with_account()
    inactive.actif = False
    inactive.save()
    with pytest.raises(PermissionDenied):
        create(inactive, commune, conseiller=conseiller)
    # An aidant cannot send in another aidant's name; staff can.
    with pytest.raises(PermissionDenied):
        create(aidant, commune, aidant=aidant_with_account(), conseiller=conseiller)
    orientation = create(aidant, commune, by=staff, aidant=aidant, conseiller=conseiller)
    assert orientation.aidant == aidant
    with pytest.raises(PermissionDenied):
        create(aidant, commune, by=staff, conseiller=conseiller)


def test_a_conseiller_without_an_account_or_post_cannot_receive(aidant, commune):
    without_account = factories.ConseillerFactory()
    with pytest.raises(ValidationError) as excinfo:
        create(aidant, commune, conseiller=without_account)
    assert "conseiller" in errors_of(excinfo)


# --- The conseiller covering the commune ------------------------------------------------------------------------
def test_automatic_destination_is_the_conseiller_most_active_in_the_commune(aidant, commune, conseiller):
    busy = conseiller_with_account(prenom="Busy", nom="Zed")
    for _ in range(3):
        activity_in(busy, commune)
    activity_in(conseiller, commune)
    old = conseiller_with_account(prenom="Old", nom="Aaa")
    for _ in range(5):  # more activities, but more than 6 months ago
        activity_in(old, commune, date=timezone.localdate() - datetime.timedelta(days=200))
    assert sel.conseiller_covering(commune) == busy
    assert create(aidant, commune).conseiller == busy


def test_automatic_destination_falls_back_on_a_conseiller_employed_in_the_commune(aidant, commune, conseiller):
    conseiller_with_account(prenom="Ailleurs", nom="Aaa")  # employed elsewhere
    assert create(aidant, commune).conseiller == conseiller


def test_no_conseiller_in_the_commune_asks_to_choose(aidant):
    elsewhere = factories.CommuneFactory(code_insee="31999")
    with pytest.raises(ValidationError) as excinfo:
        create(aidant, elsewhere)
    assert "choisissez le conseiller qui prendra la personne en charge" in errors_of(excinfo)["conseiller"][0]


def test_a_workshop_session_can_be_proposed(aidant, commune, conseiller):
    seance = factories.SeanceFactory(animateur=conseiller.user)
    orientation = create(aidant, commune, seance=seance)
    assert orientation.seance == seance and orientation.conseiller == conseiller
    # A session facilitated by no conseiller: the conseiller covering the commune; with none, the aidant chooses one
    # (every referral has someone to take it in charge).
    other = factories.SeanceFactory()
    assert create(aidant, commune, seance=other).conseiller == conseiller
    nowhere = factories.CommuneFactory(code_insee="31998")
    with pytest.raises(ValidationError) as excinfo:
        create(aidant, nowhere, seance=other)
    assert "ni n'anime cette séance" in errors_of(excinfo)["conseiller"][0]
    chosen = create(aidant, nowhere, seance=other, conseiller=conseiller)
    assert chosen.conseiller == conseiller and chosen.seance == other


def test_a_past_or_cancelled_session_is_refused(aidant, commune, conseiller):
    past = factories.SeanceFactory(debut=timezone.now() - datetime.timedelta(days=2))
    with pytest.raises(ValidationError) as excinfo:
        create(aidant, commune, seance=past)
    assert "seance" in errors_of(excinfo)


# --- Transitions --------------------------------------------------------------------------------------------------
def test_only_the_assigned_conseiller_accepts(aidant, conseiller, other_conseiller, commune, staff):
    orientation = create(aidant, commune, conseiller=conseiller)
    for user in (other_conseiller.user, aidant.user, staff):
        with pytest.raises(PermissionDenied):
            services.orientation_accept(orientation=orientation, by=user)
    services.orientation_accept(orientation=orientation, by=conseiller.user)
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.ACCEPTEE and orientation.acceptee_le is not None
    with pytest.raises(ValidationError):  # twice
        services.orientation_accept(orientation=orientation, by=conseiller.user)


def test_closing_as_done_creates_the_activity_in_one_step(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller, thematiques=[THEME, "email"])
    with pytest.raises(ValidationError):  # not accepted yet
        services.orientation_close_done(orientation=orientation, by=conseiller.user, duree=30, type_lieu="domicile")
    services.orientation_accept(orientation=orientation, by=conseiller.user)
    services.orientation_close_done(
        orientation=orientation, by=conseiller.user, duree=45, type_lieu="domicile", resultat="Aidée pour son mobile."
    )
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.REALISEE and orientation.cloturee_le is not None
    activite = orientation.activite
    assert activite.conseiller == conseiller and activite.type == "individuel"
    assert activite.date == timezone.localdate() and activite.duree == 45
    assert activite.commune == commune and activite.thematiques == [THEME, "email"]
    row = Accompagnement.objects.get(activite=activite)
    assert row.beneficiaire is None and row.commune_residence == commune
    assert orientation.resultat == "Aidée pour son mobile."
    email = Email.objects.get(type="orientation_suite")
    assert email.destinataire == aidant.user.email and "Aidée pour son mobile." in email.texte


def test_a_refused_activity_leaves_the_referral_accepted(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller)
    services.orientation_accept(orientation=orientation, by=conseiller.user)
    with pytest.raises(ValidationError) as excinfo:  # a place of activity must be chosen
        services.orientation_close_done(
            orientation=orientation, by=conseiller.user, duree=30, type_lieu="lieu_activite"
        )
    assert "lieu" in errors_of(excinfo)
    with pytest.raises(ValidationError):
        services.orientation_close_done(orientation=orientation, by=conseiller.user, duree=0, type_lieu="domicile")
    with pytest.raises(ValidationError):
        services.orientation_close_done(orientation=orientation, by=conseiller.user, duree="30", type_lieu="x")
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.ACCEPTEE and orientation.activite is None
    assert not Activite.objects.exists() and not Email.objects.filter(type="orientation_suite").exists()


def test_only_the_assigned_conseiller_closes(aidant, conseiller, other_conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller)
    services.orientation_accept(orientation=orientation, by=conseiller.user)
    with pytest.raises(PermissionDenied):
        services.orientation_close_done(
            orientation=orientation, by=other_conseiller.user, duree=30, type_lieu="domicile"
        )
    assert not Activite.objects.exists()


def test_redirect_needs_a_reason_and_tells_the_aidant(aidant, conseiller, other_conseiller, commune, staff):
    orientation = create(aidant, commune, conseiller=conseiller)
    with pytest.raises(ValidationError) as excinfo:
        services.orientation_redirect(orientation=orientation, by=conseiller.user, motif="   ")
    assert "motif" in errors_of(excinfo)
    with pytest.raises(ValidationError):
        services.orientation_redirect(orientation=orientation, by=conseiller.user, motif="x" * 281)
    for user in (other_conseiller.user, aidant.user):
        with pytest.raises(PermissionDenied):
            services.orientation_redirect(orientation=orientation, by=user, motif="France services")
    services.orientation_redirect(orientation=orientation, by=conseiller.user, motif="Vers France services")
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.REORIENTEE and orientation.resultat == "Vers France services"
    assert Email.objects.filter(type="orientation_suite", destinataire=aidant.user.email).exists()
    with pytest.raises(ValidationError):  # closed
        services.orientation_redirect(orientation=orientation, by=staff, motif="Encore")
    # Staff may redirect a referral nobody handles (a session alone).
    alone = make_orientation(aidant, None, commune, seance=factories.SeanceFactory())
    services.orientation_redirect(orientation=alone, by=staff, motif="Inscrite par l'équipe")


def test_the_aidant_cancels_only_while_new(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller)
    with pytest.raises(PermissionDenied):
        services.orientation_cancel(orientation=orientation, by=conseiller.user)
    with pytest.raises(PermissionDenied):
        services.orientation_cancel(orientation=orientation, by=aidant_with_account().user)
    services.orientation_cancel(orientation=orientation, by=aidant.user)
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.ANNULEE and orientation.cloturee_le is not None
    assert Email.objects.filter(type="orientation_annulee", destinataire=conseiller.user.email).exists()
    accepted = create(aidant, commune, conseiller=conseiller)
    services.orientation_accept(orientation=accepted, by=conseiller.user)
    with pytest.raises(ValidationError):
        services.orientation_cancel(orientation=accepted, by=aidant.user)


@pytest.mark.parametrize(
    "statut", [StatutOrientation.REALISEE, StatutOrientation.REORIENTEE, StatutOrientation.ANNULEE]
)
def test_a_closed_referral_moves_no_more(aidant, conseiller, commune, statut):
    orientation = make_orientation(aidant, conseiller, commune, statut=statut, cloturee_le=timezone.now())
    with pytest.raises(ValidationError):
        services.orientation_accept(orientation=orientation, by=conseiller.user)
    with pytest.raises(ValidationError):
        services.orientation_redirect(orientation=orientation, by=conseiller.user, motif="Ailleurs")
    with pytest.raises(ValidationError):
        services.orientation_cancel(orientation=orientation, by=aidant.user)


def test_every_referral_has_a_status_history(aidant, conseiller, commune):
    orientation = create(aidant, commune, conseiller=conseiller)
    services.orientation_accept(orientation=orientation, by=conseiller.user)
    services.orientation_close_done(orientation=orientation, by=conseiller.user, duree=30, type_lieu="domicile")
    history = sel.status_history(orientation)
    assert [entry["statut"] for entry in history] == ["Nouvelle", "Prise en charge", "Accompagnement réalisé"]
    assert history[1]["par"] == conseiller.user.get_full_name()


# --- Scoping ------------------------------------------------------------------------------------------------------
def test_scoping_of_the_selectors(aidant, conseiller, other_conseiller, commune, staff):
    mine = make_orientation(aidant, conseiller, commune)
    other_aidant = aidant_with_account()
    theirs = make_orientation(other_aidant, other_conseiller, commune)
    assert list(sel.orientations_visible_to(aidant.user)) == [mine]
    assert list(sel.orientations_sent_by(aidant.user)) == [mine]
    assert list(sel.orientations_received_by(conseiller.user)) == [mine]
    assert set(sel.orientations_visible_to(staff)) == {mine, theirs}
    referent = factories.MembershipFactory(role=Role.REFERENT, structure=conseiller.user.memberships.get().structure)
    assert not sel.orientations_visible_to(referent.user).exists()
    assert sel.sees_person(aidant.user, mine) and sel.sees_person(conseiller.user, mine)
    assert not sel.sees_person(staff, mine) and not sel.sees_person(other_aidant.user, mine)


# --- Working days -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "now, cutoff",
    [
        # Monday 10:00 → Wednesday 10:00 of the week before (the weekend does not count).
        (datetime.datetime(2025, 3, 10, 10), datetime.datetime(2025, 3, 5, 10)),
        # Thursday 15:00 → Monday 15:00.
        (datetime.datetime(2025, 3, 13, 15), datetime.datetime(2025, 3, 10, 15)),
        # Saturday → Wednesday midnight (end of Tuesday + Wednesday + Thursday + Friday = 3 full days back).
        (datetime.datetime(2025, 3, 15, 11), datetime.datetime(2025, 3, 12, 0)),
        # Wednesday 18:00 → Friday 18:00.
        (datetime.datetime(2025, 3, 12, 18), datetime.datetime(2025, 3, 7, 18)),
    ],
)
def test_working_days_cutoff(now, cutoff, settings):
    tz = timezone.get_current_timezone()
    assert sel.working_days_cutoff(timezone.make_aware(now, tz)) == timezone.make_aware(cutoff, tz)


def test_referrals_still_new_after_three_working_days_are_flagged(aidant, conseiller, commune):
    tz = timezone.get_current_timezone()
    friday_evening = timezone.make_aware(datetime.datetime(2025, 3, 7, 18), tz)
    with time_machine.travel(friday_evening, tick=False):
        waiting = make_orientation(aidant, conseiller, commune)
        taken = make_orientation(aidant, conseiller, commune, statut=StatutOrientation.ACCEPTEE)
    # Tuesday evening: Monday and Tuesday have passed, not yet three working days.
    assert not sel.orientations_en_retard(timezone.make_aware(datetime.datetime(2025, 3, 11, 23), tz)).exists()
    wednesday = timezone.make_aware(datetime.datetime(2025, 3, 12, 18), tz)
    assert list(sel.orientations_en_retard(wednesday)) == [waiting]
    assert sel.is_late(waiting, wednesday) and not sel.is_late(taken, wednesday)
    assert sel.working_days_between(waiting.created_at, wednesday) == 3


# --- Purge --------------------------------------------------------------------------------------------------------
def test_personal_data_is_erased_12_months_after_closing_history_included(aidant, conseiller, commune):
    start = datetime.datetime(2024, 1, 10, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        orientation = create(
            aidant, commune, conseiller=conseiller, email="josiane@example.org", precision="Smartphone neuf"
        )
        services.orientation_redirect(orientation=orientation, by=conseiller.user, motif="France services")
        still_open = create(aidant, commune, conseiller=conseiller)
    with time_machine.travel(start + datetime.timedelta(days=360), tick=False):
        assert services.orientations_purger() == 0
    with time_machine.travel(start + datetime.timedelta(days=370), tick=False):
        assert orientations_purger() == {"anonymisees": 1}
        assert services.orientations_purger() == 0  # idempotent
    orientation.refresh_from_db()
    assert orientation.anonymisee_le is not None
    assert (orientation.prenom, orientation.telephone, orientation.email, orientation.precision) == ("", "", "", "")
    assert orientation.resultat == "France services" and orientation.statut == StatutOrientation.REORIENTEE
    for row in orientation.history.all():
        assert (row.prenom, row.telephone, row.email, row.precision) == ("", "", "", "")
    still_open.refresh_from_db()
    assert still_open.prenom == "Zéphyrine" and still_open.anonymisee_le is None
    assert services.orientation_retention_until(orientation) == datetime.date(2025, 1, 11)
