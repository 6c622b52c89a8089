"""The coordination log of Sicoval staff: what each type needs, own activities only, soft deletion, the totals the
territorial reports count, and the pages with their scoping and query budget."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from aidants import selectors_evenements as selectors
from aidants import services_coordination as services
from aidants.models import ActiviteCoordination, EchelleTerritoriale, TypeCoordination
from tests import factories

from .conftest import member

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def animation(**overrides):
    data = {
        "type": TypeCoordination.ANIMATION,
        "intitule": "Atelier d'échanges de pratiques",
        "date": TODAY() - datetime.timedelta(days=2),
        "duree": 90,
        "participants": 12,
        "thematiques": ["aide_aux_demarches_administratives"],
    }
    data.update(overrides)
    return data


def evenement(**overrides):
    data = {
        "type": TypeCoordination.EVENEMENT,
        "intitule": "Forum de l'inclusion numérique",
        "date": TODAY() - datetime.timedelta(days=10),
        "echelle": EchelleTerritoriale.INTERCOMMUNALE,
        "participants": 80,
    }
    data.update(overrides)
    return data


def partenariat(structures, **overrides):
    data = {
        "type": TypeCoordination.PARTENARIAT,
        "intitule": "Convention avec la CAF",
        "date": TODAY() - datetime.timedelta(days=30),
        "echelle": EchelleTerritoriale.DEPARTEMENTALE,
        "structures_partenaires": structures,
    }
    data.update(overrides)
    return data


def test_staff_records_each_type(staff):
    structure = factories.StructureFactory()
    a = services.coordination_create(by=staff, **animation())
    e = services.coordination_create(by=staff, **evenement(duree=240))
    p = services.coordination_create(by=staff, **partenariat([structure]))
    assert a.auteur == staff and a.duree == 90
    assert e.duree == 240 and e.echelle == "intercommunale"
    assert list(p.structures_partenaires.all()) == [structure]
    assert a.history.first().history_user == staff


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (animation(duree=None), "duree"),
        (animation(participants=None), "participants"),
        (animation(thematiques=[]), "thematiques"),
        (animation(thematiques=["inconnue"]), "thematiques"),
        (animation(thematiques="logement"), "thematiques"),
        (animation(duree=0), "duree"),
        (animation(duree=2000), "duree"),
        (animation(duree="abc"), "duree"),
        (animation(participants=-3), "participants"),
        (animation(participants=10**9), "participants"),
        (animation(intitule="  "), "intitule"),
        (animation(date=TODAY() + datetime.timedelta(days=1)), "date"),
        (animation(date="2024-01-01"), "date"),
        (animation(date=None), "date"),
        (evenement(echelle=""), "echelle"),
        (evenement(echelle="mondiale"), "echelle"),
        (evenement(participants=None), "participants"),
        (partenariat([]), "structures_partenaires"),
        (partenariat(["pas une structure"]), "structures_partenaires"),
    ],
)
def test_what_each_type_needs(staff, data, field):
    with pytest.raises(ValidationError) as excinfo:
        services.coordination_create(by=staff, **data)
    assert field in excinfo.value.error_dict
    assert not ActiviteCoordination.objects.exists()


def test_unknown_type_is_refused(staff):
    with pytest.raises(ValidationError) as excinfo:
        services.coordination_create(by=staff, **animation(type="reunion"))
    assert "type" in excinfo.value.error_dict


def test_partenariat_needs_the_scale_too(staff):
    with pytest.raises(ValidationError) as excinfo:
        services.coordination_create(by=staff, **partenariat([factories.StructureFactory()], echelle=""))
    assert "echelle" in excinfo.value.error_dict


def test_fields_a_type_does_not_use_are_emptied(staff):
    structure = factories.StructureFactory()
    a = services.coordination_create(by=staff, **animation(echelle="communale"), structures_partenaires=[structure])
    assert a.echelle == "" and not a.structures_partenaires.exists()
    p = services.coordination_create(
        by=staff, **partenariat([structure], duree=30, participants=4, thematiques=["logement"])
    )
    assert p.duree is None and p.participants is None and p.thematiques == []
    e = services.coordination_create(by=staff, **evenement(thematiques=["logement"]))
    assert e.thematiques == []


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.REFERENT, Role.AIDANT])
def test_only_staff_logs(role):
    with pytest.raises(PermissionDenied):
        services.coordination_create(by=member(role), **animation())


def test_update_and_delete_are_for_the_author(staff):
    activite = services.coordination_create(by=staff, **animation())
    other = factories.StaffUserFactory()
    with pytest.raises(PermissionDenied):
        services.coordination_update(activite=activite, by=other, participants=3)
    with pytest.raises(PermissionDenied):
        services.coordination_delete(activite=activite, by=other)
    activite = services.coordination_update(
        activite=activite, by=staff, participants=20, type="evenement", echelle="communale"
    )
    assert activite.type == "evenement" and activite.participants == 20 and activite.thematiques == []
    services.coordination_delete(activite=activite, by=staff)
    services.coordination_delete(activite=activite, by=staff)
    activite.refresh_from_db()
    assert activite.supprimee_le is not None
    with pytest.raises(ValidationError, match="supprimée"):
        services.coordination_update(activite=activite, by=staff, participants=3)


def test_update_keeps_partner_structures_unless_given(staff):
    first, second = factories.StructureFactory(), factories.StructureFactory()
    activite = services.coordination_create(by=staff, **partenariat([first]))
    activite = services.coordination_update(activite=activite, by=staff, intitule="Convention renouvelée")
    assert list(activite.structures_partenaires.all()) == [first]
    activite = services.coordination_update(activite=activite, by=staff, structures_partenaires=[second])
    assert list(activite.structures_partenaires.all()) == [second]
    with pytest.raises(ValidationError):
        services.coordination_update(activite=activite, by=staff, structures_partenaires=[])


def test_totals_per_type_for_the_reports(staff):
    other = factories.StaffUserFactory()
    structure = factories.StructureFactory()
    services.coordination_create(by=staff, **animation(duree=90, participants=12))
    services.coordination_create(by=other, **animation(duree=30, participants=8))
    services.coordination_create(by=staff, **evenement(duree=120, participants=80))
    services.coordination_create(by=staff, **evenement(participants=20, date=TODAY() - datetime.timedelta(days=400)))
    services.coordination_create(by=staff, **partenariat([structure]))
    removed = services.coordination_create(by=staff, **animation(duree=600, participants=99))
    services.coordination_delete(activite=removed, by=staff)
    totals = selectors.coordination_totaux(TODAY() - datetime.timedelta(days=365), TODAY())
    assert totals["animation"] == {"label": "Animation", "nombre": 2, "participants": 20, "minutes": 120, "heures": 2.0}
    assert totals["evenement"]["nombre"] == 1
    assert totals["evenement"]["participants"] == 80
    assert totals["evenement"]["heures"] == 2.0
    assert totals["partenariat"] == {
        "label": "Partenariat",
        "nombre": 1,
        "participants": 0,
        "minutes": 0,
        "heures": 0,
    }
    assert totals["total"]["nombre"] == 4
    assert totals["total"]["participants"] == 100
    assert totals["total"]["heures"] == 4.0
    assert selectors.coordination_totaux()["total"]["nombre"] == 5
    assert selectors.coordination_totaux(auteur=other)["total"]["nombre"] == 1
    empty = selectors.coordination_totaux(TODAY() + datetime.timedelta(days=1), TODAY() + datetime.timedelta(days=2))
    assert empty["total"] == {"label": "Total", "nombre": 0, "participants": 0, "minutes": 0, "heures": 0}


# --- Pages ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_record_through_the_form(staff_client, staff):
    url = reverse("aidants:coordination_create")
    assert staff_client.get(url).status_code == 200
    data = {
        "type": "animation",
        "intitule": "Café numérique",
        "date": (TODAY() - datetime.timedelta(days=1)).isoformat(),
        "duree": "60",
        "participants": "9",
        "thematiques": ["logement"],
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302
    activite = ActiviteCoordination.objects.get()
    assert activite.auteur == staff and activite.thematiques == ["logement"]


@pytest.mark.parametrize(
    "data",
    [
        {
            "type": "animation",
            "intitule": "Sans durée",
            "date": "2024-05-02",
            "participants": "3",
            "thematiques": ["logement"],
        },
        {"type": "partenariat", "intitule": "Sans structure", "date": "2024-05-02", "echelle": "communale"},
        {"type": "fete", "intitule": "x", "date": "demain", "duree": "-1", "structures_partenaires": ["pas-un-uuid"]},
        {"type": "evenement", "intitule": "x" * 500, "date": "2024-05-02"},
        {},
    ],
)
def test_form_errors_are_400_in_french(staff_client, data):
    response = staff_client.post(reverse("aidants:coordination_create"), data)
    assert response.status_code == 400
    assert "Le formulaire n'a pas pu être enregistré" in response.content.decode()
    assert not ActiviteCoordination.objects.exists()


def test_edit_and_delete_through_pages(staff_client, staff):
    activite = services.coordination_create(by=staff, **animation())
    edit = reverse("aidants:coordination_edit", args=[activite.uuid])
    assert staff_client.get(edit).status_code == 200
    data = {
        "type": "evenement",
        "intitule": "Forum",
        "date": activite.date.isoformat(),
        "echelle": "communale",
        "participants": "40",
    }
    assert staff_client.post(edit, data).status_code == 302
    activite.refresh_from_db()
    assert activite.type == "evenement" and activite.participants == 40
    delete = reverse("aidants:coordination_delete", args=[activite.uuid])
    assert staff_client.get(delete).status_code == 200
    assert staff_client.post(delete).status_code == 302
    activite.refresh_from_db()
    assert activite.supprimee_le
    assert staff_client.get(edit).status_code == 404


def test_another_members_activity_is_404(staff_client):
    other = factories.StaffUserFactory()
    activite = services.coordination_create(by=other, **animation())
    assert staff_client.get(reverse("aidants:coordination_edit", args=[activite.uuid])).status_code == 404
    assert staff_client.post(reverse("aidants:coordination_delete", args=[activite.uuid])).status_code == 404
    mine = staff_client.get(reverse("aidants:coordination_list")).content.decode()
    assert "Atelier d&#x27;échanges" not in mine
    team = staff_client.get(reverse("aidants:coordination_list") + "?tous=on").content.decode()
    assert "Atelier d&#x27;échanges" in team


@pytest.mark.parametrize("role", [Role.CONSEILLER, Role.REFERENT, Role.AIDANT, Role.FINANCEUR])
def test_pages_are_staff_only(client, staff, role):
    activite = services.coordination_create(by=staff, **animation())
    client.force_login(member(role))
    for url in (
        reverse("aidants:coordination_list"),
        reverse("aidants:coordination_create"),
        reverse("aidants:coordination_edit", args=[activite.uuid]),
        reverse("aidants:coordination_delete", args=[activite.uuid]),
    ):
        assert client.get(url).status_code == 403


def test_list_filters_and_totals(staff_client, staff):
    services.coordination_create(by=staff, **animation(participants=12))
    services.coordination_create(by=staff, **evenement(participants=80))
    response = staff_client.get(reverse("aidants:coordination_list") + "?type=animation")
    content = response.content.decode()
    assert "Atelier d&#x27;échanges de pratiques" in content
    assert "Forum de l&#x27;inclusion" not in content
    garbage = staff_client.get(reverse("aidants:coordination_list") + "?type=x&du=hier&au=2024-13-45&page=zz")
    assert garbage.status_code == 200
    period = staff_client.get(
        reverse("aidants:coordination_list")
        + f"?du={TODAY().isoformat()}&au={(TODAY() - datetime.timedelta(days=5)).isoformat()}"
    )
    assert period.status_code == 200


def test_list_query_budget_is_stable(staff_client, staff):
    structures = [factories.StructureFactory() for _ in range(2)]

    def fill(count):
        for n in range(count):
            services.coordination_create(by=staff, **animation(intitule=f"Animation {n}"))
            services.coordination_create(by=staff, **partenariat(structures, intitule=f"Partenariat {n}"))

    url = reverse("aidants:coordination_list") + "?tous=on"
    fill(1)
    staff_client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(url).status_code == 200
    fill(14)
    with CaptureQueriesContext(connection) as large:
        assert staff_client.get(url).status_code == 200
    assert len(large) == len(small)
    assert len(small) <= 10
