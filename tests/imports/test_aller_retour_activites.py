"""Round trip: activities typed here, exported in the national format (the conseiller's own export and the team
export), are the same activities once deleted and imported back from that file, field by field (except the link to
a followed beneficiary, which a file never makes), and export to the same rows again. Imported in the same database
without deleting them first, they are refused: they were typed here."""

import io

import pytest
from openpyxl import load_workbook

from accompagnements import choices as c
from accompagnements import exports, services
from accompagnements.models import Accompagnement, Activite, ActiviteThematique
from imports.activites_coop import CONNUES
from imports.base import Action
from tests import factories
from tests.imports.fixtures_activites import LABELS, actions, employe, hier, import_de, importer

CHAMPS = (
    "type",
    "date",
    "duree",
    "type_lieu",
    "lieu_id",
    "commune_id",
    "thematiques",
    "nom_demarche",
    "materiel",
    "autonomie",
    "oriente",
    "structure_redirection",
    "titre_atelier",
    "niveau",
    "participants",
    "structure_id",
    "conseiller_id",
)
# What differs between an activity and its copy imported back: when it was recorded, its id here (the national id
# is kept), and the followed beneficiary's name, since a file never links a followed beneficiary.
VOLATILES = {"Enregistré le", "Dernière modification le", "ID CRA", exports.BENEFICIAIRE}
# Columns holding labels of a vocabulary, one per line.
VOCABULAIRE_DES_COLONNES = {
    "Type": LABELS["type"],
    "Canaux d’accompagnement": LABELS["type_lieu"],
    "Matériel numérique utilisé": LABELS["materiel"],
    "Thématique(s) d’accompagnement": LABELS["thematiques"],
    "Structure de redirection": LABELS["structure_redirection"],
    "Genre du bénéficiaire": LABELS["genre"],
    "Tranche d’âge du bénéficiaire": LABELS["tranche_age"],
    "Statut du bénéficiaire": LABELS["statut_social"],
}


@pytest.fixture
def conseiller(structure):
    return employe(structure, prenom="Camille", nom="Dupré")


@pytest.fixture
def communes(db):
    return (
        factories.CommuneFactory(code_insee="31588", nom="Saint-Orens-de-Gameville", codes_postaux=["31650"]),
        factories.CommuneFactory(code_insee="01004", nom="Ambérieu-en-Bugey", codes_postaux=["01500"]),
    )


@pytest.fixture
def activites(conseiller, structure, communes):
    """Activities of every shape, typed through the service."""
    saint_orens, amberieu = communes
    lieu = factories.LieuFactory(
        structure=structure,
        commune=saint_orens,
        nom="Médiathèque de l’Envol",
        adresse="3 allée des Sports",
        complement_adresse="1er étage",
        code_postal="31650",
    )
    beneficiaire = services.beneficiaire_create(
        by=conseiller.user,
        data={
            "prenom": "Léa",
            "nom": "Martin",
            "consentement": True,
            "commune_residence": amberieu,
            "genre": "feminin",
            "tranche_age": "soixante_dix_plus",
            "statut_social": "retraite",
        },
    )
    P = services.Participants

    def saisir(participants=None, **data):
        return services.activite_create(by=conseiller.user, data=data, participants=participants)

    return [
        # Individual, every field, administrative thématiques, another place.
        saisir(
            P(
                anonyme={
                    "genre": "masculin",
                    "tranche_age": "quarante_cinquante_neuf",
                    "statut_social": "en_emploi",
                    "commune_residence": amberieu,
                }
            ),
            type=c.INDIVIDUEL,
            date=hier(2),
            duree=75,
            type_lieu=c.AUTRE_LIEU,
            commune=saint_orens,
            thematiques=["email", c.AIDE_DEMARCHES, "logement", "argent_impots"],
            nom_demarche="Demande d’aide au logement",
            materiel=["ordinateur", "telephone"],
            autonomie="partiellement_autonome",
            oriente=True,
            structure_redirection="aide_sociale",
            notes="Rappeler\nmardi",
        ),
        # Workshop at a place of activity, with a breakdown of its anonymous participants and a followed person.
        saisir(
            P(
                beneficiaires=[beneficiaire],
                anonymes=4,
                repartition={
                    "genre": {"feminin": 2, "masculin": 1},
                    "tranche_age": {"soixante_soixante_neuf": 2, "vingt_cinq_trente_neuf": 1},
                    "statut_social": {"retraite": 3},
                },
            ),
            type=c.COLLECTIF,
            date=hier(3),
            duree=120,
            type_lieu=c.LIEU_ACTIVITE,
            lieu=lieu,
            thematiques=["securite_numerique", "banque_et_achats_en_ligne"],
            materiel=["tablette"],
            titre_atelier="Payer en ligne sans risque",
            niveau="avance",
        ),
        # At home, for a followed person.
        saisir(
            P(beneficiaires=[beneficiaire]),
            type=c.INDIVIDUEL,
            date=hier(4),
            duree=30,
            type_lieu=c.DOMICILE,
            commune=amberieu,
            thematiques=["prendre_en_main_du_materiel"],
            materiel=["telephone"],
            autonomie="autonome",
            oriente=False,
        ),
        # Remote, without a commune, nothing optional.
        saisir(
            type=c.INDIVIDUEL,
            date=hier(5),
            duree=15,
            type_lieu=c.A_DISTANCE,
            commune=None,
            thematiques=["sante"],
            materiel=["aucun"],
        ),
        # A remote workshop of one, with a commune.
        saisir(
            P(anonymes=1),
            type=c.COLLECTIF,
            date=hier(6),
            duree=480,
            type_lieu=c.A_DISTANCE,
            commune=saint_orens,
            thematiques=[c.AIDE_DEMARCHES, "papiers_elections_citoyennete"],
            nom_demarche="Carte d’identité",
            materiel=[],
            titre_atelier="Démarches en ligne",
            niveau="debutant",
        ),
    ]


def etat(activite, *, notes):
    """What must survive the round trip."""
    valeurs = {name: getattr(activite, name) for name in CHAMPS}
    if notes:
        valeurs["notes"] = activite.notes
    valeurs["personnes"] = [
        (row.rang, row.genre, row.tranche_age, row.statut_social, row.commune_residence_id)
        for row in activite.accompagnements.order_by("rang")
    ]
    valeurs["lignes_thematiques"] = sorted(activite.thematiques_rows.values_list("thematique", flat=True))
    return valeurs


def exporter(conseiller, *, equipe):
    response = exports.xlsx_response(
        exports.accompagnements_of(Activite.objects.filter(conseiller=conseiller)),
        team=equipe,
        filename="activites.xlsx",
    )
    return b"".join(response.streaming_content)


def lignes(contenu):
    sheet = load_workbook(io.BytesIO(contenu), read_only=True)[exports.SHEET_NAME]
    header, *rows = sheet.iter_rows(values_only=True)
    return list(header), [dict(zip(header, row, strict=True)) for row in rows]


def sans_volatiles(rows):
    return sorted(
        (tuple((k, v) for k, v in row.items() if k not in VOLATILES) for row in rows),
        key=lambda row: tuple(str(v) for _k, v in row),
    )


@pytest.mark.parametrize("equipe", [False, True], ids=["export-du-conseiller", "export-equipe"])
def test_round_trip(conseiller, activites, staff_user, equipe):
    originaux = {str(activite.uuid): etat(activite, notes=not equipe) for activite in activites}
    contenu = exporter(conseiller, equipe=equipe)
    header, rows = lignes(contenu)

    # The file is in the national format: known columns, labels of the vocabulary, stars, Oui/Non.
    assert header == exports.columns(team=equipe)
    assert set(header) <= set(CONNUES)
    assert len(rows) == 1 + 5 + 1 + 1 + 1
    for row in rows:
        for column, labels in VOCABULAIRE_DES_COLONNES.items():
            for label in (row[column] or "").split("\n"):
                assert label in set(labels.values()) | {""}, (column, label)
        assert row["Niveau d’autonomie (ou de l’atelier)"] in {None, "1/3", "2/3", "3/3"}
        assert row["Bénéficiaire réorienté"] in {None, "Oui", "Non"}

    import_ = import_de(par=staff_user) if equipe else import_de(conseiller)

    # Imported back into the same database, they are refused: they were typed here.
    avant = (Activite.objects.count(), Accompagnement.objects.count(), Activite.history.count())
    decisions = importer(contenu, import_)
    assert actions(decisions) == [Action.INVALIDE] * 5
    assert {d.raison for d in decisions} == {"Cette activité a été saisie sur la plateforme : elle y est déjà."}
    assert (Activite.objects.count(), Accompagnement.objects.count(), Activite.history.count()) == avant

    # Deleted, then imported back: the same activities.
    Activite.objects.filter(pk__in=[activite.pk for activite in activites]).delete()
    assert not Accompagnement.objects.exists() and not ActiviteThematique.objects.exists()

    decisions = importer(contenu, import_)

    assert actions(decisions) == [Action.CREER] * 5
    importees = {activite.id_externe: activite for activite in Activite.objects.all()}
    assert set(importees) == set(originaux)
    for id_cra, original in originaux.items():
        copie = importees[id_cra]
        assert etat(copie, notes=not equipe) == original, id_cra
        assert copie.source == c.Source.IMPORT_COOP
        assert not copie.accompagnements.filter(beneficiaire__isnull=False).exists()
        if equipe:
            assert copie.notes == ""  # the team export carries no notes

    # Exported again: the same rows, and the national id of each activity.
    _header, encore = lignes(exporter(conseiller, equipe=equipe))
    assert sans_volatiles(encore) == sans_volatiles(rows)
    assert sorted(row["ID CRA"] for row in encore) == sorted(row["ID CRA"] for row in rows)

    # And the file again changes nothing.
    assert actions(importer(contenu, import_)) == [Action.INCHANGE] * 5
    assert actions(importer(exporter(conseiller, equipe=equipe), import_)) == [Action.INCHANGE] * 5
