"""Pages of the aidants network: who sees the directory and who edits (403/404), filters (and garbage in them),
forms answering 400 in French, the habilitation pages, exports, and the directory's fixed query count."""

import csv
import datetime
import html
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags
from openpyxl import load_workbook

from accounts.models import Role
from aidants.models import Aidant, DemandeHabilitation, FormationAidant, StatutHabilitation
from tests import factories

from .conftest import AidantFactory, FormationAidantFactory, member

pytestmark = pytest.mark.django_db
LIST = reverse("aidants:annuaire")


def text(response):
    return " ".join(strip_tags(html.unescape(response.content.decode())).split())


def login(client, user):
    client.force_login(user)
    return client


# --- Who sees the directory ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.REFERENT, Role.CONSEILLER, Role.AIDANT])
def test_network_roles_see_every_structures_active_aidants(client, role):
    visible = AidantFactory(nom="Visible")
    hidden = AidantFactory(nom="Parti", actif=False)
    login(client, member(role))
    page = text(client.get(LIST))
    assert "Visible" in page and "Parti" not in page
    assert client.get(reverse("aidants:aidant", args=[visible.uuid])).status_code == 200
    assert client.get(reverse("aidants:aidant", args=[hidden.uuid])).status_code == 404


def test_funders_get_403_and_anonymous_the_login(client):
    aidant = AidantFactory()
    assert client.get(LIST).status_code == 302
    login(client, member(Role.FINANCEUR))
    for url in (LIST, reverse("aidants:aidant", args=[aidant.uuid]), reverse("aidants:export_csv")):
        assert client.get(url).status_code == 403


def test_staff_and_referent_see_inactive_aidants_of_their_structures(client, staff, habilitee, referent_of):
    AidantFactory(structure=habilitee, nom="Ancien", actif=False)
    AidantFactory(nom="Ailleurs", actif=False)
    login(client, referent_of)
    page = text(client.get(LIST, {"actif": "non"}))
    assert "Ancien" in page and "Ailleurs" not in page
    login(client, staff)
    page = text(client.get(LIST, {"actif": "tous"}))
    assert "Ancien" in page and "Ailleurs" in page


def test_directory_filters(client, staff):
    commune = factories.CommuneFactory(nom="Labège")
    habilitee = factories.StructureFactory(habilitee_aidants_connect=True)
    logement = AidantFactory(
        nom="Zorglub", structure=habilitee, thematiques=["logement"], profession="Travailleuse sociale"
    )
    logement.communes.add(commune)
    FormationAidantFactory(aidant=logement)
    Aidant.objects.filter(pk=logement.pk).update(
        habilite_aidants_connect=True, date_habilitation=datetime.date(2024, 5, 1)
    )
    AidantFactory(nom="Bidule", thematiques=["email"])
    login(client, staff)

    def names(**params):
        page = text(client.get(LIST, params))
        return {name for name in ("Zorglub", "Bidule") if name in page}

    assert names() == {"Zorglub", "Bidule"}
    assert names(q="travailleuse") == {"Zorglub"}
    assert names(commune=commune.code_insee) == {"Zorglub"}
    assert names(structure=str(habilitee.uuid)) == {"Zorglub"}
    assert names(thematique="logement") == {"Zorglub"}
    assert names(habilitation="oui") == {"Zorglub"}
    assert names(habilitation="non") == {"Bidule"}


@pytest.mark.parametrize(
    "params",
    [
        {"commune": "zzz"},
        {"structure": "pas-un-uuid"},
        {"thematique": "<script>"},
        {"habilitation": "peut-être"},
        {"actif": "[]"},
        {"page": "-5"},
        {"q": "x" * 500},
        {"q": "a\x00b", "commune": "\x00", "structure": "\x00"},
    ],
)
def test_garbage_filters_never_fail(client, staff, params):
    AidantFactory()
    login(client, staff)
    assert client.get(LIST, params).status_code == 200
    assert client.get(reverse("aidants:export_csv"), params).status_code == 200


# --- Query budget -------------------------------------------------------------------------------------------------
def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def make_aidants(count):
    communes = [factories.CommuneFactory() for _ in range(3)]
    for _ in range(count):
        aidant = AidantFactory(thematiques=["logement", "email"])
        aidant.communes.set(communes)
        FormationAidantFactory(aidant=aidant)


@pytest.mark.parametrize("role", ["staff", Role.CONSEILLER])
def test_directory_query_count_does_not_grow(client, staff, role):
    login(client, staff if role == "staff" else member(role))
    make_aidants(2)
    few = count_queries(client, LIST)
    make_aidants(48)
    many = count_queries(client, LIST)
    assert many == few
    assert few <= 13  # 12, and the check that MFA is not required (accounts.policies: is the user a coordinator?)


# --- Forms --------------------------------------------------------------------------------------------------------
def aidant_data(structure_, **overrides):
    data = {
        "structure": str(structure_.uuid),
        "prenom": "Léa",
        "nom": "Durand",
        "email": "lea@mairie.example.org",
        "telephone": "05 61 00 00 00",
        "profession": "Secrétaire de mairie",
        "type": "professionnel",
        "thematiques": ["logement"],
    }
    data.update(overrides)
    return data


def test_referent_records_and_edits_an_aidant(client, habilitee, referent_of):
    commune = factories.CommuneFactory()
    login(client, referent_of)
    assert client.get(reverse("aidants:aidant_create")).status_code == 200
    response = client.post(reverse("aidants:aidant_create"), aidant_data(habilitee, communes=[commune.code_insee]))
    assert response.status_code == 302
    aidant = Aidant.objects.get()
    assert aidant.telephone == "+33561000000" and list(aidant.communes.all()) == [commune]
    url = reverse("aidants:aidant_edit", args=[aidant.uuid])
    assert client.post(url, aidant_data(habilitee, profession="Agent d'accueil")).status_code == 302
    aidant.refresh_from_db()
    assert aidant.profession == "Agent d'accueil"


def test_habilitation_refused_in_french_with_400(client, habilitee, referent_of):
    aidant = AidantFactory(structure=habilitee)
    login(client, referent_of)
    response = client.post(
        reverse("aidants:aidant_edit", args=[aidant.uuid]), aidant_data(habilitee, habilite_aidants_connect="on")
    )
    assert response.status_code == 400
    assert "formation Aidants Connect (7 h ou 14 h) doit être enregistrée" in text(response)


@pytest.mark.parametrize(
    "overrides",
    [
        {"structure": "garbage"},
        {"type": "astronaute"},
        {"thematiques": ["cuisine"]},
        {"communes": ["00000"]},
        {"date_habilitation": "31/02/2024"},
        {"nom": ""},
    ],
)
def test_bad_posts_answer_400_without_writing(client, staff, habilitee, overrides):
    login(client, staff)
    response = client.post(reverse("aidants:aidant_create"), aidant_data(habilitee, **overrides))
    assert response.status_code == 400
    assert "Le formulaire n'a pas pu être enregistré" in text(response)
    assert not Aidant.objects.exists()


def test_empty_post_answers_400(client, staff):
    login(client, staff)
    assert client.post(reverse("aidants:aidant_create"), {}).status_code == 400


def test_edit_rights(client, habilitee, referent_of):
    other = AidantFactory()
    mine = AidantFactory(structure=habilitee)
    login(client, referent_of)
    for name in ("aidant_edit", "formation_add", "account_link", "aidant_activity"):
        assert client.post(reverse(f"aidants:{name}", args=[other.uuid]), {}).status_code == 404
    assert "Modifier" not in text(client.get(reverse("aidants:aidant", args=[other.uuid])))
    assert "Modifier" in text(client.get(reverse("aidants:aidant", args=[mine.uuid])))
    login(client, member(Role.CONSEILLER, habilitee))
    assert client.get(reverse("aidants:aidant_create")).status_code == 403
    assert client.get(reverse("aidants:aidant_edit", args=[mine.uuid])).status_code == 404


def test_training_form(client, habilitee, referent_of):
    aidant = AidantFactory(structure=habilitee)
    login(client, referent_of)
    url = reverse("aidants:formation_add", args=[aidant.uuid])
    response = client.post(url, {"formation-type": "pix", "formation-date": "2024-02-01", "formation-heures": "0"})
    assert response.status_code == 400 and "supérieure à 0" in text(response)
    response = client.post(url, {"formation-type": "pix", "formation-date": "2999-01-01", "formation-heures": "2"})
    assert response.status_code == 400 and "dans le futur" in text(response)
    assert client.post(url, {"formation-type": "zz", "formation-date": "x", "formation-heures": "y"}).status_code == 400
    response = client.post(
        url, {"formation-type": "aidants_connect_7h", "formation-date": "2024-02-01", "formation-heures": ""}
    )
    assert response.status_code == 302
    assert FormationAidant.objects.get().heures == 7
    assert "Aidants Connect (7 h)" in text(client.get(reverse("aidants:aidant", args=[aidant.uuid])))


def test_account_and_activity_forms(client, habilitee, referent_of):
    aidant = AidantFactory(structure=habilitee)
    user = member(Role.AIDANT, habilitee)
    login(client, referent_of)
    assert (
        client.post(reverse("aidants:account_link", args=[aidant.uuid]), {"compte-user": "999999"}).status_code == 400
    )
    assert client.post(reverse("aidants:account_link", args=[aidant.uuid]), {"compte-user": user.pk}).status_code == 302
    aidant.refresh_from_db()
    assert aidant.user == user
    assert client.post(reverse("aidants:aidant_activity", args=[aidant.uuid]), {"actif": "x"}).status_code == 400
    assert client.post(reverse("aidants:aidant_activity", args=[aidant.uuid]), {"actif": "0"}).status_code == 302
    aidant.refresh_from_db()
    assert not aidant.actif


# --- Exports ------------------------------------------------------------------------------------------------------
def test_exports_columns_filters_and_injection(client, staff):
    AidantFactory(nom="=HYPERLINK(1)", prenom="@moi", thematiques=["logement"])
    AidantFactory(nom="Sage", thematiques=["email"])
    login(client, staff)
    response = client.get(reverse("aidants:export_csv"), {"thematique": "logement"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert lines[0][:4] == ["Identifiant", "Nom", "Prénom", "Structure"]
    assert "Aide pour" in lines[0] and "Habilité Aidants Connect" in lines[0]
    assert len(lines) == 2
    assert lines[1][1] == "'=HYPERLINK(1)" and lines[1][2] == "'@moi"
    assert "Logement" in lines[1][lines[0].index("Aide pour")]

    response = client.get(reverse("aidants:export_xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][1] == "Nom" and len(values) == 3
    assert {row[1] for row in values[1:]} == {"'=HYPERLINK(1)", "Sage"}


def test_export_hides_inactive_aidants_of_other_structures(client):
    AidantFactory(nom="Parti", actif=False)
    login(client, member(Role.AIDANT))
    content = b"".join(client.get(reverse("aidants:export_csv"), {"actif": "tous"}).streaming_content).decode()
    assert "Parti" not in content


# --- Habilitation pages -------------------------------------------------------------------------------------------
def test_habilitation_pages_for_referent_and_staff(client, staff):
    mairie = factories.StructureFactory(nom="Mairie candidate")
    referent = member(Role.REFERENT, mairie)
    url = reverse("aidants:habilitations_structure", args=[mairie.uuid])
    login(client, referent)
    assert client.get(url).status_code == 200
    assert client.post(url, {"demande-motif": "Deux agents formés"}).status_code == 302
    assert client.post(url, {"demande-motif": "encore"}).status_code == 400  # one open request: no form any more
    demande = DemandeHabilitation.objects.get()
    prefix = f"d-{demande.uuid.hex[:12]}"
    step = reverse("aidants:demande_transition", args=[demande.uuid])
    assert client.post(step, {f"{prefix}-statut": "en_attente"}).status_code == 302
    response = client.post(step, {f"{prefix}-statut": "validee"})
    assert response.status_code == 400 and "n'est pas possible" in text(response)
    assert client.post(step, {f"{prefix}-statut": "en_attente", f"{prefix}-date": "garbage"}).status_code == 400

    login(client, staff)
    assert "Mairie candidate" in text(client.get(reverse("aidants:habilitations")))
    response = client.post(step, {f"{prefix}-statut": "refusee"})
    assert response.status_code == 400 and "Indiquez le motif du refus" in text(response)
    assert client.post(step, {f"{prefix}-statut": "validee"}).status_code == 302
    mairie.refresh_from_db()
    demande.refresh_from_db()
    assert demande.statut == StatutHabilitation.VALIDEE and mairie.habilitee_aidants_connect


def test_habilitation_pages_scoping(client):
    mairie = factories.StructureFactory()
    demande = DemandeHabilitation.objects.create(structure=mairie)
    url = reverse("aidants:habilitations_structure", args=[mairie.uuid])
    step = reverse("aidants:demande_transition", args=[demande.uuid])
    login(client, member(Role.REFERENT))  # another structure's référent
    assert client.get(url).status_code == 404
    assert client.post(step, {}).status_code == 404
    assert client.get(reverse("aidants:habilitations")).status_code == 200
    login(client, member(Role.CONSEILLER, mairie))
    assert client.get(reverse("aidants:habilitations")).status_code == 403
    assert client.get(url).status_code == 404


def test_nul_bytes_in_posts_answer_400(client, staff, habilitee):
    aidant = AidantFactory(structure=habilitee)
    login(client, staff)
    data = aidant_data(habilitee, nom="a\x00b", communes=["\x00"], structure="\x00")
    assert client.post(reverse("aidants:aidant_create"), data).status_code == 400
    url = reverse("aidants:formation_add", args=[aidant.uuid])
    assert client.post(url, {"formation-type": "\x00", "formation-intitule": "\x00"}).status_code == 400
    assert client.post(reverse("aidants:account_link", args=[aidant.uuid]), {"compte-user": "\x00"}).status_code == 400
    structure_url = reverse("aidants:habilitations_structure", args=[habilitee.uuid])
    assert client.post(structure_url, {"demande-aidants_pressentis": ["\x00", "zz"]}).status_code == 400
