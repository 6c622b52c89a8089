"""Pass numérique pages: the stock page's figures and amounts to the cent, scoped to staff, a distributor's référent
and a qualified place's référent (others get 403, objects out of reach 404); every form's happy path and its
refusal (400, a French message, nothing written, never a 500); and query counts independent of the number of
booklets."""

import datetime
import html
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.models import Role
from ateliers import services
from ateliers.models import Carnet, CommandePass, StatutPass
from financements.services import euros
from tests import factories
from tests.ateliers.test_pass import (
    NOW,
    USED,
    carnets_of,
    hand_out,
    make_commande,
    make_distributeur,
    make_inscription,
    make_lieu_qualifie,
    passes_of,
    refresh,
    snapshot,
    use,
)

pytestmark = pytest.mark.django_db

D = datetime.date
S = StatutPass


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Helpers -------------------------------------------------------------------------------------------------------
def text(response):
    return html.unescape(response.content.decode())


def plain(response):
    return re.sub(r"[ \t\r\n]+", " ", strip_tags(text(response))).strip()


def table_rows(response, table_id):
    """The rows (lists of cell texts) of the body and foot of the table whose caption has that id."""
    content = text(response)
    start = content.index(f'id="{table_id}"')
    block = content[start : content.index("</table>", start)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", block, flags=re.S):
        cells = [
            re.sub(r"[ \t\r\n]+", " ", strip_tags(cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows.append(cells)
    return rows[1:]  # without the header row


def login(client, user):
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"ateliers:{name}", args=args)


@pytest.fixture
def staff(db):
    return factories.StaffUserFactory()


@pytest.fixture
def world(staff):
    """An AG2R order of 20 passes of 12,50 € (4 booklets of 5): two booklets entrusted to distributor D, one handed
    out; two passes used at place A (one reimbursed), one at place B."""
    commande = make_commande(staff, nombre=20, valeur="12.50", taille=5)
    distributeur, referent_d = make_distributeur(nom="Mission locale")
    lieu_a, referent_a = make_lieu_qualifie(nom="Médiathèque")
    lieu_b, referent_b = make_lieu_qualifie(nom="Tiers-lieu")
    c1, c2, c3, c4 = carnets_of(commande)
    services.carnets_attribuer(carnets=[c1, c2], distributeur=distributeur, by=staff)
    hand_out(c1, staff)
    p = passes_of(c1)
    use(p[0], lieu_a, staff, date=D(2026, 2, 10))
    use(p[1], lieu_a, staff, date=D(2026, 3, 2))
    use(p[2], lieu_b, staff, date=D(2026, 3, 3))
    services.pass_rembourser(passes=[p[0]], date=D(2026, 3, 5), by=staff)
    return {
        "commande": commande,
        "carnets": [c1, c2, c3, c4],
        "passes": p,
        "distributeur": distributeur,
        "referent_d": referent_d,
        "lieu_a": lieu_a,
        "referent_a": referent_a,
        "lieu_b": lieu_b,
        "referent_b": referent_b,
    }


def outsider(kind):
    if kind == "referent":
        return factories.MembershipFactory(role=Role.REFERENT).user
    if kind == "conseiller":
        return factories.MembershipFactory(
            role=Role.CONSEILLER, structure=factories.StructureFactory(distributeur_pass=True)
        ).user
    if kind == "aidant":
        return factories.MembershipFactory(role=Role.AIDANT).user
    return factories.MembershipFactory(role=Role.FINANCEUR).user


def every_url(world):
    return [
        url("pass_stock"),
        url("pass_commande_create"),
        url("pass_commande", world["commande"].uuid),
        url("pass_carnets_attribuer", world["commande"].uuid),
        url("pass_carnet_remettre", world["carnets"][1].uuid),
        url("pass_utiliser"),
        url("pass_rembourser"),
        url("pass_annuler"),
    ]


# --- Access --------------------------------------------------------------------------------------------------------
def test_anonymous_users_are_sent_to_the_login_page(client, world):
    for address in every_url(world):
        response = client.get(address)
        assert response.status_code == 302 and "/comptes/login/" in response["Location"], address


@pytest.mark.parametrize("kind", ["referent", "conseiller", "aidant", "financeur"])
def test_users_with_no_part_in_the_pass_get_403_or_404(client, world, kind):
    login(client, outsider(kind))
    before = snapshot()
    for address in every_url(world):
        assert client.get(address).status_code in (403, 404), address
        assert client.post(address, {"numero": world["passes"][3].numero}).status_code in (403, 404, 405), address
    assert snapshot() == before
    assert client.get(url("pass_stock")).status_code == 403


def test_distributor_referent_reaches_only_its_booklets(client, world, staff):
    other_commande = make_commande(staff, nombre=5, taille=5, financeur=factories.FinanceurFactory())
    login(client, world["referent_d"])
    response = client.get(url("pass_stock"))
    assert response.status_code == 200
    numeros = [row[0] for row in table_rows(response, "tableau-carnets")]
    assert numeros == [world["carnets"][0].numero, world["carnets"][1].numero]
    assert "Enregistrer une commande" not in plain(response)
    assert client.get(url("pass_commande", world["commande"].uuid)).status_code == 200
    assert client.get(url("pass_commande", other_commande.uuid)).status_code == 404
    assert client.get(url("pass_carnet_remettre", world["carnets"][2].uuid)).status_code == 404
    assert client.get(url("pass_carnet_remettre", carnets_of(other_commande)[0].uuid)).status_code == 404
    for name in ("pass_commande_create", "pass_rembourser", "pass_annuler", "pass_utiliser"):
        assert client.get(url(name)).status_code == 403, name
    assert client.get(url("pass_carnets_attribuer", world["commande"].uuid)).status_code == 403


def test_place_referent_sees_its_used_passes_only(client, world):
    login(client, world["referent_a"])
    response = client.get(url("pass_stock"))
    assert response.status_code == 200
    used = table_rows(response, "tableau-utilises")
    assert [row[0] for row in used] == [world["passes"][1].numero, world["passes"][0].numero]
    assert used[1][-1] == "Remboursé le 05/03/2026"
    assert table_rows(response, "tableau-a-rembourser") == [
        ["mars 2026", "Médiathèque", world["lieu_a"].structure.nom, "1", euros("12.50")],
        ["Total à rembourser", euros("12.50")],
    ]
    assert world["lieu_b"].nom not in plain(response)
    assert client.get(url("pass_carnet_remettre", world["carnets"][1].uuid)).status_code == 404
    assert client.get(url("pass_commande", world["commande"].uuid)).status_code == 200
    assert client.get(url("pass_rembourser")).status_code == 403


# --- The stock page ------------------------------------------------------------------------------------------------
def test_staff_stock_figures_and_amounts_to_the_cent(client, world, staff):
    services.pass_annuler(pass_numerique=passes_of(world["carnets"][3])[0], by=staff)
    login(client, staff)
    response = client.get(url("pass_stock"))
    assert response.status_code == 200
    label = f"{world['commande'].financeur.nom} — 15/01/2026"
    # ordered, handed out, used, reimbursed, expired, cancelled, left to hand out, handed out not used
    assert table_rows(response, "tableau-commandes") == [[label, "20", "5", "3", "1", "0", "1", "14", "2"]]
    assert table_rows(response, "tableau-montants") == [
        [label, euros("12.50"), "31/12/2026", "31/01/2027", euros("25.00"), euros("12.50"), euros("0.00")]
    ]
    assert euros("25.00") == "25,00\u00a0€"
    rows = table_rows(response, "tableau-a-rembourser")
    assert [row[:5] for row in rows[:2]] == [
        ["mars 2026", "Médiathèque", world["lieu_a"].structure.nom, "1", euros("12.50")],
        ["mars 2026", "Tiers-lieu", world["lieu_b"].structure.nom, "1", euros("12.50")],
    ]
    assert rows[2][:2] == ["Total à rembourser", euros("25.00")]
    link = f"{url('pass_rembourser')}?lieu={world['lieu_a'].uuid}&amp;mois=2026-03"
    assert link in response.content.decode()


def test_stock_after_expiry_shows_the_unused_value(client, world, staff):
    services.passes_expirer(today=D(2027, 2, 1))
    login(client, staff)
    response = client.get(url("pass_stock"))
    label = f"{world['commande'].financeur.nom} — 15/01/2026"
    assert table_rows(response, "tableau-commandes") == [[label, "20", "5", "3", "1", "17", "0", "0", "0"]]
    assert table_rows(response, "tableau-montants")[0][-1] == euros("212.50")


def test_order_page_lists_the_booklets_with_their_states(client, world, staff):
    login(client, staff)
    response = client.get(url("pass_commande", world["commande"].uuid))
    assert response.status_code == 200
    rows = table_rows(response, "tableau-carnets")
    c1, c2, c3, c4 = world["carnets"]
    assert rows[0][:10] == [c1.numero, "Mission locale", "5", "0", "2", "3", "0", "0", "01/02/2026", "Senior"]
    assert rows[0][-1] == "—"
    assert rows[1][:3] == [c2.numero, "Mission locale", "5"] and rows[1][-1].startswith("Remettre")
    assert rows[2][:2] == [c3.numero, "—"]
    assert table_rows(response, "tableau-etat") == [
        ["20", "5", "3", "1", "0", "0", "15", "2", euros("25.00"), euros("12.50"), euros("0.00")]
    ]


# --- Orders --------------------------------------------------------------------------------------------------------
def test_staff_record_an_order(client, staff):
    financeur = factories.FinanceurFactory(nom="AG2R La Mondiale")
    login(client, staff)
    assert client.get(url("pass_commande_create")).status_code == 200
    response = client.post(
        url("pass_commande_create"),
        {
            "financeur": financeur.uuid,
            "reference": "BC-12",
            "date_commande": "2026-01-15",
            "nombre": "100",
            "valeur_faciale": "10,00",
            "taille_carnet": "10",
            "annee": "",
        },
    )
    commande = CommandePass.objects.get()
    assert response.status_code == 302 and response["Location"] == url("pass_commande", commande.uuid)
    assert (commande.nombre, commande.valeur_faciale, commande.valide_jusqu_au) == (
        100,
        Decimal("10.00"),
        D(2026, 12, 31),
    )
    assert Carnet.objects.count() == 10
    page = client.get(response["Location"])
    assert "Commande enregistrée : 100 pass de 10,00\u00a0€ en 10 carnets" in text(page)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nombre": "cent"}, "Le nombre de pass est un nombre entier"),
        ({"nombre": "0"}, "Une commande compte au moins un pass."),
        ({"valeur_faciale": "-10"}, "La valeur d'un pass doit être supérieure à zéro."),
        ({"valeur_faciale": "10,001"}, "deux décimales au plus"),
        ({"valeur_faciale": "dix"}, "Saisissez un montant en euros"),
        ({"valeur_faciale": "99999999999"}, "La valeur d'un pass est trop grande."),
        ({"taille_carnet": "7"}, "Un carnet compte 10 ou 5 pass."),
        ({"date_commande": "31/02/2026"}, "Saisissez une date valide"),
        ({"date_commande": "2026-04-01"}, "ne peut pas être dans le futur"),
        ({"annee": "2031"}, "valables jusqu'au 31/12/2026 ou jusqu'au 31/12/2027"),
        ({"annee": "deux mille"}, "L'année s'écrit sur quatre chiffres"),
        ({"financeur": "pas-un-uuid"}, "Ce financeur n'est pas dans la liste."),
        ({"financeur": "00000000-0000-0000-0000-000000000000"}, "Ce financeur n'est pas dans la liste."),
        ({"reference": "x" * 101}, "La référence compte au plus 100 caractères."),
    ],
)
def test_a_refused_order_answers_400_in_french_and_writes_nothing(client, staff, data, message):
    financeur = factories.FinanceurFactory()
    login(client, staff)
    payload = {
        "financeur": financeur.uuid,
        "date_commande": "2026-01-15",
        "nombre": "100",
        "valeur_faciale": "10",
        "taille_carnet": "10",
    }
    payload.update(data)
    before = snapshot()
    response = client.post(url("pass_commande_create"), payload)
    assert response.status_code == 400
    assert message in text(response)
    assert "Le formulaire n'a pas pu être enregistré" in text(response)
    assert snapshot() == before


def test_only_staff_post_an_order(client, world):
    login(client, world["referent_d"])
    before = snapshot()
    assert client.post(url("pass_commande_create"), {"nombre": "10"}).status_code == 403
    assert snapshot() == before


def test_staff_entrust_booklets(client, world, staff):
    other, _ = make_distributeur(nom="France Travail")
    c3, c4 = world["carnets"][2:]
    login(client, staff)
    page = client.get(url("pass_carnets_attribuer", world["commande"].uuid))
    assert page.status_code == 200
    assert world["carnets"][0].numero not in plain(page)  # handed out: no longer offered
    response = client.post(
        url("pass_carnets_attribuer", world["commande"].uuid),
        {"distributeur": other.uuid, "carnets": [c3.uuid, c4.uuid]},
    )
    assert response.status_code == 302
    assert {refresh(c3).distributeur, refresh(c4).distributeur} == {other}
    before = snapshot()
    for data in (
        {"distributeur": other.uuid},
        {"distributeur": "x", "carnets": [c3.uuid]},
        {"distributeur": other.uuid, "carnets": ["garbage"]},
        {"distributeur": other.uuid, "carnets": [world["carnets"][0].uuid]},
    ):
        response = client.post(url("pass_carnets_attribuer", world["commande"].uuid), data)
        assert response.status_code == 400, data
        assert "Le formulaire n'a pas pu être enregistré" in text(response)
    assert snapshot() == before


# --- Handing out ---------------------------------------------------------------------------------------------------
def test_distributor_hands_out_a_booklet(client, world):
    c2 = world["carnets"][1]
    login(client, world["referent_d"])
    page = client.get(url("pass_carnet_remettre", c2.uuid))
    assert page.status_code == 200
    assert 'name="distributeur"' not in page.content.decode()  # the référent hands out for its own structure
    response = client.post(
        url("pass_carnet_remettre", c2.uuid), {"categorie": "demandeur_emploi", "date": "10/03/2026"}
    )
    assert response.status_code == 302
    c2 = refresh(c2)
    assert (c2.remis_le, c2.categorie) == (D(2026, 3, 10), "demandeur_emploi")
    assert {p.statut for p in passes_of(c2)} == {S.REMIS}
    # Handed out: the form is no longer offered.
    assert client.get(url("pass_carnet_remettre", c2.uuid)).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2026-03-10"}, "Choisissez le public"),
        ({"categorie": "etudiant", "date": "2026-03-10"}, "Choisissez le public"),
        ({"categorie": "senior", "date": "hier"}, "Saisissez une date valide"),
        ({"categorie": "senior", "date": "2026-03-11"}, "ne peut pas être dans le futur"),
        ({"categorie": "senior", "date": "2026-01-01"}, "ne peut pas précéder le 15/01/2026"),
        ({"categorie": "senior", "date": "9999-12-31"}, "ne peut pas être dans le futur"),
    ],
)
def test_a_refused_handing_out_answers_400(client, world, data, message):
    login(client, world["referent_d"])
    before = snapshot()
    response = client.post(url("pass_carnet_remettre", world["carnets"][1].uuid), data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


# --- Use -----------------------------------------------------------------------------------------------------------
def test_place_referent_records_a_pass(client, world, staff):
    hand_out(world["carnets"][1], staff)
    pass_numerique = passes_of(world["carnets"][1])[0]
    mine = make_inscription(world["lieu_a"], prenom="Odette", nom="Martin")
    theirs = make_inscription(world["lieu_b"], prenom="Lucien", nom="Durand")
    not_a_training = make_inscription(world["lieu_a"], formation_pass=False, prenom="Paul", nom="Petit")
    login(client, world["referent_a"])
    page = client.get(url("pass_utiliser"))
    assert page.status_code == 200
    content = text(page)
    assert "Odette Martin" in content
    assert "Lucien Durand" not in content and "Paul Petit" not in content
    response = client.post(
        url("pass_utiliser"),
        {"numero": f" {pass_numerique.numero.lower()} ", "inscription": mine.uuid, "date": "2026-03-10"},
    )
    assert response.status_code == 302
    assert (refresh(pass_numerique).statut, refresh(pass_numerique).inscription) == (S.UTILISE, mine)

    second = passes_of(world["carnets"][1])[1]
    another = make_inscription(world["lieu_a"])
    before = snapshot()
    for data, message in [
        (
            {"numero": pass_numerique.numero, "inscription": another.uuid, "date": "2026-03-10"},
            "a déjà été utilisé le 10/03/2026",
        ),
        (
            {"numero": "2026-AG2R-999-01", "inscription": another.uuid, "date": "2026-03-10"},
            "Aucun pass ne porte ce numéro",
        ),
        (
            {"numero": second.numero, "inscription": mine.uuid, "date": "2026-03-10"},
            "Cette inscription n'est pas dans la liste",
        ),
        (
            {"numero": second.numero, "inscription": theirs.uuid, "date": "2026-03-10"},
            "Cette inscription n'est pas dans la liste",
        ),
        (
            {"numero": second.numero, "inscription": not_a_training.uuid, "date": "2026-03-10"},
            "n'est pas dans la liste",
        ),
        ({"numero": second.numero, "inscription": "garbage", "date": "2026-03-10"}, "n'est pas dans la liste"),
        (
            {"numero": second.numero, "inscription": another.uuid, "date": "2026-03-11"},
            "ne peut pas être dans le futur",
        ),
        ({"numero": world["passes"][3].numero, "inscription": another.uuid, "date": "x"}, "Saisissez une date valide"),
        (
            {"numero": passes_of(world["carnets"][2])[0].numero, "inscription": another.uuid, "date": "2026-03-10"},
            "n'a pas encore été remis",
        ),
        ({"numero": "", "inscription": "", "date": ""}, "Indiquez le numéro du pass."),
    ]:
        response = client.post(url("pass_utiliser"), data)
        assert response.status_code == 400, data
        assert message in text(response), (data, plain(response))
    assert snapshot() == before


# --- Reimbursement and cancellation --------------------------------------------------------------------------------
def test_staff_reimburse_a_place_month_from_the_stock_line(client, world, staff):
    login(client, staff)
    address = f"{url('pass_rembourser')}?lieu={world['lieu_a'].uuid}&mois=2026-03"
    page = client.get(address)
    assert page.status_code == 200
    content = page.content.decode()
    assert f'value="{world["lieu_a"].uuid}" selected' in content
    assert 'value="2026-03"' in content
    response = client.post(
        url("pass_rembourser"), {"lieu": world["lieu_a"].uuid, "mois": "2026-03", "date": "2026-03-10"}
    )
    assert response.status_code == 302
    assert refresh(world["passes"][1]).statut == S.REMBOURSE
    assert refresh(world["passes"][2]).statut == S.UTILISE  # place B
    followed = client.get(response["Location"])
    assert f"Médiathèque, mars 2026 : 1 pass remboursé, {euros('12.50')}." in text(followed)


def test_a_refused_reimbursement_answers_400(client, world, staff):
    login(client, staff)
    assert client.get(f"{url('pass_rembourser')}?lieu=garbage&mois=13-2026").status_code == 200
    before = snapshot()
    for data, message in [
        (
            {"lieu": world["lieu_b"].uuid, "mois": "2026-02", "date": "2026-03-10"},
            "Aucun pass utilisé à Tiers-lieu en février 2026",
        ),
        ({"lieu": world["lieu_b"].uuid, "mois": "2026-13", "date": "2026-03-10"}, "Saisissez un mois"),
        ({"lieu": world["lieu_b"].uuid, "mois": "03/2026", "date": "2026-03-01"}, "ne peut pas précéder l'utilisation"),
        ({"lieu": "garbage", "mois": "2026-03", "date": "2026-03-10"}, "Ce lieu n'a aucun pass à rembourser."),
        ({}, "Indiquez le mois à rembourser."),
    ]:
        response = client.post(url("pass_rembourser"), data)
        assert response.status_code == 400, data
        assert message in text(response), (data, plain(response))
    assert snapshot() == before


def test_staff_cancel_a_pass(client, world, staff):
    login(client, staff)
    target = passes_of(world["carnets"][2])[0]
    response = client.post(url("pass_annuler"), {"numero": target.numero, "motif": "Pass abîmé"})
    assert response.status_code == 302
    assert refresh(target).statut == S.ANNULE
    before = snapshot()
    for data, message in [
        (
            {"numero": world["passes"][0].numero},
            "a déjà été utilisé puis remboursé le 05/03/2026 : impossible de l'annuler",
        ),
        ({"numero": target.numero}, "est annulé : impossible de l'annuler"),
        ({"numero": "inconnu"}, "Aucun pass ne porte ce numéro"),
        ({"numero": target.numero, "motif": "m" * 101}, "Le motif compte au plus 100 caractères."),
    ]:
        response = client.post(url("pass_annuler"), data)
        assert response.status_code == 400, data
        assert message in text(response)
    assert snapshot() == before


def test_pages_carry_no_inline_script_or_style(client, world, staff):
    login(client, staff)
    for address in every_url(world):
        content = client.get(address, follow=True).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", content), address
        assert " style=" not in content and "<style" not in content, address


# --- Query counts --------------------------------------------------------------------------------------------------
def _build(staff, booklets):
    """An order of ``booklets`` booklets of 5, all entrusted to one distributor and handed out; one pass of each used
    at one of the places of a qualified structure, half of them reimbursed."""
    commande = make_commande(staff, nombre=5 * booklets, taille=5, valeur="10.00")
    distributeur, referent_d = make_distributeur()
    structure = factories.StructureFactory(lieu_qualifie_pass=True)
    referent_l = factories.MembershipFactory(structure=structure, role=Role.REFERENT).user
    lieux = [factories.LieuFactory(structure=structure) for _ in range(min(booklets, 5))]
    carnets = carnets_of(commande)
    services.carnets_attribuer(carnets=carnets, distributeur=distributeur, by=staff)
    for index, carnet in enumerate(carnets):
        hand_out(carnet, staff)
        used = use(
            passes_of(carnet)[0], lieux[index % len(lieux)], staff, date=USED - datetime.timedelta(days=index % 20)
        )
        if index % 2:
            services.pass_rembourser(passes=[used], date=USED, by=staff)
        make_inscription(lieux[index % len(lieux)])  # a registration still waiting for its pass
    return {"staff": staff, "distributeur": referent_d, "lieu": referent_l, "commande": commande, "carnet": carnets[-1]}


def _count(client, user, address):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200, address
    return len(queries)


def _counts(client, built):
    pages = [
        ("staff", url("pass_stock")),
        ("distributeur", url("pass_stock")),
        ("lieu", url("pass_stock")),
        ("staff", url("pass_commande", built["commande"].uuid)),
        ("distributeur", url("pass_commande", built["commande"].uuid)),
        ("lieu", url("pass_utiliser")),
        ("staff", url("pass_utiliser")),
        ("staff", url("pass_carnets_attribuer", built["commande"].uuid)),
        ("staff", url("pass_rembourser")),
    ]
    return [_count(client, built[who], address) for who, address in pages]


def test_query_counts_do_not_grow_with_the_booklets(client, staff):
    small = _counts(client, _build(staff, 2))
    large = _counts(client, _build(factories.StaffUserFactory(), 20))
    assert small == large, (small, large)
    assert max(large) <= 12, large
