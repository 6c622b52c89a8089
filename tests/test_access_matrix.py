"""Access matrix of the back-office of posts, conseillers and funding, through real requests on the demo data.

A is the référent's structure (Mairie de Ramonville-Saint-Agne), B the Sicoval's own structure: a référent of A gets
404 on B's objects and never sees B's rows; a funder, a conseiller and an aidant never write; anonymous users are sent
to the login page; garbage input answers 4xx, never 500, and writes nothing."""

import html

import pytest
from django.urls import reverse

from conseillers.models import Avenant, Conseiller, Contrat, Formation, MiseEnRelation, Poste
from financements.models import Avoir, Convention, LigneFinancement, Versement
from sicoval_numerique.demo import load_demo
from tests import factories

SICOVAL_B = "Communauté d'agglomération du Sicoval"
EMAILS = {role: f"{role}@sicoval-numerique.example" for role in ("referent", "conseiller", "aidant", "financeur")}


@pytest.fixture
def demo(db):
    data = load_demo(activites=False)
    b = data["structures"]["sicoval"]
    poste_b = Poste.objects.filter(structure=b).order_by("pk").first()
    convention_b = Convention.objects.filter(structure=b).order_by("pk").first()
    ligne_b = LigneFinancement.objects.filter(convention=convention_b).order_by("pk").first()
    objects = {
        "structure": b,
        "poste": poste_b,
        "contrat": Contrat.objects.filter(poste=poste_b).order_by("pk").first(),
        "conseiller": Conseiller.objects.filter(contrats__poste__structure=b).exclude(user__isnull=False).first(),
        "recrutement": MiseEnRelation.objects.exclude(structure=data["structures"]["ramonville"]).first(),
        "convention": convention_b,
        "ligne": ligne_b,
        "versement": Versement.objects.filter(ligne=ligne_b).order_by("pk").first(),
        "avenant": factories.AvenantFactory(structure=b),
    }
    assert all(objects.values()), objects
    data["b"] = objects
    return data


def _user(demo, role):
    if role == "staff":
        return factories.StaffUserFactory()
    return next(user for user in demo["users"] if user.email == EMAILS[role])


def _login(client, demo, role):
    if role != "anonymous":
        client.force_login(_user(demo, role))
    return client


# (url name, object kind or None, POST-only write?, GET-able page?)
ROUTES = [
    ("conseillers:postes", None, False),
    ("conseillers:postes_export_csv", None, False),
    ("conseillers:postes_export_xlsx", None, False),
    ("conseillers:poste_create", None, True),
    ("conseillers:poste", "poste", False),
    ("conseillers:poste_assign", "poste", True),
    ("conseillers:poste_release", "poste", True),
    ("conseillers:poste_move", "poste", True),
    ("conseillers:poste_return", "poste", True),
    ("conseillers:contrat_create", "poste", True),
    ("conseillers:contrat_rupture", "poste", True),
    ("conseillers:contrat_edit", "contrat", True),
    ("conseillers:conseillers", None, False),
    ("conseillers:conseiller_create", None, True),
    ("conseillers:conseiller", "conseiller", False),
    ("conseillers:conseiller_edit", "conseiller", True),
    ("conseillers:formation_add", "conseiller", True),
    ("conseillers:recrutements", None, False),
    ("conseillers:recrutement_create", None, True),
    ("conseillers:recrutement", "recrutement", False),
    ("conseillers:recrutement_statut", "recrutement", True),
    ("conseillers:avenant_request", "structure", True),
    ("conseillers:avenant_decide", "avenant", True),
    ("financements:overview", None, False),
    ("financements:conventions", None, False),
    ("financements:convention_create", None, True),
    ("financements:convention_detail", "convention", False),
    ("financements:convention_edit", "convention", True),
    ("financements:convention_sign", "convention", True),
    ("financements:convention_statut", "convention", True),
    ("financements:ligne_create", "convention", True),
    ("financements:versement_plan", "ligne", True),
    ("financements:versements_plan_v2", "ligne", True),
    ("financements:avoir_record", "ligne", True),
    ("financements:versement_record", "versement", True),
    ("financements:financeurs", None, False),
    ("financements:financeur_create", None, True),
]
OBJECT_ROUTES = [route for route in ROUTES if route[1]]
WRITE_ROUTES = [route for route in ROUTES if route[2]]
ids = [route[0] for route in ROUTES]


def _url(demo, name, kind):
    return reverse(name, args=[demo["b"][kind].uuid]) if kind else reverse(name)


def _counts():
    models = (Poste, Contrat, Conseiller, Formation, MiseEnRelation, Avenant, Convention, LigneFinancement, Versement)
    return {model.__name__: model.objects.count() for model in (*models, Avoir)}


def _body(response):
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize(("name", "kind", "write"), ROUTES, ids=ids)
def test_anonymous_is_sent_to_login(client, demo, name, kind, write):
    url = _url(demo, name, kind)
    for response in (client.get(url), client.post(url, {})):
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(("name", "kind", "write"), OBJECT_ROUTES, ids=[r[0] for r in OBJECT_ROUTES])
def test_referent_of_a_gets_404_on_b_objects(client, demo, name, kind, write):
    _login(client, demo, "referent")
    before = _counts()
    url = _url(demo, name, kind)
    if not write:
        assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code in (404, 405)
    assert _counts() == before


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("conseillers:postes", "poste"),
        ("conseillers:postes_export_csv", None),
        ("conseillers:conseillers", "conseiller"),
        ("conseillers:recrutements", "recrutement"),
        ("financements:conventions", "convention"),
        ("financements:overview", None),
    ],
)
def test_referent_of_a_never_sees_b_rows(client, demo, name, kind):
    marker = str(demo["b"][kind].uuid) if kind else SICOVAL_B
    # Sanity: staff do see the marker, so its absence for the référent means something.
    assert marker in html.unescape(_body(_login(client, demo, "staff").get(reverse(name))).decode())
    client.logout()
    response = _login(client, demo, "referent").get(reverse(name))
    assert response.status_code == 200
    assert marker not in html.unescape(_body(response).decode())


def test_referent_xlsx_export_has_only_their_rows(client, demo):
    import io

    from openpyxl import load_workbook

    response = _login(client, demo, "referent").get(reverse("conseillers:postes_export_xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(_body(response))).active
    cells = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert SICOVAL_B not in cells
    assert "Mairie de Ramonville-Saint-Agne" in cells


def test_referent_cannot_filter_the_board_on_b(client, demo):
    url = reverse("conseillers:postes") + f"?structure={demo['b']['structure'].uuid}"
    response = _login(client, demo, "referent").get(url)
    assert response.status_code == 200
    assert SICOVAL_B not in response.content.decode()
    assert response.context["counts"]["granted"] <= 1


@pytest.mark.parametrize("role", ["financeur", "conseiller", "aidant"])
@pytest.mark.parametrize(("name", "kind", "write"), WRITE_ROUTES, ids=[r[0] for r in WRITE_ROUTES])
def test_read_only_roles_never_write(client, demo, role, name, kind, write):
    _login(client, demo, role)
    before = _counts()
    response = client.post(_url(demo, name, kind), {})
    # 400 only when the refused form is re-rendered before the service refuses the role; never a success.
    assert response.status_code in (400, 403, 404), response.status_code
    assert _counts() == before


@pytest.mark.parametrize("role", ["conseiller", "aidant"])
@pytest.mark.parametrize(
    "name",
    ["financements:overview", "financements:conventions", "financements:financeurs", "conseillers:recrutements"],
)
def test_conseiller_and_aidant_see_no_funding(client, demo, role, name):
    response = _login(client, demo, role).get(reverse(name))
    assert response.status_code in (403, 404) or not response.context["page"].object_list


@pytest.mark.parametrize(
    "name", ["conseillers:postes", "conseillers:postes_export_csv", "conseillers:postes_export_xlsx"]
)
def test_aidant_sees_no_post(client, demo, name):
    """The board is for staff, référents (and the conseillers of their structure) and funders: an aidant of a
    structure with a post sees none of it."""
    response = _login(client, demo, "aidant").get(reverse(name))
    assert response.status_code == 200
    assert "CCAS de Castanet-Tolosan" not in _body(response).decode(errors="replace") or name.endswith("xlsx")
    if name == "conseillers:postes":
        assert response.context["rows"] == []


def test_aidant_gets_404_on_their_structures_post(client, demo):
    poste = Poste.objects.get(structure=demo["structures"]["ccas_castanet"])
    response = _login(client, demo, "aidant").get(reverse("conseillers:poste", args=[poste.uuid]))
    assert response.status_code == 404


def test_aidant_sees_no_conseiller_of_their_structure(client, demo):
    response = _login(client, demo, "aidant").get(reverse("conseillers:conseillers"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert "Benali" not in response.content.decode()


def test_funder_reads_only_their_conventions(client, demo):
    _login(client, demo, "financeur")
    assert client.get(_url(demo, "financements:convention_detail", "convention")).status_code == 404
    listed = client.get(reverse("financements:conventions")).context["page"].object_list
    assert {c.financeur.structure_id for c in listed} == {demo["structures"]["departement"].pk}


# --- Garbage input: never a 500, never a write -------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/gestion/postes/pas-un-uuid/", "/gestion/financements/conventions/123/"])
def test_non_uuid_ids_are_404(client, demo, path):
    assert _login(client, demo, "staff").get(path).status_code == 404


BAD_QUERIES = [
    "date=2024-13-45",
    "date=99999-01-01",
    "date=2999-01-01",
    "page=999999999999999999999999",
    "page=-1",
    "structure=pas-un-uuid",
    "commune=%00",
    "etat=nimporte",
    "typologie=x&fin_contrat=oui&formation_due=1",
    "on_date=2024-02-30&start=0000-00-00&end=-1",
    "start=2025-12-31&end=2025-01-01",
    "financeur=abc&statut=zzz&enveloppe=V9",
    "q=" + "x" * 5000,
    "formation=nope",
]
LIST_ROUTES = [route[0] for route in ROUTES if not route[1] and not route[2]]


@pytest.mark.parametrize("role", ["staff", "referent", "financeur"])
@pytest.mark.parametrize("name", LIST_ROUTES)
def test_garbage_query_strings_never_500(client, demo, role, name):
    _login(client, demo, role)
    for query in BAD_QUERIES:
        response = client.get(f"{reverse(name)}?{query}")
        assert response.status_code in (200, 403), (query, response.status_code)


def test_invalid_board_date_shows_a_french_error(client, demo):
    response = _login(client, demo, "staff").get(reverse("conseillers:postes") + "?date=2024-13-45")
    assert response.status_code == 200
    assert "Saisissez une date valide" in response.content.decode()


HUGE = "9" * 40
BAD_POSTS = {
    "conseillers:poste_create": {"structure": "x", "typologie": "zz", "phase": HUGE, "date_attribution": "2024-13-45"},
    "conseillers:poste_assign": {"affecter-conseiller": "x", "affecter-date": "2024-13-45"},
    "conseillers:poste_release": {"liberer-date": "31/02/2024"},
    "conseillers:poste_move": {"deplacer-structure": "00000000-0000-0000-0000-000000000000", "deplacer-date": "x"},
    "conseillers:poste_return": {"rendre-date": HUGE},
    "conseillers:contrat_create": {
        "contrat-type": "zz",
        "contrat-date_debut": "2024-01-01",
        "contrat-salaire_brut_mensuel": "-5",
        "contrat-cout_employeur_mensuel": HUGE,
    },
    "conseillers:contrat_rupture": {"rupture-contrat": HUGE, "rupture-date_rupture": "2024-13-45"},
    "conseillers:contrat_edit": {
        "contrat-type": "cdd",
        "contrat-date_debut": "2024-01-01",
        "contrat-salaire_brut_mensuel": "NaN",
        "contrat-cout_employeur_mensuel": "-1",
    },
    "conseillers:conseiller_create": {"prenom": "", "nom": "x" * 5000, "email": "pas-un-mail", "structure": "x"},
    "conseillers:conseiller_edit": {"prenom": "", "nom": "", "coordinateur": HUGE},
    "conseillers:formation_add": {
        "formation-type": "continue",
        "formation-intitule": "Module",
        "formation-date_debut": "2024-03-01",
        "formation-heures": HUGE,
        "formation-pix": "-3",
    },
    "conseillers:recrutement_create": {"recrutement-conseiller": "x", "recrutement-structure": HUGE},
    "conseillers:recrutement_statut": {"statut-statut": "inconnu", "statut-date": "2024-13-45"},
    "conseillers:avenant_request": {
        "avenant-type": "ajout",
        "avenant-typologie": "conum",
        "avenant-nombre_postes": HUGE,
    },
    "conseillers:avenant_decide": {"statut": "peut-etre"},
    "financements:convention_create": {"financeur": "x", "enveloppe": "V9", "phase": HUGE, "date_debut": "2024-13-45"},
    "financements:convention_edit": {"date_debut": "2025-01-01", "date_fin": "2024-01-01", "phase": "-1"},
    "financements:convention_sign": {"date_signature": "2024-13-45"},
    "financements:convention_statut": {"statut": "inexistant"},
    "financements:ligne_create": {"poste": "x", "montant_base": "-100", "bonus_qpv_zrr": HUGE},
    "financements:versement_plan": {"numero": HUGE, "date_prevue": "2024-02-30", "montant_prevu": "-1"},
    "financements:versements_plan_v2": {},
    "financements:avoir_record": {"date": "2024-01-01", "montant": "-50", "motif": "zz"},
    "financements:versement_record": {"date_versement": "2024-01-01", "montant_verse": HUGE},
    "financements:financeur_create": {"nom": "", "type": "inconnu", "structure": HUGE},
}


@pytest.mark.parametrize("bad", [False, True], ids=["empty", "garbage"])
@pytest.mark.parametrize(("name", "kind", "write"), WRITE_ROUTES, ids=[r[0] for r in WRITE_ROUTES])
def test_staff_bad_posts_answer_400_and_write_nothing(client, demo, name, kind, write, bad):
    _login(client, demo, "staff")
    before = _counts()
    response = client.post(_url(demo, name, kind), BAD_POSTS[name] if bad else {})
    if name == "financements:versements_plan_v2":
        # No input: its schedule already exists in the demo, so the service refuses it.
        assert response.status_code == 400
    else:
        assert response.status_code == 400, response.status_code
    assert _counts() == before


def test_huge_formation_hours_for_a_referent(client, demo):
    """A référent posting on their own conseiller: the bad number is refused in French, nothing is written."""
    conseiller = Conseiller.objects.get(user__email=EMAILS["conseiller"])
    _login(client, demo, "referent")
    before = _counts()
    response = client.post(
        reverse("conseillers:formation_add", args=[conseiller.uuid]),
        {
            "formation-type": "continue",
            "formation-intitule": "M",
            "formation-date_debut": "2024-03-01",
            "formation-heures": HUGE,
        },
    )
    assert response.status_code == 400
    assert _counts() == before
