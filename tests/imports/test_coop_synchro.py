"""The nightly synchronisation with the Coop, against the local fake of its API: pages applied, only what changed
asked for the next time, replays that write nothing, upstream changes and deletions followed (and the statistics
with them), mediators without a conseiller ignored until associated, places found, rejected activities retried, and
all or nothing: a refused credential, a timeout or a malformed page leave no trace but the failed run, the watermark
where it was, and one e-mail to staff per failure streak. The secret is encrypted at rest; the task retries what a
later try may pass."""

import datetime
import uuid
from unittest import mock

import pytest
from celery.exceptions import Retry
from cryptography.fernet import Fernet
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from accompagnements import choices as c
from accompagnements import services
from accompagnements.models import Accompagnement, Activite
from imports import chiffrement, coop_api, synchro
from imports.models import ActiviteCoopEnAttente, ConnexionCoop, MediateurCoop, StatutSynchro, SynchroCoop
from imports.tasks_coop import REESSAIS, coop_synchroniser, delai_avant_reessai
from notifications.models import Email
from reporting import resume
from tests import factories
from tests.imports.conftest import conseiller_employe

MEDIATRICE = uuid.UUID("0b6c1f4e-7a52-4a0e-9c1e-3f4b8d2a9e01")
INCONNU = uuid.UUID("9d0e2c55-1b7f-4f3c-8e6a-5a2b7c9d0f12")


@pytest.fixture
def castanet(db):
    return factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"])


@pytest.fixture
def conseillere(structure, castanet):
    return conseiller_employe(structure, prenom="Camille", nom="Dupré", email="camille.dupre@example.org")


@pytest.fixture
def associee(conseillere):
    """The mediator of the Coop staff have associated with ``conseillere``."""
    return MediateurCoop.objects.create(
        mediateur_id=MEDIATRICE, prenom="Camille", nom="Dupré", conseiller=conseillere, associe_le=timezone.now()
    )


@pytest.fixture
def pages_de_deux(monkeypatch):
    monkeypatch.setattr(coop_api, "TAILLE_PAGE", 2)


def lancer(**kwargs):
    run = synchro.synchroniser(**kwargs)
    run.refresh_from_db()
    return run


def watermark():
    return ConnexionCoop.objects.get().depuis


def importees():
    return Activite.objects.filter(source=c.Source.API_COOP)


def historique():
    return Activite.history.count() + Accompagnement.history.count()


# --- Runs ----------------------------------------------------------------------------------------------------------
def test_a_first_run_imports_every_page(coop_connexion, coop_fake, associee, pages_de_deux):
    crees = [coop_fake.activite(mediateur_id=MEDIATRICE, duree=30 + n) for n in range(5)]
    avant = timezone.now()
    run = lancer()
    assert run.statut == StatutSynchro.REUSSIE, run.erreur
    assert (run.pages, run.recues, run.creees, run.inchangees, run.ignorees, run.rejetees) == (3, 5, 5, 0, 0, [])
    assert run.depuis is None and run.termine_le is not None and run.tentative == 1
    assert set(importees().values_list("id_externe", flat=True)) == {a["id"] for a in crees}
    assert avant <= watermark() <= run.commence_le + datetime.timedelta(seconds=5)
    requetes = coop_fake.requetes_vers("/activites")
    assert len(requetes) == 3 and "filter[modification][depuis]" not in requetes[0].params


def test_the_api_s_activities_become_ours(coop_connexion, coop_fake, associee, conseillere, structure, castanet):
    lieu = factories.LieuFactory(structure=structure, commune=castanet, id_source=str(uuid.uuid4()))
    individuel = coop_fake.activite(
        mediateur_id=MEDIATRICE, oriente_vers_structure=True, structure_de_redirection="administration"
    )
    demarche = coop_fake.activite(
        mediateur_id=MEDIATRICE,
        type="demarche_administrative",
        thematiques=["papiers_elections_citoyennete"],
        precisions_demarche="Renouvellement de la carte d'identité",
        autonomie="entierement_accompagne",
        type_lieu="a_distance",
    )
    atelier = coop_fake.activite(
        mediateur_id=MEDIATRICE,
        type="collectif",
        accompagnements=6,
        duree=120,
        titre_atelier="Découvrir l'e-mail",
        niveau_atelier="debutant",
        autonomie=None,
        thematiques=["email", "securite_numerique"],
        materiel=["tablette"],
        type_lieu="lieu_activite",
        structure_id=lieu.id_source,
        lieu_code_postal=None,
        lieu_commune=None,
        lieu_code_insee=None,
    )
    run = lancer()
    assert (run.creees, run.rejetees) == (3, [])

    activite = Activite.objects.get(id_externe=individuel["id"])
    assert (activite.type, activite.type_lieu, activite.commune, activite.duree) == (
        "individuel",
        "domicile",
        castanet,
        30,
    )
    assert (activite.conseiller, activite.structure, activite.source) == (conseillere, structure, c.Source.API_COOP)
    assert (activite.oriente, activite.structure_redirection, activite.autonomie) == (
        True,
        "administration",
        "partiellement_autonome",
    )
    assert activite.notes == "" and "atelier du mardi" not in str(Activite.objects.filter(pk=activite.pk).values())

    activite = Activite.objects.get(id_externe=demarche["id"])
    assert activite.type == c.INDIVIDUEL
    assert activite.thematiques == [c.AIDE_DEMARCHES, "papiers_elections_citoyennete"]
    assert activite.nom_demarche == "Renouvellement de la carte d'identité"
    assert (activite.type_lieu, activite.commune) == ("a_distance", castanet)

    activite = Activite.objects.get(id_externe=atelier["id"])
    assert (activite.type, activite.lieu, activite.commune, activite.participants) == ("collectif", lieu, castanet, 6)
    assert (activite.titre_atelier, activite.niveau, activite.materiel) == (
        "Découvrir l'e-mail",
        "debutant",
        ["tablette"],
    )
    participants = list(activite.accompagnements.values_list("genre", "tranche_age", "statut_social", "beneficiaire"))
    assert participants == [(c.NON_COMMUNIQUE, c.NON_COMMUNIQUE, c.NON_COMMUNIQUE, None)] * 6


def test_a_second_run_asks_only_for_what_changed(coop_connexion, coop_fake, associee):
    activites = [coop_fake.activite(mediateur_id=MEDIATRICE) for _ in range(3)]
    premier = lancer()
    repere = watermark()
    assert repere is not None

    coop_fake.modifier(activites[1]["id"], duree=75, thematiques=["email", "bureautique"])
    second = lancer()
    assert second.depuis == repere
    requete = coop_fake.requetes_vers("/activites")[-1]
    assert requete.params["filter[modification][depuis]"] == coop_api_iso(repere - synchro.CHEVAUCHEMENT)
    assert [item["id"] for item in requete.corps["data"]] == [activites[1]["id"]]
    assert (second.recues, second.mises_a_jour, second.creees, second.inchangees) == (1, 1, 0, 0)
    modifiee = Activite.objects.get(id_externe=activites[1]["id"])
    assert (modifiee.duree, modifiee.thematiques) == (75, ["email", "bureautique"])
    assert repere <= premier.commence_le < watermark() <= second.commence_le


def coop_api_iso(instant):
    return instant.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_replaying_everything_writes_nothing(coop_connexion, coop_fake, associee, pages_de_deux):
    for _ in range(3):
        coop_fake.activite(mediateur_id=MEDIATRICE)
    coop_fake.activite(
        mediateur_id=MEDIATRICE, type="collectif", accompagnements=3, titre_atelier="Atelier", autonomie=None
    )
    assert lancer().creees == 4
    lignes, versions = list(Activite.objects.values("pk", "updated_at")), historique()

    ConnexionCoop.objects.update(depuis=None)  # everything again
    run = lancer()
    assert (run.recues, run.inchangees, run.creees, run.mises_a_jour, run.supprimees) == (4, 4, 0, 0, 0)
    assert list(Activite.objects.values("pk", "updated_at")) == lignes
    assert historique() == versions


def test_an_activity_deleted_upstream_is_deleted_here_and_leaves_the_statistics(coop_connexion, coop_fake, associee):
    garder, supprimer = (coop_fake.activite(mediateur_id=MEDIATRICE) for _ in range(2))
    lancer()
    resume.mettre_a_jour()
    jour = datetime.date.fromisoformat(garder["attributes"]["date"])
    assert resume.statistiques(jour, jour).chiffres["activites"] == 2

    coop_fake.supprimer(supprimer["id"])
    run = lancer()
    assert (run.recues, run.supprimees) == (1, 1)
    supprimee = Activite.objects.get(id_externe=supprimer["id"])
    assert supprimee.supprimee_le is not None
    assert Activite.objects.actives().filter(id_externe=garder["id"]).exists()
    resume.mettre_a_jour()
    assert resume.statistiques(jour, jour).chiffres["activites"] == 1

    ConnexionCoop.objects.update(depuis=None)
    assert lancer().inchangees == 2  # deleted once, not again


def test_mediators_without_a_conseiller_are_ignored_until_associated(
    coop_connexion, coop_fake, associee, structure, staff_user
):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    passees = [coop_fake.activite(mediateur_id=INCONNU) for _ in range(2)]
    run = lancer()
    assert (run.creees, run.ignorees, run.rejetees) == (1, 2, [])
    assert watermark() is not None

    collegue = conseiller_employe(structure, prenom="Léo", nom="Martin")
    mediateur = MediateurCoop.objects.create(mediateur_id=INCONNU, prenom="Léo", nom="Martin")
    synchro.mediateur_associer(mediateur=mediateur, conseiller=collegue, by=staff_user)
    assert watermark() is None  # the next run reads the whole history

    run = lancer()
    assert (run.creees, run.inchangees, run.ignorees) == (2, 1, 0)
    assert set(Activite.objects.filter(conseiller=collegue).values_list("id_externe", flat=True)) == {
        a["id"] for a in passees
    }


def en_attente():
    return {a.id_coop: a for a in ActiviteCoopEnAttente.objects.all()}


def test_an_activity_at_an_unknown_place_waits_and_passes_once_the_place_exists(
    coop_connexion, coop_fake, associee, structure, castanet
):
    """A mediator who comes from another territory (their old activities at places unknown here): the watermark
    moves on all the same, the rejected activities wait in a table and each run tries them again."""
    bonne = coop_fake.activite(mediateur_id=MEDIATRICE)
    lieu_coop = coop_fake.structure(nom="Tiers-lieu de la Gare", code_insee="31113")
    orpheline = coop_fake.activite(
        mediateur_id=MEDIATRICE,
        type_lieu="lieu_activite",
        structure_id=lieu_coop["id"],
        il_y_a=datetime.timedelta(hours=30),
        lieu_code_postal=None,
        lieu_commune=None,
        lieu_code_insee=None,
    )
    run = lancer()
    assert run.statut == StatutSynchro.REUSSIE
    assert (run.creees, len(run.rejetees)) == (1, 1)
    rejet = run.rejetees[0]
    assert (rejet["id"], rejet["date"], rejet["lieu"]) == (
        orpheline["id"],
        orpheline["attributes"]["date"],
        "Tiers-lieu de la Gare",
    )
    assert rejet["raison"].startswith("Le lieu d'activité n'existe pas sur la plateforme")
    # The watermark moves on: the rejected activity waits here, as received.
    assert watermark() >= run.commence_le - datetime.timedelta(seconds=1)
    attente = en_attente()[orpheline["id"]]
    assert attente.donnees == orpheline and attente.raison.startswith("Le lieu d'activité n'existe pas")
    assert "« Tiers-lieu de la Gare »" in attente.raison
    assert attente.modification == datetime.datetime.fromisoformat(orpheline["attributes"]["modification"])
    assert Activite.objects.filter(id_externe=bonne["id"]).exists()

    run = lancer()  # nothing modified upstream: nothing read again, the one waiting tried again
    assert (run.recues, run.rejetees, run.creees) == (0, [], 0)
    assert set(en_attente()) == {orpheline["id"]}
    requete = coop_fake.requetes_vers("/activites")[-1]
    assert "filter[modification][depuis]" in requete.params

    factories.LieuFactory(structure=structure, commune=castanet, nom="Tiers-lieu de la gare")
    run = lancer()
    assert (run.recues, run.creees, run.rejetees) == (0, 1, [])
    assert Activite.objects.get(id_externe=orpheline["id"]).lieu.nom == "Tiers-lieu de la gare"
    assert en_attente() == {}


def test_every_rejected_activity_waits_until_modified_upstream(coop_connexion, coop_fake, associee):
    """Whatever the reason: a newer version upstream replaces the one waiting, and passes if it can."""
    fautive = coop_fake.activite(mediateur_id=MEDIATRICE, duree=0, il_y_a=datetime.timedelta(days=2))
    illisible = coop_fake.activite(mediateur_id=MEDIATRICE, accompagnements=501)
    run = lancer()
    rejets = {r["id"]: r for r in run.rejetees}
    assert rejets[fautive["id"]]["raison"] == "La durée doit être comprise entre 1 et 480 minutes (lu : 0)."
    assert rejets[illisible["id"]]["raison"] == "Nombre d'accompagnements hors limites (501, au plus 500)."
    assert watermark() >= run.commence_le - datetime.timedelta(seconds=1)
    assert set(en_attente()) == {fautive["id"], illisible["id"]}

    coop_fake.modifier(illisible["id"], accompagnements=502)
    run = lancer()
    assert (run.recues, run.creees, len(run.rejetees)) == (1, 0, 1)
    assert en_attente()[illisible["id"]].raison == "Nombre d'accompagnements hors limites (502, au plus 500)."
    assert en_attente()[illisible["id"]].donnees["attributes"]["accompagnements"] == 502

    coop_fake.modifier(fautive["id"], duree=45)
    run = lancer()  # the other one comes again too (modified within the overlap of the clocks)
    assert (run.creees, [r["id"] for r in run.rejetees]) == (1, [illisible["id"]])
    assert set(en_attente()) == {illisible["id"]}

    coop_fake.supprimer(illisible["id"])  # deleted upstream: it waits no more
    run = lancer()
    assert (run.supprimees, run.rejetees) == (0, [])
    assert en_attente() == {}


def test_a_number_that_is_not_finite_rejects_the_one_activity(coop_connexion, coop_fake, associee):
    nan = coop_fake.activite(mediateur_id=MEDIATRICE, duree=float("nan"))
    infini = coop_fake.activite(mediateur_id=MEDIATRICE, accompagnements=float("inf"))
    enorme = coop_fake.activite(
        mediateur_id=MEDIATRICE,
        type="collectif",
        accompagnements=2,
        titre_atelier="Atelier",
        autonomie=None,
        beneficiaires={"genres": {"feminin": 10**15}},
    )
    bonne = coop_fake.activite(mediateur_id=MEDIATRICE)
    run = lancer()
    assert run.statut == StatutSynchro.REUSSIE, run.erreur
    rejets = {r["id"]: r["raison"] for r in run.rejetees}
    assert rejets == {
        nan["id"]: "Durée illisible : ce n'est pas un nombre fini.",
        infini["id"]: "Nombre d'accompagnements illisible : ce n'est pas un nombre fini.",
    }
    assert set(importees().values_list("id_externe", flat=True)) == {bonne["id"], enorme["id"]}
    assert en_attente()[nan["id"]].donnees["attributes"]["duree"] == "NaN"  # stored as JSON can say it
    run = lancer()  # tried again: still rejected, the run goes on
    assert run.statut == StatutSynchro.REUSSIE and set(en_attente()) == {nan["id"], infini["id"]}
    assert list(Activite.objects.get(id_externe=enorme["id"]).accompagnements.values_list("genre", flat=True)) == [
        "feminin",
        "feminin",
    ]


def test_the_participants_attributes_when_the_api_gives_them(coop_connexion, coop_fake, associee):
    """The upstream implementation adds ``beneficiaires`` (aggregates, not in the bundled description): they are
    spread over the anonymous participants, the rest « non communiqué »."""
    coop_fake.activite(
        mediateur_id=MEDIATRICE,
        type="collectif",
        accompagnements=3,
        titre_atelier="Atelier",
        autonomie=None,
        beneficiaires={
            "total": 3,
            "genres": {"feminin": 2, "masculin": 1, "non_communique": 0},
            "tranches_age": {"soixante_dix_plus": 1, "non_communique": 2},
            "statuts": {"retraite": 1},
        },
    )
    lancer()
    lignes = list(
        importees().get().accompagnements.order_by("rang").values_list("genre", "tranche_age", "statut_social")
    )
    assert lignes == [
        ("masculin", "soixante_dix_plus", "retraite"),
        ("feminin", c.NON_COMMUNIQUE, c.NON_COMMUNIQUE),
        ("feminin", c.NON_COMMUNIQUE, c.NON_COMMUNIQUE),
    ]


def test_places_are_found_by_cartography_id_siret_and_name_or_commune_and_name(
    coop_connexion, coop_fake, associee, structure, castanet
):
    par_source = factories.LieuFactory(structure=structure, commune=castanet, id_source="carto-envol")
    par_uuid = factories.LieuFactory(structure=structure, commune=castanet)
    par_siret = factories.LieuFactory(structure=structure, commune=castanet, nom="Maison France Services", pivot="")
    par_nom = factories.LieuFactory(structure=structure, commune=castanet, nom="Médiathèque Simone Veil")
    coop = {
        par_source: coop_fake.structure(nom="Autre nom", carto_id="carto-envol"),
        par_uuid: coop_fake.structure(nom="Nom différent", carto_id=str(par_uuid.uuid)),
        par_siret: coop_fake.structure(nom="MAISON FRANCE-SERVICES", siret=structure.siret, code_insee="31582"),
        par_nom: coop_fake.structure(nom="Mediatheque  Simone-Veil", code_insee="31113"),
    }
    for s in coop.values():
        coop_fake.activite(
            mediateur_id=MEDIATRICE, type_lieu="lieu_activite", structure_id=s["id"], lieu_code_insee=None
        )
    run = lancer()
    assert (run.creees, run.rejetees) == (4, [])
    for lieu, s in coop.items():
        assert (
            Activite.objects.get(
                id_externe=next(a for a in coop_fake.activites.values() if a["attributes"]["structure_id"] == s["id"])[
                    "id"
                ]
            ).lieu
            == lieu
        )
    demandes = [r.params["ids"] for r in coop_fake.requetes_vers("/structures")]
    assert len(demandes) == 1 and set(demandes[0].split(",")) == {s["id"] for s in coop.values()}


def test_imported_activities_are_read_only(coop_connexion, coop_fake, associee, conseillere):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    lancer()
    activite = importees().get()
    with pytest.raises(PermissionDenied, match="outil national"):
        services.activite_update(activite=activite, by=conseillere.user, data={"duree": 10})
    with pytest.raises(PermissionDenied):
        services.activite_delete(activite=activite, by=conseillere.user)


# --- Failures: all or nothing --------------------------------------------------------------------------------------
def _echec_attendu(run, texte):
    assert run.statut == StatutSynchro.ECHEC
    assert texte in run.erreur
    assert (run.creees, run.mises_a_jour, run.supprimees, run.inchangees, run.rejetees) == (0, 0, 0, 0, [])


def test_refused_credentials_fail_the_run_and_change_nothing(coop_connexion, coop_fake, associee, staff_user):
    ancienne = coop_fake.activite(mediateur_id=MEDIATRICE)
    lancer()
    repere = watermark()
    coop_fake.modifier(ancienne["id"], duree=99)
    coop_fake.activite(mediateur_id=MEDIATRICE)
    coop_fake.secret = "renouvele-dans-la-coop"

    run = lancer()
    _echec_attendu(run, "La Coop a refusé les identifiants (HTTP 401)")
    assert run.reessayable is False
    assert watermark() == repere
    assert importees().count() == 1 and importees().get().duree == 30
    emails = Email.objects.filter(type=synchro.EMAIL_TYPE)
    assert list(emails.values_list("destinataire", flat=True)) == [staff_user.email]
    email = emails.get()
    assert "a échoué" in email.texte and "refusé les identifiants" in email.texte
    assert "/imports/coop/" in email.texte and "Synchronisation avec la Coop en échec" in email.sujet


def test_staff_are_told_once_per_failure_streak(coop_connexion, coop_fake, associee, staff_user):
    factories.StaffUserFactory(email="deuxieme@example.org")
    bon, coop_fake.secret = coop_fake.secret, "autre"
    premier, second = lancer(), lancer()
    assert premier.statut == second.statut == StatutSynchro.ECHEC
    assert Email.objects.filter(type=synchro.EMAIL_TYPE).count() == 2  # two staff, one e-mail each
    assert set(Email.objects.values_list("objet", flat=True)) == {f"synchro_coop:{premier.pk}"}

    coop_fake.secret = bon
    assert lancer().statut == StatutSynchro.REUSSIE
    coop_fake.erreur_500 = True
    troisieme = lancer()
    assert troisieme.statut == StatutSynchro.ECHEC
    assert Email.objects.filter(type=synchro.EMAIL_TYPE, objet=f"synchro_coop:{troisieme.pk}").count() == 2


def test_a_timeout_fails_the_run_as_worth_a_retry_and_staff_wait_for_the_last_try(
    coop_connexion, coop_fake, associee, delais_courts
):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    coop_fake.lent, coop_fake.delai = True, 1.5
    run = lancer(reessai_possible=True)
    _echec_attendu(run, "La Coop n'a pas répondu à temps")
    assert synchro.synchroniser(reessai_possible=True).reessayable is True
    assert not Email.objects.exists()  # a retry is planned
    assert watermark() is None and not importees().exists()
    lancer(reessai_possible=False, tentative=4)
    assert Email.objects.filter(type=synchro.EMAIL_TYPE).count() == 1


def test_a_malformed_second_page_leaves_nothing_of_the_first(coop_connexion, coop_fake, associee, pages_de_deux):
    for _ in range(5):
        coop_fake.activite(mediateur_id=MEDIATRICE)
    coop_fake.page_malformee = 2
    run = lancer()
    _echec_attendu(run, "Page mal formée renvoyée par la Coop (activites, page 2)")
    assert run.pages == 1 and run.recues == 2  # the first page was read and applied, then rolled back
    assert not Activite.objects.exists() and not Accompagnement.objects.exists()
    assert watermark() is None
    assert SynchroCoop.objects.get().statut == StatutSynchro.ECHEC

    coop_fake.page_malformee = None
    assert lancer().creees == 5


def test_an_unexpected_error_rolls_back_too(coop_connexion, coop_fake, associee):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    coop_fake.activite(mediateur_id=MEDIATRICE)
    with mock.patch.object(synchro.Lecture, "reprendre", side_effect=RuntimeError("boum")):
        run = lancer()
    _echec_attendu(run, "Erreur inattendue pendant la synchronisation (RuntimeError)")
    assert not Activite.objects.exists()


def test_a_run_while_another_holds_the_lock_does_nothing(coop_connexion, coop_fake, associee):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    with mock.patch.object(synchro, "_verrouiller", return_value=False):  # what a run holding the lock makes
        run = lancer()
    assert run.statut == StatutSynchro.ECHEC and "Une autre synchronisation était en cours" in run.erreur
    assert not Activite.objects.exists() and not Email.objects.exists()
    assert not coop_fake.requetes_vers("/activites")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the advisory lock is PostgreSQL's")
def test_the_advisory_lock_keeps_one_run_at_a_time(coop_connexion, coop_fake, associee):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    autre = connections.create_connection("default")
    try:
        with autre.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [synchro.VERROU])
        run = lancer()
        assert run.statut == StatutSynchro.ECHEC and "Une autre synchronisation était en cours" in run.erreur
        with autre.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [synchro.VERROU])
        assert lancer().statut == StatutSynchro.REUSSIE
    finally:
        autre.close()


@pytest.mark.parametrize("premiere", [True, False], ids=["premiere_synchronisation", "suivante"])
def test_an_association_made_during_a_run_sends_the_watermark_back_all_the_same(
    coop_connexion, coop_fake, associee, structure, staff_user, pages_de_deux, monkeypatch, premiere
):
    """The run does not lock the connection while it reads: staff may associate a mediator meanwhile, and then the
    watermark is not moved (the next run reads everything again, the new mediator's past activities with it)."""
    if not premiere:
        lancer()
        coop_fake.instant()  # what follows is modified after the watermark
    for _ in range(3):
        coop_fake.activite(mediateur_id=MEDIATRICE, il_y_a=datetime.timedelta(0))
    passee = coop_fake.activite(mediateur_id=INCONNU, il_y_a=datetime.timedelta(days=5))
    collegue = conseiller_employe(structure, prenom="Léo", nom="Martin")
    mediateur = MediateurCoop.objects.create(mediateur_id=INCONNU, prenom="Léo", nom="Martin")
    page = synchro.Lecture.page

    def page_puis_association(lecture, data):
        page(lecture, data)
        if lecture.pages == 1:  # staff associate Léo Martin while the run reads
            synchro.mediateur_associer(mediateur=mediateur, conseiller=collegue, by=staff_user)

    monkeypatch.setattr(synchro.Lecture, "page", page_puis_association)
    run = lancer()
    assert run.statut == StatutSynchro.REUSSIE and run.pages >= 2
    assert watermark() is None
    monkeypatch.undo()
    lancer()
    assert Activite.objects.filter(conseiller=collegue, id_externe=passee["id"]).exists()
    assert watermark() is not None


def test_the_watermark_is_moved_only_from_the_value_read_at_the_start(coop_connexion):
    """A conditional update: a watermark someone changed during the run is left as they set it."""
    debut = timezone.now()
    ConnexionCoop.objects.update(depuis=debut - datetime.timedelta(days=1))
    pk = coop_connexion.pk
    assert not synchro.avancer_repere(pk, lu=debut - datetime.timedelta(days=2), nouveau=debut, associes=set())
    assert watermark() == debut - datetime.timedelta(days=1)
    assert synchro.avancer_repere(pk, lu=debut - datetime.timedelta(days=1), nouveau=debut, associes=set())
    assert watermark() == debut


def test_nothing_happens_without_a_connection(db):
    assert synchro.synchroniser() is None
    assert not SynchroCoop.objects.exists()


# --- The task ----------------------------------------------------------------------------------------------------
def test_the_retry_delays():
    echec = SynchroCoop(statut=StatutSynchro.ECHEC)
    echec.reessayable = True
    assert [delai_avant_reessai(echec, n) for n in range(4)] == [300, 900, 2700, None]
    echec.reessayable = False
    assert delai_avant_reessai(echec, 0) is None
    assert delai_avant_reessai(SynchroCoop(statut=StatutSynchro.REUSSIE), 0) is None


def test_the_nightly_task_retries_a_timeout_with_a_backoff(coop_connexion, coop_fake, associee, delais_courts):
    coop_fake.lent, coop_fake.delai = True, 1.5
    with mock.patch.object(coop_synchroniser, "retry", side_effect=Retry("plus tard")) as retry, pytest.raises(Retry):
        coop_synchroniser.apply(throw=True)
    retry.assert_called_once_with(countdown=REESSAIS[0], max_retries=len(REESSAIS))
    assert SynchroCoop.objects.get().tentative == 1
    assert not Email.objects.exists()


def test_the_task_does_not_retry_refused_credentials_nor_staff_s_own_runs(
    coop_connexion, coop_fake, staff_user, delais_courts
):
    bon, coop_fake.secret = coop_fake.secret, "autre"
    with mock.patch.object(coop_synchroniser, "retry") as retry:
        coop_synchroniser.apply(throw=True)
        coop_fake.secret, coop_fake.lent, coop_fake.delai = bon, True, 1.5
        coop_synchroniser.apply(args=[staff_user.pk], throw=True)
    retry.assert_not_called()
    assert list(SynchroCoop.objects.order_by("pk").values_list("statut", "lancee_par")) == [
        (StatutSynchro.ECHEC, None),
        (StatutSynchro.ECHEC, staff_user.pk),
    ]


def test_the_nightly_task_skips_a_connection_switched_off(coop_connexion, coop_fake, staff_user):
    ConnexionCoop.objects.update(active=False)
    assert coop_synchroniser.apply().get() == {"statut": "desactivee"}
    assert not SynchroCoop.objects.exists()
    assert coop_synchroniser.apply(args=[staff_user.pk]).get()["statut"] == StatutSynchro.REUSSIE


# --- The secret at rest --------------------------------------------------------------------------------------------
CLE_A, CLE_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_encryption_round_trip_and_rotation():
    with override_settings(CHIFFREMENT_CLES=[CLE_A]):
        jeton = chiffrement.chiffrer("s3cret:à:garder")
        assert jeton != "s3cret:à:garder" and "s3cret" not in jeton
        assert chiffrement.dechiffrer(jeton) == "s3cret:à:garder"
        date = chiffrement.date_chiffrement(jeton)
        assert abs(date - timezone.now()) < datetime.timedelta(seconds=5)
    with override_settings(CHIFFREMENT_CLES=[CLE_B, CLE_A]):  # rotation: the new key first, the old one still reads
        assert chiffrement.dechiffrer(jeton) == "s3cret:à:garder"
        nouveau = chiffrement.rechiffrer(jeton)
        assert chiffrement.date_chiffrement(nouveau) == date
    with override_settings(CHIFFREMENT_CLES=[CLE_B]):
        assert chiffrement.dechiffrer(nouveau) == "s3cret:à:garder"
        with pytest.raises(chiffrement.ChiffrementErreur, match="ne peut pas être déchiffré"):
            chiffrement.dechiffrer(jeton)
    with override_settings(CHIFFREMENT_CLES="  ,".join([CLE_A, CLE_B])):  # the environment's comma-separated form
        assert chiffrement.dechiffrer(jeton) == "s3cret:à:garder"


def test_without_keys_one_is_derived_from_the_secret_key():
    with override_settings(CHIFFREMENT_CLES=[]):
        jeton = chiffrement.chiffrer("abc")
        assert chiffrement.dechiffrer(jeton) == "abc"
        with override_settings(SECRET_KEY="une-autre-cle-secrete-du-tout-au-tout"):
            with pytest.raises(chiffrement.ChiffrementErreur):
                chiffrement.dechiffrer(jeton)
            assert chiffrement.date_chiffrement(jeton) is None


def test_the_database_never_holds_the_clear_secret(coop_connexion, coop_fake, staff_user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM imports_connexioncoop")
        lignes = cursor.fetchall()
    assert len(lignes) == 1 and coop_fake.secret not in repr(lignes)
    assert chiffrement.dechiffrer(ConnexionCoop.objects.get().secret_chiffre) == coop_fake.secret


# --- The connection and the mediators ------------------------------------------------------------------------------
def test_saving_the_connection(coop_fake, staff_user, conseillere):
    with pytest.raises(PermissionDenied):
        synchro.connexion_enregistrer(by=conseillere.user, url=coop_fake.url, client_id="x", secret="y")
    with pytest.raises(ValidationError) as refus:
        synchro.connexion_enregistrer(by=staff_user, url=coop_fake.url, client_id="x")
    assert refus.value.message_dict == {"secret": ["Indiquez le secret client fourni par la Coop."]}
    with pytest.raises(ValidationError) as refus:
        synchro.connexion_enregistrer(by=staff_user, url="http://coop.example/api/v1", client_id="x", secret="y")
    assert "https://" in refus.value.message_dict["url"][0]

    conn = synchro.connexion_enregistrer(by=staff_user, url=coop_fake.url + "/", client_id=" id ", secret="premier")
    assert (conn.url, conn.client_id, conn.modifie_par) == (coop_fake.url, "id", staff_user)
    ConnexionCoop.objects.update(depuis=timezone.now())
    synchro.connexion_enregistrer(by=staff_user, url=coop_fake.url, client_id="id2", secret="", active=False)
    conn.refresh_from_db()
    assert (conn.client_id, chiffrement.dechiffrer(conn.secret_chiffre), conn.active) == ("id2", "premier", False)
    assert conn.depuis is not None  # same API: the watermark stays
    with pytest.raises(ValidationError) as refus:  # another address: the secret goes only where it was typed for
        synchro.connexion_enregistrer(by=staff_user, url="https://coop-numerique.anct.gouv.fr/api/v1", client_id="id2")
    assert refus.value.message_dict == {
        "secret": [
            "Saisissez de nouveau le secret client : il n'est envoyé qu'à l'adresse pour laquelle il a été saisi."
        ]
    }
    assert ConnexionCoop.objects.get().url == coop_fake.url
    synchro.connexion_enregistrer(
        by=staff_user, url="https://coop-numerique.anct.gouv.fr/api/v1", client_id="id2", secret="second"
    )
    conn.refresh_from_db()
    assert (conn.url, chiffrement.dechiffrer(conn.secret_chiffre)) == (
        "https://coop-numerique.anct.gouv.fr/api/v1",
        "second",
    )
    assert conn.depuis is None  # another API: everything again
    assert ConnexionCoop.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/v1",
        "https://127.0.0.1/api/v1",
        "https://localhost/api/v1",
        "http://localhost/api/v1",
        "https://[::1]/api/v1",
        "https://10.0.0.5/api/v1",
        "https://169.254.169.254/latest",
    ],
)
def test_local_addresses_only_when_the_setting_allows_them(db, staff_user, settings, url):
    settings.COOP_API_ADRESSES_LOCALES = False
    with pytest.raises(ValidationError) as refus:
        synchro.connexion_enregistrer(by=staff_user, url=url, client_id="x", secret="y")
    assert "sur Internet" in refus.value.message_dict["url"][0]
    del settings.COOP_API_ADRESSES_LOCALES  # the default: refused too
    with pytest.raises(ValidationError):
        synchro.connexion_enregistrer(by=staff_user, url=url, client_id="x", secret="y")
    settings.COOP_API_ADRESSES_LOCALES = True
    assert synchro.connexion_enregistrer(by=staff_user, url=url, client_id="x", secret="y").url == url.rstrip("/")
    with pytest.raises(ValidationError) as refus:
        synchro.connexion_enregistrer(by=staff_user, url="http://coop.example/api/v1", client_id="x", secret="y")
    assert "https://" in refus.value.message_dict["url"][0]


def test_testing_the_connection(coop_connexion, coop_fake):
    coop_fake.activite(mediateur_id=MEDIATRICE)
    assert synchro.connexion_tester() == (
        True,
        "Connexion réussie : la Coop répond et accepte les identifiants (1 activités accessibles).",
    )
    assert coop_fake.requetes_vers("/activites")[0].params == {"page[size]": "1"}
    coop_fake.secret = "autre"
    reussi, message = synchro.connexion_tester()
    assert not reussi and message.startswith("Échec du test de connexion : La Coop a refusé les identifiants")


def test_mediators_are_read_and_suggested_never_associated_on_their_own(
    coop_connexion, coop_fake, staff_user, structure, conseillere
):
    homonyme = conseiller_employe(structure, prenom="Léo", nom="Martin-Dubois")
    deja = conseiller_employe(structure, prenom="Inès", nom="Roux")
    MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), nom="Roux", conseiller=deja)
    par_email, par_nom, sans, autre = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    coop_fake.utilisateur(email="CAMILLE.DUPRE@example.org", prenom="Cam", nom="D.", mediateur_id=par_email, id_pg=42)
    coop_fake.utilisateur(email="leo@ailleurs.example", prenom="Léo", nom="Martin Dubois", mediateur_id=par_nom)
    coop_fake.utilisateur(email="ines@ailleurs.example", prenom="Inès", nom="Roux", mediateur_id=sans)
    coop_fake.utilisateur(email="coordination@example.org", prenom="Alex", nom="Martin")  # not a mediator
    coop_fake.utilisateur(email="x@example.org", prenom="Inconnu", nom="Inconnu", mediateur_id=autre)

    with pytest.raises(PermissionDenied):
        synchro.mediateurs_actualiser(by=conseillere.user)
    oublie = MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), nom="Ancien")  # neither associated nor suggested
    assert synchro.mediateurs_actualiser(by=staff_user) == {
        "lus": 5,
        "mediateurs": 4,
        "gardes": 2,
        "nouveaux": 2,
        "retires": 1,
    }
    # Only those who matter here are kept: the associated one, and those a conseiller is suggested for.
    mediateurs = {m.mediateur_id: m for m in MediateurCoop.objects.all()}
    assert set(mediateurs) == {par_email, par_nom, MediateurCoop.objects.get(conseiller=deja).mediateur_id}
    assert not MediateurCoop.objects.filter(pk=oublie.pk).exists()
    assert mediateurs[par_email].conum_id_pg == 42 and mediateurs[par_email].email == "CAMILLE.DUPRE@example.org"
    assert not MediateurCoop.objects.filter(mediateur_id__in=[par_email, par_nom], conseiller__isnull=False).exists()
    conn = ConnexionCoop.objects.get()
    assert conn.mediateurs_vus == 4 and conn.mediateurs_actualises_le is not None

    proposes = synchro.suggestions(mediateurs.values())
    assert proposes[mediateurs[par_email].pk].conseiller == conseillere
    assert proposes[mediateurs[par_email].pk].raison == "même adresse e-mail"
    assert proposes[mediateurs[par_nom].pk].conseiller == homonyme

    coop_fake.utilisateurs[next(iter(coop_fake.utilisateurs))]["attributes"]["nom"] = "Dupré"
    assert synchro.mediateurs_actualiser(by=staff_user)["nouveaux"] == 0
    assert MediateurCoop.objects.get(mediateur_id=par_email).nom == "Dupré"

    # Léo Martin-Dubois's suggestion goes (his conseiller now associated elsewhere): he is dropped at the next refresh.
    MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), nom="Autre", conseiller=homonyme)
    assert synchro.mediateurs_actualiser(by=staff_user)["retires"] == 1
    assert not MediateurCoop.objects.filter(mediateur_id=par_nom).exists()


def test_the_task_refreshes_the_mediators_and_keeps_the_outcome(coop_connexion, coop_fake, staff_user, conseillere):
    from imports.tasks_coop import coop_mediateurs_actualiser, resultat_mediateurs

    coop_fake.utilisateur(email="camille.dupre@example.org", prenom="Camille", nom="Dupré", mediateur_id=uuid.uuid4())
    assert coop_mediateurs_actualiser.apply(args=[staff_user.pk]).get()["statut"] == "reussie"
    assert resultat_mediateurs(staff_user.pk)["gardes"] == 1
    assert resultat_mediateurs(staff_user.pk) is None  # said once
    coop_fake.secret = "autre"
    resultat = coop_mediateurs_actualiser.apply(args=[staff_user.pk]).get()
    assert resultat["statut"] == "echec" and "refusé les identifiants" in resultat["erreur"]
    assert coop_mediateurs_actualiser.apply(args=[conseillere.user.pk]).get() == {"statut": "refuse"}


def test_a_conseiller_is_one_mediator(db, staff_user, structure, conseillere, coop_connexion):
    premier = MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), nom="Un")
    second = MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), nom="Deux")
    synchro.mediateur_associer(mediateur=premier, conseiller=conseillere, by=staff_user)
    with pytest.raises(ValidationError, match="est déjà associé"):
        synchro.mediateur_associer(mediateur=second, conseiller=conseillere, by=staff_user)
    with pytest.raises(PermissionDenied):
        synchro.mediateur_associer(mediateur=second, conseiller=None, by=conseillere.user)
    ConnexionCoop.objects.update(depuis=timezone.now())
    synchro.mediateur_associer(mediateur=premier, conseiller=None, by=staff_user)
    assert ConnexionCoop.objects.get().depuis is not None  # removing an association reads nothing again
    synchro.mediateur_associer(mediateur=second, conseiller=conseillere, by=staff_user)
    second.refresh_from_db()
    assert second.conseiller == conseillere and second.associe_le is not None
    assert ConnexionCoop.objects.get().depuis is None


# --- With a real worker --------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_synchronises_from_the_fake_coop(services, transactional_db, tmp_path, coop_fake, staff_user):
    from tests.test_celery_worker import broker
    from tests.workers import REDIS_TEST_DB, TASK_TIMEOUT, celery_worker, redis_url, wait_for

    structure = factories.StructureFactory()
    factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan")
    conseillere = conseiller_employe(structure, prenom="Camille", nom="Dupré")
    MediateurCoop.objects.create(mediateur_id=MEDIATRICE, nom="Dupré", conseiller=conseillere)
    synchro.connexion_enregistrer(
        by=staff_user, url=coop_fake.url, client_id=coop_fake.client_id, secret=coop_fake.secret
    )
    activite = coop_fake.activite(mediateur_id=MEDIATRICE)

    with celery_worker(tmp_path, prefix="test-coop") as (queue, _log), broker(redis_url(REDIS_TEST_DB)):
        coop_synchroniser.apply_async(queue=queue)
        fini = wait_for(lambda: SynchroCoop.objects.exclude(statut=StatutSynchro.EN_COURS).exists(), TASK_TIMEOUT)
    assert fini, "le worker n'a pas synchronisé"
    run = SynchroCoop.objects.get()
    assert (run.statut, run.creees, run.lancee_par) == (StatutSynchro.REUSSIE, 1, None), run.erreur
    assert Activite.objects.get().id_externe == activite["id"]
