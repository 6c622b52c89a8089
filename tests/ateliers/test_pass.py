"""Pass numérique services: an order makes its numbered booklets and passes; every state change allowed by the life
of a pass (emis → remis → utilise → rembourse, expire, annule) and every other one refused with a French message and
nothing written; expiry at the tolerance date (31/01 still accepted, 01/02 expired); one pass per registration, also
under concurrency on PostgreSQL; the stock figures and amounts to the cent."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.models import Role
from ateliers import selectors_pass, services, tasks
from ateliers.models import Carnet, CategoriePass, CommandePass, PassNumerique, StatutPass
from financements.models import Financeur
from tests import factories

D = datetime.date
S = StatutPass
NOW = datetime.datetime(2026, 3, 10, 11, 0, tzinfo=datetime.UTC)  # 12:00 in Paris
ORDERED = D(2026, 1, 15)
HANDED = D(2026, 2, 1)
USED = D(2026, 3, 2)


# --- Helpers (also used by test_pass_pages) ------------------------------------------------------------------------
def ag2r():
    name = "AG2R La Mondiale"
    return Financeur.objects.filter(nom=name).first() or factories.FinanceurFactory(nom=name)


def make_commande(by, *, nombre=100, valeur="10.00", taille=10, date=ORDERED, financeur=None, **kwargs):
    return services.commande_create(
        financeur=financeur or ag2r(),
        date_commande=date,
        nombre=nombre,
        valeur_faciale=Decimal(valeur),
        taille_carnet=taille,
        by=by,
        **kwargs,
    )


def make_distributeur(**kwargs):
    """A distributor structure and one of its référents."""
    structure = factories.StructureFactory(distributeur_pass=True, **kwargs)
    return structure, factories.MembershipFactory(structure=structure, role=Role.REFERENT).user


def make_lieu_qualifie(*, nom=None, **kwargs):
    """A qualified place (named ``nom``) and a référent of its structure."""
    structure = factories.StructureFactory(lieu_qualifie_pass=True, **kwargs)
    lieu = factories.LieuFactory(structure=structure, **({"nom": nom} if nom else {}))
    return lieu, factories.MembershipFactory(structure=structure, role=Role.REFERENT).user


def make_inscription(lieu, *, formation_pass=True, **kwargs):
    """A confirmed registration to a session of a training payable with a pass, held at ``lieu``."""
    atelier = factories.AtelierFactory(structure=lieu.structure, formation_pass=formation_pass)
    seance = factories.SeanceFactory(atelier=atelier, lieu=lieu)
    return factories.InscriptionFactory(seance=seance, **kwargs)


def carnets_of(commande):
    return list(Carnet.objects.filter(commande=commande).order_by("numero"))


def passes_of(carnet):
    return list(PassNumerique.objects.filter(carnet=carnet).order_by("numero"))


def hand_out(carnet, by, *, distributeur=None, date=HANDED, categorie=CategoriePass.SENIOR):
    carnet = refresh(carnet)
    if distributeur is None:
        distributeur = carnet.distributeur or make_distributeur()[0]
    return services.carnet_remettre(carnet=carnet, distributeur=distributeur, categorie=categorie, date=date, by=by)


def use(pass_numerique, lieu, by, *, date=USED, inscription=None):
    return services.pass_utiliser(
        pass_numerique=pass_numerique, inscription=inscription or make_inscription(lieu), date=date, by=by
    )


def refresh(obj):
    obj.refresh_from_db()
    return obj


def snapshot():
    """Every row of the Pass numérique with its history, to prove that a refused change wrote nothing."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (
            CommandePass,
            Carnet,
            PassNumerique,
            CommandePass.history.model,
            Carnet.history.model,
            PassNumerique.history.model,
        )
    ]


def messages_of(error):
    return " ".join(error.value.messages)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(db):
    return factories.StaffUserFactory()


@pytest.fixture
def commande(staff):
    return make_commande(staff, nombre=20, taille=10)


@pytest.fixture
def lieu(db):
    return make_lieu_qualifie()[0]


@pytest.fixture
def pass_in_state(staff, lieu):
    """``pass_in_state(statut)``: a pass brought to that state through the services."""

    def _make(statut):
        commande = make_commande(staff, nombre=5, taille=5, financeur=factories.FinanceurFactory())
        carnet = carnets_of(commande)[0]
        first = passes_of(carnet)[0]
        if statut == S.ANNULE:
            services.pass_annuler(pass_numerique=first, by=staff)
        if statut in (S.REMIS, S.UTILISE, S.REMBOURSE):
            hand_out(carnet, staff)
        if statut in (S.UTILISE, S.REMBOURSE):
            use(first, lieu, staff)
        if statut == S.REMBOURSE:
            services.pass_rembourser(passes=[first], date=D(2026, 3, 5), by=staff)
        if statut == S.EXPIRE:
            services.passes_expirer(today=D(2027, 2, 1))
        first = refresh(first)
        assert first.statut == statut
        return first

    return _make


# --- Orders --------------------------------------------------------------------------------------------------------
def test_order_makes_numbered_booklets_and_passes_all_emis_with_history(staff):
    commande = make_commande(staff, nombre=100, taille=10, reference="BC-2026-04")
    assert (commande.valide_jusqu_au, commande.tolerance_jusqu_au) == (D(2026, 12, 31), D(2027, 1, 31))
    carnets = carnets_of(commande)
    assert [c.numero for c in carnets] == [f"2026-AG2R-{n:03d}" for n in range(1, 11)]
    assert [p.numero for p in passes_of(carnets[0])] == [f"2026-AG2R-001-{n:02d}" for n in range(1, 11)]
    assert PassNumerique.objects.filter(carnet__commande=commande).count() == 100
    assert set(PassNumerique.objects.values_list("statut", flat=True)) == {S.EMIS}
    assert all(c.distributeur is None and c.remis_le is None for c in carnets)
    assert PassNumerique.history.filter(history_user=staff, history_type="+").count() == 100
    assert Carnet.history.filter(history_user=staff).count() == 10
    assert commande.history.get().history_user == staff


def test_booklets_of_five_the_last_one_holds_the_remainder(staff):
    commande = make_commande(staff, nombre=12, taille=5)
    carnets = carnets_of(commande)
    assert [len(passes_of(c)) for c in carnets] == [5, 5, 2]
    assert passes_of(carnets[-1])[-1].numero == "2026-AG2R-003-02"


def test_numbers_continue_per_funder_and_year_and_a_given_year_sets_validity(staff):
    make_commande(staff, nombre=20)
    second = make_commande(staff, nombre=10)
    assert [c.numero for c in carnets_of(second)] == ["2026-AG2R-003"]
    other = make_commande(staff, nombre=10, financeur=factories.FinanceurFactory(nom="Département de la Haute-Garonne"))
    assert [c.numero for c in carnets_of(other)] == ["2026-DEPARTEMEN-001"]
    next_year = make_commande(staff, nombre=5, taille=5, annee=2027)
    assert [c.numero for c in carnets_of(next_year)] == ["2027-AG2R-001"]
    assert (next_year.valide_jusqu_au, next_year.tolerance_jusqu_au) == (D(2027, 12, 31), D(2028, 1, 31))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nombre": 0}, "nombre", "au moins un pass"),
        ({"nombre": 100_000}, "nombre", "au plus"),
        ({"nombre": "beaucoup"}, "nombre", "Indiquez le nombre"),
        ({"valeur": "0"}, "valeur_faciale", "supérieure à zéro"),
        ({"valeur": "-10"}, "valeur_faciale", "supérieure à zéro"),
        ({"valeur": "10.005"}, "valeur_faciale", "deux décimales"),
        ({"valeur": "NaN"}, "valeur_faciale", "pas un nombre"),
        ({"taille": 7}, "taille_carnet", "10 ou 5"),
        ({"annee": 2025}, "annee", "valables jusqu'au 31/12/2026 ou jusqu'au 31/12/2027"),
        ({"annee": 2028}, "annee", "valables jusqu'au 31/12/2026"),
        ({"date": D(2026, 3, 11)}, "date_commande", "futur"),
        ({"reference": "x" * 101}, "reference", "100 caractères"),
    ],
)
def test_order_refused_with_french_message_and_nothing_written(staff, overrides, field, message):
    financeur = factories.FinanceurFactory()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        make_commande(staff, financeur=financeur, **overrides)
    assert message in " ".join(error.value.message_dict[field])
    assert snapshot() == before


def test_only_staff_order(db):
    _, referent = make_distributeur()
    with pytest.raises(PermissionDenied, match="Seule l'équipe Sicoval"):
        make_commande(referent)
    assert not CommandePass.objects.exists()


# --- Booklets ------------------------------------------------------------------------------------------------------
def test_staff_entrust_booklets_to_a_distributor_only(staff, commande):
    distributeur, referent = make_distributeur()
    carnets = carnets_of(commande)
    services.carnets_attribuer(carnets=carnets, distributeur=distributeur, by=staff)
    assert {refresh(c).distributeur for c in carnets} == {distributeur}
    with pytest.raises(PermissionDenied):
        services.carnets_attribuer(carnets=carnets, distributeur=distributeur, by=referent)
    other = factories.StructureFactory()
    with pytest.raises(ValidationError, match="n'est pas une structure distributrice"):
        services.carnets_attribuer(carnets=carnets, distributeur=other, by=staff)


def test_a_booklet_handed_out_is_not_entrusted_again(staff, commande):
    carnet = carnets_of(commande)[0]
    hand_out(carnet, staff)
    with pytest.raises(ValidationError, match="a été remis le 01/02/2026"):
        services.carnets_attribuer(carnets=[carnet], distributeur=make_distributeur()[0], by=staff)


def test_referent_of_the_distributor_hands_out_its_booklet(staff, commande):
    distributeur, referent = make_distributeur()
    carnet = carnets_of(commande)[0]
    services.carnets_attribuer(carnets=[carnet], distributeur=distributeur, by=staff)
    services.carnet_remettre(carnet=carnet, categorie=CategoriePass.DEMANDEUR_EMPLOI, date=D(2026, 3, 10), by=referent)
    carnet = refresh(carnet)
    assert (carnet.distributeur, carnet.remis_le, carnet.categorie) == (
        distributeur,
        D(2026, 3, 10),
        "demandeur_emploi",
    )
    assert {p.statut for p in passes_of(carnet)} == {S.REMIS}
    assert {p.statut for p in passes_of(carnets_of(commande)[1])} == {S.EMIS}
    assert PassNumerique.history.filter(history_user=referent, statut=S.REMIS).count() == 10
    assert carnet.history.first().history_user == referent


def test_staff_hand_out_any_booklet_to_a_distributor(staff, commande):
    distributeur, _ = make_distributeur()
    carnet = hand_out(carnets_of(commande)[0], staff, distributeur=distributeur)
    assert carnet.distributeur == distributeur


def test_handing_out_refused_to_others(staff, commande):
    distributeur, referent = make_distributeur()
    _, other_referent = make_distributeur()
    carnet, not_entrusted = carnets_of(commande)
    services.carnets_attribuer(carnets=[carnet], distributeur=distributeur, by=staff)
    conseiller = factories.MembershipFactory(structure=distributeur, role=Role.CONSEILLER).user
    before = snapshot()
    for user in (other_referent, conseiller):
        with pytest.raises(PermissionDenied):
            services.carnet_remettre(carnet=carnet, categorie="senior", date=D(2026, 3, 1), by=user)
    with pytest.raises(PermissionDenied):
        services.carnet_remettre(
            carnet=not_entrusted, distributeur=distributeur, categorie="senior", date=D(2026, 3, 1), by=referent
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date": D(2026, 3, 11)}, "ne peut pas être dans le futur"),
        ({"date": D(2026, 1, 14)}, "ne peut pas précéder le 15/01/2026"),
        ({"date": None}, "Indiquez la date de remise"),
        ({"categorie": "etudiant"}, "demandeur d'emploi ou senior"),
        ({"distributeur": "non distributeur"}, "n'est pas une structure distributrice"),
    ],
)
def test_handing_out_refused_with_french_message(staff, commande, kwargs, message):
    carnet = carnets_of(commande)[0]
    values = {"distributeur": make_distributeur()[0], "categorie": "senior", "date": D(2026, 3, 1)}
    values.update(kwargs)
    if values["distributeur"] == "non distributeur":
        values["distributeur"] = factories.StructureFactory()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.carnet_remettre(carnet=carnet, by=staff, **values)
    assert message in messages_of(error)
    assert snapshot() == before


def test_booklet_handed_out_once(staff, commande):
    carnet = hand_out(carnets_of(commande)[0], staff)
    with pytest.raises(ValidationError, match="a déjà été remis le 01/02/2026"):
        hand_out(carnet, staff)


def test_handing_out_keeps_cancelled_passes_and_refuses_an_empty_booklet(staff, commande):
    carnet, second = carnets_of(commande)
    cancelled = passes_of(carnet)[3]
    services.pass_annuler(pass_numerique=cancelled, motif="Pass abîmé", by=staff)
    hand_out(carnet, staff)
    assert refresh(cancelled).statut == S.ANNULE
    assert sum(p.statut == S.REMIS for p in passes_of(carnet)) == 9
    for p in passes_of(second):
        services.pass_annuler(pass_numerique=p, by=staff)
    with pytest.raises(ValidationError, match="ne contient plus aucun pass à remettre"):
        hand_out(second, staff)


def test_no_handing_out_after_the_tolerance_date(staff, commande):
    carnet = carnets_of(commande)[0]
    with time_machine.travel(datetime.datetime(2027, 1, 31, 12, tzinfo=datetime.UTC), tick=False):
        hand_out(carnet, staff, date=D(2027, 1, 31))
    with (
        time_machine.travel(datetime.datetime(2027, 2, 1, 12, tzinfo=datetime.UTC), tick=False),
        pytest.raises(ValidationError, match="ne sont plus acceptés depuis le 01/02/2027"),
    ):
        hand_out(carnets_of(commande)[1], staff, date=D(2027, 1, 31))


# --- Use -----------------------------------------------------------------------------------------------------------
def test_a_handed_out_pass_pays_a_training_at_a_qualified_place(staff, commande):
    lieu, referent = make_lieu_qualifie()
    carnet = hand_out(carnets_of(commande)[0], staff)
    inscription = make_inscription(lieu)
    p = services.pass_utiliser(
        pass_numerique=passes_of(carnet)[0], inscription=inscription, date=D(2026, 3, 9), by=referent
    )
    p = refresh(p)
    assert (p.statut, p.inscription, p.lieu, p.utilise_le) == (S.UTILISE, inscription, lieu, D(2026, 3, 9))
    assert p.history.first().history_user == referent
    assert inscription.pass_numerique == p


def test_use_at_an_itinerant_stop_counts_for_its_place(staff, commande):
    lieu, referent = make_lieu_qualifie()
    arret = factories.ArretItinerantFactory(lieu=lieu)
    atelier = factories.AtelierFactory(structure=lieu.structure, formation_pass=True)
    seance = factories.SeanceFactory(atelier=atelier, lieu=None, arret=arret)
    inscription = factories.InscriptionFactory(seance=seance)
    carnet = hand_out(carnets_of(commande)[0], staff)
    p = services.pass_utiliser(
        pass_numerique=passes_of(carnet)[0], inscription=inscription, date=NOW.date(), by=referent
    )
    assert p.lieu == lieu


def test_one_pass_per_registration(staff, commande, lieu):
    carnet = hand_out(carnets_of(commande)[0], staff)
    first, second = passes_of(carnet)[:2]
    inscription = make_inscription(lieu)
    use(first, lieu, staff, inscription=inscription)
    before = snapshot()
    with pytest.raises(
        ValidationError, match=f"Un pass a déjà été utilisé pour cette inscription \\(n° {first.numero}"
    ):
        use(second, lieu, staff, inscription=inscription)
    assert snapshot() == before
    assert refresh(second).statut == S.REMIS


def test_use_refused_for_the_wrong_training_place_or_registration(staff, commande, lieu):
    carnet = hand_out(carnets_of(commande)[0], staff)
    p = passes_of(carnet)[0]
    unqualified = factories.LieuFactory()
    other_qualified, _ = make_lieu_qualifie()
    cancelled = make_inscription(lieu, statut="annulee", annulee_le=NOW)
    waiting = make_inscription(lieu, statut="attente")
    cases = [
        (make_inscription(lieu, formation_pass=False), None, "n'est pas une formation payable en Pass numérique"),
        (make_inscription(unqualified), None, "n'est pas un lieu qualifié"),
        (make_inscription(lieu), other_qualified, f"Cette séance n'a pas lieu à {other_qualified.nom}"),
        (cancelled, None, "n'est pas confirmée (annulée)"),
        (waiting, None, "n'est pas confirmée (liste d'attente)"),
    ]
    before = snapshot()
    for inscription, at, message in cases:
        with pytest.raises(ValidationError) as error:
            services.pass_utiliser(pass_numerique=p, inscription=inscription, lieu=at, date=NOW.date(), by=staff)
        assert message in messages_of(error), message
    seance_annulee = make_inscription(lieu)
    seance_annulee.seance.statut = "annulee"
    seance_annulee.seance.motif_annulation = "Intempéries"
    seance_annulee.seance.save()
    with pytest.raises(ValidationError, match="Cette séance est annulée"):
        services.pass_utiliser(pass_numerique=p, inscription=seance_annulee, date=NOW.date(), by=staff)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("date", "message"),
    [
        (D(2026, 3, 11), "ne peut pas être dans le futur"),
        (D(2026, 1, 31), "ne peut pas précéder le 01/02/2026 (remise du carnet)"),
        (None, "Indiquez la date d'utilisation"),
    ],
)
def test_use_refused_on_a_wrong_date(staff, commande, lieu, date, message):
    carnet = hand_out(carnets_of(commande)[0], staff)
    with pytest.raises(ValidationError) as error:
        use(passes_of(carnet)[0], lieu, staff, date=date)
    assert message in messages_of(error)


def test_use_refused_to_another_structure(staff, commande, lieu):
    _, other_referent = make_lieu_qualifie()
    distributeur, distributor_referent = make_distributeur()
    carnet = hand_out(carnets_of(commande)[0], staff, distributeur=distributeur)
    for user in (other_referent, distributor_referent):
        with pytest.raises(PermissionDenied, match="référents du lieu qualifié"):
            use(passes_of(carnet)[0], lieu, user)


def test_use_until_the_tolerance_date_included(staff, commande, lieu):
    """Accepted on 31/01 of the next year; on 01/02 refused as expired, even before the nightly task ran."""
    carnet = hand_out(carnets_of(commande)[0], staff)
    first, second = passes_of(carnet)[:2]
    with time_machine.travel(datetime.datetime(2027, 1, 31, 18, tzinfo=datetime.UTC), tick=False):
        assert use(first, lieu, staff, date=D(2027, 1, 31)).statut == S.UTILISE
    with time_machine.travel(datetime.datetime(2027, 2, 1, 8, tzinfo=datetime.UTC), tick=False):
        with pytest.raises(ValidationError, match="a expiré : il était accepté jusqu'au 31/01/2027"):
            use(second, lieu, staff, date=D(2027, 1, 31))
        assert refresh(second).statut == S.REMIS


# --- Every transition, allowed and refused --------------------------------------------------------------------------
ACTIONS = ("remettre", "utiliser", "rembourser", "annuler")
ALLOWED = {
    S.EMIS: {"remettre", "annuler"},
    S.REMIS: {"utiliser", "annuler"},
    S.UTILISE: {"rembourser"},
    S.REMBOURSE: set(),
    S.EXPIRE: set(),
    S.ANNULE: set(),
}
RESULT = {"remettre": S.REMIS, "utiliser": S.UTILISE, "rembourser": S.REMBOURSE, "annuler": S.ANNULE}
REFUSAL = {
    S.EMIS: "n'a pas encore été remis à une personne",
    S.REMIS: "a été remis mais n'a pas été utilisé",
    S.UTILISE: "a déjà été utilisé le 02/03/2026",
    S.REMBOURSE: "a déjà été utilisé puis remboursé le 05/03/2026",
    S.EXPIRE: "a expiré",
    S.ANNULE: "est annulé",
}


def _act(action, p, staff, lieu):
    if action == "remettre":
        hand_out(refresh(p.carnet), staff)
    elif action == "utiliser":
        use(p, lieu, staff, date=D(2026, 3, 6))
    elif action == "rembourser":
        services.pass_rembourser(passes=[p], date=D(2026, 3, 9), by=staff)
    else:
        services.pass_annuler(pass_numerique=p, motif="Test", by=staff)


@pytest.mark.parametrize("statut", list(ALLOWED))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_transition(pass_in_state, staff, lieu, statut, action):
    p = pass_in_state(statut)
    if action in ALLOWED[statut]:
        _act(action, p, staff, lieu)
        assert refresh(p).statut == RESULT[action]
        return
    before = snapshot()
    if action == "remettre" and statut == S.ANNULE:
        # Handing out its booklet gives the other passes to the person; the cancelled one stays cancelled.
        _act(action, p, staff, lieu)
        assert refresh(p).statut == S.ANNULE
        return
    with pytest.raises(ValidationError) as error:
        _act(action, p, staff, lieu)
    text = messages_of(error)
    if action == "remettre":
        # A booklet is handed out once; a booklet whose passes all expired has nothing left to hand out.
        expected = "ne contient plus aucun pass à remettre" if statut == S.EXPIRE else "a déjà été remis le 01/02/2026"
        assert expected in text
    else:
        assert f"{REFUSAL[statut]} : impossible de" in text
    assert snapshot() == before
    assert refresh(p).statut == statut


def test_transitions_table_matches_the_domain():
    transitions = services.pass_numerique.TRANSITIONS
    assert transitions == {
        S.EMIS: {S.REMIS, S.EXPIRE, S.ANNULE},
        S.REMIS: {S.UTILISE, S.EXPIRE, S.ANNULE},
        S.UTILISE: {S.REMBOURSE},
        S.REMBOURSE: set(),
        S.EXPIRE: set(),
        S.ANNULE: set(),
    }


def test_cancel_keeps_the_reason_and_is_staff_only(staff, commande):
    p = passes_of(carnets_of(commande)[0])[0]
    _, referent = make_distributeur()
    with pytest.raises(PermissionDenied):
        services.pass_annuler(pass_numerique=p, by=referent)
    services.pass_annuler(pass_numerique=p, motif="Carnet perdu", by=staff)
    record = p.history.first()
    assert (record.statut, record.history_user, record.history_change_reason) == (
        S.ANNULE,
        staff,
        "Annulé : Carnet perdu",
    )


# --- Reimbursement -------------------------------------------------------------------------------------------------
def test_monthly_reimbursement_of_a_place_to_the_cent(staff):
    commande = make_commande(staff, nombre=10, valeur="12.34")
    lieu, _ = make_lieu_qualifie()
    other_lieu, _ = make_lieu_qualifie()
    carnet = hand_out(carnets_of(commande)[0], staff)
    p = passes_of(carnet)
    for pass_numerique, date in zip(p[:3], (D(2026, 2, 2), D(2026, 2, 27), D(2026, 2, 28)), strict=True):
        use(pass_numerique, lieu, staff, date=date)
    use(p[3], lieu, staff, date=D(2026, 3, 1))  # next month
    use(p[4], other_lieu, staff, date=D(2026, 2, 10))  # another place
    result = services.pass_rembourser(lieu=lieu, mois=D(2026, 2, 1), date=D(2026, 3, 5), by=staff)
    assert (result.nombre, result.montant) == (3, Decimal("37.02"))
    assert [refresh(x).statut for x in p[:5]] == [S.REMBOURSE] * 3 + [S.UTILISE] * 2
    assert refresh(p[0]).rembourse_le == D(2026, 3, 5)
    assert PassNumerique.history.filter(history_user=staff, statut=S.REMBOURSE).count() == 3
    with pytest.raises(ValidationError, match=f"Aucun pass utilisé à {lieu.nom} en février 2026 ne reste"):
        services.pass_rembourser(lieu=lieu, mois=D(2026, 2, 14), date=D(2026, 3, 5), by=staff)


def test_reimbursement_refused(staff, commande, lieu):
    carnet = hand_out(carnets_of(commande)[0], staff)
    p = passes_of(carnet)
    use(p[0], lieu, staff, date=D(2026, 3, 2))
    _, referent = make_lieu_qualifie()
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.pass_rembourser(lieu=lieu, mois=D(2026, 3, 1), date=D(2026, 3, 5), by=referent)
    with pytest.raises(ValidationError, match="ne peut pas précéder l'utilisation du pass"):
        services.pass_rembourser(lieu=lieu, mois=D(2026, 3, 1), date=D(2026, 3, 1), by=staff)
    with pytest.raises(ValidationError, match="ne peut pas être dans le futur"):
        services.pass_rembourser(lieu=lieu, mois=D(2026, 3, 1), date=D(2026, 3, 11), by=staff)
    with pytest.raises(ValidationError, match="a été remis mais n'a pas été utilisé : impossible de le rembourser"):
        services.pass_rembourser(passes=[p[0], p[1]], date=D(2026, 3, 5), by=staff)
    with pytest.raises(ValidationError, match="soit les pass à rembourser, soit le lieu et le mois"):
        services.pass_rembourser(passes=[p[0]], lieu=lieu, mois=D(2026, 3, 1), date=D(2026, 3, 5), by=staff)
    assert snapshot() == before


# --- Expiry --------------------------------------------------------------------------------------------------------
def test_expiry_at_the_tolerance_date_boundary_and_idempotent(staff, commande, lieu):
    first, second = carnets_of(commande)
    hand_out(first, staff)
    p = passes_of(first)
    use(p[0], lieu, staff)
    use(p[1], lieu, staff)
    services.pass_rembourser(passes=[p[1]], date=D(2026, 3, 5), by=staff)
    services.pass_annuler(pass_numerique=p[2], by=staff)
    assert services.passes_expirer(today=D(2027, 1, 31)) == 0
    assert not PassNumerique.objects.filter(statut=S.EXPIRE).exists()
    assert services.passes_expirer(today=D(2027, 2, 1)) == 7 + 10  # remis of the first, emis of the second
    states = {x.numero: x.statut for x in PassNumerique.objects.all()}
    assert states[p[0].numero] == S.UTILISE
    assert states[p[1].numero] == S.REMBOURSE
    assert states[p[2].numero] == S.ANNULE
    assert sum(s == S.EXPIRE for s in states.values()) == 17
    record = PassNumerique.history.filter(statut=S.EXPIRE).first()
    assert (record.history_user, record.history_change_reason) == (None, "Expiré le 01/02/2027")
    assert services.passes_expirer(today=D(2027, 2, 2)) == 0


def test_the_nightly_task_expires_passes(staff, commande):
    with time_machine.travel(datetime.datetime(2027, 2, 1, 0, 30, tzinfo=datetime.UTC), tick=False):
        assert tasks.passes_expirer.delay().get() == {"expires": 20}
        assert tasks.passes_expirer.delay().get() == {"expires": 0}


def test_an_expired_pass_is_still_reimbursed_once_used(staff, commande, lieu):
    """A pass used in time and not yet reimbursed is not touched by expiry: the place is still owed."""
    carnet = hand_out(carnets_of(commande)[0], staff)
    p = use(passes_of(carnet)[0], lieu, staff)
    services.passes_expirer(today=D(2027, 3, 1))
    with time_machine.travel(datetime.datetime(2027, 3, 2, 12, tzinfo=datetime.UTC), tick=False):
        services.pass_rembourser(passes=[p], date=D(2027, 3, 2), by=staff)
    assert refresh(p).statut == S.REMBOURSE


# --- Stock figures -------------------------------------------------------------------------------------------------
def test_stock_figures_and_amounts_to_the_cent(staff):
    commande = make_commande(staff, nombre=20, valeur="12.50", taille=5)
    lieu_a, referent_a = make_lieu_qualifie()
    lieu_b, _ = make_lieu_qualifie()
    distributeur, referent_d = make_distributeur()
    c1, c2, c3, _c4 = carnets_of(commande)
    services.carnets_attribuer(carnets=[c1, c2], distributeur=distributeur, by=staff)
    hand_out(c1, staff)
    hand_out(c2, staff)
    services.pass_annuler(pass_numerique=passes_of(c3)[0], by=staff)
    use(passes_of(c1)[0], lieu_a, staff, date=D(2026, 3, 2))
    use(passes_of(c1)[1], lieu_a, staff, date=D(2026, 3, 3))
    use(passes_of(c2)[0], lieu_b, staff, date=D(2026, 2, 20))
    services.pass_rembourser(lieu=lieu_a, mois=D(2026, 3, 1), date=D(2026, 3, 9), by=staff)

    stock = selectors_pass.stock(staff)
    [ligne] = stock.lignes
    f = ligne.figures
    assert (f.total, f.remis, f.utilises, f.rembourses, f.expires, f.annules, f.en_stock, f.en_circulation) == (
        20,
        10,
        3,
        2,
        0,
        1,
        9,
        7,
    )
    assert (f.montant_a_rembourser, f.montant_rembourse, f.montant_expire) == (
        Decimal("12.50"),
        Decimal("25.00"),
        Decimal("0.00"),
    )
    [row] = selectors_pass.a_rembourser_par_lieu(staff)
    assert (row["lieu"], row["mois"], row["nombre"], row["montant"]) == (lieu_b.pk, D(2026, 2, 1), 1, Decimal("12.50"))

    # Scoped: the distributor sees its two booklets; place A its two used passes, nothing to reimburse.
    d = selectors_pass.stock(referent_d).lignes[0].figures
    assert (d.total, d.remis, d.utilises, d.en_stock) == (10, 10, 3, 0)
    a = selectors_pass.stock(referent_a).lignes[0].figures
    assert (a.total, a.utilises, a.rembourses, a.montant_rembourse) == (2, 2, 2, Decimal("25.00"))
    assert selectors_pass.a_rembourser_par_lieu(referent_a) == []

    services.passes_expirer(today=D(2027, 2, 1))
    f = selectors_pass.stock(staff).lignes[0].figures
    assert (f.remis, f.expires, f.en_stock, f.en_circulation, f.montant_expire) == (10, 16, 0, 0, Decimal("200.00"))
    assert f.total == f.en_stock + f.en_circulation + f.utilises + f.expires + f.annules


# --- Concurrency (PostgreSQL) --------------------------------------------------------------------------------------
def _race(calls):
    """Run the calls at the same moment, each in its own thread and connection; returns their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # the outcome is the error
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def race_setup(services):
    del services  # real PostgreSQL and Redis required
    staff = factories.StaffUserFactory()
    commande = make_commande(staff, nombre=10, date=NOW.date())
    lieu, referent = make_lieu_qualifie()
    carnet = hand_out(carnets_of(commande)[0], staff, date=NOW.date())
    return staff, lieu, passes_of(carnet)


@pytest.mark.django_db(transaction=True)
def test_the_same_pass_used_twice_at_once_succeeds_once(race_setup):
    staff, lieu, passes = race_setup
    p = passes[0]
    inscriptions = [make_inscription(lieu), make_inscription(lieu)]
    outcomes = _race(
        [
            lambda i=i: services.pass_utiliser(pass_numerique=p, inscription=i, date=NOW.date(), by=staff)
            for i in inscriptions
        ]
    )
    assert sum(isinstance(o, PassNumerique) for o in outcomes) == 1, outcomes
    [error] = [o for o in outcomes if not isinstance(o, PassNumerique)]
    assert isinstance(error, ValidationError)
    assert "a déjà été utilisé" in " ".join(error.messages)
    assert PassNumerique.objects.filter(statut=S.UTILISE).count() == 1
    assert PassNumerique.history.filter(statut=S.UTILISE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_passes_for_one_registration_at_once_succeed_once(race_setup):
    staff, lieu, passes = race_setup
    inscription = make_inscription(lieu)
    outcomes = _race(
        [
            lambda p=p: services.pass_utiliser(pass_numerique=p, inscription=inscription, date=NOW.date(), by=staff)
            for p in passes[:2]
        ]
    )
    assert sum(isinstance(o, PassNumerique) for o in outcomes) == 1, outcomes
    [error] = [o for o in outcomes if not isinstance(o, PassNumerique)]
    assert "Un pass a déjà été utilisé pour cette inscription" in " ".join(error.messages)
    assert PassNumerique.objects.filter(inscription=inscription).count() == 1
