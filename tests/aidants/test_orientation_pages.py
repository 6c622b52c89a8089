"""Pages of the referrals: who reaches each page (403/404), what each one shows (the person's details only to the
author and the conseiller in charge), the forms' French errors with a 400 (never a 500 on garbage), the transitions
through the browser, staff's late ones, and the lists' fixed number of queries."""

import datetime
import html

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accompagnements.models import Activite
from accounts.models import Role
from aidants.models import Orientation, StatutOrientation
from tests import factories

from .test_orientations import (
    THEME,
    aidant_with_account,
    conseiller_with_account,
    make_commune,
    make_conseiller,
    make_orientation,
)

pytestmark = pytest.mark.django_db
CREATE = reverse("aidants:orientation_create")
MINE = reverse("aidants:orientation_list")
RECUES = reverse("aidants:orientation_recues")
SUIVI = reverse("aidants:orientation_suivi")


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


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def url(name, orientation):
    return reverse(f"aidants:{name}", args=[orientation.uuid])


def form_data(where, **changes):
    data = {
        "thematiques": [THEME],
        "commune": where.code_insee,
        "prenom": "Zéphyrine",
        "contact_prefere": "telephone",
        "telephone": "06 12 34 56 78",
        "urgence": "normale",
        "consentement": "on",
    }
    data.update(changes)
    return data


# --- Orienter une personne ----------------------------------------------------------------------------------------
def test_an_aidant_sends_a_referral_from_the_form(client, aidant, conseiller, commune):
    client.force_login(aidant.user)
    page = client.get(CREATE)
    assert page.status_code == 200
    assert "choix automatique" in text(page) and 'name="aidant"' not in page.content.decode()
    response = client.post(CREATE, form_data(commune, conseiller=str(conseiller.uuid), precision="Un mobile"))
    orientation = Orientation.objects.get()
    assert response.status_code == 302 and response["Location"] == url("orientation_detail", orientation)
    assert orientation.conseiller == conseiller and orientation.telephone == "+33612345678"
    assert "Zéphyrine" in text(client.get(url("orientation_detail", orientation)))


def test_the_form_without_a_chosen_conseiller_goes_to_the_one_covering_the_commune(client, aidant, conseiller, commune):
    client.force_login(aidant.user)
    assert client.post(CREATE, form_data(commune)).status_code == 302
    assert Orientation.objects.get().conseiller == conseiller


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"consentement": ""}, "Recueillez l'accord de la personne"),
        ({"thematiques": []}, "Choisissez au moins un besoin."),
        ({"thematiques": ["<script>"]}, "Choisissez une valeur de la liste."),
        ({"commune": "99999"}, "Cette commune n'existe pas"),
        ({"commune": "1" * 40}, "Cette commune n'existe pas"),
        ({"contact_prefere": "email", "telephone": ""}, "La personne préfère un e-mail"),
        ({"telephone": ""}, "La personne préfère être appelée"),
        ({"conseiller": "pas-un-uuid"}, "Ce conseiller ne reçoit pas d'orientation"),
        ({"conseiller": "00000000-0000-0000-0000-000000000000"}, "Ce conseiller ne reçoit pas d'orientation"),
        ({"seance": "9" * 30}, "Cette séance n'est plus proposée"),
        ({"urgence": "hier"}, "Choisissez une valeur de la liste."),
        ({"prenom": "x" * 500}, "Prénom de la personne"),
        ({"email": "pas-une-adresse", "contact_prefere": "email"}, "Saisissez une adresse e-mail valide."),
    ],
)
def test_bad_input_answers_400_in_french(client, aidant, conseiller, commune, changes, message):
    client.force_login(aidant.user)
    response = client.post(CREATE, form_data(commune, **changes))
    assert response.status_code == 400
    assert message in text(response)
    assert not Orientation.objects.exists()


def test_who_reaches_the_form(client, conseiller, staff, aidant):
    assert client.get(CREATE).status_code == 302
    client.force_login(conseiller.user)
    assert client.get(CREATE).status_code == 403
    client.force_login(factories.MembershipFactory(role=Role.AIDANT).user)  # an aidant account not linked
    assert client.get(CREATE).status_code == 403
    client.force_login(staff)
    page = client.get(CREATE)
    assert page.status_code == 200 and 'name="aidant"' in page.content.decode()


def test_staff_sends_on_behalf_of_an_aidant(client, staff, aidant, conseiller, commune):
    client.force_login(staff)
    assert client.post(CREATE, form_data(commune)).status_code == 400  # the aidant is required
    response = client.post(CREATE, form_data(commune, aidant=str(aidant.uuid)))
    assert response.status_code == 302
    assert Orientation.objects.get().aidant == aidant


# --- Lists and scoping --------------------------------------------------------------------------------------------
def test_an_aidant_sees_their_own_referrals_status_and_outcome_only(client, aidant, conseiller, commune):
    mine = make_orientation(aidant, conseiller, commune, statut="reorientee", resultat="Vers France services")
    other = make_orientation(aidant_with_account(), conseiller, commune, prenom="Théodebert")
    client.force_login(aidant.user)
    page = text(client.get(MINE))
    assert "Réorientée" in page and "Vers France services" in page
    assert "Zéphyrine" not in page and "Théodebert" not in page and "+33612345678" not in page
    assert client.get(url("orientation_detail", mine)).status_code == 200
    for name in ("orientation_detail",):
        assert client.get(url(name, other)).status_code == 404
    for name in ("orientation_accept", "orientation_cancel", "orientation_close", "orientation_redirect"):
        assert client.post(url(name, other)).status_code == 404
    assert Orientation.objects.get(pk=other.pk).statut == StatutOrientation.NOUVELLE
    # The directory stays open to the aidant.
    assert client.get(reverse("aidants:annuaire")).status_code == 200


def test_a_conseiller_sees_only_the_referrals_sent_to_them(client, aidant, conseiller, other_conseiller, commune):
    mine = make_orientation(aidant, conseiller, commune, urgence="urgente")
    theirs = make_orientation(aidant, other_conseiller, commune, prenom="Théodebert")
    client.force_login(conseiller.user)
    page = text(client.get(RECUES))
    assert "Zéphyrine" in page and "Urgent" in page and "Théodebert" not in page
    assert client.get(url("orientation_detail", theirs)).status_code == 404
    detail = text(client.get(url("orientation_detail", mine)))
    assert "+33612345678" in detail and "Prendre en charge" in detail
    client.force_login(aidant.user)
    assert client.get(RECUES).status_code == 403


def test_staff_see_every_referral_without_the_persons_details(client, staff, aidant, conseiller, commune):
    orientation = make_orientation(aidant, conseiller, commune, precision="Smartphone neuf")
    client.force_login(staff)
    detail = client.get(url("orientation_detail", orientation))
    assert detail.status_code == 200
    page = text(detail)
    assert "Zéphyrine" not in page and "+33612345678" not in page and "Smartphone neuf" not in page
    assert "Pechbusque" in text(client.get(SUIVI))


def test_a_referent_and_a_funder_see_no_referral(client, aidant, conseiller, commune):
    orientation = make_orientation(aidant, conseiller, commune)
    referent = factories.MembershipFactory(role=Role.REFERENT, structure=aidant.structure).user
    funder = factories.MembershipFactory(role=Role.FINANCEUR).user
    for user in (referent, funder):
        client.force_login(user)
        assert client.get(url("orientation_detail", orientation)).status_code == 404
        assert client.get(SUIVI).status_code == 403
        assert client.get(MINE).status_code == 403
        assert client.get(RECUES).status_code == 403


def test_staffs_page_flags_the_late_ones(client, staff, aidant, conseiller, commune):
    tz = timezone.get_current_timezone()
    with time_machine.travel(timezone.make_aware(datetime.datetime(2025, 3, 7, 18), tz), tick=False):
        make_orientation(aidant, conseiller, commune)
    with time_machine.travel(timezone.make_aware(datetime.datetime(2025, 3, 12, 10), tz), tick=False):
        make_orientation(aidant, conseiller, commune)  # sent today
        client.force_login(staff)
        page = text(client.get(SUIVI))
    assert "Aucune orientation en retard" in page  # Friday evening to Wednesday morning: not 3 working days
    with time_machine.travel(timezone.make_aware(datetime.datetime(2025, 3, 12, 19), tz), tick=False):
        client.force_login(staff)  # nine hours later: a staff session idle that long has ended
        page = text(client.get(SUIVI))
    assert "1 orientation en retard" in page and "3 jours ouvrés" in page


def test_filters_tolerate_garbage(client, staff, aidant, conseiller, commune):
    make_orientation(aidant, conseiller, commune, statut="acceptee")
    client.force_login(staff)
    for query in ({"statut": "nimporte"}, {"statut": "ouvertes"}, {"page": "x" * 50}, {"statut": ["a", "b"]}):
        assert client.get(SUIVI, query).status_code == 200
    assert "1 orientation" in text(client.get(SUIVI, {"statut": "acceptee"}))
    assert "Aucune orientation pour ce filtre" in text(client.get(SUIVI, {"statut": "annulee"}))


# --- Transitions through the pages ------------------------------------------------------------------------------
def test_the_conseiller_accepts_and_closes_with_an_activity(client, aidant, conseiller, commune):
    orientation = make_orientation(aidant, conseiller, commune)
    lieu = factories.LieuFactory()
    client.force_login(conseiller.user)
    assert client.post(url("orientation_accept", orientation)).status_code == 302
    page = text(client.get(url("orientation_detail", orientation)))
    assert "Clôturer et enregistrer l'accompagnement" in page
    bad = client.post(url("orientation_close", orientation), {"cloture-duree": "17", "cloture-type_lieu": "x"})
    assert bad.status_code == 400 and "Choisissez une durée de la liste." in text(bad)
    missing_place = client.post(
        url("orientation_close", orientation), {"cloture-duree": "30", "cloture-type_lieu": "lieu_activite"}
    )
    assert missing_place.status_code == 400 and "Choisissez le lieu d'activité." in text(missing_place)
    garbage = client.post(
        url("orientation_close", orientation),
        {"cloture-duree": "30", "cloture-type_lieu": "lieu_activite", "cloture-lieu": "9" * 40},
    )
    assert garbage.status_code == 400 and "Ce lieu n'existe pas ou n'est plus publié." in text(garbage)
    assert not Activite.objects.exists()
    response = client.post(
        url("orientation_close", orientation),
        {
            "cloture-duree": "45",
            "cloture-type_lieu": "lieu_activite",
            "cloture-lieu": str(lieu.uuid),
            "cloture-resultat": "Accompagnée sur son mobile.",
        },
    )
    assert response.status_code == 302
    orientation.refresh_from_db()
    assert orientation.statut == StatutOrientation.REALISEE
    assert orientation.activite.lieu == lieu and orientation.activite.duree == 45
    # The aidant sees the outcome.
    client.force_login(aidant.user)
    page = text(client.get(MINE))
    assert "Accompagnement réalisé" in page and "Accompagnée sur son mobile." in page
    # Closing twice is refused with a message, not a 500.
    client.force_login(conseiller.user)
    again = client.post(url("orientation_close", orientation), {"cloture-duree": "30", "cloture-type_lieu": "domicile"})
    assert again.status_code == 400 and Activite.objects.count() == 1


def test_redirect_and_cancel_through_the_pages(client, aidant, conseiller, other_conseiller, commune):
    orientation = make_orientation(aidant, conseiller, commune)
    client.force_login(other_conseiller.user)
    assert client.post(url("orientation_redirect", orientation), {"reorientation-motif": "x"}).status_code == 404
    client.force_login(conseiller.user)
    empty = client.post(url("orientation_redirect", orientation), {"reorientation-motif": "  "})
    assert empty.status_code == 400 and "Indiquez vers qui ou quoi" in text(empty)
    assert client.post(url("orientation_cancel", orientation)).status_code == 403  # not the author
    ok = client.post(url("orientation_redirect", orientation), {"reorientation-motif": "Vers France services"})
    assert ok.status_code == 302
    assert Orientation.objects.get(pk=orientation.pk).statut == StatutOrientation.REORIENTEE

    other = make_orientation(aidant, conseiller, commune)
    client.force_login(aidant.user)
    assert "Annuler l'orientation" in text(client.get(url("orientation_detail", other)))
    assert client.post(url("orientation_accept", other)).status_code == 403
    assert client.post(url("orientation_cancel", other)).status_code == 302
    refused = client.post(url("orientation_cancel", other))
    assert refused.status_code == 400 and "Cette orientation est déjà close." in text(refused)
    assert Orientation.objects.get(pk=other.pk).statut == StatutOrientation.ANNULEE


def test_get_on_a_transition_is_refused(client, aidant, conseiller, commune):
    orientation = make_orientation(aidant, conseiller, commune)
    client.force_login(conseiller.user)
    assert client.get(url("orientation_accept", orientation)).status_code == 405


# --- Query budget -------------------------------------------------------------------------------------------------
def _count(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["mine", "recues", "suivi"])
def test_lists_have_a_fixed_number_of_queries(client, staff, aidant, conseiller, commune, page):
    user, path = {"mine": (aidant.user, MINE), "recues": (conseiller.user, RECUES), "suivi": (staff, SUIVI)}[page]
    client.force_login(user)
    old = timezone.now() - datetime.timedelta(days=10)
    for _ in range(2):
        make_orientation(aidant, conseiller, commune, seance=factories.SeanceFactory())
        Orientation.objects.filter(pk=make_orientation(aidant, conseiller, commune).pk).update(created_at=old)
    small = _count(client, path)
    for _ in range(14):
        make_orientation(aidant, conseiller, commune, seance=factories.SeanceFactory())
        Orientation.objects.filter(pk=make_orientation(aidant, conseiller, commune).pk).update(created_at=old)
    assert Orientation.objects.count() == 32
    assert _count(client, path) == small
