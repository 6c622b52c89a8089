"""Access matrix of the activity log (accompagnements), the workshops (ateliers: back-office, Pass numérique and
public pages) and the staff outbox (notifications), through real requests on the demo data.

A is the Mairie de Ramonville-Saint-Agne (référent Rémi, conseillère Inès), B the Sicoval. Sarah Martin, a conseillère
of the Sicoval given an account here, owns B's activities, followed person and share link, and facilitates the
sessions of a Sicoval workshop that nobody of A touches (held at the CCAS's place, one of them reserved to the CCAS,
one held yesterday); the Sicoval holds a booklet of Pass numériques; its registrations wrote e-mails to the outbox.
Roles: anonymous, staff, the référent of A, Inès, the demo's aidant (CCAS) and funder (Département), Nadia Benali (a
conseillère of the CCAS, given an account) and, for the Pass numérique, a référent of the CCAS (a qualified place).

For every route: anonymous users are sent to the login page (public routes are open, but a reserved session and a
tampered token answer 404); on B's objects every non-staff role gets 404 (403 where the whole page is refused to the
role before any object is read); lists never carry B's rows (checked by uuid in the HTML, CSV and XLSX); refused
writes change nothing in the database (row counts, states and audit history compared); garbage input answers 4xx,
never 500. Each refused payload is a valid one: a positive control shows that its owner's request does write.
"""

import datetime
import html
import io
import uuid
from decimal import Decimal

import pytest
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accompagnements import services as cra_services
from accompagnements.models import Accompagnement, Activite, Beneficiaire, PartageStatistiques
from accounts.models import Role
from ateliers import services as ateliers_services
from ateliers.models import Atelier, Carnet, CommandePass, Inscription, PassNumerique, Seance
from conseillers.models import Conseiller
from financements.models import Financeur
from notifications.models import Email
from reporting import resume
from sicoval_numerique.demo import load_demo
from structures.models import Membership
from tests import factories

DOMAIN = "sicoval-numerique.example"
EMAILS = {role: f"{role}@{DOMAIN}" for role in ("referent", "conseiller", "aidant", "financeur")}
ROLES = ["staff", "referent", "conseiller", "aidant", "financeur", "autre_conseiller"]
NON_STAFF = ROLES[1:]
HUGE = "9" * 40
NUL = "\x00"
NOTE_INES = "NOTE-PRIVEE-INES"
NOTE_SARAH = "NOTE-PRIVEE-SARAH"


# --- The demo, with B's objects ------------------------------------------------------------------------------------
def _give_account(conseiller, structure, email):
    user = factories.UserFactory(email=email, first_name=conseiller.prenom, last_name=conseiller.nom)
    Membership.objects.create(user=user, structure=structure, role=Role.CONSEILLER)
    Conseiller.objects.filter(pk=conseiller.pk).update(user=user)
    conseiller.refresh_from_db()
    return user


def _activite(by, conseiller, *, commune, notes, days_ago=3):
    return cra_services.activite_create(
        by=by,
        conseiller=conseiller,
        data={
            "type": "individuel",
            "date": timezone.localdate() - datetime.timedelta(days=days_ago),
            "duree": 45,
            "type_lieu": "domicile",
            "commune": commune,
            "thematiques": ["email"],
            "materiel": ["ordinateur"],
            "autonomie": "autonome",
            "notes": notes,
        },
        participants=cra_services.Participants(anonyme={"genre": "feminin", "commune_residence": commune}),
    )


def _build(activites):
    data = load_demo(activites=activites)
    structures = data["structures"]
    sicoval, ccas, ramonville = structures["sicoval"], structures["ccas_castanet"], structures["ramonville"]
    users = {user.email: user for user in data["users"]}
    staff = factories.StaffUserFactory()
    today = timezone.localdate()
    # B's conseillère (the Sicoval) and a conseillère of another structure (the CCAS), both given an account.
    sarah = Conseiller.objects.get(prenom="Sarah", nom="Martin")
    sarah_user = _give_account(sarah, sicoval, f"sarah@{DOMAIN}")
    nadia = Conseiller.objects.get(prenom="Nadia", nom="Benali")
    nadia_user = _give_account(nadia, ccas, f"nadia@{DOMAIN}")
    ines_user = users[EMAILS["conseiller"]]
    ines = Conseiller.objects.get(user=ines_user)
    referent_ccas = factories.MembershipFactory(structure=ccas, role=Role.REFERENT).user
    # Activity log: Sarah's (B) and Inès's (A) activities with private notes, the people each follows, a share link.
    activite_b = _activite(sarah_user, sarah, commune=sicoval.commune, notes=NOTE_SARAH)
    activite_a = _activite(ines_user, ines, commune=ramonville.commune, notes=NOTE_INES)
    beneficiaire_b = cra_services.beneficiaire_create(
        by=sarah_user,
        data={"prenom": "Bérénice", "nom": "Sicovalienne", "annee_naissance": 1950, "consentement": True},
    )
    beneficiaire_a = cra_services.beneficiaire_create(
        by=ines_user, data={"prenom": "Aline", "nom": "Ramonvilloise", "consentement": True}
    )
    partage_b = cra_services.partage_create(
        by=sarah_user, date_debut=today - datetime.timedelta(days=180), date_fin=today, libelle="Bilan B"
    )
    # B's workshop: a Sicoval programme facilitated by Sarah (not Inès, unlike the demo's), held at the CCAS's place.
    lieu_ccas = next(lieu for lieu in data["lieux"] if lieu.structure_id == ccas.pk)
    atelier_b = ateliers_services.atelier_create(
        by=staff,
        structure=sicoval,
        data={"titre": "Atelier B du Sicoval", "thematiques": ["email"], "publics": ["tout_public"], "duree": 90},
    )
    debut = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=9), datetime.time(10)))

    def seance(days, **extra):
        values = {"debut": debut + datetime.timedelta(days=days), "lieu": lieu_ccas, "animateur": sarah_user}
        values.update({"capacite": 5, "publique": True, **extra})
        return ateliers_services.seance_create(atelier=atelier_b, by=staff, data=values)

    def person(n):
        return {"prenom": f"Basile{n}", "nom": "Sicoval", "email": f"basile{n}@example.org", "consentement": True}

    seance_b, seance_b2 = seance(0), seance(7)
    seance_reservee = seance(14, publique=False, reservee_a=ccas)
    seance_passee = seance(1)
    inscription_b = ateliers_services.inscription_create(seance=seance_b, data=person(1))
    inscription_reservee = ateliers_services.inscription_create(
        seance=seance_reservee, data=person(2), by=staff, source="telephone"
    )
    inscription_passee = ateliers_services.inscription_create(seance=seance_passee, data=person(3))
    yesterday = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=1), datetime.time(10)))
    Seance.objects.filter(pk=seance_passee.pk).update(debut=yesterday, fin=yesterday + datetime.timedelta(minutes=90))
    seance_passee.refresh_from_db()
    # B's Pass numérique: an order, one booklet entrusted to the Sicoval (a distributor).
    financeur = Financeur.objects.filter(nom="AG2R La Mondiale").first() or factories.FinanceurFactory(
        nom="AG2R La Mondiale"
    )
    commande_b = ateliers_services.commande_create(
        financeur=financeur, date_commande=today, nombre=20, valeur_faciale=Decimal("10.00"), taille_carnet=10, by=staff
    )
    carnets = list(Carnet.objects.filter(commande=commande_b).order_by("numero"))
    ateliers_services.carnets_attribuer(carnets=[carnets[0]], distributeur=sicoval, by=staff)
    carnets[0].refresh_from_db()
    # A's workshop objects from the demo.
    tablette = Atelier.objects.get(structure=ramonville)
    bus = Seance.objects.get(atelier=tablette, arret__isnull=False)
    data.update(
        b={
            "activite": activite_b,
            "beneficiaire": beneficiaire_b,
            "partage": partage_b,
            "atelier": atelier_b,
            "seance": seance_b,
            "seance2": seance_b2,
            "seance_reservee": seance_reservee,
            "seance_passee": seance_passee,
            "inscription": inscription_b,
            "inscription_reservee": inscription_reservee,
            "inscription_passee": inscription_passee,
            "commande": commande_b,
            "carnet": carnets[0],
            "carnet_libre": carnets[1],
            "pass": PassNumerique.objects.filter(carnet=carnets[0]).order_by("numero").first(),
            "email": Email.objects.filter(destinataire="basile1@example.org").first(),
            "conseiller": sarah,
            "lieu": lieu_ccas,
            "financeur": financeur,
        },
        a={
            "activite": activite_a,
            "beneficiaire": beneficiaire_a,
            "atelier": tablette,
            "seance_bus": bus,
            "seance_ines": Seance.objects.filter(atelier__structure=sicoval, animateur=ines_user).first(),
        },
        accounts={
            "staff": staff,
            "referent": users[EMAILS["referent"]],
            "conseiller": ines_user,
            "aidant": users[EMAILS["aidant"]],
            "financeur": users[EMAILS["financeur"]],
            "autre_conseiller": nadia_user,
            "referent_ccas": referent_ccas,
            "sarah": sarah_user,
        },
        ines=ines,
        nadia=nadia,
    )
    assert all(data["b"].values()) and all(data["a"].values()), (data["b"], data["a"])
    resume.mettre_a_jour()  # what the summaries' task does after the commits (the test's transaction never commits)
    return data


@pytest.fixture
def demo(db):
    """The demo without its six months of activity log (fast), with B's objects."""
    return _build(activites=False)


@pytest.fixture
def demo_full(db):
    """The whole demo (about 300 activities of Inès and her colleagues), with B's objects."""
    return _build(activites=True)


def _as(client, demo, role):
    client.logout()
    if role != "anonymous":
        client.force_login(demo["accounts"][role])
    return client


def _body(response):
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


def _text(response):
    content = _body(response)
    if content[:2] == b"PK":  # an XLSX workbook: its cells' text
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        return "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
    return html.unescape(content.decode("utf-8", errors="replace"))


# --- What "nothing changed" means ----------------------------------------------------------------------------------
AUDITED = (
    Activite,
    Accompagnement,
    Beneficiaire,
    PartageStatistiques,
    Atelier,
    Seance,
    Inscription,
    CommandePass,
    Carnet,
    PassNumerique,
)


def _snapshot():
    """Row counts, audit history counts and the states writes change (a refused write must leave all of it)."""
    state = {}
    for model in AUDITED:
        state[model.__name__] = model.objects.count()
        state[f"{model.__name__} (historique)"] = model.history.count()
    state["activités supprimées"] = Activite.objects.filter(supprimee_le__isnull=False).count()
    state["partages révoqués"] = PartageStatistiques.objects.filter(revoque_le__isnull=False).count()
    state["séances"] = sorted(Seance.objects.values_list("pk", "statut", "debut", "capacite", "appel_cloture_le"))
    state["inscriptions"] = sorted(Inscription.objects.values_list("pk", "statut", "presence", "seance_id"))
    state["carnets"] = sorted(Carnet.objects.values_list("pk", "distributeur_id", "remis_le"))
    state["pass"] = sorted(PassNumerique.objects.values_list("pk", "statut"))
    state["e-mails"] = sorted(Email.objects.values_list("pk", "statut", "tentatives"))
    return state


# --- Every route of the three apps ---------------------------------------------------------------------------------
# (url name, kind of B object in the URL or None, answers GET?, answers POST?)
ROUTES = [
    ("accompagnements:list", None, True, False),
    ("accompagnements:create", None, True, True),
    ("accompagnements:export_csv", None, True, False),
    ("accompagnements:export_xlsx", None, True, False),
    ("accompagnements:detail", "activite", True, False),
    ("accompagnements:edit", "activite", True, True),
    ("accompagnements:delete", "activite", False, True),
    ("accompagnements:statistiques", None, True, False),
    ("accompagnements:partage_create", None, False, True),
    ("accompagnements:partage_revoke", "partage", False, True),
    ("accompagnements:beneficiaires", None, True, False),
    ("accompagnements:beneficiaire_create", None, True, True),
    ("accompagnements:beneficiaire", "beneficiaire", True, False),
    ("accompagnements:beneficiaire_edit", "beneficiaire", True, True),
    ("ateliers:gestion_ateliers", None, True, False),
    ("ateliers:gestion_atelier_create", None, True, True),
    ("ateliers:gestion_atelier", "atelier", True, False),
    ("ateliers:gestion_atelier_edit", "atelier", True, True),
    ("ateliers:gestion_seance_create", "atelier", True, True),
    ("ateliers:gestion_seance", "seance", True, False),
    ("ateliers:gestion_seance_edit", "seance", True, True),
    ("ateliers:gestion_seance_cancel", "seance", True, True),
    ("ateliers:gestion_inscrire", "seance", True, True),
    ("ateliers:gestion_inscription_cancel", "inscription", False, True),
    ("ateliers:gestion_inscription_move", "inscription", False, True),
    ("ateliers:gestion_appel", "seance_passee", True, True),
    ("ateliers:gestion_appel_sur_place", "seance_passee", False, True),
    ("ateliers:gestion_appel_cloturer", "seance_passee", True, True),
    ("ateliers:pass_stock", None, True, False),
    ("ateliers:pass_commande_create", None, True, True),
    ("ateliers:pass_commande", "commande", True, False),
    ("ateliers:pass_carnets_attribuer", "commande", True, True),
    ("ateliers:pass_carnet_remettre", "carnet", True, True),
    ("ateliers:pass_utiliser", None, True, True),
    ("ateliers:pass_rembourser", None, True, True),
    ("ateliers:pass_annuler", None, True, True),
    ("notifications:list", None, True, False),
    ("notifications:relay", None, False, True),
    ("notifications:detail", "email", True, False),
    ("notifications:html", "email", True, False),
    ("notifications:resend", "email", False, True),
]
OBJECT_ROUTES = [route for route in ROUTES if route[1]]
PAGE_ROUTES = [route for route in ROUTES if not route[1]]
GROUPS = {
    "accompagnements": "accompagnements:",
    "ateliers-gestion": "ateliers:gestion_",
    "pass-numerique": "ateliers:pass_",
    "notifications": "notifications:",
}
# Routes that only the author reaches (staff included get 404 on somebody else's).
AUTHOR_ONLY = {
    "accompagnements:edit",
    "accompagnements:delete",
    "accompagnements:partage_revoke",
    "accompagnements:beneficiaire",
    "accompagnements:beneficiaire_edit",
}


def _url(demo, name, kind, objects="b"):
    return reverse(name, args=[demo[objects][kind].uuid]) if kind else reverse(name)


def _valid_posts(demo):
    """A valid payload per write route, aimed at B's objects: without the access checks it would write."""
    b = demo["b"]
    sicoval, commune = demo["structures"]["sicoval"], demo["structures"]["sicoval"].commune
    today = timezone.localdate()
    activite = {
        "type": "individuel",
        "date": (today - datetime.timedelta(days=2)).isoformat(),
        "duree_choix": "30",
        "type_lieu": "domicile",
        "commune": commune.pk,
        "thematiques": ["email"],
        "materiel": ["telephone"],
    }
    seance_b = timezone.localtime(b["seance"].debut)
    return {
        "accompagnements:create": activite,
        "accompagnements:edit": {**activite, "duree_choix": "60", "notes": "modifiée"},
        "accompagnements:delete": {},
        "accompagnements:partage_create": {
            "partage-date_debut": (today - datetime.timedelta(days=30)).isoformat(),
            "partage-date_fin": today.isoformat(),
            "partage-libelle": "Mairie",
        },
        "accompagnements:partage_revoke": {},
        "accompagnements:beneficiaire_create": {"prenom": "Nouveau", "nom": "Suivi", "consentement": "on"},
        "accompagnements:beneficiaire_edit": {"prenom": "Bérénice", "nom": "Renommée", "genre": "feminin"},
        "ateliers:gestion_atelier_create": {
            "structure": str(sicoval.uuid),
            "titre": "Atelier créé",
            "thematiques": ["email"],
            "publics": ["tout_public"],
            "duree": "60",
        },
        "ateliers:gestion_atelier_edit": {
            "titre": "Atelier B renommé",
            "thematiques": ["email"],
            "publics": ["seniors"],
            "duree": "90",
            "actif": "on",
        },
        "ateliers:gestion_seance_create": {
            "date": (today + datetime.timedelta(days=30)).isoformat(),
            "heure_debut": "14:00",
            "lieu": str(b["lieu"].uuid),
            "capacite": "6",
            "nombre": "1",
            "publique": "on",
        },
        "ateliers:gestion_seance_edit": {
            "date": seance_b.date().isoformat(),
            "heure_debut": "15:00",
            "lieu": str(b["lieu"].uuid),
            "capacite": "7",
            "publique": "on",
        },
        "ateliers:gestion_seance_cancel": {"motif": "Salle indisponible"},
        "ateliers:gestion_inscrire": {
            "prenom": "Par",
            "nom": "Téléphone",
            "email": "telephone@example.org",
            "consentement": "on",
        },
        "ateliers:gestion_inscription_cancel": {},
        "ateliers:gestion_inscription_move": {"seance": str(b["seance2"].uuid)},
        "ateliers:gestion_appel": {f"presence_{b['inscription_passee'].uuid}": "present"},
        "ateliers:gestion_appel_sur_place": {"prenom": "Venu", "nom": "Surplace", "consentement": "on"},
        "ateliers:gestion_appel_cloturer": {},
        "ateliers:pass_commande_create": {
            "financeur": str(b["financeur"].uuid),
            "date_commande": today.isoformat(),
            "nombre": "10",
            "valeur_faciale": "10,00",
            "taille_carnet": "10",
        },
        "ateliers:pass_carnets_attribuer": {
            "distributeur": str(sicoval.uuid),
            "carnets": [str(b["carnet_libre"].uuid)],
        },
        "ateliers:pass_carnet_remettre": {
            "distributeur": str(sicoval.uuid),
            "categorie": "senior",
            "date": today.isoformat(),
        },
        "ateliers:pass_utiliser": {
            "numero": b["pass"].numero,
            "inscription": str(b["inscription"].uuid),
            "date": today.isoformat(),
        },
        "ateliers:pass_rembourser": {"lieu": str(b["lieu"].uuid), "mois": f"{today:%Y-%m}", "date": today.isoformat()},
        "ateliers:pass_annuler": {"numero": b["pass"].numero, "motif": "Carnet perdu"},
        "notifications:relay": {},
        "notifications:resend": {},
    }


# --- Anonymous users -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("group", list(GROUPS))
def test_anonymous_is_sent_to_login_on_every_back_office_route(client, demo, group):
    login = reverse("account_login")
    wrong = []
    before = _snapshot()
    payloads = _valid_posts(demo)
    for name, kind, _get, _post in ROUTES:
        if not name.startswith(GROUPS[group]):
            continue
        url = _url(demo, name, kind)
        for method, response in (("GET", client.get(url)), ("POST", client.post(url, payloads.get(name, {})))):
            if response.status_code != 302 or login not in response["Location"]:
                wrong.append((name, method, response.status_code))
    assert wrong == []
    assert _snapshot() == before


# --- B's objects: 404 for every other structure and person, and nothing written --------------------------------------
def _expected_on_b(name, role):
    """404 on B's objects; the Pass numérique refuses a role with no part in it (403) before reading the object, the
    outbox refuses everybody but staff (403)."""
    if name.startswith("notifications:"):
        return {403}
    if name.startswith("ateliers:pass_") and role != "referent_ccas":
        return {403, 404}
    return {404}


@pytest.mark.parametrize("role", [*NON_STAFF, "referent_ccas"])
def test_b_objects_answer_404_and_nothing_is_written(client, demo, role):
    _as(client, demo, role)
    payloads = _valid_posts(demo)
    before = _snapshot()
    wrong = []
    for name, kind, get, post in OBJECT_ROUTES:
        url = _url(demo, name, kind)
        expected = _expected_on_b(name, role)
        got = client.get(url).status_code
        if got not in (expected if get else {405}):
            wrong.append((name, "GET", got))
        got = client.post(url, payloads.get(name, {})).status_code
        if got not in (expected if post else {405}):
            wrong.append((name, "POST", got))
    assert wrong == []
    assert _snapshot() == before


def test_staff_reach_b_objects_except_an_authors_own(client, demo):
    """The 404s above mean "out of scope", not a broken URL: staff read every B object, except a conseiller's own
    activity (to change), followed person and share link."""
    _as(client, demo, "staff")
    wrong = []
    for name, kind, get, _post in OBJECT_ROUTES:
        if not get:
            continue
        expected = 404 if name in AUTHOR_ONLY else 200
        got = client.get(_url(demo, name, kind)).status_code
        if got != expected:
            wrong.append((name, got))
    assert wrong == []


def test_the_owner_reaches_their_objects(client, demo):
    _as(client, demo, "sarah")
    for name in ("accompagnements:detail", "accompagnements:edit", "accompagnements:beneficiaire"):
        kind = "beneficiaire" if "beneficiaire" in name else "activite"
        assert client.get(_url(demo, name, kind)).status_code == 200, name
    for name, kind in (("ateliers:gestion_seance", "seance"), ("ateliers:gestion_appel", "seance_passee")):
        assert client.get(_url(demo, name, kind)).status_code == 200, name


# The payloads refused above do write for someone allowed to (each in a savepoint rolled back): a refusal is an access
# decision, not a malformed request.
OWNER = dict.fromkeys(AUTHOR_ONLY | {"accompagnements:create", "accompagnements:partage_create"}, "sarah")
OWNER["accompagnements:beneficiaire_create"] = "sarah"
# Writes with a precondition that B's objects do not meet (a used pass, a failed e-mail): covered by their own tests.
NO_POSITIVE_CONTROL = {"ateliers:pass_utiliser", "ateliers:pass_rembourser", "notifications:resend"}
WRITE_ROUTES = [route for route in ROUTES if route[3] and route[0] not in NO_POSITIVE_CONTROL]


@pytest.mark.parametrize("group", list(GROUPS))
def test_positive_control_the_same_payloads_write_for_their_owner(client, demo, group):
    payloads = _valid_posts(demo)
    wrong = []
    for name, kind, _get, _post in WRITE_ROUTES:
        if not name.startswith(GROUPS[group]):
            continue
        _as(client, demo, OWNER.get(name, "staff"))
        with transaction.atomic():
            before = _snapshot()
            response = client.post(_url(demo, name, kind), payloads[name])
            if response.status_code != 302 or _snapshot() == before:
                wrong.append((name, response.status_code))
            transaction.set_rollback(True)
    assert wrong == []


# --- Pages without an object: who gets them -------------------------------------------------------------------------
ALLOWED = {
    "accompagnements:list": {"staff", "referent", "conseiller", "autre_conseiller"},
    "accompagnements:create": {"conseiller", "autre_conseiller"},
    "accompagnements:export_csv": {"staff", "referent", "conseiller", "autre_conseiller"},
    "accompagnements:export_xlsx": {"staff", "referent", "conseiller", "autre_conseiller"},
    "accompagnements:statistiques": {"staff", "referent", "conseiller", "autre_conseiller"},
    "accompagnements:partage_create": {"conseiller", "autre_conseiller"},
    "accompagnements:beneficiaires": {"conseiller", "autre_conseiller"},
    "accompagnements:beneficiaire_create": {"conseiller", "autre_conseiller"},
    "ateliers:gestion_ateliers": set(ROLES),  # anybody may facilitate: the list is then empty
    "ateliers:gestion_atelier_create": {"staff", "referent"},
    "ateliers:pass_stock": {"staff"},
    "ateliers:pass_commande_create": {"staff"},
    "ateliers:pass_utiliser": {"staff"},
    "ateliers:pass_rembourser": {"staff"},
    "ateliers:pass_annuler": {"staff"},
    "notifications:list": {"staff"},
    "notifications:relay": {"staff"},
}
# Refused since the exports share the history page's rule (test_activity_exports_refuse_roles_without_the_activity_log).
EXPORT_DEVIATION = {
    ("accompagnements:export_csv", "aidant"),
    ("accompagnements:export_csv", "financeur"),
    ("accompagnements:export_xlsx", "aidant"),
    ("accompagnements:export_xlsx", "financeur"),
}


@pytest.mark.parametrize("role", ROLES)
def test_pages_answer_403_to_roles_without_the_right_and_writes_are_refused(client, demo, role):
    """GET: 200 for a role with the right, 403 otherwise. POST of a valid payload by a role without the right: 403
    and nothing written (a valid payload, so that a missing check would show as a write)."""
    _as(client, demo, role)
    payloads = _valid_posts(demo)
    before = _snapshot()
    wrong = []
    for name, _kind, get, post in PAGE_ROUTES:
        if (name, role) in EXPORT_DEVIATION:
            continue
        allowed = role in ALLOWED[name]
        if get:
            got = client.get(reverse(name)).status_code
            if got != (200 if allowed else 403):
                wrong.append((name, "GET", got))
        if post and not allowed:
            got = client.post(reverse(name), payloads[name]).status_code
            if got != 403:
                wrong.append((name, "POST", got))
    assert wrong == []
    assert _snapshot() == before


@pytest.mark.parametrize("name", ["accompagnements:export_csv", "accompagnements:export_xlsx"])
def test_activity_exports_refuse_roles_without_the_activity_log(client, demo, name):
    for role in ("aidant", "financeur"):
        assert _as(client, demo, role).get(reverse(name)).status_code == 403, role


def test_activity_exports_carry_no_row_for_roles_without_the_activity_log(client, demo):
    """Besides the 403, nothing of the activity log reaches an aidant or a funder through the exports."""
    for role in ("aidant", "financeur"):
        _as(client, demo, role)
        text = _text(client.get(reverse("accompagnements:export_csv")))
        for activite in (demo["b"]["activite"], demo["a"]["activite"]):
            assert str(activite.uuid) not in text, role


# --- Lists never carry B's rows --------------------------------------------------------------------------------------
def _b_activity_uuids(demo):
    return [str(u) for u in Activite.objects.filter(conseiller=demo["b"]["conseiller"]).values_list("uuid", flat=True)]


@pytest.mark.parametrize("name", ["accompagnements:list", "accompagnements:export_csv", "accompagnements:export_xlsx"])
def test_activity_lists_and_exports_never_carry_b_rows(client, demo_full, name):
    demo = demo_full
    b_uuids = _b_activity_uuids(demo)
    assert len(b_uuids) > 10  # the demo's activities of Sarah, and the one made here
    day = demo["b"]["activite"].date.isoformat()
    on_b_day = f"{reverse(name)}?du={day}&au={day}"
    # Sanity: staff do see B's activity that day, so its absence below means something.
    assert str(demo["b"]["activite"].uuid) in _text(_as(client, demo, "staff").get(on_b_day))
    for role in ("referent", "conseiller", "autre_conseiller", "referent_ccas"):
        _as(client, demo, role)
        for url in (reverse(name), on_b_day):
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            text = _text(response)
            leaked = [u for u in b_uuids if u in text]
            assert leaked == [], (role, url)
            assert NOTE_SARAH not in text and "Sicovalienne" not in text
        if role in ("referent", "referent_ccas"):
            # Asking for B's conseillère by name is refused, and still shows nothing of hers.
            response = client.get(f"{reverse(name)}?conseiller={demo['b']['conseiller'].uuid}")
            assert response.status_code == 400, role
            assert [u for u in b_uuids if u in _text(response)] == []


def test_referent_reads_their_conseillere_without_notes_nor_names(client, demo_full):
    """A référent reads the activities of A's conseillère (not B's) without her notes nor the names of the people
    she follows (list, detail, exports)."""
    demo = demo_full
    activite = demo["a"]["activite"]
    _as(client, demo, "referent")
    response = client.get(reverse("accompagnements:detail", args=[activite.uuid]))
    assert response.status_code == 200
    assert NOTE_INES not in _text(response)
    followed = [b.nom for b in Beneficiaire.objects.filter(conseiller=demo["ines"])]
    assert len(followed) == 4
    for name in ("accompagnements:list", "accompagnements:export_csv", "accompagnements:export_xlsx"):
        text = _text(client.get(reverse(name)))
        assert str(activite.uuid) in text, name
        assert NOTE_INES not in text, name
        assert [nom for nom in followed if nom in text] == [], name
    # Only the author changes it.
    assert client.get(reverse("accompagnements:edit", args=[activite.uuid])).status_code == 404
    # Staff read it without the notes too.
    assert NOTE_INES not in _text(
        _as(client, demo, "staff").get(reverse("accompagnements:detail", args=[activite.uuid]))
    )
    # Inès sees her notes (sanity).
    assert NOTE_INES in _text(
        _as(client, demo, "conseiller").get(reverse("accompagnements:detail", args=[activite.uuid]))
    )


def test_statistics_never_count_b_activities(client, demo_full):
    demo = demo_full
    sarah = demo["b"]["conseiller"]
    url = reverse("accompagnements:statistiques")
    assert str(sarah.uuid) in _text(_as(client, demo, "staff").get(url))  # sanity: staff may choose her
    ramonville = demo["structures"]["ramonville"]
    own = {
        "referent": Activite.objects.actives().filter(structure=ramonville),
        "conseiller": Activite.objects.actives().filter(conseiller=demo["ines"]),
        "autre_conseiller": Activite.objects.actives().filter(conseiller=demo["nadia"]),
    }
    for role, expected in own.items():
        _as(client, demo, role)
        response = client.get(url)
        assert response.status_code == 200
        stats = response.context["stats"]
        assert stats.chiffres["activites"] == expected.filter(date__gte=stats.start, date__lte=stats.end).count()
        assert str(sarah.uuid) not in _text(response), role
        assert client.get(f"{url}?conseiller={sarah.uuid}").status_code == 404, role
    # Nadia (CCAS) cannot ask for Inès's (A) figures either.
    _as(client, demo, "autre_conseiller")
    assert client.get(f"{url}?conseiller={demo['ines'].uuid}").status_code == 404


def test_followed_people_lists_are_their_conseillers_own(client, demo):
    url = reverse("accompagnements:beneficiaires")
    b = str(demo["b"]["beneficiaire"].uuid)
    assert b in _text(_as(client, demo, "sarah").get(url))  # sanity
    for role in ("conseiller", "autre_conseiller"):
        text = _text(_as(client, demo, role).get(url))
        assert b not in text and "Sicovalienne" not in text, role
    assert str(demo["a"]["beneficiaire"].uuid) not in _text(_as(client, demo, "autre_conseiller").get(url))
    # Nadia (CCAS) gets 404 on the person Inès (A) follows.
    for name in ("accompagnements:beneficiaire", "accompagnements:beneficiaire_edit"):
        assert client.get(reverse(name, args=[demo["a"]["beneficiaire"].uuid])).status_code == 404


def test_conseillere_cannot_attach_b_people_nor_duplicate_b_activities(client, demo):
    _as(client, demo, "conseiller")
    b = demo["b"]
    before = _snapshot()
    payload = _valid_posts(demo)["accompagnements:create"]
    response = client.post(reverse("accompagnements:create"), {**payload, "beneficiaire": b["beneficiaire"].pk})
    assert response.status_code == 400
    collectif = {**payload, "type": "collectif", "anonymes": "2", "beneficiaires": [b["beneficiaire"].pk]}
    assert client.post(reverse("accompagnements:create"), collectif).status_code == 400
    assert _snapshot() == before
    response = client.get(f"{reverse('accompagnements:create')}?beneficiaire={b['beneficiaire'].uuid}")
    assert response.status_code == 200 and "Sicovalienne" not in _text(response)
    assert client.get(f"{reverse('accompagnements:create')}?depuis={b['activite'].uuid}").status_code == 404
    for role in ("conseiller", "autre_conseiller"):
        _as(client, demo, role)
        for name in ("accompagnements:detail", "accompagnements:edit"):
            activite = demo["a"]["activite"] if role == "autre_conseiller" else b["activite"]
            assert client.get(reverse(name, args=[activite.uuid])).status_code == 404, (role, name)


def test_workshop_list_never_carries_b_rows(client, demo):
    b = demo["b"]
    markers = [str(b["atelier"].uuid), *(str(b[k].uuid) for k in ("seance", "seance2", "seance_reservee"))]
    url = reverse("ateliers:gestion_ateliers") + "?periode=toutes"
    text = _text(_as(client, demo, "staff").get(url))
    assert all(marker in text for marker in markers)  # sanity
    for role in [*NON_STAFF, "referent_ccas"]:
        text = _text(_as(client, demo, role).get(url))
        assert [marker for marker in markers if marker in text] == [], role
        assert "Atelier B du Sicoval" not in text, role
    # The référent of A cannot filter on B's structure.
    _as(client, demo, "referent")
    response = client.get(f"{url}&structure={demo['structures']['sicoval'].uuid}")
    assert response.status_code == 400
    assert "Atelier B du Sicoval" not in _text(response)


def test_facilitator_sees_only_her_sessions(client, demo):
    """Inès facilitates sessions of the Sicoval (the demo's): she reaches those, not the other sessions of a workshop
    she facilitates, and she plans nothing for a programme she does not manage (403)."""
    a = demo["a"]
    _as(client, demo, "conseiller")
    assert client.get(reverse("ateliers:gestion_seance", args=[a["seance_ines"].uuid])).status_code == 200
    assert client.get(reverse("ateliers:gestion_seance", args=[a["seance_bus"].uuid])).status_code == 404
    response = client.get(reverse("ateliers:gestion_atelier", args=[a["atelier"].uuid]))
    assert response.status_code == 200 and str(a["seance_bus"].uuid) not in _text(response)
    before = _snapshot()
    atelier = a["seance_ines"].atelier
    payloads = _valid_posts(demo)
    for name in ("ateliers:gestion_seance_create", "ateliers:gestion_atelier_edit"):
        url = reverse(name, args=[atelier.uuid])
        assert client.get(url).status_code == 403, name
        payload = {**payloads[name], "lieu": str(a["seance_ines"].lieu.uuid)}
        assert client.post(url, payload).status_code == 403, name
    assert _snapshot() == before
    # The référent of A manages A's bus session, and gets 404 on the Sicoval's session his conseillère facilitates.
    _as(client, demo, "referent")
    assert client.get(reverse("ateliers:gestion_seance", args=[a["seance_bus"].uuid])).status_code == 200
    assert client.get(reverse("ateliers:gestion_seance", args=[a["seance_ines"].uuid])).status_code == 404


def test_referent_cannot_create_for_b_nor_pick_b_people(client, demo):
    _as(client, demo, "referent")
    before = _snapshot()
    payloads = _valid_posts(demo)
    assert (
        client.post(reverse("ateliers:gestion_atelier_create"), payloads["ateliers:gestion_atelier_create"]).status_code
        == 400
    )
    payload = {
        **payloads["ateliers:gestion_seance_create"],
        "animateur": str(demo["accounts"]["sarah"].uuid),
    }
    url = reverse("ateliers:gestion_seance_create", args=[demo["a"]["atelier"].uuid])
    assert client.post(url, payload).status_code == 400
    assert _snapshot() == before


def test_pass_lists_never_carry_b_rows(client, demo):
    b = demo["b"]
    # Uuids and a pass number, not a booklet number: the use form's help text cites one as an example.
    markers = [str(b["commande"].uuid), str(b["carnet"].uuid), b["pass"].numero]
    text = _text(_as(client, demo, "staff").get(reverse("ateliers:pass_stock")))
    assert str(b["commande"].uuid) in text  # sanity
    _as(client, demo, "referent_ccas")
    for name in ("ateliers:pass_stock", "ateliers:pass_utiliser"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        text = _text(response)
        assert [m for m in markers if m in text] == [], name
        assert str(b["inscription"].uuid) not in text
    before = _snapshot()
    assert (
        client.post(reverse("ateliers:pass_utiliser"), _valid_posts(demo)["ateliers:pass_utiliser"]).status_code == 400
    )
    assert _snapshot() == before


# --- Public routes ---------------------------------------------------------------------------------------------------
def _token(inscription):
    return ateliers_services.cancel_token(inscription)


def test_public_pages_are_open_to_anonymous_users(client, demo):
    b = demo["b"]
    token = _token(b["inscription"])
    urls = [
        reverse("ateliers:agenda"),
        reverse("ateliers:agenda_ics"),
        reverse("ateliers:seance_publique", args=[b["seance"].uuid]),
        reverse("ateliers:inscription", args=[b["seance"].uuid]),
        reverse("ateliers:confirmation", args=[token]),
        reverse("ateliers:inscription_ics", args=[token]),
        reverse("ateliers:annuler", args=[token]),
        reverse("accompagnements:partage_public", args=[b["partage"].token]),
    ]
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)
    # The person holding the link of a registration to a reserved session reaches its own pages.
    token = _token(b["inscription_reservee"])
    assert client.get(reverse("ateliers:confirmation", args=[token])).status_code == 200


@pytest.mark.parametrize("role", ["anonymous", "aidant", "referent"])
def test_reserved_session_has_no_public_page(client, demo, role):
    """A session reserved to a partner (the CCAS) is on no public page, for anybody (the CCAS's aidant included)."""
    b = demo["b"]
    _as(client, demo, role)
    reservee = str(b["seance_reservee"].uuid)
    assert reservee not in _text(client.get(reverse("ateliers:agenda")))
    assert reservee not in _text(client.get(reverse("ateliers:agenda_ics")))
    assert str(b["seance"].uuid) in _text(client.get(reverse("ateliers:agenda")))  # sanity: the public one is
    before = _snapshot()
    for name in ("ateliers:seance_publique", "ateliers:inscription"):
        assert client.get(reverse(name, args=[reservee])).status_code == 404, name
    person = {"prenom": "Public", "nom": "Curieux", "email": "curieux@example.org", "consentement": "on"}
    assert client.post(reverse("ateliers:inscription", args=[reservee]), person).status_code == 404
    assert client.post(reverse("ateliers:seance_publique", args=[reservee]), person).status_code == 405
    assert _snapshot() == before


def _bad_tokens(inscription):
    token = _token(inscription)
    last = "A" if token[-1] != "A" else "B"
    return [
        token[:-1] + last,  # tampered signature
        token[:-6],  # truncated
        token + "x",
        signing.dumps(str(inscription.uuid), salt="autre.usage", compress=True),  # signed for something else
        signing.dumps(str(uuid.uuid4()), salt=ateliers_services.inscriptions.CANCEL_SALT, compress=True)[:-1] + last,
        str(inscription.uuid),
        "x",
        "0" * 5000,
        NUL,
        f"a{NUL}b",
        "é" * 10,
        "..",
        HUGE,
    ]


@pytest.mark.parametrize("name", ["ateliers:confirmation", "ateliers:inscription_ics", "ateliers:annuler"])
def test_tampered_registration_tokens_are_404_and_cancel_nothing(client, demo, name):
    inscription = demo["b"]["inscription"]
    before = _snapshot()
    wrong = []
    for token in _bad_tokens(inscription):
        url = reverse(name, args=[token])
        for method in ("get", "post"):
            got = getattr(client, method)(url).status_code
            if got != (404 if method == "get" or name == "ateliers:annuler" else 405):
                wrong.append((repr(token[:20]), method, got))
    assert wrong == []
    assert _snapshot() == before
    # A registration of a session whose page is reserved: the valid link works, a known uuid gives nothing.
    unknown = signing.dumps(str(uuid.uuid4()), salt=ateliers_services.inscriptions.CANCEL_SALT, compress=True)
    assert client.get(reverse(name, args=[unknown])).status_code == 404


def test_valid_cancellation_link_cancels_only_its_registration(client, demo):
    """Positive control of the test above: the genuine link does cancel (and only that registration)."""
    inscription = demo["b"]["inscription"]
    response = client.post(reverse("ateliers:annuler", args=[_token(inscription)]))
    assert response.status_code == 302
    statuts = dict(Inscription.objects.values_list("pk", "statut"))
    assert statuts.pop(inscription.pk) == "annulee"
    assert "annulee" not in statuts.values()


def test_share_links_tampered_or_revoked_are_404(client, demo):
    partage = demo["b"]["partage"]
    url = reverse("accompagnements:partage_public", args=[partage.token])
    assert client.get(url).status_code == 200
    token = partage.token
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-1], token + "x", "x", "0" * 5000, "é", ".."):
        assert client.get(reverse("accompagnements:partage_public", args=[bad])).status_code == 404, bad
    cra_services.partage_revoke(partage=partage, by=demo["accounts"]["sarah"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("token", [NUL, f"a{NUL}b"], ids=["nul", "nul-inside"])
def test_share_link_with_a_nul_character_is_404(client, demo, request, token):
    assert client.get(reverse("accompagnements:partage_public", args=[token])).status_code == 404


# --- Garbage input ---------------------------------------------------------------------------------------------------
def test_non_uuid_and_unknown_uuid_ids_are_404(client, demo):
    wrong = []
    for name, _kind, get, post in OBJECT_ROUTES:
        _as(client, demo, OWNER.get(name, "staff"))
        key = uuid.uuid4()
        unknown = reverse(name, args=[key])
        variants = [str(key).replace("-", "", 1), "pas-un-uuid", key.hex, str(key).upper(), HUGE, "%00"]
        for url in (unknown, *(unknown.replace(str(key), variant) for variant in variants)):
            for method, allowed in (("get", get), ("post", post)):
                got = getattr(client, method)(url).status_code
                # An unknown identifier is 404 (405 on a method the route never answers); a malformed one is 404.
                if got != (405 if url == unknown and not allowed else 404):
                    wrong.append((name, url, method, got))
    assert wrong == []
    _as(client, demo, "staff")
    for path in ("/activites/%00/", "/gestion/ateliers/seances/123/", f"/gestion/pass/carnets/{HUGE}/remise/"):
        assert client.get(path).status_code == 404, path


BAD_ACTIVITY_FILTERS = [
    "du=2024-13-45",
    "au=99999-01-01",
    "du=2025-12-31&au=2025-01-01",
    "type=zz",
    "thematique=zz",
    "type_lieu=%00",
    "commune=" + HUGE,
    "commune=%00",
    "conseiller=pas-un-uuid",
    "conseiller=" + HUGE,
    "conseiller=%00",
]
BAD_QUERIES = {
    "accompagnements:list": (["staff", "referent"], BAD_ACTIVITY_FILTERS),
    "accompagnements:export_csv": (["staff", "referent"], BAD_ACTIVITY_FILTERS),
    "accompagnements:export_xlsx": (["staff", "referent"], BAD_ACTIVITY_FILTERS),
    "accompagnements:statistiques": (
        ["staff", "referent", "conseiller"],
        ["du=2024-13-45", "au=99999-01-01", "du=0001-01-01", "du=2025-12-31&au=2025-01-01", "conseiller=x"]
        + ["conseiller=" + HUGE, "conseiller=%00", "du=%00"],
    ),
    "ateliers:gestion_ateliers": (
        ["staff", "referent", "conseiller", "aidant"],
        ["q=%00", "q=" + "x" * 5000, "structure=x", "structure=" + HUGE, "structure=%00", "thematique=zz"]
        + ["public=zz", "periode=zz", "periode=%00"],
    ),
    "ateliers:agenda": (
        ["anonymous"],
        ["commune=%00", "commune=99999", "commune=" + HUGE, "theme=zz", "public=zz", "du=2024-13-45"]
        + ["au=1900-01-01", "du=99999-01-01", "du=2030-01-01&au=2029-01-01", "theme=%00"],
    ),
    "ateliers:agenda_ics": (
        ["anonymous"],
        ["commune=%00", "commune=99999", "commune=" + HUGE, "theme=zz", "public=zz", "du=2024-13-45"]
        + ["au=1900-01-01", "du=99999-01-01", "du=2030-01-01&au=2029-01-01", "theme=%00"],
    ),
    "notifications:list": (
        ["staff"],
        ["statut=zz", "type=zz", "du=x", "au=99999-01-01", "du=0001-01-01", "destinataire=%00", "destinataire=x"]
        + ["type=%00", "destinataire=" + "x" * 500 + "@example.org"],
    ),
}
PAGE_QUERIES = ["page=" + HUGE, "page=-1", "page=%00", "page=abc", "page_ateliers=" + HUGE]


@pytest.mark.parametrize("name", list(BAD_QUERIES))
def test_garbage_query_strings_answer_400(client, demo, name):
    roles, queries = BAD_QUERIES[name]
    wrong = []
    for role in roles:
        _as(client, demo, role)
        for query in queries:
            response = client.get(f"{reverse(name)}?{query}")
            if response.status_code != 400:
                wrong.append((role, query[:40], response.status_code))
            elif role != "staff" and str(demo["b"]["activite"].uuid) in _text(response):
                wrong.append((role, query[:40], "B's row"))
        for query in PAGE_QUERIES:  # a page out of range shows the last one (Django's get_page)
            got = client.get(f"{reverse(name)}?{query}").status_code
            if got != 200:
                wrong.append((role, query[:40], got))
    assert wrong == []


def test_garbage_query_strings_on_other_pages_never_500(client, demo):
    """Query strings that are not filters (page numbers, pre-filled values, links back) are ignored or refused."""
    b = demo["b"]
    cases = [
        ("staff", reverse("ateliers:pass_stock") + "?page=%00", {200}),
        ("staff", reverse("ateliers:pass_rembourser") + "?lieu=%00&mois=%00", {200}),
        ("staff", reverse("ateliers:pass_rembourser") + f"?lieu={HUGE}&mois=99999-99", {200}),
        ("staff", reverse("ateliers:pass_commande", args=[b["commande"].uuid]) + f"?page={HUGE}", {200}),
        ("staff", reverse("ateliers:gestion_atelier", args=[b["atelier"].uuid]) + "?page=%00", {200}),
        ("staff", reverse("notifications:detail", args=[b["email"].uuid]) + "?next=%00", {200}),
        ("staff", reverse("notifications:detail", args=[b["email"].uuid]) + "?next=https://evil.example/", {200}),
        ("conseiller", reverse("accompagnements:create") + "?depuis=x", {404}),
        ("conseiller", reverse("accompagnements:create") + "?depuis=%00", {404}),
        ("conseiller", reverse("accompagnements:create") + f"?depuis={HUGE}", {404}),
        ("conseiller", reverse("accompagnements:create") + "?beneficiaire=%00&type=zz", {200}),
        ("conseiller", reverse("accompagnements:beneficiaires") + f"?q=%00&page={HUGE}", {200}),
        ("conseiller", reverse("accompagnements:beneficiaire_create") + "?next=%00", {200}),
    ]
    wrong = []
    for role, url, expected in cases:
        got = _as(client, demo, role).get(url).status_code
        if got not in expected:
            wrong.append((role, url[:80], got))
    assert wrong == []


def _bad_posts(demo):
    b = demo["b"]
    inscription = b["inscription_passee"]
    lieu = str(b["lieu"].uuid)
    return {
        "accompagnements:create": [
            {
                "type": "zz",
                "date": "2024-13-45",
                "duree_choix": HUGE,
                "duree_autre": HUGE,
                "type_lieu": "x",
                "lieu": HUGE,
                "commune": HUGE,
                "thematiques": ["x", NUL],
                "beneficiaire": HUGE,
                "beneficiaires": [HUGE],
                "anonymes": HUGE,
                "notes": NUL,
                "rep_genre_feminin": HUGE,
            },
            {"type": "individuel", "date": "2025-01-01", "duree_choix": "30", "type_lieu": "lieu_activite"}
            | {"lieu": NUL, "commune": NUL, "beneficiaire": NUL, "thematiques": ["email"]},
            {"type": "collectif", "date": "9999-12-31", "duree_choix": "autre", "duree_autre": "-5"}
            | {"type_lieu": "domicile", "thematiques": ["email"], "beneficiaires": [HUGE, NUL, "x"]},
        ],
        "accompagnements:edit": [
            {"type": "zz", "date": "2024-13-45", "duree_choix": HUGE, "lieu": HUGE, "commune": HUGE}
            | {"beneficiaire": HUGE, "notes": NUL},
            {"type": "individuel", "date": "0001-01-01", "duree_choix": "30", "type_lieu": "domicile"}
            | {"commune": HUGE, "thematiques": ["email"]},
        ],
        "accompagnements:partage_create": [
            {"partage-date_debut": "0000-00-00", "partage-date_fin": "99999-01-01", "partage-libelle": NUL},
            {"partage-date_debut": "1000-01-01", "partage-date_fin": "9999-12-31"},
        ],
        "accompagnements:beneficiaire_create": [
            {"prenom": NUL, "nom": "x" * 5000, "annee_naissance": HUGE, "telephone": "abc", "email": "pas-un-mail"}
            | {
                "commune_residence": HUGE,
                "genre": "zz",
                "tranche_age": "zz",
                "statut_social": "zz",
                "consentement": "on",
            },
            {"prenom": "A", "nom": "B", "annee_naissance": "-" + HUGE, "commune_residence": NUL, "consentement": "on"},
        ],
        "accompagnements:beneficiaire_edit": [
            {"prenom": NUL, "nom": "", "annee_naissance": HUGE, "commune_residence": HUGE, "genre": "zz"},
        ],
        "ateliers:gestion_atelier_create": [
            {"structure": "x", "titre": NUL, "thematiques": "zz", "publics": "zz", "duree": HUGE, "niveau": "zz"},
            {"structure": HUGE, "titre": "T", "thematiques": [NUL], "publics": [NUL], "duree": "-" + HUGE},
        ],
        "ateliers:gestion_atelier_edit": [
            {"titre": "", "thematiques": ["email", "email"], "publics": "x", "duree": "-1"},
            {"titre": "T", "thematiques": ["email"], "publics": ["tout_public"], "duree": HUGE, "niveau": NUL},
        ],
        "ateliers:gestion_seance_create": [
            {"date": "2024-13-45", "heure_debut": "25:99", "lieu": "x", "arret": HUGE, "capacite": HUGE}
            | {"animateur": "00000000-0000-0000-0000-000000000000", "nombre": HUGE, "reservee_a": NUL},
            {"date": "2030-01-01", "heure_debut": "10:00", "lieu": NUL, "arret": NUL, "animateur": NUL}
            | {"capacite": "5", "nombre": "1"},
            {"date": "2030-01-01", "heure_debut": "10:00", "lieu": lieu, "capacite": HUGE, "nombre": "-1"},
            {"date": "2020-01-01", "heure_debut": "10:00", "lieu": lieu, "capacite": "5", "nombre": "1"},
        ],
        "ateliers:gestion_seance_edit": [
            {"date": "2024-13-45", "heure_debut": "25:99", "lieu": "x", "capacite": HUGE, "reservee_a": NUL},
            {"date": "2030-01-01", "heure_debut": "10:00", "lieu": lieu, "capacite": "5", "reservee_a": HUGE},
        ],
        "ateliers:gestion_seance_cancel": [{"motif": "x" * 5000}, {"motif": NUL}, {}],
        "ateliers:gestion_inscrire": [
            {"prenom": NUL, "nom": "", "telephone": "abc", "email": "x", "genre": "zz", "commune": HUGE},
            {"prenom": "a", "nom": "b", "telephone": "0" * 15, "commune": NUL, "tranche_age": "zz"}
            | {"consentement": "on"},
        ],
        "ateliers:gestion_inscription_move": [
            {"seance": "x"},
            {"seance": HUGE},
            {"seance": NUL},
            {"seance": str(demo["a"]["seance_bus"].uuid)},  # another workshop's session
            {},
        ],
        "ateliers:gestion_appel": [
            {f"presence_{inscription.uuid}": "zz"},
            {f"presence_{inscription.uuid}": NUL, "action": "cloturer"},
        ],
        "ateliers:gestion_appel_sur_place": [
            {"prenom": NUL, "nom": "x" * 500, "telephone": HUGE, "commune": HUGE},
            {"prenom": "a", "nom": "b", "email": "pas-un-mail", "genre": NUL, "commune": NUL},
        ],
        "ateliers:pass_commande_create": [
            {"financeur": "x", "date_commande": "2024-13-45", "nombre": HUGE, "valeur_faciale": "NaN"}
            | {"taille_carnet": "7", "annee": HUGE, "reference": NUL},
            {"financeur": str(b["financeur"].uuid), "date_commande": "2026-01-01", "nombre": "10"}
            | {"valeur_faciale": HUGE, "taille_carnet": "10", "annee": "-5"},
        ],
        "ateliers:pass_carnets_attribuer": [
            {"distributeur": HUGE, "carnets": ["x", NUL]},
            {"distributeur": NUL, "carnets": [HUGE]},
            {"distributeur": str(demo["structures"]["ramonville"].uuid), "carnets": [str(b["carnet_libre"].uuid)]},
        ],
        "ateliers:pass_carnet_remettre": [
            {"distributeur": "x", "categorie": "zz", "date": "2024-02-30"},
            {"distributeur": NUL, "categorie": NUL, "date": "9999-12-31"},
        ],
        "ateliers:pass_utiliser": [
            {"numero": NUL, "inscription": HUGE, "date": "x"},
            {"numero": "x" * 5000, "inscription": NUL, "date": "0001-01-01"},
            {"numero": b["pass"].numero, "inscription": str(b["inscription"].uuid), "date": "9999-12-31"},
        ],
        "ateliers:pass_rembourser": [
            {"lieu": "x", "mois": "2026-13", "date": "x"},
            {"lieu": NUL, "mois": "9999-12", "date": "9999-12-31"},
            {"lieu": HUGE, "mois": "99999999999999-01", "date": "0001-01-01"},
        ],
        "ateliers:pass_annuler": [{"numero": "x" * 5000, "motif": NUL}, {"numero": NUL}, {"numero": "2026-ZZZ-001-01"}],
        "ateliers:inscription": [
            {"prenom": NUL, "nom": "x" * 5000, "email": "x", "telephone": "abc", "commune": HUGE}
            | {"tranche_age": "zz", "consentement": "on"},
            {"prenom": "a", "nom": "b", "email": "a@b.fr", "commune": NUL, "tranche_age": NUL}
            | {"consentement": "on", "site_web": NUL},
            {"prenom": "a", "nom": "b", "telephone": HUGE, "consentement": "on"},
            {},
        ],
    }


GARBAGE_ROUTES = [
    ("accompagnements:create", None),
    ("accompagnements:edit", "activite"),
    ("accompagnements:partage_create", None),
    ("accompagnements:beneficiaire_create", None),
    ("accompagnements:beneficiaire_edit", "beneficiaire"),
    ("ateliers:gestion_atelier_create", None),
    ("ateliers:gestion_atelier_edit", "atelier"),
    ("ateliers:gestion_seance_create", "atelier"),
    ("ateliers:gestion_seance_edit", "seance"),
    ("ateliers:gestion_seance_cancel", "seance"),
    ("ateliers:gestion_inscrire", "seance"),
    ("ateliers:gestion_inscription_move", "inscription"),
    ("ateliers:gestion_appel", "seance_passee"),
    ("ateliers:gestion_appel_sur_place", "seance_passee"),
    ("ateliers:pass_commande_create", None),
    ("ateliers:pass_carnets_attribuer", "commande"),
    ("ateliers:pass_carnet_remettre", "carnet"),
    ("ateliers:pass_utiliser", None),
    ("ateliers:pass_rembourser", None),
    ("ateliers:pass_annuler", None),
    ("ateliers:inscription", "seance"),
]


@pytest.mark.parametrize(("name", "kind"), GARBAGE_ROUTES, ids=[route[0] for route in GARBAGE_ROUTES])
def test_garbage_posts_answer_400_and_write_nothing(client, demo, name, kind):
    """The owner of the object (Sarah for her activity log, staff elsewhere, anybody for the public registration)
    posts unknown choices, huge numbers, NUL characters, impossible dates: 400 with the form, nothing written."""
    role = "anonymous" if name == "ateliers:inscription" else OWNER.get(name, "staff")
    _as(client, demo, role)
    url = _url(demo, name, kind)
    before = _snapshot()
    wrong = []
    for payload in _bad_posts(demo)[name]:
        got = client.post(url, payload).status_code
        if got != 400:
            wrong.append(({key: str(value)[:12] for key, value in payload.items()}, got))
    assert wrong == []
    assert _snapshot() == before


FAR_FUTURE = {
    "one-session-ending-after-9999": ("ateliers:gestion_seance_create", {"date": "9999-12-31", "heure_debut": "23:30"}),
    "weekly-cycle-beyond-9999": (
        "ateliers:gestion_seance_create",
        {"date": "9999-12-01", "heure_debut": "10:00", "nombre": "52"},
    ),
    "session-moved-to-9999": ("ateliers:gestion_seance_edit", {"date": "9999-12-31", "heure_debut": "23:30"}),
}


@pytest.mark.parametrize("case", list(FAR_FUTURE))
def test_far_future_session_dates_answer_400(client, demo, case):
    name, fields = FAR_FUTURE[case]
    kind = "atelier" if name.endswith("create") else "seance"
    payload = {"lieu": str(demo["b"]["lieu"].uuid), "capacite": "5", "nombre": "1", "publique": "on", **fields}
    _as(client, demo, "staff")
    before = _snapshot()
    assert client.post(_url(demo, name, kind), payload).status_code == 400
    assert _snapshot() == before
