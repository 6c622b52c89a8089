"""Writes on the funding: reference amounts, rules on lines, instalments and repayments, French messages, staff
only, history with the actor, nothing written on a refusal."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from financements import services
from financements.models import Avoir, Bareme, Convention, LigneFinancement, Versement
from tests import factories

from .conftest import V1_END, V1_START, euros

pytestmark = pytest.mark.django_db

V2_START, V2_END = datetime.date(2023, 7, 1), datetime.date(2026, 6, 30)


def messages_of(excinfo):
    return " ".join(excinfo.value.messages)


def money_rows():
    return (LigneFinancement.objects.count(), Versement.objects.count(), Avoir.objects.count())


# --- reference amounts (barèmes) -----------------------------------------------------------------------------------
def test_v1_public_line_is_prefilled_with_50000(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    assert (ligne.montant_base, ligne.bonus_qpv_zrr, ligne.montant_total) == (euros(50000), euros(0), euros(50000))
    assert ligne.bareme.code == "v1-public"


def test_v1_private_line_is_prefilled_with_32000(staff, etat, make_convention):
    association = factories.StructureFactory(secteur="prive", type_juridique="association")
    poste = factories._PosteForFinancementFactory(structure=association)
    convention = make_convention(financeur=etat, structure=association)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    assert ligne.montant_total == euros(32000)
    assert ligne.bareme.code == "v1-prive"


def test_v2_public_line_in_qpv_covers_three_years_with_the_bonus(staff, etat, make_convention):
    quartier = factories.StructureFactory(secteur="public", qpv=True)
    poste = factories._PosteForFinancementFactory(structure=quartier)
    convention = make_convention(financeur=etat, structure=quartier, enveloppe="V2", start=V2_START, end=V2_END)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    # 17 500 + 12 500 + 12 500 and a bonus of 2 500 (year 1) + 5 000 (year 2).
    assert (ligne.montant_base, ligne.bonus_qpv_zrr, ligne.montant_total) == (
        euros(42500),
        euros(7500),
        euros(50000),
    )


def test_v2_bonus_applies_in_zrr_too(staff, etat, make_convention):
    rurale = factories.StructureFactory(secteur="public", zrr=True)
    poste = factories._PosteForFinancementFactory(structure=rurale)
    convention = make_convention(financeur=etat, structure=rurale, enveloppe="V2", start=V2_START, end=V2_END)
    assert services.ligne_create(convention=convention, poste=poste, by=staff).bonus_qpv_zrr == euros(7500)


def test_v2_bonus_does_not_apply_outside_qpv_and_zrr(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, enveloppe="V2", start=V2_START, end=V2_END)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    assert (ligne.bonus_qpv_zrr, ligne.montant_total) == (euros(0), euros(42500))


def test_v2_private_line_is_44000(staff, etat, make_convention):
    association = factories.StructureFactory(secteur="prive", type_juridique="association", qpv=True)
    poste = factories._PosteForFinancementFactory(structure=association)
    convention = make_convention(financeur=etat, structure=association, enveloppe="V2", start=V2_START, end=V2_END)
    assert services.ligne_create(convention=convention, poste=poste, by=staff).montant_total == euros(44000)


def test_explicit_v2_year_one_row_gives_17500_plus_2500_in_qpv(staff, etat, make_convention):
    quartier = factories.StructureFactory(secteur="public", qpv=True)
    poste = factories._PosteForFinancementFactory(structure=quartier)
    convention = make_convention(financeur=etat, structure=quartier, enveloppe="V2", start=V2_START, end=V2_END)
    year_one = Bareme.objects.get(code="v2-public-annee-1")
    ligne = services.ligne_create(convention=convention, poste=poste, bareme=year_one, by=staff)
    assert (ligne.montant_base, ligne.bonus_qpv_zrr, ligne.montant_total) == (
        euros(17500),
        euros(2500),
        euros(20000),
    )


def test_explicit_bareme_of_another_envelope_is_refused(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(
            convention=convention, poste=poste, bareme=Bareme.objects.get(code="v2-public-annee-1"), by=staff
        )
    assert "ne correspond pas à l'enveloppe" in messages_of(excinfo)


def test_bonus_given_outside_qpv_and_zrr_is_refused(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, enveloppe="cofinancement")
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(convention=convention, poste=poste, montant_base=5000, bonus_qpv_zrr=500, by=staff)
    assert "qu'aux structures situées en QPV ou en ZRR" in messages_of(excinfo)


def test_cofinancement_needs_an_amount(staff, departement, mairie, poste, make_convention):
    convention = make_convention(financeur=departement, structure=mairie, enveloppe="cofinancement")
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(convention=convention, poste=poste, by=staff)
    assert "un cofinancement local n'a pas de barème" in messages_of(excinfo)
    ligne = services.ligne_create(convention=convention, poste=poste, montant_base="12000.50", by=staff)
    assert (ligne.montant_total, ligne.bareme) == (Decimal("12000.50"), None)


def test_bareme_for_follows_validity_dates(staff):
    later = Bareme.objects.create(
        code="v1-public-2025",
        libelle="V1 — public (nouveau montant)",
        enveloppe="V1",
        secteur="public",
        montant=Decimal("55000"),
        duree_mois=24,
        valide_du=datetime.date(2025, 1, 1),
    )
    Bareme.objects.filter(code="v1-public").update(valide_au=datetime.date(2024, 12, 31))
    assert services.bareme_for(enveloppe="V1", secteur="public", on_date=datetime.date(2024, 6, 1)).code == "v1-public"
    assert services.bareme_for(enveloppe="V1", secteur="public", on_date=datetime.date(2025, 6, 1)) == later
    with pytest.raises(ValidationError) as excinfo:
        services.bareme_for(enveloppe="V2", secteur="public", annee=1, on_date=datetime.date(2022, 6, 1))
    assert "Aucun barème V2" in messages_of(excinfo)


def test_bareme_for_overseas_asks_to_choose_between_two_amounts():
    with pytest.raises(ValidationError) as excinfo:
        services.bareme_for(enveloppe="V1", secteur="public", on_date=datetime.date(2022, 1, 1), outre_mer=True)
    assert "choisissez-le" in messages_of(excinfo)


# --- lines ---------------------------------------------------------------------------------------------------------
def test_post_of_another_structure_cannot_be_funded(staff, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    other = factories._PosteForFinancementFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(convention=convention, poste=other, by=staff)
    assert "n'est pas rattaché à Mairie de Labège" in messages_of(excinfo)
    assert money_rows() == (0, 0, 0)


def test_post_attached_to_the_structure_during_the_financing_may_be_funded(staff, etat, mairie, make_convention):
    from conseillers.models import Rattachement

    convention = make_convention(financeur=etat, structure=mairie)
    moved = factories._PosteForFinancementFactory()  # now elsewhere, but at the mairie during 2022
    Rattachement.objects.create(
        poste=moved, structure=mairie, date_debut=datetime.date(2021, 6, 1), date_fin=datetime.date(2022, 9, 1)
    )
    assert services.ligne_create(convention=convention, poste=moved, by=staff).montant_total == euros(50000)


def test_one_line_per_post_and_agreement(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    services.ligne_create(convention=convention, poste=poste, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(convention=convention, poste=poste, by=staff)
    assert "déjà une ligne" in messages_of(excinfo)


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ({"montant_base": "-1"}, "Le montant de base ne peut pas être négatif."),
        ({"montant_base": "1000", "bonus_qpv_zrr": "-0.01"}, "Le montant de la bonification ne peut pas être négatif."),
        ({"montant_base": "10.001"}, "deux décimales au plus"),
        ({"montant_base": "beaucoup"}, "n'est pas un nombre"),
    ],
)
def test_bad_amounts_are_refused_in_french(staff, etat, mairie, poste, make_convention, amounts, message):
    convention = make_convention(financeur=etat, structure=mairie, enveloppe="cofinancement")
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(convention=convention, poste=poste, by=staff, **amounts)
    assert message in messages_of(excinfo)
    assert money_rows() == (0, 0, 0)


def test_ligne_update_cannot_go_below_what_is_planned(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    services.versement_plan(ligne=ligne, numero=1, date_prevue=V1_START, montant_prevu=30000, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_update(ligne=ligne, montant_base=29999, by=staff)
    assert "ne peut pas être inférieur" in messages_of(excinfo)
    ligne = services.ligne_update(ligne=ligne, montant_base=40000, by=staff)
    assert ligne.montant_total == euros(40000)


# --- instalments ---------------------------------------------------------------------------------------------------
@pytest.fixture
def ligne_v1(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    return services.ligne_create(convention=convention, poste=poste, by=staff)


def test_instalment_after_the_end_of_the_agreement_is_refused(staff, ligne_v1):
    with pytest.raises(ValidationError) as excinfo:
        services.versement_plan(
            ligne=ligne_v1, numero=1, date_prevue=datetime.date(2024, 1, 1), montant_prevu=25000, by=staff
        )
    assert "Impossible de prévoir une échéance après la fin de la convention" in messages_of(excinfo)
    assert "31/12/2023" in messages_of(excinfo)
    assert Versement.objects.count() == 0


def test_instalment_before_the_financing_is_refused(staff, ligne_v1):
    with pytest.raises(ValidationError) as excinfo:
        services.versement_plan(
            ligne=ligne_v1, numero=1, date_prevue=datetime.date(2021, 12, 31), montant_prevu=1, by=staff
        )
    assert "avant le début du financement" in messages_of(excinfo)


def test_planned_instalments_never_exceed_the_line(staff, ligne_v1):
    services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=25000, by=staff)
    services.versement_plan(ligne=ligne_v1, numero=2, date_prevue=V1_END, montant_prevu="24999.99", by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.versement_plan(ligne=ligne_v1, numero=3, date_prevue=V1_END, montant_prevu="0.02", by=staff)
    assert "dépasseraient le montant accordé" in messages_of(excinfo)
    services.versement_plan(ligne=ligne_v1, numero=3, date_prevue=V1_END, montant_prevu="0.01", by=staff)


def test_instalment_number_is_unique_on_the_line(staff, ligne_v1):
    services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=1000, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=1000, by=staff)
    assert "L'échéance n° 1 existe déjà" in messages_of(excinfo)


def test_negative_planned_amount_is_refused(staff, ligne_v1):
    with pytest.raises(ValidationError) as excinfo:
        services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=-5, by=staff)
    assert "Le montant prévu ne peut pas être négatif." in messages_of(excinfo)


def test_overpayment_is_refused_in_french(staff, ligne_v1):
    first = services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=25000, by=staff)
    second = services.versement_plan(ligne=ligne_v1, numero=2, date_prevue=V1_END, montant_prevu=25000, by=staff)
    services.versement_record(versement=first, date_versement=datetime.date(2022, 1, 20), montant_verse=30000, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.versement_record(
            versement=second, date_versement=datetime.date(2023, 1, 20), montant_verse="20000.01", by=staff
        )
    assert "au-delà du montant accordé sur la ligne" in messages_of(excinfo)
    second.refresh_from_db()
    assert second.montant_verse is None
    services.versement_record(
        versement=second, date_versement=datetime.date(2023, 1, 20), montant_verse=20000, by=staff
    )


def test_correcting_a_payment_does_not_count_it_twice(staff, ligne_v1):
    first = services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=50000, by=staff)
    services.versement_record(versement=first, date_versement=V1_START, montant_verse=50000, by=staff)
    services.versement_record(versement=first, date_versement=V1_START, montant_verse=49000, by=staff)
    first.refresh_from_db()
    assert first.montant_verse == euros(49000)


def test_negative_payment_is_refused(staff, ligne_v1):
    first = services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=25000, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.versement_record(versement=first, date_versement=V1_START, montant_verse=-1, by=staff)
    assert "Le montant versé ne peut pas être négatif." in messages_of(excinfo)


def test_payment_needs_a_signed_agreement(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    versement = services.versement_plan(ligne=ligne, numero=1, date_prevue=V1_START, montant_prevu=100, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.versement_record(versement=versement, date_versement=V1_START, montant_verse=100, by=staff)
    assert "convention signée" in messages_of(excinfo)


def test_v2_plan_creates_three_yearly_instalments_with_the_bonus(staff, etat, make_convention):
    quartier = factories.StructureFactory(secteur="public", qpv=True)
    poste = factories._PosteForFinancementFactory(structure=quartier)
    convention = make_convention(financeur=etat, structure=quartier, enveloppe="V2", start=V2_START, end=V2_END)
    ligne = services.ligne_create(convention=convention, poste=poste, by=staff)
    plan = services.versements_plan_v2(ligne=ligne, by=staff)
    assert [(v.numero, v.date_prevue, v.montant_prevu) for v in plan] == [
        (1, datetime.date(2023, 7, 1), euros(20000)),
        (2, datetime.date(2024, 7, 1), euros(17500)),
        (3, datetime.date(2025, 7, 1), euros(12500)),
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.versements_plan_v2(ligne=ligne, by=staff)
    assert "déjà des échéances" in messages_of(excinfo)


def test_v2_plan_refuses_a_line_that_is_not_the_v2_schedule(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, enveloppe="V2", start=V2_START, end=V2_END)
    ligne = services.ligne_create(convention=convention, poste=poste, montant_base=30000, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.versements_plan_v2(ligne=ligne, by=staff)
    assert "ne correspond pas au barème V2" in messages_of(excinfo)
    assert Versement.objects.count() == 0


# --- repayments ----------------------------------------------------------------------------------------------------
def test_repayment_never_exceeds_what_was_paid_minus_earlier_repayments(staff, ligne_v1):
    first = services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=25000, by=staff)
    services.versement_record(versement=first, date_versement=V1_START, montant_verse=25000, by=staff)
    services.avoir_record(ligne=ligne_v1, date=datetime.date(2023, 3, 1), montant=20000, motif="non_justifie", by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.avoir_record(
            ligne=ligne_v1, date=datetime.date(2023, 4, 1), montant="5000.01", motif="trop_percu", by=staff
        )
    assert "dépasse ce qui reste versé sur la ligne" in messages_of(excinfo)
    services.avoir_record(ligne=ligne_v1, date=datetime.date(2023, 4, 1), montant=5000, motif="trop_percu", by=staff)
    assert Avoir.objects.count() == 2


@pytest.mark.parametrize("montant", [0, -10])
def test_repayment_must_be_positive(staff, ligne_v1, montant):
    with pytest.raises(ValidationError) as excinfo:
        services.avoir_record(ligne=ligne_v1, date=V1_END, montant=montant, motif="autre", by=staff)
    assert "montant de l'avoir" in messages_of(excinfo)


# --- agreements ----------------------------------------------------------------------------------------------------
def test_agreement_dates_are_checked(staff, etat, mairie):
    with pytest.raises(ValidationError) as excinfo:
        services.convention_create(
            financeur=etat,
            structure=mairie,
            enveloppe="V1",
            date_debut=V1_START,
            date_fin=V1_END,
            date_debut_financement=V1_START,
            date_fin_financement=datetime.date(2024, 6, 30),
            by=staff,
        )
    assert "après la fin de la convention" in messages_of(excinfo)
    assert Convention.objects.count() == 0


def test_status_workflow(staff, etat, mairie, make_convention):
    convention = make_convention(financeur=etat, structure=mairie, sign=False)
    with pytest.raises(ValidationError):
        services.convention_change_statut(convention=convention, statut="soldee", by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.convention_sign(convention=convention, date_signature=datetime.date(2099, 1, 1), by=staff)
    assert "dans le futur" in messages_of(excinfo)
    convention = services.convention_sign(convention=convention, date_signature=V1_START, by=staff)
    assert (convention.statut, convention.date_signature) == ("signee", V1_START)
    with pytest.raises(ValidationError):
        services.convention_sign(convention=convention, date_signature=V1_START, by=staff)
    convention = services.convention_change_statut(convention=convention, statut="resiliee", by=staff)
    assert convention.statut == "resiliee"
    with pytest.raises(ValidationError) as excinfo:
        services.convention_change_statut(convention=convention, statut="soldee", by=staff)
    assert "Passage impossible" in messages_of(excinfo)


def test_closed_agreement_takes_no_new_line(staff, etat, mairie, poste, make_convention):
    convention = make_convention(financeur=etat, structure=mairie)
    services.convention_change_statut(convention=convention, statut="soldee", by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.ligne_create(convention=convention, poste=poste, by=staff)
    assert "soldée" in messages_of(excinfo)


def test_agreement_with_lines_keeps_its_structure(staff, etat, mairie, ligne_v1):
    with pytest.raises(ValidationError) as excinfo:
        services.convention_update(convention=ligne_v1.convention, structure=factories.StructureFactory(), by=staff)
    assert "ne changent plus" in messages_of(excinfo)
    services.convention_update(convention=ligne_v1.convention, reference="CONV-2022-001", by=staff)


def test_shortening_the_financing_cannot_strand_an_instalment(staff, ligne_v1):
    services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_END, montant_prevu=1000, by=staff)
    with pytest.raises(ValidationError) as excinfo:
        services.convention_update(
            convention=ligne_v1.convention, date_fin_financement=datetime.date(2023, 6, 30), by=staff
        )
    assert "sortiraient de la période de financement" in messages_of(excinfo)


# --- permissions and history ---------------------------------------------------------------------------------------
def _writes(ligne, versement, staff_convention):
    return {
        "financeur_create": lambda by: services.financeur_create(nom="Commune de Ramonville", type="commune", by=by),
        "convention_create": lambda by: services.convention_create(
            financeur=staff_convention.financeur,
            structure=staff_convention.structure,
            enveloppe="V1",
            date_debut=V1_START,
            date_fin=V1_END,
            date_debut_financement=V1_START,
            date_fin_financement=V1_END,
            by=by,
        ),
        "convention_update": lambda by: services.convention_update(convention=staff_convention, reference="X", by=by),
        "convention_change_statut": lambda by: services.convention_change_statut(
            convention=staff_convention, statut="soldee", by=by
        ),
        "ligne_create": lambda by: services.ligne_create(
            convention=staff_convention,
            poste=factories._PosteForFinancementFactory(structure=ligne.convention.structure),
            by=by,
        ),
        "ligne_update": lambda by: services.ligne_update(ligne=ligne, montant_base=1, by=by),
        "versement_plan": lambda by: services.versement_plan(
            ligne=ligne, numero=9, date_prevue=V1_START, montant_prevu=1, by=by
        ),
        "versement_record": lambda by: services.versement_record(
            versement=versement, date_versement=V1_START, montant_verse=1, by=by
        ),
        "avoir_record": lambda by: services.avoir_record(ligne=ligne, date=V1_END, montant=1, motif="autre", by=by),
    }


WRITES = [
    "financeur_create",
    "convention_create",
    "convention_update",
    "convention_change_statut",
    "ligne_create",
    "ligne_update",
    "versement_plan",
    "versement_record",
    "avoir_record",
]


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("role", ["referent", "financeur"])
def test_only_staff_write_money(staff, ligne_v1, write, role):
    versement = services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=10, by=staff)
    member = factories.MembershipFactory(structure=ligne_v1.convention.structure, role=role).user
    before = (money_rows(), Convention.objects.count(), Convention.history.count())
    with pytest.raises(PermissionDenied) as excinfo:
        _writes(ligne_v1, versement, ligne_v1.convention)[write](member)
    assert "Seule l'équipe Sicoval" in str(excinfo.value)
    assert (money_rows(), Convention.objects.count(), Convention.history.count()) == before


def test_history_records_the_acting_user(staff, ligne_v1):
    versement = services.versement_plan(ligne=ligne_v1, numero=1, date_prevue=V1_START, montant_prevu=25000, by=staff)
    services.versement_record(versement=versement, date_versement=V1_START, montant_verse=25000, by=staff)
    avoir = services.avoir_record(ligne=ligne_v1, date=V1_END, montant=100, motif="autre", by=staff)
    assert ligne_v1.history.get().history_user == staff
    assert [r.history_user for r in ligne_v1.convention.history.all()] == [staff, staff]  # created, signed
    records = versement.history.order_by("history_date")
    assert [(r.history_type, r.montant_verse, r.history_user) for r in records] == [
        ("+", None, staff),
        ("~", euros(25000), staff),
    ]
    assert avoir.history.get().history_user == staff


# --- concurrency (PostgreSQL: SQLite serialises every write anyway) -----------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_never_exceed_the_line():
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrence réelle : nécessite PostgreSQL (DATABASE_URL)")
    staff = factories.StaffUserFactory(with_totp=False)
    structure = factories.StructureFactory()
    convention = services.convention_create(
        financeur=factories.FinanceurFactory(),
        structure=structure,
        enveloppe="cofinancement",
        date_debut=V1_START,
        date_fin=V1_END,
        date_debut_financement=V1_START,
        date_fin_financement=V1_END,
        by=staff,
    )
    services.convention_sign(convention=convention, date_signature=V1_START, by=staff)
    poste = factories._PosteForFinancementFactory(structure=structure)
    ligne = services.ligne_create(convention=convention, poste=poste, montant_base=50000, by=staff)
    attempts = 8
    echeances = [
        services.versement_plan(ligne=ligne, numero=n, date_prevue=V1_START, montant_prevu=6250, by=staff)
        for n in range(1, attempts + 1)
    ]
    barrier = threading.Barrier(attempts)
    outcomes = []

    def attempt(versement):
        try:
            barrier.wait(timeout=10)
            services.versement_record(versement=versement, date_versement=V1_START, montant_verse=10000, by=staff)
            outcomes.append("paid")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(v,)) for v in echeances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["paid"] * 5 + ["refused"] * 3
    assert sum(v.montant_verse or 0 for v in Versement.objects.filter(ligne=ligne)) == euros(50000)
