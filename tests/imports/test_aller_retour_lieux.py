"""Round trip with the national standard: our places exported (``structures.lieux_standard``) then imported back
(``imports.lieux``) are found unchanged, field by field, in CSV and in JSON; imported into an empty territory they
are recreated identical, and exported again they still follow the standard.

Decision (documented in ``imports.lieux``): after the places were deleted, a row's ``id`` (our old uuid) is no
longer one of our places' uuids, so the recreated place keeps it as ``id_source`` (the producer's id): a second
import of the same file then finds the places by that id and changes nothing."""

import json
from decimal import Decimal

import pytest
from django.db import transaction

from imports.base import Action
from imports.lieux import ImporteurLieux
from imports.models import Import, TypeImport
from structures import choices, lieux_standard
from structures.models import ArretItinerant, Lieu
from structures.services import LIEU_FIELDS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def lieux(settings):
    epci = factories.EpciFactory(siren=settings.TERRITOIRE_EPCI_SIREN, nom="Sicoval")
    labege = factories.CommuneFactory(code_insee="31254", nom="Labège", codes_postaux=["31670"], epci=epci)
    castanet = factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"], epci=epci)
    mairie = factories.StructureFactory(nom="Mairie de Labège", commune=labege, code_postal="31670")
    association = factories.StructureFactory(
        nom="Association Cyber-Base", siret=None, rna="W313000123", commune=castanet
    )
    complet = factories.lieu_tous_champs(
        structure=mairie,
        commune=labege,
        presentation_detail="Un conseiller numérique vous reçoit.\nSur rendez-vous ou en accès libre ; « bienvenue ».",
        autres_formations_labels="Formation interne Sicoval, niveau 2",
    )
    bus = factories.LieuFactory(
        structure=mairie,
        nom="Bus numérique du Sicoval",
        commune=labege,
        code_postal="31670",
        itinerance=choices.Itinerance.ITINERANT,
        horaires="",
        latitude=Decimal("-21.115141"),
        longitude=Decimal("55.536384"),
        source="Cartographie nationale",
    )
    factories.ArretItinerantFactory(lieu=bus, commune=castanet)
    minimal = factories.LieuFactory(
        structure=association,
        nom="Cyber-Base de Castanet",
        commune=castanet,
        code_postal="31320",
        adresse="12 avenue de Toulouse",
        horaires="",
        services=["Maîtrise des outils numériques du quotidien"],
        frais_a_charge=[],
        modalites_accompagnement=[],
    )
    propre_siret = factories.LieuFactory(
        structure=mairie,
        nom="Médiathèque de Labège",
        commune=labege,
        code_postal="31670",
        pivot="21310555400017",
        horaires="24/7",
    )
    return {"mairie": mairie, "complet": complet, "bus": bus, "minimal": minimal, "propre_siret": propre_siret}


def tous():
    return list(Lieu.objects.select_related("structure", "commune").order_by("nom"))


def snapshot(*, identity=True):
    """Every field of every place, by name (uuid, dates and the producer's id only with ``identity``)."""
    out = {}
    for lieu in tous():
        values = {name: getattr(lieu, name) for name in LIEU_FIELDS}
        values["commune"] = lieu.commune_id
        values["structure"] = lieu.structure_id
        values["is_active"] = lieu.is_active
        if identity:
            values.update(uuid=lieu.uuid, created_at=lieu.created_at, updated_at=lieu.updated_at)
        else:
            del values["id_source"]
        out[lieu.nom] = values
    return out


def json_as_rows(items):
    """The JSON export as the CSV's rows (every column, as text), for ``validate_rows``."""
    return [{name: "" if name not in item else str(item[name]) for name in lieux_standard.columns()} for item in items]


def export():
    lieux = tous()
    text = lieux_standard.to_csv(lieux)
    items = lieux_standard.to_json(lieux)
    assert lieux_standard.validate_rows(lieux_standard.read_csv(text)) == []
    assert lieux_standard.validate_rows(json_as_rows(items)) == []
    return text.encode("utf-8"), json.dumps(items, ensure_ascii=False).encode("utf-8")


def importer(staff, contenu, nom, **options):
    import_ = Import.objects.create(type=TypeImport.LIEUX, nom_fichier=nom, demande_par=staff, options=options)
    importeur = ImporteurLieux()
    importeur.verifier(contenu, nom, options)
    decisions = importeur.decider(importeur.lire(contenu, nom, options), import_)
    ecrites = [d for d in decisions if d.action in (Action.CREER, Action.METTRE_A_JOUR)]
    if ecrites:
        with transaction.atomic():
            importeur.appliquer(ecrites, import_)
    return decisions


@pytest.fixture
def staff():
    return factories.StaffUserFactory()


def test_every_standard_field_is_exercised(lieux):
    row = lieux_standard.lieu_to_row(lieux["complet"])
    empty = {name for name, value in row.items() if value == ""}
    assert empty == set()  # the complete place fills every column of the standard


@pytest.mark.parametrize("format", ["csv", "json"])
def test_reimporting_our_export_changes_nothing(lieux, staff, format):
    avant = snapshot()
    historique = Lieu.history.count()
    csv_file, json_file = export()
    contenu, nom = (csv_file, "lieux.csv") if format == "csv" else (json_file, "lieux.json")
    decisions = importer(staff, contenu, nom)
    assert [(d.ligne.libelle, d.action, d.raison) for d in decisions] == [
        (f"{lieu.nom} — {lieu.commune.nom}", Action.INCHANGE, "") for lieu in tous()
    ]
    assert snapshot() == avant
    assert Lieu.history.count() == historique


def test_reimporting_a_retired_place_keeps_it_retired(lieux, staff):
    Lieu.objects.filter(pk=lieux["minimal"].pk).update(is_active=False)
    csv_file, _json_file = export()
    decisions = importer(staff, csv_file, "lieux.csv")
    assert {d.action for d in decisions} == {Action.INCHANGE}
    assert not Lieu.objects.get(pk=lieux["minimal"].pk).is_active


@pytest.mark.parametrize("format", ["csv", "json"])
def test_importing_into_an_empty_territory_recreates_the_places(lieux, staff, format):
    avant = snapshot(identity=False)
    anciens = {lieu.nom: str(lieu.uuid) for lieu in tous()}
    csv_file, json_file = export()
    contenu, nom = (csv_file, "lieux.csv") if format == "csv" else (json_file, "lieux.json")
    ArretItinerant.objects.all().delete()
    Lieu.objects.all().delete()

    # The place with its own SIRET belongs to no structure by that SIRET: it needs the structure chosen at upload.
    decisions = importer(staff, contenu, nom)
    assert [d.action for d in decisions if d.ligne.libelle.startswith("Médiathèque")] == [Action.INVALIDE]
    assert "choisissez une structure de rattachement" in next(d.raison for d in decisions if d.raison)
    Lieu.objects.all().delete()

    decisions = importer(staff, contenu, nom, structure=str(lieux["mairie"].uuid))
    assert {d.action for d in decisions} == {Action.CREER}
    assert snapshot(identity=False) == avant  # same structures, same pivots, same everything
    # The old uuids are not ours any more: they are kept as the producer's ids.
    assert {lieu.nom: lieu.id_source for lieu in tous()} == anciens
    assert all(str(lieu.uuid) != anciens[lieu.nom] for lieu in tous())
    assert all(lieu.history.get().history_user == staff for lieu in tous())

    # Imported again: found by those ids, nothing changes; exported again: still the standard.
    historique = Lieu.history.count()
    decisions = importer(staff, contenu, nom, structure=str(lieux["mairie"].uuid))
    assert {d.action for d in decisions} == {Action.INCHANGE}
    assert Lieu.history.count() == historique
    nouveau_csv, nouveau_json = export()
    assert lieux_standard.read_csv(nouveau_csv.decode()) != lieux_standard.read_csv(csv_file.decode())  # new ids
    for contenu, nom in ((nouveau_csv, "lieux.csv"), (nouveau_json, "lieux.json")):
        assert {d.action for d in importer(staff, contenu, nom)} == {Action.INCHANGE}
