"""The partner API's permission matrix, fail closed: every operation of the OpenAPI schema is called without a token,
with a token holding no scope, each scope alone, every scope but one, and every scope — always aimed at another
structure's objects (in the URL, and in the body's related fields). It fails on any answer other than the one the
scope and the scoping allow, on any write to the other structure, and on any of the other structure's private
identifiers or personal data appearing in a response that the request did not itself contain.

Adding an endpoint without listing its target here makes the test fail: nothing is left out silently."""

import datetime
import json

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accompagnements import services as activites
from accounts.models import Role
from partenaires import scopes
from tests import factories
from tests.api.helpers import api_client_for, bearer

pytestmark = pytest.mark.django_db

ALL = list(scopes.SCOPES)
VARIANTS = [
    ("sans jeton", None),
    ("jeton sans droit", []),
    *[(f"seulement {name}", [name]) for name in ALL],
    *[(f"tout sauf {name}", [other for other in ALL if other != name]) for name in ALL],
    ("tous les droits", ALL),
]


def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            security = operation.get("security", [])
            public = {} in security
            needed = next((req["oauth2"] for req in security if req.get("oauth2")), [])
            found.append((method.upper(), path, public, needed))
    return found


OPERATIONS = operations()


def structure_with_everything(name):
    """A structure with one object of every kind the API serves, and a registrant and an activity."""
    structure = factories.StructureFactory(nom=name, accueille_conseillers=True)
    commune = structure.commune
    published = factories.LieuFactory(structure=structure, commune=commune, code_postal=commune.codes_postaux[0])
    retired = factories.LieuFactory(
        structure=structure, commune=commune, code_postal=commune.codes_postaux[0], is_active=False
    )
    atelier = factories.AtelierFactory(structure=structure)
    seance = factories.SeanceFactory(atelier=atelier, lieu=published, debut=timezone.now() + datetime.timedelta(days=3))
    inscription = factories.InscriptionFactory(
        seance=seance, prenom="Zéphyrine", nom=f"Secret{name[-1]}", email=f"secret-{name[-1].lower()}@example.org"
    )
    poste = factories.PosteFactory(structure=structure)
    convention = factories.ConventionFactory(structure=structure)
    user = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    conseiller = factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)
    activite = activites.activite_create(
        by=user,
        data={
            "type": "individuel",
            "date": timezone.localdate() - datetime.timedelta(days=1),
            "duree": 30,
            "type_lieu": "domicile",
            "lieu": None,
            "commune": commune,
            "thematiques": ["email"],
            "materiel": ["ordinateur"],
            "autonomie": "partiellement_autonome",
            "notes": "Note privée du conseiller",
        },
    )
    return {
        "structure": structure,
        "published": published,
        "retired": retired,
        "atelier": atelier,
        "seance": seance,
        "inscription": inscription,
        "poste": poste,
        "convention": convention,
        "conseiller": conseiller,
        "activite": activite,
    }


@pytest.fixture
def world():
    mine = structure_with_everything("Structure A")
    theirs = structure_with_everything("Structure B")
    client, _secret = api_client_for(mine["structure"])
    return mine, theirs, client


def targets(theirs):
    """For each operation on one object: the other structure's object it is aimed at."""
    return {
        ("GET", "/api/v1/lieux/{uuid}/"): theirs["retired"].uuid,
        ("PATCH", "/api/v1/lieux/{uuid}/"): theirs["published"].uuid,
        ("DELETE", "/api/v1/lieux/{uuid}/"): theirs["published"].uuid,
        ("GET", "/api/v1/ateliers/{uuid}/"): theirs["atelier"].uuid,
        ("PATCH", "/api/v1/ateliers/{uuid}/"): theirs["atelier"].uuid,
        ("GET", "/api/v1/seances/{uuid}/"): theirs["seance"].uuid,
        ("PATCH", "/api/v1/seances/{uuid}/"): theirs["seance"].uuid,
        ("POST", "/api/v1/seances/{uuid}/annuler/"): theirs["seance"].uuid,
        ("POST", "/api/v1/seances/{uuid}/presences/"): theirs["seance"].uuid,
        ("GET", "/api/v1/inscriptions/{uuid}/"): theirs["inscription"].uuid,
        ("POST", "/api/v1/inscriptions/{uuid}/annuler/"): theirs["inscription"].uuid,
        ("GET", "/api/v1/postes/{uuid}/"): theirs["poste"].uuid,
        ("GET", "/api/v1/conventions/{uuid}/"): theirs["convention"].uuid,
        ("GET", "/api/v1/activites/{uuid}/"): theirs["activite"].uuid,
        # Public directory: the other structure's public objects are readable by anyone.
        ("GET", "/api/v1/structures/{uuid}/"): theirs["structure"].uuid,
        ("GET", "/api/v1/communes/{code_insee}/"): theirs["structure"].commune.code_insee,
    }


PUBLIC_OBJECTS = {("GET", "/api/v1/structures/{uuid}/"), ("GET", "/api/v1/communes/{code_insee}/")}


def bodies(mine, theirs):
    """Bodies of the writes: every related field names the other structure's objects."""
    later = (timezone.now() + datetime.timedelta(days=10)).replace(microsecond=0).isoformat()
    return {
        ("POST", "/api/v1/inscriptions/"): (
            {
                "seance": str(theirs["seance"].uuid),
                "prenom": "Jean",
                "nom": "Dupont",
                "email": "jean.dupont@example.org",
                "consentement": True,
            },
            400,
        ),
        ("POST", "/api/v1/seances/"): (
            {
                "atelier": str(theirs["atelier"].uuid),
                "debut": later,
                "capacite": 10,
                "lieu": str(mine["published"].uuid),
            },
            400,
        ),
        ("PATCH", "/api/v1/seances/{uuid}/"): ({"lieu": str(theirs["retired"].uuid)}, 404),
        ("POST", "/api/v1/seances/{uuid}/presences/"): (
            {"presences": [{"inscription": str(theirs["inscription"].uuid), "presence": "present"}]},
            404,
        ),
        ("POST", "/api/v1/seances/{uuid}/annuler/"): ({"motif": "Essai"}, 404),
        ("PATCH", "/api/v1/lieux/{uuid}/"): ({"nom": "Pris"}, 404),
        ("PATCH", "/api/v1/ateliers/{uuid}/"): ({"titre": "Pris"}, 404),
        # Creations that name no other object: the client creates its own (checked below to be its own).
        ("POST", "/api/v1/ateliers/"): (
            {"titre": "Atelier A", "thematiques": ["email"], "publics": ["tout_public"]},
            201,
        ),
        ("POST", "/api/v1/lieux/"): (
            {
                "nom": "Lieu A",
                "adresse": "1 rue",
                "code_postal": mine["structure"].commune.codes_postaux[0],
                "code_insee": mine["structure"].commune.code_insee,
                "services": "Aide aux démarches administratives",
            },
            201,
        ),
    }


def private_strings(theirs):
    """What must never be shown to another structure: identifiers of its non-public objects, its registrant's
    personal data, its conseiller's private note."""
    values = [
        theirs[name].uuid
        for name in ("retired", "atelier", "seance", "inscription", "poste", "convention", "conseiller", "activite")
    ]
    return [str(value) for value in values] + [
        theirs["inscription"].nom,
        theirs["inscription"].email,
        "Note privée du conseiller",
    ]


def snapshot(theirs):
    """The other structure's rows as they stand (their history counts and their content)."""
    state = {}
    for name in ("published", "retired", "atelier", "seance", "inscription", "poste", "convention", "activite"):
        obj = theirs[name]
        fresh = type(obj).objects.get(pk=obj.pk)
        state[name] = (
            fresh.history.count(),
            {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields},
        )
    return state


def expected_status(method, path, public, needed, variant, expected_body_status):
    has_target = "{" in path
    if variant is None:
        if not public:
            return 401
        return 200 if not has_target or (method, path) in PUBLIC_OBJECTS else 404
    if not public and not set(needed) <= set(variant):
        return 403
    if public and method == "GET":
        return 200 if not has_target or (method, path) in PUBLIC_OBJECTS else 404
    if expected_body_status is not None:
        return expected_body_status
    if has_target:
        return 404
    return 200 if method == "GET" else 201


def test_every_operation_is_covered_by_the_matrix(world):
    mine, theirs, _client = world
    aimed = targets(theirs)
    written = bodies(mine, theirs)
    for method, path, _public, _needed in OPERATIONS:
        if "{" in path:
            assert (method, path) in aimed, f"{method} {path} : cible de l'autre structure à déclarer"
        if method in ("POST", "PATCH") and "{" not in path:
            assert (method, path) in written, f"{method} {path} : corps à déclarer"


@pytest.mark.parametrize(("label", "variant"), VARIANTS, ids=[label for label, _ in VARIANTS])
def test_no_operation_leaks_or_writes_across_structures(client, world, label, variant):
    mine, theirs, api_client = world
    aimed = targets(theirs)
    written = bodies(mine, theirs)
    secrets = private_strings(theirs)
    before = snapshot(theirs)
    own_structure = mine["structure"]
    failures = []
    for method, path, public, needed in OPERATIONS:
        url = path
        if "{" in path:
            key = "{code_insee}" if "{code_insee}" in path else "{uuid}"
            url = path.replace(key, str(aimed[(method, path)]))
        body, body_status = written.get((method, path), ({}, None))
        headers = {} if variant is None else bearer(api_client, variant)
        if method == "GET":
            response = client.get(url, **headers)
        else:
            response = getattr(client, method.lower())(
                url, json.dumps(body), content_type="application/json", **headers
            )
        want = expected_status(method, path, public, needed, variant, body_status)
        if response.status_code != want:
            failures.append(
                f"{method} {url} [{label}] : {response.status_code} au lieu de {want} {response.content[:200]}"
            )
        text = response.content.decode()
        sent = url + json.dumps(body)
        for secret in secrets:
            if secret in text and secret not in sent:
                failures.append(f"{method} {url} [{label}] : fuite de « {secret} »")
        if response.status_code == 201:
            created = response.json()
            assert "uuid" in created
    assert not failures, "\n".join(failures)
    assert snapshot(theirs) == before, "l'autre structure a été modifiée"
    # Whatever was created belongs to the client's structure.
    assert not theirs["structure"].lieux.filter(nom="Lieu A").exists()
    assert not type(theirs["atelier"]).objects.filter(titre="Atelier A").exclude(structure=own_structure).exists()


def test_the_client_reaches_its_own_objects_with_every_scope(client, world):
    """The 404s above are the scoping at work, not broken routes: the same operations on the client's own objects
    answer 200."""
    mine, _theirs, api_client = world
    headers = bearer(api_client)
    for resource, name in [
        ("lieux", "retired"),
        ("ateliers", "atelier"),
        ("seances", "seance"),
        ("inscriptions", "inscription"),
        ("postes", "poste"),
        ("conventions", "convention"),
        ("activites", "activite"),
    ]:
        response = client.get(f"/api/v1/{resource}/{mine[name].uuid}/", **headers)
        assert response.status_code == 200, (resource, response.content[:300])
        listed = client.get(f"/api/v1/{resource}/", **headers)
        assert str(mine[name].uuid) in listed.content.decode(), resource
