"""Imports in a real browser: a conseillère imports her export of the Coop from her activity list (preview, then
import; the activities are in her list, marked with their source, without « Modifier »); the Sicoval's staff import
places of the national cartographie (lines out of the territory left aside, an invalid line explained); an analysis
in progress shows its bar, and the page shows the preview by itself once it is ready. axe-core finds 0 violation on
each page and state, and no CSP violation is reported."""

import json
import uuid

from django.urls import reverse
from playwright.sync_api import expect

from accompagnements.models import Activite
from imports.models import Import, StatutImport, TypeImport
from structures.models import Lieu, Structure
from structures.selectors import communes_territoire
from tests import factories
from tests.imports.conftest import conseiller_employe
from tests.imports.fixtures_activites import atelier, classeur, employe, ligne

from .conftest import check_axe, goto, log_in_as, submit


def test_a_conseillere_imports_her_coop_export(page, live_server, tmp_path):
    conseillere = employe(Structure.objects.order_by("pk").first())
    commune = communes_territoire().order_by("nom").first()
    rows = [
        ligne(**{"Canaux d’accompagnement": "À domicile", "Code Insee": commune.code_insee, "Commune": commune.nom}),
        *atelier(
            [{"Genre du bénéficiaire": "Féminin"}, {"Genre du bénéficiaire": "Masculin"}, {}],
            **{"Canaux d’accompagnement": "À distance"},
        ),
        ligne(**{"Durée (min)": 0}),
    ]
    fichier = tmp_path / "coop.xlsx"
    fichier.write_bytes(classeur(rows, coop=True))

    log_in_as(page, live_server, conseillere.user)
    goto(page, reverse("accompagnements:list"))
    expect(page.get_by_role("link", name="Importer depuis la Coop")).to_have_attribute(
        "href", reverse("imports:nouveau", args=["activites"])
    )
    response = goto(page, reverse("imports:nouveau", args=["activites"]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Importer mes activités")
    check_axe(page, response)

    page.get_by_label("Export des activités de la Coop (XLSX)").set_input_files(str(fichier))
    response = submit(page, page.get_by_role("button", name="Analyser le fichier"))
    # Tasks run inline here: the preview is ready when the import's page opens.
    expect(page.get_by_role("heading", name="Aperçu : ce que l'import va faire")).to_be_visible()
    expect(page.get_by_role("table", name="Lignes qui ne seront pas importées, et pourquoi")).to_contain_text("durée")
    check_axe(page, response)
    assert not Activite.objects.filter(conseiller=conseillere).exists()

    response = submit(page, page.get_by_role("button", name="Importer (2 à créer ou mettre à jour)"))
    expect(page.locator("#etat-import")).to_have_text("L'import est terminé.")
    check_axe(page, response)
    assert Activite.objects.filter(conseiller=conseillere, source="import_coop").count() == 2

    page.get_by_role("link", name="Voir les activités").click()
    expect(page.get_by_text("Import d'un export de la Coop").first).to_be_visible()
    expect(page.get_by_role("link", name="Modifier", exact=False)).to_have_count(0)


def test_staff_import_places_of_the_national_cartographie(page, live_server, tmp_path):
    structure = Structure.objects.order_by("pk").first()
    communes = list(communes_territoire().order_by("nom")[:2])
    place = {
        "id": "carto-123",
        "pivot": "00000000000000",
        "nom": "Tiers-lieu de la gare",
        "commune": communes[0].nom,
        "code_postal": communes[0].codes_postaux[0],
        "code_insee": communes[0].code_insee,
        "adresse": "1 avenue de la Gare",
        "services": "Aide aux démarches administratives",
        "source": "Cartographie nationale",
        "date_maj": "2026-10-01",
    }
    rows = [
        place,
        {**place, "id": "carto-456", "nom": "Hors territoire", "code_insee": "75056", "code_postal": "75001"},
        {**place, "id": "carto-789", "nom": "Horaires faux", "horaires": "tous les jours"},
    ]
    fichier = tmp_path / "lieux.json"
    fichier.write_text(json.dumps(rows), encoding="utf-8")

    log_in_as(page, live_server, factories.StaffUserFactory())
    goto(page, reverse("structures:lieux"))
    page.get_by_role("link", name="Importer des lieux", exact=False).click()
    page.get_by_label("Fichier de lieux au standard national (CSV ou JSON)").set_input_files(str(fichier))
    page.get_by_label("Structure de rattachement des nouveaux lieux").select_option(label=structure.nom)
    response = submit(page, page.get_by_role("button", name="Analyser le fichier"))
    expect(page.get_by_role("heading", name="Lignes laissées de côté")).to_be_visible()
    expect(page.get_by_role("table", name="Lignes qui ne seront pas importées, et pourquoi")).to_contain_text(
        "Horaires faux"
    )
    check_axe(page, response)

    response = submit(page, page.get_by_role("button", name="Importer (1 à créer ou mettre à jour)"))
    expect(page.locator("#etat-import")).to_have_text("L'import est terminé.")
    check_axe(page, response)
    lieu = Lieu.objects.get(nom="Tiers-lieu de la gare")
    assert lieu.structure == structure and lieu.id_source == "carto-123"


def test_an_analysis_in_progress_shows_its_bar_then_the_preview(page, live_server):
    staff = factories.StaffUserFactory()
    import_ = Import.objects.create(
        type=TypeImport.LIEUX, nom_fichier="lieux.csv", demande_par=staff, fichier=b"x", progression=40
    )
    Import.objects.filter(pk=import_.pk).update(etape="Analyse : 400 sur 1000")
    log_in_as(page, live_server, staff)
    response = goto(page, reverse("imports:detail", args=[import_.uuid]))
    expect(page.locator("progress")).to_have_attribute("value", "40")
    check_axe(page, response)
    # The worker finishes the analysis: the polling reloads the page, which shows the preview.
    Import.objects.filter(pk=import_.pk).update(
        statut=StatutImport.APERCU,
        progression=100,
        apercu={"total": 0, "compte": {}, "lignes": [], "non_listees": 0, "ignorees": []},
    )
    expect(page.get_by_role("heading", name="Aperçu : ce que l'import va faire")).to_be_visible(timeout=10_000)
    expect(page.locator("progress")).to_have_count(0)
    check_axe(page, page.goto(page.url))


def test_staff_connect_the_coop_map_a_mediator_and_synchronise(page, live_server, coop_fake):
    structure = Structure.objects.order_by("pk").first()
    conseillere = conseiller_employe(structure, prenom="Camille", nom="Dupré", email="camille.dupre@example.org")
    mediateur_id = uuid.uuid4()
    coop_fake.utilisateur(email="camille.dupre@example.org", prenom="Camille", nom="Dupré", mediateur_id=mediateur_id)
    coop_fake.activite(mediateur_id=mediateur_id)
    coop_fake.activite(mediateur_id=mediateur_id, type="collectif", accompagnements=4, titre_atelier="Premiers pas")

    log_in_as(page, live_server, factories.StaffUserFactory())
    response = goto(page, reverse("imports:coop"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Synchronisation avec la Coop")
    check_axe(page, response)

    page.get_by_label("Adresse de l'API").fill(coop_fake.url)
    page.get_by_label("Identifiant client").fill(coop_fake.client_id)
    page.get_by_label("Secret client").fill(coop_fake.secret)
    response = submit(page, page.get_by_role("button", name="Enregistrer la connexion"))
    check_axe(page, response)
    assert coop_fake.secret not in page.content()

    response = submit(page, page.get_by_role("button", name="Tester la connexion"))
    check_axe(page, response)
    response = submit(page, page.get_by_role("button", name="Actualiser la liste des médiateurs depuis la Coop"))
    check_axe(page, response)
    response = submit(page, page.get_by_role("button", name="Confirmer pour Camille Dupré"))
    check_axe(page, response)

    response = submit(page, page.get_by_role("button", name="Lancer une synchronisation maintenant"))
    expect(page.get_by_role("table", name="synchronisation", exact=False).first).to_contain_text("Réussie")
    check_axe(page, response)
    assert Activite.objects.filter(conseiller=conseillere, source="api_coop").count() == 2
