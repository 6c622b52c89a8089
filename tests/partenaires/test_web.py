"""The "Accès à l'API" pages: who sees, creates and revokes a structure's partner API clients; the secret shown once
and never again; a created client really obtains a token, and a revoked one's token answers 401; bad input answers
400 and writes nothing; the query budget of the lists; the history of a client."""

import functools
import html
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oauth2_provider.models import AccessToken, Application

from accounts.models import Role
from partenaires import scopes, services
from partenaires.forms import STAFF_ONLY_FLAG
from partenaires.models import ClientAPI
from tests import factories
from tests.api.helpers import obtain_token

pytestmark = pytest.mark.django_db

LIEUX_URL = "/api/v1/lieux/"
ALL_SCOPES = list(scopes.SCOPES)


def text(response):
    return html.unescape(response.content.decode())


def structure_url(structure):
    return reverse("partenaires:structure_clients", args=[structure.uuid])


def detail_url(client):
    return reverse("partenaires:client_detail", args=[client.uuid])


def revoke_url(client):
    return reverse("partenaires:client_revoke", args=[client.uuid])


LIST_URL = "/gestion/api/clients/"


def form_data(**overrides):
    data = {"nom": "Logiciel de suivi", "scopes": ["lieux:read", "lieux:write"]}
    data.update(overrides)
    return data


def as_user(client, user):
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def users(structure, referent):
    """Every kind of visitor of ``structure``'s API page."""
    return {
        "staff": factories.StaffUserFactory(),
        "referent": referent,
        "other_referent": factories.MembershipFactory(structure=factories.StructureFactory()).user,
        "conseiller": factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user,
        "financeur": factories.MembershipFactory(role=Role.FINANCEUR).user,
        "anonymous": None,
    }


@pytest.fixture
def api_client(structure, staff_user):
    client, _secret = services.client_create(
        structure=structure, nom="SI existant", scopes_list=ALL_SCOPES, by=staff_user
    )
    return client


def create(django_client, structure, **overrides):
    return django_client.post(structure_url(structure), form_data(**overrides))


# --- Who sees, creates and revokes ------------------------------------------------------------------------------
EXPECTED = {
    "staff": 200,
    "referent": 200,
    "other_referent": 404,
    "conseiller": 403,
    "financeur": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize(("who", "status"), EXPECTED.items())
def test_structure_api_page_access(client, users, structure, who, status):
    response = as_user(client, users[who]).get(structure_url(structure))

    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("who", "status"), EXPECTED.items())
def test_client_creation_access(client, users, structure, who, status):
    response = create(as_user(client, users[who]), structure)

    assert response.status_code == status
    assert ClientAPI.objects.count() == (1 if status == 200 else 0)
    assert Application.objects.count() == ClientAPI.objects.count()


@pytest.mark.parametrize(("who", "status"), EXPECTED.items())
def test_client_detail_and_revocation_page_access(client, users, api_client, who, status):
    as_user(client, users[who])

    assert client.get(detail_url(api_client)).status_code == status
    assert client.get(revoke_url(api_client)).status_code == status


@pytest.mark.parametrize(("who", "status"), {**EXPECTED, "staff": 302, "referent": 302}.items())
def test_client_revocation_access(client, users, api_client, who, status):
    response = as_user(client, users[who]).post(revoke_url(api_client))

    assert response.status_code == status
    api_client.refresh_from_db()
    assert api_client.actif is (who not in ("staff", "referent"))


@pytest.mark.parametrize(
    ("who", "status"), {"staff": 200, "referent": 403, "conseiller": 403, "financeur": 403, "anonymous": 302}.items()
)
def test_territory_list_is_for_staff_only(client, users, api_client, who, status):
    assert as_user(client, users[who]).get(LIST_URL).status_code == status


def test_structure_page_links_to_api_access_only_for_those_who_manage_it(client, users, structure):
    url = reverse("structures:detail", args=[structure.uuid])
    link = f'href="{structure_url(structure)}"'
    for who in ("staff", "referent"):
        assert link in as_user(client, users[who]).get(url).content.decode(), who
    for who in ("conseiller", "financeur"):
        page = as_user(client, users[who]).get(url)
        assert page.status_code == 200
        assert link not in page.content.decode(), who
        assert "Accès à l'API" not in text(page), who


# --- Creation, and the secret shown once -------------------------------------------------------------------------
def test_referent_creates_a_client_and_sees_its_secret_once(client, referent, structure, caplog):
    caplog.set_level(logging.DEBUG)
    as_user(client, referent)

    response = create(client, structure)

    assert response.status_code == 200
    new = ClientAPI.objects.get()
    secret = response.context["secret"]
    page = text(response)
    assert page.count(secret) == 1
    assert new.application.client_id in page
    assert "no-store" in response["Cache-Control"]
    assert "il ne sera plus jamais affiché" in page
    assert "http://testserver" not in page
    assert "/api/oauth/token/" in page and reverse("api-docs") in page
    assert (new.structure, new.nom, new.cree_par) == (structure, "Logiciel de suivi", referent)
    assert new.scopes_list == ["lieux:read", "lieux:write"]
    assert not new.statistiques_detaillees
    # Stored hashed only, and nowhere else: not in the session, nor a message, nor a log.
    assert new.application.client_secret != secret
    assert secret not in str(dict(client.session))
    assert not list(response.context["messages"])
    assert all(secret not in record.getMessage() for record in caplog.records)

    for url in (
        structure_url(structure),
        detail_url(new),
        revoke_url(new),
        reverse("structures:detail", args=[structure.uuid]),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert secret not in page.content.decode(), url
    client.force_login(factories.StaffUserFactory())
    assert secret not in client.get(LIST_URL).content.decode()


def test_created_client_obtains_a_real_token(client, referent, structure):
    response = create(as_user(client, referent), structure)
    new = ClientAPI.objects.get()

    token = obtain_token(client, new, response.context["secret"])

    assert token.status_code == 200, token.content
    body = token.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 3600
    assert sorted(body["scope"].split()) == ["lieux:read", "lieux:write"]
    assert obtain_token(client, new, "pas-le-bon-secret").status_code == 401


def test_revoked_client_token_answers_401(client, referent, structure):
    as_user(client, referent)
    response = create(client, structure, nom="Intégration lieux")
    new = ClientAPI.objects.get()
    secret = response.context["secret"]
    token = obtain_token(client, new, secret).json()["access_token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    before = client.post(LIEUX_URL, {}, content_type="application/json", **headers)
    assert before.status_code == 400, before.content

    revoked = client.post(revoke_url(new), follow=True)
    assert revoked.status_code == 200
    assert "Le client « Intégration lieux » est révoqué" in text(revoked)

    after = client.post(LIEUX_URL, {}, content_type="application/json", **headers)
    assert after.status_code == 401
    assert not AccessToken.objects.filter(application=new.application).exists()
    assert obtain_token(client, new, secret).status_code == 401


def test_reloading_the_secret_page_creates_no_second_client(client, referent, structure):
    as_user(client, referent)
    first = client.get(structure_url(structure))
    marker = first.context["form"]["formulaire"].value()
    data = form_data(formulaire=marker)

    assert client.post(structure_url(structure), data).status_code == 200
    again = client.post(structure_url(structure), data, follow=True)

    assert ClientAPI.objects.count() == 1
    assert "Ce client a déjà été créé ; son secret ne peut plus être affiché." in text(again)
    assert "secret" not in again.context


# --- Bad input ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nom": "", "scopes": ["lieux:read"]}, "Donnez un nom au client"),
        ({"nom": "   ", "scopes": ["lieux:read"]}, "Donnez un nom au client"),
        ({"nom": "x" * 101, "scopes": ["lieux:read"]}, "Le nom tient en 100 caractères au plus."),
        ({"nom": "Logiciel"}, "Choisissez au moins un droit."),
        ({"nom": "Logiciel", "scopes": ["lieux:read", "admin:write"]}, "Choisissez des droits de la liste."),
        ({"nom": "Logiciel", "scopes": ["postes:write"]}, "Choisissez des droits de la liste."),
    ],
)
def test_bad_input_shows_the_form_again_with_a_400_and_writes_nothing(client, referent, structure, data, message):
    response = as_user(client, referent).post(structure_url(structure), data)

    assert response.status_code == 400
    assert message in text(response)
    assert "Le formulaire n'a pas pu être enregistré" in text(response)
    assert "secret" not in response.context
    assert ClientAPI.objects.count() == 0
    assert Application.objects.count() == 0


def test_detailed_statistics_are_refused_to_a_referent(client, referent, structure):
    as_user(client, referent)
    assert 'name="statistiques_detaillees"' not in client.get(structure_url(structure)).content.decode()

    response = create(client, structure, statistiques_detaillees="on")

    assert response.status_code == 400
    assert STAFF_ONLY_FLAG in text(response)
    assert ClientAPI.objects.count() == 0


def test_staff_grant_detailed_statistics(client, staff_user, structure):
    as_user(client, staff_user)
    assert 'name="statistiques_detaillees"' in client.get(structure_url(structure)).content.decode()

    response = create(client, structure, statistiques_detaillees="on", scopes=["statistiques:read"])

    assert response.status_code == 200
    assert ClientAPI.objects.get().statistiques_detaillees


# --- Revocation --------------------------------------------------------------------------------------------------
def test_revocation_asks_for_confirmation_then_keeps_the_client_listed_greyed(client, referent, api_client):
    as_user(client, referent)

    confirmation = client.get(revoke_url(api_client))
    assert "La révocation est immédiate et définitive." in text(confirmation)
    api_client.refresh_from_db()
    assert api_client.actif

    response = client.post(revoke_url(api_client), follow=True)

    assert response.redirect_chain[-1][0] == structure_url(api_client.structure)
    page = text(response)
    assert "Le client « SI existant » est révoqué : ses jetons ne sont plus acceptés par l'API." in page
    assert 'class="client-revoque"' in page and "SI existant" in page
    api_client.refresh_from_db()
    assert (api_client.actif, api_client.revoque_par) == (False, referent)

    again = client.post(revoke_url(api_client), follow=True)
    assert "Le client « SI existant » est déjà révoqué." in text(again)


def test_staff_revoke_from_the_territory_list_and_return_to_it(client, staff_user, api_client):
    response = as_user(client, staff_user).post(revoke_url(api_client), {"retour": "territoire"})

    assert response.status_code == 302
    assert response["Location"] == LIST_URL


def test_territory_list_filters_active_and_revoked(client, staff_user, structure, api_client):
    revoked, _secret = services.client_create(
        structure=structure, nom="Ancien SI", scopes_list=["lieux:read"], by=staff_user
    )
    services.client_revoke(client=revoked, by=staff_user)
    as_user(client, staff_user)

    def names(query):
        return [c.nom for c in client.get(LIST_URL + query).context["page"].object_list]

    assert names("") == ["SI existant", "Ancien SI"]
    assert names("?statut=actifs") == ["SI existant"]
    assert names("?statut=revoques") == ["Ancien SI"]
    assert names("?statut=nimporte") == ["SI existant", "Ancien SI"]


# --- History -----------------------------------------------------------------------------------------------------
def test_client_history_shows_who_created_and_who_revoked_it(client, structure, referent):
    creator = factories.StaffUserFactory(first_name="Camille", last_name="Coordination")
    new, _secret = services.client_create(structure=structure, nom="SI", scopes_list=["lieux:read"], by=creator)
    services.client_revoke(client=new, by=referent)

    response = as_user(client, referent).get(detail_url(new))

    history = response.context["history"]
    assert [(entry["kind"], entry["user"]) for entry in history] == [("Modification", referent), ("Création", creator)]
    assert history[0]["changes"] == [{"label": "Révoqué par", "old": "—", "new": str(referent)}]
    page = " ".join(text(response).split())
    assert "Création du client" in page
    assert f"Révoqué par : — → {referent}" in page


# --- Query budgets -----------------------------------------------------------------------------------------------
def count_queries(django_client, url):
    with CaptureQueriesContext(connection) as context:
        response = django_client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def make_clients(structure, by, count):
    for index in range(count):
        new, _secret = services.client_create(
            structure=structure, nom=f"SI {index:02}", scopes_list=ALL_SCOPES, by=factories.StaffUserFactory()
        )
        if index % 2:
            services.client_revoke(client=new, by=by)


def test_structure_api_page_query_count_is_the_same_at_2_and_20_clients(client, referent, structure):
    as_user(client, referent)
    make_clients(structure, referent, 2)
    with_2 = count_queries(client, structure_url(structure))

    make_clients(structure, referent, 18)
    with_20 = count_queries(client, structure_url(structure))

    assert with_2 == with_20


def test_territory_list_query_count_is_the_same_at_2_and_20_clients(client, staff_user):
    as_user(client, staff_user)
    make_clients(factories.StructureFactory(), staff_user, 2)
    with_2 = count_queries(client, LIST_URL)

    for _ in range(9):
        make_clients(factories.StructureFactory(), staff_user, 2)
    with_20 = count_queries(client, LIST_URL)

    assert with_2 == with_20


# --- The demo's client -------------------------------------------------------------------------------------------
def test_demo_client_is_created_once_with_its_documented_credentials(client, capsys, monkeypatch):
    from sicoval_numerique.demo import load_demo
    from sicoval_numerique.demo_partenaires import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from sicoval_numerique.management.commands import load_demo as command

    # The six months of activity log are not needed here (a few seconds each time).
    monkeypatch.setattr(command, "load_demo", functools.partial(load_demo, activites=False))
    call_command("load_demo", "--force")
    call_command("load_demo", "--force")

    output = capsys.readouterr().out
    demo = ClientAPI.objects.get()
    assert demo.application.client_id == DEMO_CLIENT_ID
    assert demo.structure.nom == "Mairie de Ramonville-Saint-Agne"
    assert demo.scopes_list == ALL_SCOPES
    assert DEMO_CLIENT_ID in output and DEMO_CLIENT_SECRET in output
    token = obtain_token(client, demo, DEMO_CLIENT_SECRET)
    assert token.status_code == 200
    # The README's quarter of an hour works on the demo: the client has sessions and a post to read.
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/seances/", **headers).json()["results"]
    assert client.get("/api/v1/postes/", **headers).json()["results"]
