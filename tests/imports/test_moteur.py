"""The import engine (``imports.services``) and its pages, with a small importer of EPCIs (« siren;nom » lines), so
that what is tested here is the engine: upload checks, the preview, batches, progress, failures, relaunches, the
sweeper, permissions and the pages. The real importers have their own tests."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from imports import services
from imports.base import Action, Decision, FichierInvalide, Importeur, Ligne
from imports.models import Import, StatutImport, TypeImport
from structures.models import Epci
from tests import factories


class ImporteurEpci(Importeur):
    type = TypeImport.LIEUX
    extensions = (".csv",)

    def lire(self, contenu, nom_fichier, options):
        try:
            text = contenu.decode("utf-8")
        except UnicodeDecodeError:
            raise FichierInvalide("Ce fichier n'est pas un texte UTF-8.") from None
        lignes = []
        for numero, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            siren, _sep, nom = line.partition(";")
            if not siren.isdigit() or len(siren) != 9:
                lignes.append(Ligne(str(numero), siren, nom, erreur=f"SIREN invalide : « {siren} »."))
            else:
                lignes.append(Ligne(str(numero), siren, nom, donnees=nom))
        if not lignes:
            raise FichierInvalide("Ce fichier ne contient aucune ligne.")
        return lignes

    def decider(self, lignes, import_):
        existing = {e.siren: e for e in Epci.objects.filter(siren__in=[ligne.cle for ligne in lignes])}
        decisions = []
        for ligne in lignes:
            epci = existing.get(ligne.cle)
            if ligne.donnees.startswith("#"):
                decisions.append(Decision(ligne, Action.IGNORE, "commentée"))
            elif epci is None:
                decisions.append(Decision(ligne, Action.CREER, cible=ligne))
            elif epci.nom == ligne.donnees:
                decisions.append(Decision(ligne, Action.INCHANGE))
            else:
                decisions.append(Decision(ligne, Action.METTRE_A_JOUR, changements=["nom"], cible=ligne))
        return decisions

    def appliquer(self, decisions, import_):
        for decision in decisions:
            if decision.ligne.donnees == "BOUM":
                raise RuntimeError("panne au milieu d'un lot")
            if decision.ligne.donnees == "CONFLIT":
                raise IntegrityError("duplicate key value violates unique constraint (Jean Dupont)")
            if decision.ligne.donnees == "REPRIS":  # another worker takes the import over meanwhile
                Import.objects.filter(pk=import_.pk).update(commence_le=timezone.now() + datetime.timedelta(hours=1))
            Epci.objects.update_or_create(siren=decision.ligne.cle, defaults={"nom": decision.ligne.donnees})


@pytest.fixture
def moteur(monkeypatch):
    monkeypatch.setattr(services, "importeur", lambda type: ImporteurEpci())
    monkeypatch.setattr(services, "TAILLE_LOT", 2)


def fichier(text, name="epci.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def deposer(user, text, **kwargs):
    return services.import_deposer(by=user, type=TypeImport.LIEUX, fichier=fichier(text, **kwargs))


@pytest.fixture
def staff(db):
    return factories.StaffUserFactory()


def test_upload_analyses_into_a_preview_without_writing(moteur, staff, django_capture_on_commit_callbacks):
    Epci.objects.create(siren="200000001", nom="Même nom")
    Epci.objects.create(siren="200000002", nom="Ancien nom")
    text = "200000001;Même nom\n200000002;Nouveau nom\n200000003;Nouvelle\n12;Invalide\n200000004;#commentée"
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, text)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.APERCU
    assert import_.progression == 100
    assert import_.apercu["total"] == 5
    assert import_.apercu["compte"] == {
        "creer": 1,
        "mettre_a_jour": 1,
        "inchange": 1,
        "invalide": 1,
        "ignore": 1,
    }
    invalides = [ligne for ligne in import_.apercu["lignes"] if ligne["action"] == "invalide"]
    assert invalides == [
        {
            "numero": "4",
            "cle": "12",
            "libelle": "Invalide",
            "action": "invalide",
            "raison": "SIREN invalide : « 12 ».",
            "changements": [],
        }
    ]
    assert import_.apercu["ignorees"] == [{"raison": "commentée", "nombre": 1}]
    assert Epci.objects.get(siren="200000002").nom == "Ancien nom"  # the preview wrote nothing
    assert not Epci.objects.filter(siren="200000003").exists()


def test_confirmation_imports_batch_by_batch_then_drops_the_file(moteur, staff, django_capture_on_commit_callbacks):
    text = "\n".join(f"20000000{i};EPCI {i}" for i in range(1, 6))
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, text)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirmer(import_=import_, by=staff)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.TERMINE
    assert import_.resultat["compte"]["creer"] == 5
    assert import_.fichier is None
    assert Epci.objects.filter(siren__startswith="20000000").count() == 5

    # The same file again: everything unchanged, nothing written.
    with django_capture_on_commit_callbacks(execute=True):
        again = deposer(staff, text)
    again.refresh_from_db()
    assert again.apercu["compte"]["inchange"] == 5
    assert again.apercu["compte"]["creer"] == 0


def test_a_failing_batch_keeps_the_finished_ones_and_can_be_relaunched(
    moteur, staff, django_capture_on_commit_callbacks
):
    text = "200000001;Un\n200000002;Deux\n200000003;BOUM\n200000004;Quatre"
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, text)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirmer(import_=import_, by=staff)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.ECHEC
    assert import_.erreur == services.ERREUR_INATTENDUE
    assert "panne" not in import_.erreur
    # The first batch (2 lines) is whole; the failing batch wrote nothing of itself.
    assert set(Epci.objects.values_list("siren", flat=True)) == {"200000001", "200000002"}
    assert import_.fichier is not None

    # Relaunched after a fix upstream: goes on, writes nothing twice.
    Import.objects.filter(pk=import_.pk).update(fichier=b"200000001;Un\n200000002;Deux\n200000003;Trois")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_relancer(import_=import_, by=staff)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.TERMINE
    assert import_.resultat["compte"] == {"creer": 1, "mettre_a_jour": 0, "inchange": 2, "invalide": 0, "ignore": 0}
    assert Epci.objects.filter(siren__startswith="20000000").count() == 3


def test_a_conflict_in_a_batch_is_said_plainly_without_the_databases_words(
    moteur, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, "200000001;Un\n200000002;Deux\n200000003;CONFLIT")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirmer(import_=import_, by=staff)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.ECHEC
    assert import_.erreur.startswith("L'import s'est arrêté sur les lignes 3 à 3 : ces lignes ont été modifiées")
    assert "Dupont" not in import_.erreur
    assert Epci.objects.filter(siren__startswith="20000000").count() == 2


def test_a_worker_whose_import_was_taken_over_stops_writing(moteur, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, "200000001;REPRIS\n200000002;Deux\n200000003;Trois")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirmer(import_=import_, by=staff)
    import_.refresh_from_db()
    # Its first batch is whole; the next ones are the other worker's: this one wrote nothing more, failed nothing.
    assert import_.statut == StatutImport.APPLICATION
    assert set(Epci.objects.filter(siren__startswith="20000000").values_list("siren", flat=True)) == {
        "200000001",
        "200000002",
    }


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("epci.xlsx", "200000001;Un", "pas au bon format"),
        ("epci.csv", "", "vide"),
        ("epci.csv", "\n", "aucune ligne"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_once(moteur, staff, name, text, message):
    with pytest.raises(ValidationError) as raised:
        deposer(staff, text, name=name)
    assert message in " ".join(raised.value.message_dict["fichier"])
    assert not Import.objects.exists()


def test_a_file_too_large_is_refused(moteur, staff, settings):
    settings.IMPORT_TAILLE_MAX = 10
    with pytest.raises(ValidationError) as raised:
        deposer(staff, "200000001;Un nom assez long")
    assert "taille maximale" in raised.value.message_dict["fichier"][0]


def test_abandon_drops_the_file_and_writes_nothing(moteur, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, "200000001;Un")
    services.import_abandonner(import_=import_, by=staff)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.ABANDONNE
    assert import_.fichier is None
    with pytest.raises(ValidationError):
        services.import_confirmer(import_=import_, by=staff)
    assert not Epci.objects.filter(siren="200000001").exists()


def test_only_the_uploader_or_staff_act_on_an_import(moteur, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, "200000001;Un")
    other = factories.UserFactory()
    with pytest.raises(PermissionDenied):
        services.import_confirmer(import_=import_, by=other)
    assert not services.imports_visibles_par(other).exists()


def test_who_may_import_what(db):
    conseiller = factories.ConseillerFactory(user=factories.UserFactory())
    assert services.types_permis(conseiller.user) == [TypeImport.ACTIVITES_COOP]
    assert services.types_permis(factories.StaffUserFactory()) == [TypeImport.ACTIVITES_COOP, TypeImport.LIEUX]
    assert services.types_permis(factories.UserFactory()) == []
    with pytest.raises(PermissionDenied):
        services.import_deposer(by=conseiller.user, type=TypeImport.LIEUX, fichier=fichier("200000001;Un"))


def test_the_sweeper_relaunches_dead_claims_and_drops_old_previews(moteur, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        vieux = deposer(staff, "200000001;Un")
    Import.objects.filter(pk=vieux.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    perdu = deposer(staff, "200000002;Deux")  # its publication never happened (no on_commit run)
    Import.objects.filter(pk=perdu.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    mort = deposer(staff, "200000003;Trois")
    Import.objects.filter(pk=mort.pk).update(commence_le=timezone.now() - datetime.timedelta(hours=1), progression=40)

    echoue = deposer(staff, "200000004;Quatre")
    Import.objects.filter(pk=echoue.pk).update(
        statut=StatutImport.ECHEC, termine_le=timezone.now() - datetime.timedelta(days=8)
    )

    assert services.imports_relancer() == 2
    for import_ in (vieux, perdu, mort, echoue):
        import_.refresh_from_db()
    assert echoue.fichier is None  # a failed import is relaunched within a week, then its file goes
    assert vieux.statut == StatutImport.ABANDONNE and vieux.fichier is None
    assert perdu.statut == StatutImport.APERCU
    assert mort.statut == StatutImport.APERCU


def test_a_step_is_claimed_once(moteur, staff):
    import_ = deposer(staff, "200000001;Un")
    Import.objects.filter(pk=import_.pk).update(commence_le=timezone.now())
    assert services.import_traiter(import_) is False  # another worker has it


# --- Pages ---------------------------------------------------------------------------------------------------------
def test_upload_page_then_preview_then_import(moteur, client, staff, django_capture_on_commit_callbacks):
    client.force_login(staff)
    response = client.get(reverse("imports:nouveau", args=["lieux"]))
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:nouveau", args=["lieux"]), {"fichier": fichier("200000001;Un\n1;Mauvais")}
        )
    import_ = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:detail", args=[import_.uuid])
    page = client.get(response["Location"]).content.decode()
    assert "Aperçu : ce que l'import va faire" in page
    assert "SIREN invalide : « 1 »." in page
    assert "Importer (1 à créer ou mettre à jour)" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:confirmer", args=[import_.uuid]))
    assert response.status_code == 302
    page = client.get(reverse("imports:detail", args=[import_.uuid])).content.decode()
    assert "L&#x27;import est terminé." in page or "L'import est terminé." in page
    assert Epci.objects.filter(siren="200000001").exists()


def test_upload_errors_are_french_and_400(moteur, client, staff):
    client.force_login(staff)
    response = client.post(reverse("imports:nouveau", args=["lieux"]), {"fichier": fichier("x", name="a.pdf")})
    assert response.status_code == 400
    assert "pas au bon format" in response.content.decode()
    response = client.post(reverse("imports:nouveau", args=["lieux"]), {})
    assert response.status_code == 400
    assert "Choisissez le fichier à importer." in response.content.decode()
    assert not Import.objects.exists()


def test_progress_fragment_polls_then_reloads_the_page(moteur, client, staff):
    client.force_login(staff)
    import_ = deposer(staff, "200000001;Un")  # not analysed yet (no on_commit)
    url = reverse("imports:progression", args=[import_.uuid])
    response = client.get(url)
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert client.get(url, {"vu": f"{import_.statut}-{import_.progression}"}).status_code == 204
    services.import_traiter(import_)
    response = client.get(url, {"vu": "analyse-0"})
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_pages_are_refused_to_people_without_imports(moteur, client, staff):
    import_ = deposer(staff, "200000001;Un")
    client.force_login(factories.UserFactory())
    assert client.get(reverse("imports:liste")).status_code == 403
    assert client.get(reverse("imports:detail", args=[import_.uuid])).status_code == 403
    conseiller = factories.ConseillerFactory(user=factories.UserFactory())
    client.force_login(conseiller.user)
    assert client.get(reverse("imports:liste")).status_code == 200
    assert client.get(reverse("imports:detail", args=[import_.uuid])).status_code == 404
    assert client.get(reverse("imports:nouveau", args=["lieux"])).status_code == 403
    assert client.get(reverse("imports:nouveau", args=["inconnu"])).status_code == 404


def test_list_page_has_a_fixed_query_budget(moteur, client, staff, django_assert_max_num_queries):
    client.force_login(staff)
    for i in range(3):
        deposer(staff, f"20000000{i};Un")
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("imports:liste"))
    for i in range(3, 9):
        deposer(staff, f"20000000{i};Un")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("imports:liste"))
    assert response.status_code == 200
