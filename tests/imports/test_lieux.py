"""Import of places from a file in the national standard « Lieux de médiation numérique » (``imports.lieux``):
reading CSV and JSON, the territory, matching existing places, attaching new ones to a structure, validating rows
with French reasons, unchanged places, bounded queries, and the whole journey through the engine."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from imports import services
from imports.base import Action, Decision, FichierInvalide
from imports.lieux import ImporteurLieux
from imports.models import Import, StatutImport, TypeImport
from structures import choices, lieux_standard
from structures.models import Lieu
from tests import factories
from tests.imports.fixtures_lieux import ligne_lieu as row

pytestmark = pytest.mark.django_db

SIRET_MAIRIE = "21310555400017"
COLUMNS = lieux_standard.columns()


# --- fixtures and helpers ------------------------------------------------------------------------------------------
@pytest.fixture
def territoire():
    """The Sicoval (the platform's EPCI) with two communes, and Toulouse outside it."""
    sicoval = factories.EpciFactory(siren=settings.TERRITOIRE_EPCI_SIREN, nom="Sicoval")
    autre = factories.EpciFactory(siren="243100518", nom="Toulouse Métropole")
    return {
        "labege": factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"], epci=sicoval),
        "castanet": factories.CommuneFactory(
            code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"], epci=sicoval
        ),
        "toulouse": factories.CommuneFactory(code_insee="31555", nom="Toulouse", codes_postaux=["31000"], epci=autre),
    }


@pytest.fixture
def mairie(territoire):
    return factories.StructureFactory(
        nom="Mairie de Labège", siret=SIRET_MAIRIE, commune=territoire["labege"], code_postal="31670"
    )


@pytest.fixture
def choisie(territoire):
    return factories.StructureFactory(nom="Sicoval", commune=territoire["labege"], code_postal="31670")


@pytest.fixture
def staff():
    return factories.StaffUserFactory()


def make_import(staff, **options):
    return Import.objects.create(type=TypeImport.LIEUX, nom_fichier="lieux.csv", demande_par=staff, options=options)


def to_csv(rows, delimiter=",", bom=False, columns=None):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def decide(contenu, import_, nom="lieux.csv"):
    importeur = ImporteurLieux()
    lignes = importeur.lire(contenu, nom, import_.options)
    decisions = importeur.decider(lignes, import_)
    assert [d.ligne for d in decisions] == lignes
    return decisions


def apply(decisions, import_):
    ecrites = [d for d in decisions if d.action in (Action.CREER, Action.METTRE_A_JOUR)]
    with transaction.atomic():
        ImporteurLieux().appliquer(ecrites, import_)


def actions(decisions):
    return [d.action for d in decisions]


# --- reading -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", False), (";", True), (",", True)])
def test_csv_with_comma_or_semicolon_with_or_without_bom(staff, choisie, delimiter, bom):
    contenu = to_csv(
        [
            row(),
            row(
                id="carto-2", nom="Espace seniors", commune="Castanet-Tolosan", code_insee="31113", code_postal="31320"
            ),
        ],
        delimiter=delimiter,
        bom=bom,
    )
    import_ = make_import(staff, structure=str(choisie.uuid))
    decisions = decide(contenu, import_)
    assert [(d.ligne.numero, d.ligne.cle, d.ligne.libelle) for d in decisions] == [
        ("2", "carto-1", "Tiers-lieu numérique — Labège"),
        ("3", "carto-2", "Espace seniors — Castanet-Tolosan"),
    ]
    assert actions(decisions) == [Action.CREER, Action.CREER]
    champs = decisions[0].cible["champs"]
    assert champs["services"] == ["Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien"]
    assert champs["commune"].code_insee == "31254"
    assert champs["source"] == "Cartographie nationale"
    assert champs["id_source"] == "carto-1"
    assert champs["pivot"] == ""  # the standard's all-zeros « no SIRET »
    assert decisions[0].cible["structure"] == choisie


def test_csv_numbers_rows_as_a_spreadsheet_and_skips_blank_lines(staff, choisie):
    text = to_csv([row(presentation_detail="Première ligne\nseconde ligne"), row(id="carto-2")]).decode()
    lines = text.splitlines()
    text = "\n".join([lines[0], lines[1], lines[2], "", *lines[3:]]) + "\n"  # a blank line before the second place
    decisions = decide(text.encode(), make_import(staff, structure=str(choisie.uuid)))
    assert [d.ligne.numero for d in decisions] == ["2", "4"]
    assert decisions[0].cible["champs"]["presentation_detail"] == "Première ligne\nseconde ligne"


def test_json_list_with_arrays_pipes_and_numbers(staff, mairie):
    items = [
        {
            "id": "carto-1",
            "pivot": SIRET_MAIRIE,
            "nom": "Médiathèque",
            "commune": "Labège",
            "code_postal": 31670,
            "code_insee": "31254",
            "adresse": "Place Saint-Barthélemy",
            "latitude": 43.5312,
            "longitude": 1.5338,
            "typologie": ["BIB", "MUNI"],
            "courriels": ["a@example.org", "b@example.org"],
            "services": ["Aide aux démarches administratives", "Utilisation sécurisée du numérique"],
            "frais_a_charge": "Gratuit|Payant",
            "modalites_acces": ["Se présenter"],
            "telephone": None,
            "date_maj": "2025-01-15",
        }
    ]
    decisions = decide(json.dumps(items).encode(), make_import(staff), nom="lieux.json")
    assert actions(decisions) == [Action.CREER]
    assert decisions[0].ligne.numero == "1"
    champs = decisions[0].cible["champs"]
    assert decisions[0].cible["structure"] == mairie  # the row's SIRET is the structure's
    assert champs["pivot"] == ""  # … which is not the place's own SIRET
    assert champs["typologie"] == ["BIB", "MUNI"]
    assert champs["courriels"] == ["a@example.org", "b@example.org"]
    assert champs["services"] == ["Aide aux démarches administratives", "Utilisation sécurisée du numérique"]
    assert champs["frais_a_charge"] == ["Gratuit", "Payant"]
    assert champs["code_postal"] == "31670"
    assert (champs["latitude"], champs["longitude"]) == (Decimal("43.531200"), Decimal("1.533800"))
    assert champs["telephone"] == ""
    assert champs["itinerance"] == choices.Itinerance.FIXE


def test_json_data_envelope_and_geojson(staff, choisie):
    import_ = make_import(staff, structure=str(choisie.uuid))
    envelope = {"data": [row()]}
    assert actions(decide(json.dumps(envelope).encode(), import_, nom="lieux.json")) == [Action.CREER]
    properties = {k: v for k, v in row().items() if k not in ("latitude", "longitude")}
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [1.5338, 43.5312]},
                "properties": properties,
            }
        ],
    }
    decisions = decide(json.dumps(geojson).encode(), import_, nom="lieux.json")
    assert decisions[0].cible["champs"]["latitude"] == Decimal("43.531200")
    assert decisions[0].cible["champs"]["longitude"] == Decimal("1.533800")


@pytest.mark.parametrize(
    ("nom", "contenu", "message"),
    [
        (
            "lieux.csv",
            "id;nom\n1;X\n".encode("latin-1"),
            "colonne(s) obligatoire(s) absente(s) de l'en-tête : pivot, commune, code_postal, adresse, date_maj",
        ),
        ("lieux.csv", "nom;adresse\nMédiathèque;1 rue\n".encode("latin-1"), "n'est pas encodé en UTF-8"),
        ("lieux.csv", b"", "Le fichier est vide"),
        ("lieux.csv", ",".join(COLUMNS).encode() + b"\n", "ne contient aucun lieu"),
        ("lieux.json", b"[]", "ne contient aucun lieu"),
        ("lieux.json", b'[{"id": "1",}]', "Le fichier JSON est illisible (ligne 1)"),
        ("lieux.json", b'{"lieux": []}', "doit contenir une liste de lieux"),
        ("lieux.json", b'"texte"', "doit contenir une liste de lieux"),
        ("lieux.json", b'[{"name": "x"}, 3]', "aucun de ses objets ne porte les champs du standard"),
        ("lieux.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "n'est pas encodé en UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_in_french(db, nom, contenu, message):
    with pytest.raises(FichierInvalide) as error:
        ImporteurLieux().verifier(contenu, nom, {})
    assert message in str(error.value)


def test_an_unknown_chosen_structure_is_refused_at_upload(db):
    contenu = to_csv([row()])
    for value in ("pas-un-uuid", "6f1c1f0e-8b7e-4c5e-9d0a-000000000000"):
        with pytest.raises(FichierInvalide, match="structure de rattachement choisie est introuvable"):
            ImporteurLieux().verifier(contenu, "lieux.csv", {"structure": value})


def test_unreadable_items_and_duplicate_ids_are_invalid_lines(staff, choisie):
    import_ = make_import(staff, structure=str(choisie.uuid))
    items = [row(), 3, row(nom="Doublon"), {**row(id="carto-3"), "nom": {"fr": "x"}}]
    decisions = decide(json.dumps(items).encode(), import_, nom="lieux.json")
    assert actions(decisions) == [Action.CREER, Action.INVALIDE, Action.INVALIDE, Action.INVALIDE]
    assert decisions[1].raison == "Cet élément n'est pas un objet JSON."
    assert decisions[2].raison == "id : l'identifiant « carto-1 » figure déjà ligne 1."
    assert decisions[3].raison.startswith("nom : valeur illisible")


def test_a_csv_row_with_too_many_values_is_invalid(staff, choisie):
    text = to_csv([row()]).decode().rstrip("\r\n") + ",en trop\r\n"
    decisions = decide(text.encode(), make_import(staff, structure=str(choisie.uuid)))
    assert decisions[0].action == Action.INVALIDE
    assert "valeurs pour" in decisions[0].raison


# --- territory -----------------------------------------------------------------------------------------------------
def test_places_outside_the_territory_are_ignored(staff, choisie):
    rows = [
        row(),
        row(id="carto-2", commune="Toulouse", code_insee="31555", code_postal="31000"),
        row(id="carto-3", commune="Paris", code_insee="75056", code_postal="75001"),  # not even known here
        row(id="carto-4", commune="Castanet-Tolosan", code_insee="", code_postal="31320"),  # found by its name
        row(id="carto-5", commune="Ramonville", code_insee="", code_postal="31520"),
    ]
    decisions = decide(to_csv(rows), make_import(staff, structure=str(choisie.uuid)))
    assert actions(decisions) == [Action.CREER, Action.IGNORE, Action.IGNORE, Action.CREER, Action.IGNORE]
    assert decisions[1].raison == "hors du territoire (commune Toulouse)"
    assert decisions[2].raison == "hors du territoire (commune Paris)"
    assert decisions[3].cible["champs"]["commune"].nom == "Castanet-Tolosan"
    assert decisions[4].raison == "hors du territoire (commune Ramonville)"


# --- matching existing places --------------------------------------------------------------------------------------
@pytest.fixture
def existant(mairie, territoire):
    return factories.LieuFactory(
        structure=mairie,
        nom="Médiathèque de Labège",
        commune=territoire["labege"],
        code_postal="31670",
        adresse="Place Saint-Barthélemy",
        horaires="Mo-Fr 09:00-12:00",
        services=["Aide aux démarches administratives"],
        frais_a_charge=["Gratuit"],
        modalites_accompagnement=[],
    )


def existant_row(lieu, **values):
    data = lieux_standard.lieu_to_row(lieu)
    data.update(values)
    return data


def test_match_by_our_uuid(staff, existant):
    import_ = make_import(staff)
    decisions = decide(to_csv([existant_row(existant)]), import_)
    assert actions(decisions) == [Action.INCHANGE]
    decisions = decide(to_csv([existant_row(existant, horaires="Mo-Sa 09:00-12:00", nom="Médiathèque")]), import_)
    assert decisions[0].action == Action.METTRE_A_JOUR
    assert decisions[0].changements == ["nom", "horaires"]
    assert decisions[0].cible["lieu"] == existant
    assert "id_source" not in decisions[0].cible["champs"]  # our own uuid is not a producer's id


def test_match_by_id_source(staff, existant):
    Lieu.objects.filter(pk=existant.pk).update(id_source="carto-42", source="Cartographie nationale")
    existant.refresh_from_db()
    data = existant_row(existant, id="carto-42", pivot="00000000000000", nom="Un autre nom")
    decisions = decide(to_csv([data]), make_import(staff))
    assert decisions[0].action == Action.METTRE_A_JOUR
    assert decisions[0].changements == ["nom"]
    assert decisions[0].cible["lieu"] == existant


def test_match_by_siret_and_name(staff, existant, mairie):
    # The structure's SIRET and the same name written differently: the place is found and keeps the producer's id.
    data = existant_row(existant, id="carto-7", pivot=SIRET_MAIRIE, nom="MEDIATHEQUE LABEGE")
    decisions = decide(to_csv([data]), make_import(staff))
    assert decisions[0].action == Action.METTRE_A_JOUR
    assert decisions[0].cible["lieu"] == existant
    assert decisions[0].changements == ["nom", "identifiant chez le producteur"]
    assert decisions[0].cible["champs"] == {"nom": "MEDIATHEQUE LABEGE", "id_source": "carto-7"}
    # Same SIRET but another name: a new place of that structure.
    decisions = decide(to_csv([existant_row(existant, id="carto-8", nom="Espace jeunes")]), make_import(staff))
    assert decisions[0].action == Action.CREER
    assert decisions[0].cible["structure"] == mairie


def test_match_by_the_place_own_siret(staff, existant, choisie):
    siret_propre = "21310555400025"
    Lieu.objects.filter(pk=existant.pk).update(pivot=siret_propre)
    existant.refresh_from_db()
    decisions = decide(to_csv([existant_row(existant, id="carto-9")]), make_import(staff))
    assert decisions[0].action == Action.METTRE_A_JOUR
    assert decisions[0].changements == ["identifiant chez le producteur"]
    assert decisions[0].cible["champs"]["id_source"] == "carto-9"


def test_match_ignores_the_all_zeros_pivot(staff, existant, choisie):
    Lieu.objects.filter(pk=existant.pk).update(pivot="00000000000000")
    decisions = decide(
        to_csv([row(nom=existant.nom, pivot="00000000000000")]), make_import(staff, structure=str(choisie.uuid))
    )
    assert decisions[0].action == Action.CREER


def test_two_rows_of_a_batch_on_the_same_place(staff, existant):
    rows = [existant_row(existant), existant_row(existant, id="carto-1", pivot=SIRET_MAIRIE)]
    decisions = decide(to_csv(rows), make_import(staff))
    assert actions(decisions) == [Action.INCHANGE, Action.INVALIDE]
    assert decisions[1].raison == "Même lieu que la ligne 2 (Médiathèque de Labège)."


def test_a_csv_without_optional_columns_keeps_the_existing_values(staff, existant):
    columns = ["id", "pivot", "nom", "commune", "code_postal", "adresse", "date_maj", "code_insee"]
    decisions = decide(to_csv([existant_row(existant, nom="Médiathèque")], columns=columns), make_import(staff))
    assert decisions[0].action == Action.METTRE_A_JOUR
    assert decisions[0].cible["champs"] == {"nom": "Médiathèque"}
    # In JSON a field left out is an empty one (the standard's JSON leaves out empty fields).
    item = {k: v for k, v in existant_row(existant).items() if k != "horaires"}
    decisions = decide(json.dumps([item]).encode(), make_import(staff), nom="lieux.json")
    assert decisions[0].changements == ["horaires"]


def test_our_export_conventions_are_read_back_as_empty(staff, existant):
    data = existant_row(existant, source=settings.PLATFORM_NAME, pivot=SIRET_MAIRIE)
    assert actions(decide(to_csv([data]), make_import(staff))) == [Action.INCHANGE]
    decisions = decide(to_csv([existant_row(existant, source="Sicoval")]), make_import(staff))
    assert decisions[0].cible["champs"] == {"source": "Sicoval"}


def test_a_retired_place_is_updated_but_stays_retired(staff, existant):
    Lieu.objects.filter(pk=existant.pk).update(is_active=False)
    existant.refresh_from_db()
    import_ = make_import(staff)
    decisions = decide(to_csv([existant_row(existant, nom="Médiathèque")]), import_)
    assert decisions[0].action == Action.METTRE_A_JOUR
    assert decisions[0].raison == "Lieu retiré de la publication : il le reste."
    apply(decisions, import_)
    existant.refresh_from_db()
    assert (existant.nom, existant.is_active) == ("Médiathèque", False)


def test_an_itinerant_place_with_stops_cannot_become_fixed(staff, existant, territoire):
    Lieu.objects.filter(pk=existant.pk).update(itinerance=choices.Itinerance.ITINERANT)
    existant.refresh_from_db()
    factories.ArretItinerantFactory(lieu=existant, commune=territoire["castanet"])
    decisions = decide(to_csv([existant_row(existant, itinerance="Fixe")]), make_import(staff))
    assert decisions[0].action == Action.INVALIDE
    assert (
        decisions[0].raison == "itinerance : Ce lieu a des arrêts itinérants : supprimez-les avant de le rendre fixe."
    )
    # « Fixe|Itinérant » (allowed by the standard) is an itinerant place here.
    assert actions(decide(to_csv([existant_row(existant, itinerance="Fixe|Itinérant")]), make_import(staff))) == [
        Action.INCHANGE
    ]


# --- structure of new places ---------------------------------------------------------------------------------------
def test_new_places_go_to_the_siret_structure_else_the_chosen_one(staff, mairie, choisie, territoire):
    association = factories.StructureFactory(siret=None, rna="W313000123", commune=territoire["castanet"])
    rows = [
        row(id="a", pivot=SIRET_MAIRIE),
        row(id="b", pivot="W313000123"),
        row(id="c", pivot="21310555400025"),  # a SIRET of no structure here: the place's own
        row(id="d", pivot="W313000999"),  # an RNA of no structure here: not kept (a place's pivot is a SIRET)
    ]
    decisions = decide(to_csv(rows), make_import(staff, structure=str(choisie.uuid)))
    assert actions(decisions) == [Action.CREER] * 4
    assert [d.cible["structure"] for d in decisions] == [mairie, association, choisie, choisie]
    assert [d.cible["champs"]["pivot"] for d in decisions] == ["", "", "21310555400025", ""]


def test_a_new_place_without_structure_is_invalid(staff, mairie):
    rows = [row(id="a", pivot="21310555400025"), row(id="b", pivot=SIRET_MAIRIE), row(id="c")]
    decisions = decide(to_csv(rows), make_import(staff))
    assert actions(decisions) == [Action.INVALIDE, Action.CREER, Action.INVALIDE]
    assert decisions[0].raison == (
        "Aucune structure ne correspond au SIRET « 21310555400025 » : choisissez une structure de rattachement pour "
        "les nouveaux lieux."
    )
    assert decisions[2].raison.startswith("Aucune structure ne correspond au SIRET « 00000000000000 »")


# --- validation ----------------------------------------------------------------------------------------------------
def test_invalid_rows_have_french_reasons_and_valid_rows_are_still_planned(staff, choisie):
    rows = [
        row(id="ok-1"),
        row(id="insee", code_insee="312"),
        row(id="horaires", horaires="Lundi 9h-12h"),
        row(id="service", services="Aide aux démarches administratives|Réparation de vélos"),
        row(id="lat", latitude="43.5"),
        row(id="adresse", adresse=""),
        row(id="cp", code_postal="31000"),
        row(id="tel", telephone="05 61 00 00 00"),
        row(id="url", prise_rdv="pas une adresse", site_web="https://ok.example.org|ftp//non"),
        row(id="siret", pivot="12345678901234"),
        row(id="resume", presentation_resume="x" * 281),
        row(id="ok-2", latitude="43,5312", longitude="1,5338"),
        row(id="typo", typologie="TIERS_LIEUX|GARE"),
        row(id="sans-services", services=""),
        row(id="", nom="Sans identifiant"),
    ]
    decisions = decide(to_csv(rows), make_import(staff, structure=str(choisie.uuid)))
    by_id = {d.ligne.cle or d.ligne.libelle: d for d in decisions}
    assert by_id["ok-1"].action == by_id["ok-2"].action == Action.CREER
    assert by_id["ok-2"].cible["champs"]["latitude"] == Decimal("43.531200")
    expected = {
        "insee": "code_insee : « 312 » n'est pas un code INSEE (5 caractères, par exemple 31254).",
        "horaires": "horaires : Jour non reconnu : « Lundi » (attendu : Mo, Tu, We, Th, Fr, Sa, Su ou PH).",
        "service": "services : Valeur(s) inconnue(s) : Réparation de vélos.",
        "lat": "longitude : Renseignez la latitude et la longitude, ou aucune des deux.",
        "adresse": "adresse : Ce champ ne peut être vide.",
        "cp": "code_postal : Ce code postal ne correspond pas à Labège (31670).",
        "tel": "telephone : Format international sans espace attendu, par exemple +33561000000.",
        "url": "prise_rdv : Saisissez une URL valide. ; site_web : « ftp//non » n'est pas une adresse web valide.",
        "siret": "pivot : Ce SIRET n'est pas valide (la clé de contrôle ne correspond pas)",
        "resume": "presentation_resume : Assurez-vous que ce champ comporte au plus 280\u00a0caractères.",
        "typo": "typologie : Valeur(s) inconnue(s) : GARE.",
        "sans-services": "services : Ce champ ne peut être vide.",
        "Sans identifiant — Labège": "id : l'identifiant du lieu est obligatoire.",
    }
    for key, message in expected.items():
        assert by_id[key].action == Action.INVALIDE, key
        assert by_id[key].raison.startswith(message), (key, by_id[key].raison)


# --- applying ------------------------------------------------------------------------------------------------------
def test_apply_creates_and_updates_with_history(staff, existant, choisie):
    import_ = make_import(staff, structure=str(choisie.uuid))
    rows = [
        existant_row(existant, horaires="Mo-Sa 09:00-12:00"),
        row(typologie="EPN", latitude="43.5", longitude="1.5"),
    ]
    decisions = decide(to_csv(rows), import_)
    assert actions(decisions) == [Action.METTRE_A_JOUR, Action.CREER]
    apply(decisions, import_)
    existant.refresh_from_db()
    assert existant.horaires == "Mo-Sa 09:00-12:00"
    assert existant.history.first().history_user == staff
    nouveau = Lieu.objects.get(id_source="carto-1")
    assert (nouveau.structure, nouveau.commune.code_insee, nouveau.is_active) == (choisie, "31254", True)
    assert nouveau.typologie == ["EPN"]
    assert nouveau.source == "Cartographie nationale"
    assert nouveau.history.get().history_user == staff


def test_a_batch_is_written_whole_or_not_at_all(staff, choisie):
    import_ = make_import(staff, structure=str(choisie.uuid))
    decisions = decide(to_csv([row(id="a"), row(id="b")]), import_)
    decisions[1].cible["champs"]["horaires"] = "n'importe quoi"  # what a stale decision could hold
    with pytest.raises(ValidationError):
        apply(decisions, import_)
    assert not Lieu.objects.exists()


def test_apply_refuses_an_import_without_author(staff, choisie):
    import_ = make_import(staff, structure=str(choisie.uuid))
    decisions = decide(to_csv([row()]), import_)
    import_.demande_par = None
    with pytest.raises(Exception, match="n'a plus de compte"):
        ImporteurLieux().appliquer(decisions, import_)
    assert not Lieu.objects.exists()


# --- queries -------------------------------------------------------------------------------------------------------
def test_decider_makes_a_fixed_number_of_queries(staff, mairie, choisie, territoire):
    lieux = [
        factories.LieuFactory(structure=mairie, commune=territoire["labege"], code_postal="31670", nom=f"Lieu {i}")
        for i in range(50)
    ]
    for lieu in lieux[::2]:
        Lieu.objects.filter(pk=lieu.pk).update(id_source=f"ext-{lieu.pk}")
    lieux = list(Lieu.objects.select_related("structure", "commune").order_by("pk"))

    def rows(n):
        out = []
        for i in range(n):
            lieu = lieux[i]
            kind = i % 5
            if kind == 0:
                out.append(existant_row(lieu, horaires="Mo 09:00-12:00"))
            elif kind == 1:
                out.append(existant_row(lieu, id=lieu.id_source or f"x-{i}"))
            elif kind == 2:
                out.append(existant_row(lieu, id=f"siret-{i}", pivot=SIRET_MAIRIE))
            elif kind == 3:
                out.append(row(id=f"new-{i}"))
            else:
                out.append(row(id=f"out-{i}", code_insee="31555", commune="Toulouse", code_postal="31000"))
        return out

    import_ = make_import(staff, structure=str(choisie.uuid))
    importeur = ImporteurLieux()
    counts = []
    for n in (5, 50):
        lignes = importeur.lire(to_csv(rows(n)), "lieux.csv", import_.options)
        with CaptureQueriesContext(connection) as queries:
            decisions = importeur.decider(lignes, import_)
        assert len(decisions) == n
        assert {d.action for d in decisions} == {Action.CREER, Action.METTRE_A_JOUR, Action.INCHANGE, Action.IGNORE}
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 6


# --- through the engine --------------------------------------------------------------------------------------------
def deposer(staff, contenu, nom="lieux.csv", **options):
    fichier = SimpleUploadedFile(nom, contenu)
    return services.import_deposer(by=staff, type=TypeImport.LIEUX, fichier=fichier, options=options)


def test_the_engine_previews_then_imports_and_a_second_import_changes_nothing(
    staff, existant, choisie, django_capture_on_commit_callbacks
):
    rows = [
        existant_row(existant, horaires="Mo-Sa 09:00-12:00"),
        row(id="carto-new"),
        row(id="carto-toulouse", commune="Toulouse", code_insee="31555", code_postal="31000"),
        row(id="carto-bad", horaires="tous les jours"),
    ]
    contenu = to_csv(rows, delimiter=";", bom=True)
    with django_capture_on_commit_callbacks(execute=True):
        import_ = deposer(staff, contenu, structure=str(choisie.uuid))
    import_.refresh_from_db()
    assert import_.statut == StatutImport.APERCU
    assert import_.apercu["compte"] == {"creer": 1, "mettre_a_jour": 1, "inchange": 0, "invalide": 1, "ignore": 1}
    assert import_.apercu["ignorees"] == [{"raison": "hors du territoire (commune Toulouse)", "nombre": 1}]
    assert Lieu.objects.count() == 1  # the preview writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirmer(import_=import_, by=staff)
    import_.refresh_from_db()
    assert import_.statut == StatutImport.TERMINE, import_.erreur
    assert import_.resultat["compte"]["creer"] == 1
    assert Lieu.objects.count() == 2
    historique = Lieu.history.count()

    with django_capture_on_commit_callbacks(execute=True):
        second = deposer(staff, contenu, structure=str(choisie.uuid))
    second.refresh_from_db()
    assert second.apercu["compte"] == {"creer": 0, "mettre_a_jour": 0, "inchange": 2, "invalide": 1, "ignore": 1}
    with django_capture_on_commit_callbacks(execute=True):
        services.import_confirmer(import_=second, by=staff)
    second.refresh_from_db()
    assert second.statut == StatutImport.TERMINE
    assert Lieu.objects.count() == 2
    assert Lieu.history.count() == historique


def test_the_engine_refuses_a_bad_file_in_french(staff):
    with pytest.raises(ValidationError) as error:
        deposer(staff, b"id,nom\n1,X\n")
    assert "colonne(s) obligatoire(s) absente(s)" in str(error.value.message_dict["fichier"])
    assert not Import.objects.exists()


def test_decision_order_matches_the_lines(staff, choisie):
    # The engine pairs decisions with lines in order: one decision per line, whatever its action.
    rows = [row(id=str(i), code_insee="31555" if i % 2 else "31254") for i in range(7)]
    decisions = decide(to_csv(rows), make_import(staff, structure=str(choisie.uuid)))
    assert all(isinstance(d, Decision) for d in decisions)
    assert [d.ligne.cle for d in decisions] == [str(i) for i in range(7)]
