"""The client of the Coop's API v1 against the local fake: the fake is the described API (every answer validates
against the bundled OpenAPI description), pages are followed through ``links.next`` with opaque cursors, the
modification filter is sent, errors are French and say whether a later try may pass, and a page that is not as
described, a cursor that comes back or a link to another server stop the reading."""

import datetime
import json
import socket
import uuid

import pytest

from imports import coop_api
from imports.coop_api import ClientCoop, CoopErreur, CoopIndisponible, IdentifiantsRefuses, PageMalFormee
from tests.imports.coop_fake import CLIENT_ID, SECRET, iso

MEDIATEUR = uuid.uuid4()


def client(fake, **options):
    return ClientCoop(fake.url, fake.client_id, fake.secret, **options)


def ids(pages):
    return [item["id"] for page in pages for item in page]


def dataset(fake):
    """Activities of every kind (individual, procedure, workshop, at a place, deleted), users with and without a
    mediator, structures."""
    structure = fake.structure(nom="Médiathèque de l'Envol", siret="21310113300016", carto_id=str(uuid.uuid4()))
    fake.structure(nom="Centre social", siret=None, code_insee=None)
    fake.activite(mediateur_id=MEDIATEUR)
    fake.activite(
        mediateur_id=MEDIATEUR,
        type="demarche_administrative",
        thematiques=["papiers_elections_citoyennete"],
        precisions_demarche="Carte grise",
    )
    fake.activite(
        mediateur_id=MEDIATEUR,
        type="collectif",
        accompagnements=6,
        titre_atelier="Découvrir l'e-mail",
        niveau_atelier="debutant",
        autonomie=None,
        type_lieu="lieu_activite",
        structure_id=structure["id"],
        lieu_code_postal=None,
        lieu_commune=None,
        lieu_code_insee=None,
    )
    supprimee = fake.activite(mediateur_id=MEDIATEUR)
    fake.supprimer(supprimee["id"])
    fake.activite(mediateur_id=uuid.uuid4(), type_lieu="a_distance")
    fake.utilisateur(email="camille@example.org", prenom="Camille", nom="Dupré", mediateur_id=MEDIATEUR, id_pg=1234)
    fake.utilisateur(email="coordination@example.org", prenom="Alex", nom="Martin")
    return structure


def test_every_answer_of_the_fake_validates_against_the_description(coop_fake):
    """The fake is the API of the bundled description: each of its answers validates exactly (strict: enums and
    links as described), whatever the endpoint, filter, cursor or page size."""
    structure = dataset(coop_fake)
    with client(coop_fake, taille_page=2) as api:
        assert len(ids(api.activites())) == 5
        list(api.activites(depuis=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)))
        assert len(list(api.utilisateurs())) == 2
        assert set(api.structures([structure["id"], str(uuid.uuid4())])) == {structure["id"]}
        assert api.sante() == {"status": "ok"}
        api.premiere_page("activites", "activites")
    noms = {
        "/activites": "activites",
        "/utilisateurs": "utilisateurs",
        "/structures": "structures",
        "/health": "health",
    }
    reponses = [r for r in coop_fake.requetes if r.statut == 200]
    assert len(reponses) == 8
    assert {r.chemin for r in reponses} == set(noms)
    for reponse in reponses:
        coop_api.valider(reponse.corps, noms[reponse.chemin], strict=True)


def test_the_validation_is_that_of_the_description():
    page = {"data": [{"type": "activite", "id": str(uuid.uuid4()), "attributes": {"type": "individuel"}}]}
    with pytest.raises(PageMalFormee) as refus:
        coop_api.valider({**page, "links": {}, "meta": {}}, "activites")
    assert "data[0].attributes : champ obligatoire absent (mediateur_id" in refus.value.texte
    with pytest.raises(PageMalFormee) as refus:
        coop_api.valider({"data": [], "links": {}}, "activites")
    assert "champ obligatoire absent (meta)" in refus.value.texte
    with pytest.raises(PageMalFormee) as refus:
        coop_api.valider({"data": [], "links": {"next": "pas une adresse"}, "meta": {}}, "activites")
    assert "links.next" in refus.value.texte and "format uri" in refus.value.texte


def test_the_client_tolerates_the_upstream_ways_the_description_does_not_say():
    """Links as {"href": …} objects and vocabulary codes added upstream (« associations ») pass the client's check;
    the strict check (the description exactly) refuses both."""
    corps = {"data": [], "links": {"next": {"href": "https://coop.example/api/v1/activites"}}, "meta": {}}
    coop_api.valider(corps, "activites")
    with pytest.raises(PageMalFormee):
        coop_api.valider(corps, "activites", strict=True)


def test_pages_are_followed_through_the_next_links_most_recently_modified_first(coop_fake):
    crees = [coop_fake.activite(mediateur_id=MEDIATEUR) for _ in range(5)]
    with client(coop_fake, taille_page=2) as api:
        pages = list(api.activites())
    assert [len(page) for page in pages] == [2, 2, 1]
    assert ids(pages) == [a["id"] for a in reversed(crees)]
    requetes = coop_fake.requetes_vers("/activites")
    assert len(requetes) == 3
    assert "page[after]" not in requetes[0].params and requetes[0].params["page[size]"] == "2"
    for precedente, suivante in zip(requetes, requetes[1:], strict=False):
        assert precedente.corps["links"]["next"].endswith("page%5Bafter%5D=" + suivante.params["page[after]"])


def test_the_upstream_implementation_s_pagination_is_read_too(coop_fake):
    """Upstream sends links as objects and a ``next`` link on every non-empty page: the reading stops on the empty
    page that follows."""
    coop_fake.liens_objets = coop_fake.suivant_toujours = True
    crees = [coop_fake.activite(mediateur_id=MEDIATEUR) for _ in range(4)]
    with client(coop_fake, taille_page=2) as api:
        pages = list(api.activites())
    assert [len(page) for page in pages] == [2, 2, 0]
    assert sorted(ids(pages)) == sorted(a["id"] for a in crees)


def test_the_modification_filter_is_sent_in_utc_and_applied(coop_fake):
    ancienne = coop_fake.activite(mediateur_id=MEDIATEUR, il_y_a=datetime.timedelta(days=3))
    recente = coop_fake.activite(mediateur_id=MEDIATEUR, il_y_a=datetime.timedelta(hours=1))
    depuis = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    with client(coop_fake) as api:
        assert ids(api.activites(depuis=depuis)) == [recente["id"]]
        assert set(ids(api.activites())) == {ancienne["id"], recente["id"]}
    premiere = coop_fake.requetes_vers("/activites")[0]
    assert premiere.params["filter[modification][depuis]"] == iso(depuis)


def test_the_bearer_is_the_client_id_and_secret_and_the_client_says_who_it_is(coop_fake):
    with client(coop_fake) as api:
        list(api.activites())
    requete = coop_fake.requetes_vers("/activites")[0]
    assert requete.autorisation == f"Bearer {CLIENT_ID}:{SECRET}"
    assert requete.entetes["User-Agent"].startswith("SicovalNumerique/")


def test_refused_credentials_are_not_worth_a_retry(coop_fake):
    with (
        ClientCoop(coop_fake.url, coop_fake.client_id, "mauvais-secret") as api,
        pytest.raises(IdentifiantsRefuses) as refus,
    ):
        list(api.activites())
    assert refus.value.reessayable is False
    assert refus.value.statut == 401
    assert "refusé les identifiants (HTTP 401)" in refus.value.texte


def test_a_timeout_is_worth_a_retry(coop_fake, delais_courts):
    coop_fake.lent = True
    coop_fake.delai = 1.5
    with client(coop_fake) as api, pytest.raises(CoopIndisponible) as refus:
        list(api.activites())
    assert refus.value.reessayable is True
    assert "n'a pas répondu à temps" in refus.value.texte


def test_a_server_error_or_a_closed_port_is_worth_a_retry(coop_fake):
    coop_fake.erreur_500 = True
    with client(coop_fake) as api, pytest.raises(CoopIndisponible) as refus:
        list(api.activites())
    assert refus.value.reessayable is True and "HTTP 500" in refus.value.texte
    with client(coop_fake) as api:
        assert list(api.activites()) == [[]]  # once only

    with socket.socket() as libre:
        libre.bind(("127.0.0.1", 0))
        port = libre.getsockname()[1]
    with ClientCoop(f"http://127.0.0.1:{port}/api/v1", "id", "secret") as api, pytest.raises(CoopIndisponible) as refus:
        list(api.activites())
    assert refus.value.reessayable is True and "injoignable" in refus.value.texte


def test_a_page_not_as_described_stops_the_reading_after_the_good_ones(coop_fake):
    for _ in range(5):
        coop_fake.activite(mediateur_id=MEDIATEUR)
    coop_fake.page_malformee = 2
    lues = []
    with client(coop_fake, taille_page=2) as api, pytest.raises(PageMalFormee) as refus:
        for page in api.activites():
            lues.append(page)
    assert len(lues) == 1
    assert refus.value.reessayable is False
    assert refus.value.texte == (
        "Page mal formée renvoyée par la Coop (activites, page 2) : data[0].attributes.duree : la valeur n'est pas "
        "du type attendu (nombre)."
    )
    assert "trente minutes" not in refus.value.texte  # where, never the value


def test_a_page_that_is_not_json(coop_fake):
    coop_fake.activite(mediateur_id=MEDIATEUR)
    coop_fake.page_malformee, coop_fake.malformation = 1, "json"
    with client(coop_fake) as api, pytest.raises(PageMalFormee) as refus:
        list(api.activites())
    assert "(activites, page 1) : ce n'est pas du JSON valide (ligne 1, colonne " in refus.value.texte


def test_an_answer_beyond_the_size_cap_is_refused(coop_fake, monkeypatch):
    for _ in range(3):
        coop_fake.activite(mediateur_id=MEDIATEUR)
    monkeypatch.setattr(coop_api, "TAILLE_MAX", 2000)
    with client(coop_fake) as api, pytest.raises(PageMalFormee) as refus:
        list(api.activites())
    assert refus.value.texte.startswith("Réponse trop volumineuse renvoyée par la Coop (activites, page 1)")
    # Announced or not: a body without Content-Length is cut while read.
    session = SessionScriptee([b"[" + b'"x",' * 1000 + b'"x"]'], entetes={})
    with pytest.raises(PageMalFormee, match="trop volumineuse"):
        ClientCoop(BASE, "id", "secret", session=session).sante()


def test_what_the_server_answers_is_never_quoted(monkeypatch):
    """The address is staff's to set: a server's answer (an internal service's page…) never reaches a message."""
    session = SessionScriptee([b"<html>donnee-interne-confidentielle</html>"], statut=404)
    with pytest.raises(CoopErreur) as refus:
        ClientCoop(BASE, "id", "secret", session=session).sante()
    assert refus.value.texte == "La Coop a refusé la requête (HTTP 404) (/health) : vérifiez l'adresse de l'API."
    session = SessionScriptee([b"donnee-interne-confidentielle"])
    with pytest.raises(PageMalFormee) as refus:
        ClientCoop(BASE, "id", "secret", session=session).sante()
    assert "donnee-interne" not in refus.value.texte and "ce n'est pas du JSON valide" in refus.value.texte
    session = SessionScriptee([{"data": [{"id": "donnee-interne-confidentielle"}], "links": {}, "meta": {}}])
    with pytest.raises(PageMalFormee) as refus:
        list(ClientCoop(BASE, "id", "secret", session=session).utilisateurs())
    assert "donnee-interne" not in refus.value.texte and "data[0]" in refus.value.texte


class Reponse:
    def __init__(self, corps, status_code=200, entetes=None):
        self.contenu = corps if isinstance(corps, bytes) else json.dumps(corps).encode("utf-8")
        self.status_code = status_code
        self.headers = {"Content-Length": str(len(self.contenu))} if entetes is None else entetes

    def iter_content(self, chunk_size=1):
        for debut in range(0, len(self.contenu), chunk_size):
            yield self.contenu[debut : debut + chunk_size]

    def close(self):
        pass


class SessionScriptee:
    """A ``requests.Session`` stand-in that answers each GET with the next scripted body."""

    def __init__(self, corps, *, statut=200, entetes=None):
        self.corps = list(corps)
        self.statut, self.entetes = statut, entetes
        self.headers = {}
        self.urls = []

    def get(self, url, params=None, **kwargs):
        assert kwargs.get("stream") is True and kwargs.get("allow_redirects") is False
        self.urls.append(url)
        corps = self.corps.pop(0) if self.corps else {"data": [], "links": {}, "meta": {}}
        return Reponse(corps, self.statut, self.entetes)

    def close(self):
        pass


BASE = "https://coop.example/api/v1"


def _page(suivant, n=1):
    items = [
        {"type": "utilisateur", "id": str(uuid.uuid4()), "attributes": {"email": f"p{i}@example.org"}} for i in range(n)
    ]
    return {"data": items, "links": {"next": suivant} if suivant else {}, "meta": {"has_next_page": bool(suivant)}}


def test_a_cursor_that_comes_back_is_refused():
    session = SessionScriptee(
        [
            _page(f"{BASE}/utilisateurs?page%5Bafter%5D=A"),
            _page(f"{BASE}/utilisateurs?page%5Bafter%5D=B"),
            _page(f"{BASE}/utilisateurs?page%5Bafter%5D=A"),
        ]
    )
    with pytest.raises(PageMalFormee) as refus:
        list(ClientCoop(BASE, "id", "secret", session=session).utilisateurs())
    assert "le curseur de pagination se répète" in refus.value.texte
    assert len(session.urls) == 3


def test_the_pages_are_capped():
    session = SessionScriptee([_page(f"{BASE}/utilisateurs?page%5Bafter%5D={n}") for n in range(10)])
    with pytest.raises(CoopErreur) as refus:
        list(ClientCoop(BASE, "id", "secret", session=session, pages_max=3).utilisateurs())
    assert "plus de 3 pages" in refus.value.texte
    assert len(session.urls) == 3


def test_the_bearer_never_follows_a_link_to_another_server():
    session = SessionScriptee([_page("https://ailleurs.example/api/v1/utilisateurs?page%5Bafter%5D=A")])
    with pytest.raises(PageMalFormee) as refus:
        list(ClientCoop(BASE, "id", "secret", session=session).utilisateurs())
    assert "mène à un autre serveur" in refus.value.texte
    assert session.urls == [f"{BASE}/utilisateurs"]


def test_structures_are_asked_for_by_batches_of_100(coop_fake):
    connues = [coop_fake.structure(nom=f"Lieu {n}") for n in range(3)]
    demandees = [s["id"] for s in connues] + [str(uuid.uuid4()) for _ in range(147)]
    with client(coop_fake) as api:
        trouvees = api.structures(demandees)
    assert set(trouvees) == {s["id"] for s in connues}
    requetes = coop_fake.requetes_vers("/structures")
    assert [len(r.params["ids"].split(",")) for r in requetes] == [100, 50]
    assert all(r.statut == 200 for r in requetes)
