"""Each family of reminders but the workshops' (in test_rappels.py): who gets it, when (not before its moment, yes
inside its window), once (a second run sends nothing), and a missed window recorded as missed, never sent."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from accompagnements.models import Activite
from accounts.models import Role
from aidants.models import Orientation, StatutOrientation
from ateliers.models import Carnet, CommandePass, PassNumerique, StatutPass
from conseillers.models import Affectation
from notifications.models import StatutEmail
from tests import factories
from tests.aidants.conftest import AidantFactory

from .test_rappels import created_at, emails_of, paris, recipients, relay_at, run

pytestmark = pytest.mark.django_db
MINUTES = datetime.timedelta(minutes=5)


@pytest.fixture
def equipe(db):
    """Staff receive the administrative reminders; an inactive staff account does not."""
    factories.StaffUserFactory(email="equipe@sicoval.example.org")
    factories.StaffUserFactory(email="ancien@sicoval.example.org", is_active=False)
    return "equipe@sicoval.example.org"


@pytest.fixture
def structure(db):
    structure = factories.StructureFactory(nom="Mairie de Labège", contact_email="contact@labege.example.org")
    factories.MembershipFactory(structure=structure, role=Role.REFERENT, user__email="referente@labege.example.org")
    factories.MembershipFactory(structure=structure, role=Role.CONSEILLER, user__email="collegue@labege.example.org")
    return structure


def assert_once_then_missed_elsewhere(code, moment, expected):
    """Nothing before ``moment``; at it, ``expected`` recipients; a second run adds nothing."""
    assert run(code, moment - MINUTES).envoyes == 0
    assert recipients(code) == []
    done = run(code, moment + MINUTES)
    assert (done.envoyes, done.manques, done.erreurs) == (len(expected), 0, 0)
    assert recipients(code) == sorted(expected)
    again = run(code, moment + 2 * MINUTES)
    assert (again.envoyes, again.deja_traites) == (0, len(expected))
    assert relay_at(moment + 3 * MINUTES) == (len(expected), 0)
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(expected)


def assert_missed(code, moment, expected):
    """Run only after the window (one day after the moment): recorded as missed, nothing sent, ever."""
    done = run(code, moment + datetime.timedelta(days=1, minutes=5))
    assert (done.envoyes, done.manques) == (0, len(expected))
    assert {email.statut for email in emails_of(code)} == {StatutEmail.MANQUE}
    assert run(code, moment + datetime.timedelta(days=1, minutes=10)).manques == 0
    assert relay_at(moment + datetime.timedelta(days=1, minutes=15)) == (0, 0)
    assert mail.outbox == []


# --- A conseiller without activity -----------------------------------------------------------------------------
@pytest.fixture
def conseiller(structure):
    user = factories.UserFactory(email="ines@labege.example.org", first_name="Inès")
    conseiller = factories.ConseillerFactory(user=user, prenom="Inès", nom="Conseillère", email="pro@example.org")
    poste = factories.PosteFactory(structure=structure, etat="occupe")
    Affectation.objects.create(poste=poste, conseiller=conseiller, date_debut=datetime.date(2025, 1, 6))
    return conseiller


def activite(conseiller, date, moment=None, **fields):
    values = {
        "conseiller": conseiller,
        "structure": conseiller.affectations.get().poste.structure,
        "type": "individuel",
        "date": date,
        "duree": 30,
        "type_lieu": "domicile",
        "thematiques": ["email"],
        **fields,
    }
    return created_at(moment or paris(date.year, date.month, date.day, 18), Activite.objects.create, **values)


# Last activity on Monday 5 January 2026: the conseiller is reminded on 4 February, the référents on 19 February.
INACTIF = paris(2026, 2, 4, 9)
ESCALADE = paris(2026, 2, 19, 9)


def test_an_inactive_conseiller_is_reminded_after_30_days_then_the_referents_15_days_later(conseiller):
    activite(conseiller, datetime.date(2026, 1, 5))
    activite(conseiller, datetime.date(2026, 1, 20), supprimee_le=paris(2026, 1, 21))  # deleted: does not count
    assert_once_then_missed_elsewhere("inactivite", INACTIF, ["ines@labege.example.org"])
    [email] = emails_of("inactivite")
    assert email.objet == f"conseiller:{conseiller.uuid}:inactivite:2026-01-05"
    assert "5 janvier 2026" in mail.outbox[0].body

    assert run("inactivite", ESCALADE - MINUTES).envoyes == 0
    done = run("inactivite", ESCALADE + MINUTES)
    assert done.envoyes == 1
    assert recipients("inactivite") == ["ines@labege.example.org", "referente@labege.example.org"]
    assert run("inactivite", ESCALADE + 2 * MINUTES).envoyes == 0


def test_recording_an_activity_starts_a_new_period(conseiller):
    activite(conseiller, datetime.date(2026, 1, 5))
    run("inactivite", INACTIF + MINUTES)
    # Recorded on 10 February, dated 2 February (a late entry counts from the day it is recorded).
    activite(conseiller, datetime.date(2026, 2, 2), moment=paris(2026, 2, 10, 17))
    assert run("inactivite", ESCALADE + MINUTES).envoyes == 0  # no escalation: the period ended
    assert run("inactivite", paris(2026, 3, 12, 9) + MINUTES).envoyes == 1  # 30 days after 10 February
    assert [e.objet.rsplit(":", 1)[1] for e in emails_of("inactivite")] == ["2026-01-05", "2026-02-10"]


def test_a_conseiller_new_in_post_counts_from_the_day_they_took_it(structure):
    conseiller = factories.ConseillerFactory(email="nouveau@example.org")
    poste = factories.PosteFactory(structure=structure, etat="occupe")
    Affectation.objects.create(poste=poste, conseiller=conseiller, date_debut=datetime.date(2026, 2, 2))
    assert run("inactivite", paris(2026, 2, 20, 9, 5)).envoyes == 0
    assert run("inactivite", paris(2026, 3, 4, 9, 5)).envoyes == 1
    assert recipients("inactivite") == ["nouveau@example.org"]  # no account: their professional e-mail


def test_a_conseiller_no_longer_in_post_is_not_reminded(conseiller):
    activite(conseiller, datetime.date(2026, 1, 5))
    conseiller.affectations.update(date_fin=datetime.date(2026, 1, 31))
    assert run("inactivite", INACTIF + MINUTES).envoyes == 0


def test_a_missed_inactivity_reminder_is_never_sent(conseiller):
    activite(conseiller, datetime.date(2026, 1, 5))
    assert_missed("inactivite", INACTIF, ["ines@labege.example.org"])


# --- Contracts ending --------------------------------------------------------------------------------------------
# A CDD ending on 30 June 2026: reminded 60 days before, on 1 May at 9:00.
FIN_CONTRAT = paris(2026, 5, 1, 9)


def contrat(structure, cree_le=None, **fields):
    poste = factories.PosteFactory(structure=structure, etat="occupe")
    values = {"poste": poste, "date_debut": datetime.date(2025, 7, 1), "date_fin": datetime.date(2026, 6, 30)}
    return created_at(cree_le or paris(2025, 6, 20), factories.ContratFactory, **{**values, **fields})


def test_a_contract_ending_is_reminded_60_days_before_to_staff_and_the_structure(equipe, structure):
    contrat(structure)
    assert_once_then_missed_elsewhere("fin_contrat", FIN_CONTRAT, [equipe, "referente@labege.example.org"])
    assert "30 juin 2026" in mail.outbox[0].subject


def test_a_broken_or_renewed_contract_is_not_reminded(equipe, structure):
    rompu = contrat(structure)
    rompu.date_rupture, rompu.motif_rupture = datetime.date(2026, 3, 1), "demission"
    rompu.save()
    renouvele = contrat(structure)
    created_at(
        paris(2026, 4, 1),
        factories.ContratFactory,
        conseiller=renouvele.conseiller,
        poste=renouvele.poste,
        date_debut=datetime.date(2026, 7, 1),
        date_fin=datetime.date(2027, 6, 30),
    )
    assert run("fin_contrat", FIN_CONTRAT + MINUTES).envoyes == 0


def test_a_contract_entered_after_its_reminders_moment_gets_nothing_not_even_a_missed_one(equipe, structure):
    contrat(structure, cree_le=paris(2026, 5, 1, 11), date_debut=datetime.date(2026, 5, 1))
    assert run("fin_contrat", paris(2026, 5, 1, 11, 5)).envoyes == 0  # inside the window, but entered after 9:00
    assert run("fin_contrat", paris(2026, 5, 2, 11, 5)).manques == 0  # after the window
    assert emails_of("fin_contrat") == []


def test_a_missed_contract_reminder_is_never_sent(equipe, structure):
    contrat(structure)
    assert_missed("fin_contrat", FIN_CONTRAT, [equipe, "referente@labege.example.org"])


# --- Continuing training -----------------------------------------------------------------------------------------
FORMATION = paris(2026, 10, 1, 9)


def sous_contrat(structure, **fields):
    return contrat(structure, date_debut=datetime.date(2024, 9, 1), date_fin=datetime.date(2027, 8, 31), **fields)


def test_continuing_training_not_done_by_1_october_is_reminded_once_a_year(equipe, structure):
    en_retard = sous_contrat(structure).conseiller
    a_jour = sous_contrat(structure).conseiller
    factories.FormationFactory(conseiller=a_jour, date_debut=datetime.date(2026, 3, 2))
    factories.FormationFactory(conseiller=en_retard, date_debut=datetime.date(2025, 3, 2))  # last year's
    assert_once_then_missed_elsewhere("formation_continue", FORMATION, [equipe, "referente@labege.example.org"])
    assert {e.objet for e in emails_of("formation_continue")} == {f"conseiller:{en_retard.uuid}:formation:2026"}
    assert "n'a suivi aucun module de formation continue en 2026, pour 1 dû cette année" in " ".join(
        mail.outbox[0].body.split()
    )


def test_a_missed_training_reminder_is_never_sent(equipe, structure):
    sous_contrat(structure)
    assert_missed("formation_continue", FORMATION, [equipe, "referente@labege.example.org"])


# --- Vacant posts ------------------------------------------------------------------------------------------------
# Vacant since its attribution on 10 January 2026: reminded after 4 months, on 10 May at 9:00.
VACANT = paris(2026, 5, 10, 9)


def poste_vacant(structure):
    return created_at(
        paris(2026, 1, 10), factories.PosteFactory, structure=structure, date_attribution=datetime.date(2026, 1, 10)
    )


def test_a_post_vacant_for_four_months_is_reminded_to_staff_and_the_structure(equipe, structure, settings):
    settings.POSTE_VACANCE_MAX_MOIS = 6
    poste = poste_vacant(structure)
    occupe = poste_vacant(structure)
    occupe.etat = "occupe"
    occupe.save()
    assert_once_then_missed_elsewhere("poste_vacant", VACANT, [equipe, "referente@labege.example.org"])
    assert {e.objet for e in emails_of("poste_vacant")} == {f"poste:{poste.uuid}:vacant:2026-01-10"}
    assert "10 juillet 2026" in mail.outbox[0].body  # the day it must be returned


def test_a_missed_vacancy_reminder_is_never_sent(equipe, structure):
    poste_vacant(structure)
    assert_missed("poste_vacant", VACANT, [equipe, "referente@labege.example.org"])


# --- Funding -----------------------------------------------------------------------------------------------------
def convention(structure, **fields):
    values = {
        "structure": structure,
        "statut": "signee",
        "date_signature": datetime.date(2025, 12, 1),
        "date_debut": datetime.date(2026, 1, 1),
        "date_fin": datetime.date(2026, 12, 31),
    }
    return created_at(paris(2025, 12, 1), factories.ConventionFactory, **{**values, **fields})


def versement(convention, date_prevue, **fields):
    ligne = factories.LigneFinancementFactory(convention=convention)
    return factories.VersementFactory(ligne=ligne, date_prevue=date_prevue, **fields)


# An instalment planned on Monday 2 March 2026: overdue the next day, reminded on 3 March at 9:00.
RETARD = paris(2026, 3, 3, 9)


def test_an_unpaid_instalment_is_reminded_the_day_after_its_date(equipe, structure):
    signee = convention(structure)
    du = versement(signee, datetime.date(2026, 3, 2))
    versement(signee, datetime.date(2026, 3, 2), date_versement=datetime.date(2026, 3, 2), montant_verse=Decimal(1))
    versement(convention(structure, statut="en_preparation", date_signature=None), datetime.date(2026, 3, 2))
    assert_once_then_missed_elsewhere("versement_retard", RETARD, [equipe, "referente@labege.example.org"])
    assert {e.objet for e in emails_of("versement_retard")} == {f"versement:{du.uuid}:retard:2026-03-02"}


def test_a_missed_instalment_reminder_is_never_sent(equipe, structure):
    versement(convention(structure), datetime.date(2026, 3, 2))
    assert_missed("versement_retard", RETARD, [equipe, "referente@labege.example.org"])


# A signed agreement ending on 31 December 2026: reminded 90 days before, on 2 October at 9:00.
FIN_CONVENTION = paris(2026, 10, 2, 9)


def test_an_agreement_ending_is_reminded_90_days_before(equipe, structure):
    convention(structure)
    convention(structure, statut="soldee")
    assert_once_then_missed_elsewhere("fin_convention", FIN_CONVENTION, [equipe, "referente@labege.example.org"])


def test_a_structure_without_referent_is_reached_at_its_contact_address(equipe):
    sans_referent = factories.StructureFactory(contact_email="accueil@ccas.example.org")
    convention(sans_referent)
    run("fin_convention", FIN_CONVENTION + MINUTES)
    assert recipients("fin_convention") == ["accueil@ccas.example.org", equipe]


def test_a_missed_agreement_reminder_is_never_sent(equipe, structure):
    convention(structure)
    assert_missed("fin_convention", FIN_CONVENTION, [equipe, "referente@labege.example.org"])


# --- Referrals -----------------------------------------------------------------------------------------------------
# Sent on Friday 6 March 2026 at 18:00: three working days later is Wednesday 11 March at 18:00.
ORIENTATION = paris(2026, 3, 11, 18)


def orientation(conseiller, **fields):
    values = {
        "aidant": AidantFactory(),
        "conseiller": conseiller,
        "commune": factories.CommuneFactory(),
        "thematiques": ["email"],
        "prenom": "Zéphyrine",
        "telephone": "+33612345678",
        "contact_prefere": "telephone",
        "consentement_le": paris(2026, 3, 6, 18),
        **fields,
    }
    return created_at(paris(2026, 3, 6, 18), Orientation.objects.create, **values)


def test_a_referral_not_taken_in_charge_after_three_working_days_is_reminded_to_its_conseiller(conseiller):
    waiting = orientation(conseiller)
    orientation(conseiller, statut=StatutOrientation.ACCEPTEE)
    assert_once_then_missed_elsewhere("orientation_attente", ORIENTATION, ["ines@labege.example.org"])
    assert {e.objet for e in emails_of("orientation_attente")} == {f"orientation:{waiting.uuid}:attente"}
    assert "Zéphyrine" not in mail.outbox[0].body and "+33612345678" not in mail.outbox[0].body


def test_a_missed_referral_reminder_is_never_sent(conseiller):
    orientation(conseiller)
    assert_missed("orientation_attente", ORIENTATION, ["ines@labege.example.org"])


# --- Pass numériques -------------------------------------------------------------------------------------------
# Valid until 31 December 2026: the distributor is reminded 30 days before, on 1 December at 9:00.
PASS = paris(2026, 12, 1, 9)


def carnet(distributeur, commande, numero, statuts):
    carnet = Carnet.objects.create(commande=commande, numero=numero, distributeur=distributeur)
    for index, statut in enumerate(statuts):
        PassNumerique.objects.create(carnet=carnet, numero=f"{numero}-{index}", statut=statut)
    return carnet


def test_passes_about_to_expire_are_reminded_to_their_distributor_once_per_order(structure):
    commande = created_at(
        paris(2026, 2, 1),
        CommandePass.objects.create,
        financeur=factories.FinanceurFactory(nom="AG2R"),
        date_commande=datetime.date(2026, 2, 1),
        nombre=20,
        valeur_faciale=Decimal("10.00"),
        valide_jusqu_au=datetime.date(2026, 12, 31),
        tolerance_jusqu_au=datetime.date(2027, 1, 31),
    )
    carnet(structure, commande, "C1", [StatutPass.EMIS, StatutPass.EMIS, StatutPass.ANNULE])
    carnet(structure, commande, "C2", [StatutPass.REMIS, StatutPass.EXPIRE])
    carnet(None, commande, "C3", [StatutPass.EMIS])  # still with staff: no distributor to remind
    assert_once_then_missed_elsewhere("pass_expiration", PASS, ["referente@labege.example.org"])
    body = mail.outbox[0].body
    assert "2 encore en stock" in body and "1 remis" in body
    assert mail.outbox[0].subject.startswith("3 Pass numériques non utilisés")
