"""Loading the territory: the bundled Haute-Garonne reference data, and another EPCI from the files of the npm
package @etalab/decoupage-administratif. A bad file is refused in French and nothing is written."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from structures.models import Commune, Epci
from structures.territoire import FIXTURES
from tests import factories

pytestmark = pytest.mark.django_db

SICOVAL = "243100633"


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot():
    return (
        Epci.objects.count(),
        Commune.objects.count(),
        sorted(Commune.objects.values_list("code_insee", "nom", "epci__siren", "population", "codes_postaux")),
        sorted(Epci.objects.values_list("siren", "nom", "type", "population")),
    )


# --- load_reference_data ---------------------------------------------------------------------------------------
def test_load_reference_data_loads_the_haute_garonne_and_the_sicoval():
    output = run("load_reference_data")
    assert Commune.objects.count() == 586
    assert set(Commune.objects.values_list("departement", flat=True)) == {"31"}
    sicoval = Epci.objects.get(siren=SICOVAL)
    assert sicoval.nom == "CA du Sicoval"
    assert sicoval.type == "CA"
    assert sicoval.population == 85717
    assert sicoval.communes.count() == 36
    labege = Commune.objects.get(code_insee="31254")
    assert (labege.nom, labege.codes_postaux, labege.epci, labege.siren) == (
        "Labège",
        ["31670"],
        sicoval,
        "213102544",
    )
    assert "communes : 586 créée(s)" in output


def test_sicoval_members_match_the_bundled_epci_record():
    run("load_reference_data")
    members = set(json.loads((FIXTURES / "epci_sicoval.json").read_text("utf-8"))["membres"])
    assert set(Commune.objects.filter(epci__siren=SICOVAL).values_list("code_insee", flat=True)) == members


def test_load_reference_data_twice_changes_nothing():
    run("load_reference_data")
    first = snapshot()
    output = run("load_reference_data")
    assert snapshot() == first
    assert "EPCI : 0 créé(s), 0 mis à jour ; communes : 0 créée(s), 0 mise(s) à jour, 0 détachée(s)" in output


def test_load_reference_data_again_keeps_fields_the_csv_does_not_carry():
    run("load_reference_data")
    # The CSV gives other EPCIs a name only: a type filled in since must survive a new load.
    other = Epci.objects.exclude(siren=SICOVAL).first()
    other.type = "CC"
    other.population = 12345
    other.save()
    run("load_reference_data")
    other.refresh_from_db()
    assert (other.type, other.population) == ("CC", 12345)
    sicoval = Epci.objects.get(siren=SICOVAL)
    assert (sicoval.type, sicoval.population) == ("CA", 85717)
    assert Epci.objects.get(siren=SICOVAL).communes.count() == 36


def test_load_reference_data_repairs_a_commune_changed_by_hand():
    run("load_reference_data")
    Commune.objects.filter(code_insee="31254").update(nom="Labege", population=1)
    output = run("load_reference_data")
    labege = Commune.objects.get(code_insee="31254")
    assert (labege.nom, labege.population) == ("Labège", 4392)
    assert "communes : 0 créée(s), 1 mise(s) à jour," in output
    assert Commune.objects.count() == 586


# --- import_territoire -------------------------------------------------------------------------------------------
def commune_record(code, nom, codes_postaux, population, **extra):
    record = {
        "code": code,
        "nom": nom,
        "typeLiaison": 0,
        "zone": "metro",
        "arrondissement": "313",
        "departement": code[:2],
        "region": "76",
        "type": "commune-actuelle",
        "rangChefLieu": 0,
        "siren": f"21{code}0",
        "codesPostaux": codes_postaux,
        "population": population,
    }
    record.update(extra)
    return record


COMMUNES = [
    commune_record("31003", "Aigrefeuille", ["31280"], 1281),
    commune_record("31187", "Flourens", ["31130"], 2012),
    commune_record("31389", "Mons", ["31280"], 2191),
    # The package also lists former communes under a code: only "commune-actuelle" entries are communes.
    commune_record("31389", "Mons (ancienne)", ["31280"], 10, type="commune-deleguee", chefLieu="31389"),
    commune_record("31555", "Toulouse", ["31000", "31100", "31200", "31300", "31400", "31500"], 504078),
]
EPCIS = [
    {
        "code": "243100518",
        "nom": "Toulouse Métropole",
        "type": "METRO",
        "modeFinancement": "FPU",
        "populationTotale": 827000,
        "populationMunicipale": 814000,
        "membres": [
            {"code": "31003", "siren": "213100035", "nom": "Aigrefeuille"},
            {"code": "31187", "siren": "213101876", "nom": "Flourens"},
            {"code": "31389", "siren": "213103898", "nom": "Mons"},
            {"code": "31555", "siren": "213105554", "nom": "Toulouse"},
        ],
    },
    {
        "code": "200071298",
        "nom": "CC des Terres du Lauragais",
        "type": "CC",
        "populationTotale": 40000,
        "membres": [{"code": "31999", "siren": "213109999", "nom": "Inconnue"}],
    },
]


@pytest.fixture
def files(tmp_path):
    def write(communes=COMMUNES, epcis=EPCIS):
        communes_path, epci_path = tmp_path / "communes.json", tmp_path / "epci.json"
        for path, data in ((communes_path, communes), (epci_path, epcis)):
            path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), "utf-8")
        return str(communes_path), str(epci_path)

    return write


def import_territoire(siren, communes_path, epci_path):
    return run("import_territoire", "--epci", siren, "--communes", communes_path, "--epcis", epci_path)


def test_import_territoire_loads_the_epci_and_its_member_communes(files):
    output = import_territoire("243100518", *files())
    metropole = Epci.objects.get(siren="243100518")
    assert (metropole.nom, metropole.type, metropole.population) == ("Toulouse Métropole", "METRO", 827000)
    assert sorted(metropole.communes.values_list("code_insee", flat=True)) == ["31003", "31187", "31389", "31555"]
    mons = Commune.objects.get(code_insee="31389")
    assert (mons.nom, mons.population, mons.codes_postaux, mons.departement) == ("Mons", 2191, ["31280"], "31")
    toulouse = Commune.objects.get(code_insee="31555")
    assert toulouse.code_postal_principal == "31000"
    assert len(toulouse.codes_postaux) == 6
    assert "EPCI : 1 créé(s)" in output
    assert "communes : 4 créée(s)" in output


def test_import_territoire_accepts_members_as_plain_codes(files):
    epcis = [{**EPCIS[0], "membres": ["31003", "31555"]}]
    import_territoire("243100518", *files(epcis=epcis))
    assert sorted(Commune.objects.values_list("code_insee", flat=True)) == ["31003", "31555"]


def test_import_territoire_twice_updates_instead_of_duplicating(files):
    paths = files()
    import_territoire("243100518", *paths)
    first = snapshot()
    output = import_territoire("243100518", *paths)
    assert snapshot() == first
    assert "EPCI : 0 créé(s), 0 mis à jour ; communes : 0 créée(s), 0 mise(s) à jour, 0 détachée(s)" in output


def test_import_territoire_detaches_a_commune_that_left_the_epci(files):
    import_territoire("243100518", *files())
    without_mons = [{**EPCIS[0], "membres": [m for m in EPCIS[0]["membres"] if m["code"] != "31389"]}]

    output = import_territoire("243100518", *files(epcis=without_mons))

    assert Commune.objects.get(code_insee="31389").epci is None
    assert Commune.objects.get(code_insee="31003").epci.siren == "243100518"
    assert "1 détachée(s)" in output


def test_import_territoire_attaches_existing_communes_to_the_epci(files):
    commune = factories.CommuneFactory(code_insee="31187", nom="Flourens", epci=None, population=1)
    import_territoire("243100518", *files())
    commune.refresh_from_db()
    assert commune.epci.siren == "243100518"
    assert commune.population == 2012
    assert Commune.objects.filter(code_insee="31187").count() == 1


@pytest.fixture
def existing():
    """Something already loaded, that a refused import must leave as it was."""
    factories.CommuneFactory(code_insee="31187", nom="Flourens", population=1, epci__siren="200000001")
    return snapshot()


def assert_refused(files_args, siren, message, existing):
    with pytest.raises(CommandError, match=message):
        import_territoire(siren, *files_args)
    assert snapshot() == existing


def test_missing_file_is_refused(files, tmp_path, existing):
    communes_path, epci_path = files()
    missing = str(tmp_path / "absent" / "communes.json")
    assert_refused((missing, epci_path), "243100518", "Fichier des communes introuvable", existing)
    assert_refused((communes_path, missing), "243100518", "Fichier des EPCI introuvable", existing)


def test_invalid_json_is_refused(files, existing):
    paths = files(communes='[{"code": "31003", "nom": "Aigrefeuille"')
    assert_refused(paths, "243100518", "Le fichier des communes n'est pas un JSON valide", existing)
    paths = files(epcis="ceci n'est pas du JSON")
    assert_refused(paths, "243100518", "Le fichier des EPCI n'est pas un JSON valide", existing)


def test_file_that_is_not_utf8_is_refused(files, tmp_path, existing):
    communes_path, epci_path = files()
    (tmp_path / "communes.json").write_bytes('[{"nom": "Labège"}]'.encode("latin-1"))
    assert_refused((communes_path, epci_path), "243100518", "n'est pas un JSON valide", existing)


def test_json_that_is_not_a_list_is_refused(files, existing):
    paths = files(epcis={"243100518": EPCIS[0]})
    assert_refused(paths, "243100518", "Le fichier des EPCI doit contenir une liste", existing)
    paths = files(communes={"communes": COMMUNES})
    assert_refused(paths, "243100518", "Le fichier des communes doit contenir une liste", existing)


def test_unknown_epci_siren_is_refused(files, existing):
    assert_refused(files(), "200054781", "L'EPCI de SIREN 200054781 n'est pas dans le fichier des EPCI", existing)


def test_member_missing_from_communes_json_is_refused(files, existing):
    assert_refused(files(), "200071298", "Communes membres absentes du fichier des communes : 31999", existing)


def test_member_that_is_only_a_former_commune_is_refused(files, existing):
    communes = [c for c in COMMUNES if not (c["code"] == "31389" and c["type"] == "commune-actuelle")]
    assert_refused(files(communes=communes), "243100518", "absentes du fichier des communes : 31389", existing)


def test_incomplete_epci_record_is_refused(files, existing):
    epcis = [{key: value for key, value in EPCIS[0].items() if key != "membres"}]
    assert_refused(files(epcis=epcis), "243100518", "Fiche EPCI incomplète", existing)


def test_incomplete_member_commune_is_refused_and_the_epci_is_not_written(files, existing):
    communes = [{k: v for k, v in c.items() if k != "nom"} if c["code"] == "31555" else c for c in COMMUNES]
    assert_refused(files(communes=communes), "243100518", "Commune incomplète", existing)
    assert not Epci.objects.filter(siren="243100518").exists()


@pytest.mark.parametrize("siren", ["24310051", "2431005180", "24310051A", "", "243 100 518"])
def test_bad_siren_argument_is_refused(files, siren, existing):
    assert_refused(files(), siren, "Le SIREN d'un EPCI compte 9 chiffres", existing)
