"""The import of the Coop's activity export (XLSX): labels back to codes, workshops from their rows, replays that
change nothing, updates, invalid rows with their reasons next to valid ones, files refused at upload, personal and
team imports, conflicts with activities already here, read-only imported activities in the history and the
statistics, and a query budget per batch that does not grow with its size."""

import datetime
import io
import uuid
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from accompagnements import choices as c
from accompagnements import services
from accompagnements.models import Accompagnement, Activite, ActiviteThematique, Beneficiaire
from imports.activites_coop import ImporteurActivitesCoop
from imports.base import Action, FichierInvalide
from imports.models import MediateurCoop, TypeImport
from reporting import resume
from structures.models import Membership
from tests import factories
from tests.imports.fixtures_activites import (
    CONSEILLER,
    EQUIPE,
    LABELS,
    NATIONAL,
    actions,
    atelier,
    classeur,
    decider,
    employe,
    hier,
    import_de,
    importer,
    ligne,
)


@pytest.fixture
def commune(db):
    return factories.CommuneFactory(code_insee="31588", nom="Saint-Orens-de-Gameville", codes_postaux=["31650"])


@pytest.fixture
def autre_commune(db):
    return factories.CommuneFactory(code_insee="31113", nom="Castanet-Tolosan", codes_postaux=["31320"])


@pytest.fixture
def conseiller(structure):
    return employe(structure, prenom="Camille", nom="Dupré")


@pytest.fixture
def collegue(structure):
    return employe(structure, prenom="Léo", nom="Martin")


@pytest.fixture
def lieu(structure, commune):
    return factories.LieuFactory(structure=structure, commune=commune, nom="Médiathèque de l’Envol")


def lire(rows, **kwargs):
    return ImporteurActivitesCoop().lire(classeur(rows, **kwargs), "activites.xlsx", {})


def donnees(rows, **kwargs):
    lignes = lire(rows, **kwargs)
    assert [ligne.erreur for ligne in lignes] == [""] * len(lignes)
    return [ligne.donnees for ligne in lignes]


def counts():
    return {
        "activites": Activite.objects.count(),
        "accompagnements": Accompagnement.objects.count(),
        "thematiques": ActiviteThematique.objects.count(),
        "historique_activites": Activite.history.count(),
        "historique_accompagnements": Accompagnement.history.count(),
        "beneficiaires": Beneficiaire.objects.count(),
    }


# --- Labels back to codes ------------------------------------------------------------------------------------------
def test_the_importer_is_the_coop_activity_importer():
    importeur = ImporteurActivitesCoop()
    assert importeur.type == TypeImport.ACTIVITES_COOP
    assert importeur.extensions == (".xlsx",)
    assert importeur.description


def test_every_label_of_every_vocabulary_becomes_its_code():
    rows = [
        # Types, canals, redirections: one activity each.
        *[ligne(**{"Canaux d’accompagnement": label}) for label in LABELS["type_lieu"].values()],
        *[
            ligne(**{"Bénéficiaire réorienté": "Oui", "Structure de redirection": label})
            for label in LABELS["structure_redirection"].values()
        ],
        # Every thématique (general and administrative) and every material in one cell each, one per line.
        ligne(
            **{
                "Thématique(s) d’accompagnement": "\n".join(LABELS["thematiques"].values()),
                "Matériel numérique utilisé": "\n".join(LABELS["materiel"].values()),
            }
        ),
        # Autonomy of individual sessions, level of workshops: stars.
        *[ligne(**{"Niveau d’autonomie (ou de l’atelier)": f"{c.ETOILES[code]}/3"}) for code in LABELS["autonomie"]],
        *[
            row
            for code in LABELS["niveau"]
            for row in atelier([{}], **{"Niveau d’autonomie (ou de l’atelier)": f"{c.ETOILES[code]}/3"})
        ],
        # Every genre, age band and status on the rows of one workshop.
        *atelier(
            [
                {
                    "Genre du bénéficiaire": LABELS["genre"][genre],
                    "Tranche d’âge du bénéficiaire": LABELS["tranche_age"][age],
                    "Statut du bénéficiaire": LABELS["statut_social"][statut],
                }
                for genre, age, statut in zip(
                    list(LABELS["genre"]) * 3, LABELS["tranche_age"], list(LABELS["statut_social"]) * 2, strict=False
                )
            ]
        ),
    ]

    lues = donnees(rows)

    n_lieux, n_redirections = len(LABELS["type_lieu"]), len(LABELS["structure_redirection"])
    assert [d["type_lieu"] for d in lues[:n_lieux]] == list(LABELS["type_lieu"])
    redirections = lues[n_lieux : n_lieux + n_redirections]
    assert [(d["oriente"], d["structure_redirection"]) for d in redirections] == [
        (True, code) for code in LABELS["structure_redirection"]
    ]
    tout = lues[n_lieux + n_redirections]
    assert tout["thematiques"] == list(LABELS["thematiques"])
    assert set(tout["thematiques"]) >= c.CODES_ADMINISTRATIFS
    assert tout["materiel"] == list(LABELS["materiel"])
    autonomies = lues[n_lieux + n_redirections + 1 : n_lieux + n_redirections + 4]
    assert [(d["type"], d["autonomie"], d["niveau"]) for d in autonomies] == [
        (c.INDIVIDUEL, code, "") for code in LABELS["autonomie"]
    ]
    niveaux = lues[n_lieux + n_redirections + 4 : n_lieux + n_redirections + 7]
    assert [(d["type"], d["niveau"], d["autonomie"]) for d in niveaux] == [
        (c.COLLECTIF, code, "") for code in LABELS["niveau"]
    ]
    personnes = lues[-1]["participants"]
    assert [p["tranche_age"] for p in personnes] == list(LABELS["tranche_age"])
    assert {p["genre"] for p in personnes} == set(LABELS["genre"])
    assert {p["statut_social"] for p in personnes} == set(LABELS["statut_social"])


def test_labels_and_headers_are_read_whatever_the_case_spaces_and_apostrophes():
    straight = [column.replace("’", "'") for column in NATIONAL]
    row = ligne(
        **{
            "Type": "  accompagnement   INDIVIDUEL ",
            "Canaux d’accompagnement": "à domicile",
            "Thématique(s) d’accompagnement": "e-mail\r\n  Aide aux démarches administratives \n\nLOGEMENT",
            "Matériel numérique utilisé": "téléphone\nOrdinateur\ntéléphone",
            "Bénéficiaire réorienté": "oui",
            "Structure de redirection": "Structure d'aide sociale (maison des solidarités, centre social…)",
            "Tranche d’âge du bénéficiaire": "25 - 39 ANS",
            "Statut du bénéficiaire": "Non communiqué",
        }
    )
    row = {column.replace("’", "'"): value for column, value in row.items()}

    (lue,) = donnees([row], colonnes=straight)

    assert lue["type"] == c.INDIVIDUEL
    assert lue["type_lieu"] == c.DOMICILE
    assert lue["thematiques"] == ["email", "aide_aux_demarches_administratives", "logement"]
    assert lue["materiel"] == ["telephone", "ordinateur"]  # each once
    assert (lue["oriente"], lue["structure_redirection"]) == (True, "aide_sociale")
    assert lue["participants"][0]["tranche_age"] == "vingt_cinq_trente_neuf"
    assert lue["participants"][0]["statut_social"] == c.NON_COMMUNIQUE


def test_dates_as_date_cells_or_text():
    jour = datetime.date(2025, 3, 14)
    rows = [
        ligne(Date=jour),
        ligne(Date=datetime.datetime(2025, 3, 14, 0, 0)),
        ligne(Date="14/03/2025"),
        ligne(Date="2025-03-14"),
    ]
    assert [d["date"] for d in donnees(rows)] == ["2025-03-14"] * 4


def test_the_coop_layout_is_read():
    """The Coop writes rows about the export above its table, « 1 » for a single participant, the notes on the first
    row of a workshop only, and « Source de la donnée » for mediators of its first version."""
    colonnes = [*CONSEILLER[:-1], "Source de la donnée", "ID CRA"]
    rows = [
        ligne(Participants=1, **{"Durée (min)": 30.0, "Source de la donnée": "La Coop de la médiation numérique (V2)"}),
        *atelier(
            [{"Notes supplémentaires": "Groupe motivé", "Bénéficiaire": "Léa Martin"}, {}],
            **{"Source de la donnée": "Espace coop (V1)"},
        ),
        *atelier([{}]),  # a workshop of one
    ]
    rows[-1]["Participants"] = 1

    individuel, groupe, seul = donnees(rows, colonnes=colonnes, coop=True)

    assert (individuel["duree"], len(individuel["participants"])) == (30, 1)
    assert groupe["notes"] == "Groupe motivé"
    assert len(groupe["participants"]) == 2
    assert (seul["type"], len(seul["participants"])) == (c.COLLECTIF, 1)
    assert "Léa Martin" not in str(groupe)  # the beneficiary's name is never read


def test_lines_are_numbered_as_in_the_spreadsheet():
    rows = [ligne(), *atelier([{}, {}, {}]), ligne()]

    lignes = lire(rows, coop=True)  # 10 rows about the export, then the header on row 11

    assert [ligne.numero for ligne in lignes] == ["12", "13 à 15", "16"]
    assert lignes[1].cle == rows[1]["ID CRA"]
    assert lignes[1].libelle == (f"Atelier collectif du {hier():%d/%m/%Y} — Découverte de l’e-mail (3 participants)")
    assert lignes[0].libelle == f"Accompagnement individuel du {hier():%d/%m/%Y} — E-mail"


def test_workshop_rows_are_grouped_by_id_wherever_they_are():
    rows = atelier([{"Genre du bénéficiaire": "Féminin"}, {"Genre du bénéficiaire": "Masculin"}])
    seul = ligne()

    (groupe, individuel) = lire([rows[1], seul, rows[0]])

    assert groupe.numero == "2, 4"
    assert not groupe.erreur
    assert [p["genre"] for p in groupe.donnees["participants"]] == ["feminin", "masculin"]  # by rank
    assert individuel.cle == seul["ID CRA"]


# --- Writing -------------------------------------------------------------------------------------------------------
def test_a_workshop_of_three_rows_is_one_activity_with_three_accompaniments(conseiller, commune, autre_commune):
    rows = atelier(
        [
            {
                "Genre du bénéficiaire": "Féminin",
                "Tranche d’âge du bénéficiaire": "60 - 69 ans",
                "Statut du bénéficiaire": "Retraité",
                "Commune du bénéficiaire": "Castanet-Tolosan",
                "Code Insee du bénéficiaire": "31113",
            },
            {
                "Genre du bénéficiaire": "Masculin",
                "Tranche d’âge du bénéficiaire": "18 - 24 ans",
                "Statut du bénéficiaire": "Sans emploi",
            },
            {},
        ],
        **{
            "Canaux d’accompagnement": "Autre lieu",
            "Commune": "Saint-Orens-de-Gameville",
            "Code Insee": "31588",
            "Durée (min)": 120,
            "Thématique(s) d’accompagnement": f"E-mail\n{c.THEMATIQUE_LABELS['securite_numerique']}",
            "Matériel numérique utilisé": "Ordinateur\nTablette",
            "Niveau d’autonomie (ou de l’atelier)": "2/3",
        },
    )

    decisions = importer(classeur(rows), import_de(conseiller))

    assert actions(decisions) == [Action.CREER]
    activite = Activite.objects.get()
    assert activite.id_externe == rows[0]["ID CRA"]
    assert (activite.source, activite.conseiller, activite.structure) == (
        c.Source.IMPORT_COOP,
        conseiller,
        conseiller.user.memberships.get().structure,
    )
    assert (activite.type, activite.titre_atelier, activite.niveau) == (
        c.COLLECTIF,
        "Découverte de l’e-mail",
        "intermediaire",
    )
    assert (activite.type_lieu, activite.commune, activite.lieu, activite.duree) == (c.AUTRE_LIEU, commune, None, 120)
    assert activite.thematiques == ["email", "securite_numerique"]
    assert sorted(ActiviteThematique.objects.values_list("thematique", flat=True)) == ["email", "securite_numerique"]
    assert activite.materiel == ["ordinateur", "tablette"]
    assert activite.participants == 3
    rows_ = list(
        activite.accompagnements.order_by("rang").values_list(
            "rang", "genre", "tranche_age", "statut_social", "commune_residence", "beneficiaire"
        )
    )
    assert rows_ == [
        (1, "feminin", "soixante_soixante_neuf", "retraite", autre_commune.pk, None),
        (2, "masculin", "dix_huit_vingt_quatre", "sans_emploi", None, None),
        (3, c.NON_COMMUNIQUE, c.NON_COMMUNIQUE, c.NON_COMMUNIQUE, None, None),
    ]
    assert not Beneficiaire.objects.exists()
    # The history names who imported.
    assert activite.history.get().history_user == conseiller.user


def test_an_activity_at_a_place_of_activity(conseiller, lieu):
    row = ligne(
        **{
            "Canaux d’accompagnement": "Lieu d’activité",
            "Nom du lieu": "MEDIATHEQUE L'ENVOL",
            "Code Insee": lieu.commune.code_insee,
        }
    )

    assert actions(importer(classeur([row]), import_de(conseiller))) == [Action.CREER]

    activite = Activite.objects.get()
    assert (activite.type_lieu, activite.lieu, activite.commune) == (c.LIEU_ACTIVITE, lieu, lieu.commune)


def test_the_same_file_twice_changes_nothing(conseiller, commune):
    rows = [
        ligne(**{"Code Insee": "31588"}),
        *atelier([{"Genre du bénéficiaire": "Féminin"}, {}, {}]),
        ligne(**{"Canaux d’accompagnement": "À distance", "Notes supplémentaires": "À rappeler"}),
    ]
    contenu = classeur(rows, variante="conseiller")
    assert actions(importer(contenu, import_de(conseiller))) == [Action.CREER] * 3
    avant = counts()
    modifiees = dict(Activite.objects.values_list("pk", "updated_at"))

    decisions = importer(contenu, import_de(conseiller))

    assert actions(decisions) == [Action.INCHANGE] * 3
    assert counts() == avant
    assert dict(Activite.objects.values_list("pk", "updated_at")) == modifiees


def test_a_changed_cell_updates_the_activity(conseiller, commune):
    row = ligne(**{"Code Insee": "31588", "Durée (min)": 45})
    autre = ligne()
    importer(classeur([row, autre]), import_de(conseiller))
    activite = Activite.objects.get(id_externe=row["ID CRA"])

    row.update({"Durée (min)": 60, "Genre du bénéficiaire": "Féminin"})
    decisions = importer(classeur([row, autre]), import_de(conseiller))

    assert actions(decisions) == [Action.METTRE_A_JOUR, Action.INCHANGE]
    assert decisions[0].changements == ["durée (minutes)", "participants"]
    activite.refresh_from_db()
    assert activite.duree == 60
    assert activite.accompagnements.get().genre == "feminin"
    assert Activite.objects.count() == 2
    assert activite.history.count() == 2


def test_invalid_rows_are_reported_and_the_valid_ones_still_planned(conseiller, commune):
    futur = timezone.localdate() + datetime.timedelta(days=3)
    valides = [ligne(), *atelier([{}, {}])]
    rows = [
        valides[0],
        ligne(**{"Thématique(s) d’accompagnement": "E-mail\nAstrologie"}),
        ligne(Date="31/02/2025"),
        ligne(Date=futur),
        ligne(**{"Durée (min)": 0}),
        ligne(**{"Durée (min)": 600}),
        ligne(**{"Durée (min)": "une heure"}),
        ligne(**{"Canaux d’accompagnement": "Lieu d’activité", "Nom du lieu": "Salle inconnue", "Code Insee": "31588"}),
        ligne(**{"ID CRA": ""}),
        *[row for i, row in enumerate(atelier([{}, {}, {}])) if i != 1],
        *valides[1:],
        ligne(**{"Genre du bénéficiaire": "Autre"}),
        ligne(**{"Niveau d’autonomie (ou de l’atelier)": "5 étoiles"}),
        ligne(**{"Bénéficiaire réorienté": "Peut-être"}),
        ligne(**{"Code Insee": "ABCDE"}),
        ligne(Type="Permanence"),
        ligne(Participants="1/2"),
    ]

    decisions = decider(classeur(rows), import_de(conseiller))
    raisons = {decision.ligne.numero: decision.raison for decision in decisions}

    assert [d.action for d in decisions if d.action != Action.INVALIDE] == [Action.CREER, Action.CREER]
    assert {d.ligne.cle for d in decisions if d.action == Action.CREER} == {valides[0]["ID CRA"], valides[1]["ID CRA"]}
    assert raisons["3"] == "Colonne « Thématique(s) d’accompagnement » : valeur inconnue « Astrologie »."
    assert raisons["4"] == "Colonne « Date » : « 31/02/2025 » n'est pas une date (attendu : jj/mm/aaaa)."
    assert raisons["5"] == "La date ne peut pas être dans le futur."
    assert raisons["6"] == "La durée doit être comprise entre 1 et 480 minutes (lu : 0)."
    assert raisons["7"] == "La durée doit être comprise entre 1 et 480 minutes (lu : 600)."
    assert raisons["8"] == "Colonne « Durée (min) » : « une heure » n'est pas un nombre entier de minutes."
    assert raisons["9"].startswith("Le lieu d'activité n'existe pas sur la plateforme")
    assert raisons["9"].endswith("Lieu cherché : « Salle inconnue », code Insee « 31588 ».")
    assert raisons["10"].startswith("Colonne « ID CRA » vide")
    assert raisons["11 à 12"] == "Atelier incomplet : 2 lignes sur 3 dans le fichier (il manque le participant 2/3)."
    assert raisons["15"] == "Colonne « Genre du bénéficiaire » : valeur inconnue « Autre »."
    assert raisons["16"].startswith("Colonne « Niveau d’autonomie (ou de l’atelier) » : « 5 étoiles »")
    assert raisons["17"] == "Colonne « Bénéficiaire réorienté » : « Peut-être » n'est ni « Oui » ni « Non »."
    assert raisons["18"] == "Colonne « Code Insee » : « ABCDE » n'est pas un code Insee de commune."
    assert raisons["19"] == "Colonne « Type » : valeur inconnue « Permanence »."
    assert raisons["20"].startswith("Un accompagnement individuel concerne une seule personne")
    assert len(decisions) == 17


def test_rows_of_one_activity_must_agree(conseiller):
    rows = atelier([{}, {"Durée (min)": 90}, {}])
    rows[2]["Participants"] = "3/4"

    (decision,) = decider(classeur(rows), import_de(conseiller))

    assert decision.action == Action.INVALIDE
    assert "colonne « Durée (min) » : « 45 » lignes 2, 4 ; « 90 » ligne 3." in decision.raison
    assert "n'indiquent pas le même nombre de participants (3, 4)" in decision.raison


def test_a_participant_twice(conseiller):
    rows = atelier([{}, {}])
    rows[1]["Participants"] = "1/2"

    (decision,) = decider(classeur(rows), import_de(conseiller))

    assert decision.raison == "Le participant 1/2 figure deux fois (lignes 2 et 3)."


def test_nothing_is_written_for_invalid_rows(conseiller):
    importer(classeur([ligne(**{"Durée (min)": 0}), ligne(Date="hier")]), import_de(conseiller))
    assert not Activite.objects.exists()


def test_a_conseiller_without_employer_that_day_is_refused_with_the_reason(structure, conseiller):
    ancien = employe(structure, depuis=hier(10))
    # No membership either: a conseiller's structure membership is their employer when no post or contract says it.
    Membership.objects.filter(user=ancien.user).delete()
    row = ligne(Date=hier(20))

    (decision,) = decider(classeur([row]), import_de(ancien))

    assert decision.action == Action.INVALIDE
    assert decision.raison.startswith(f"{ancien} n'était rattaché(e) à aucune structure employeuse le ")


# --- Files refused at upload ---------------------------------------------------------------------------------------
def _refus(contenu):
    with pytest.raises(FichierInvalide) as excinfo:
        ImporteurActivitesCoop().verifier(contenu, "activites.xlsx", {})
    with pytest.raises(FichierInvalide):
        ImporteurActivitesCoop().lire(contenu, "activites.xlsx", {})
    return str(excinfo.value)


def test_a_file_that_is_not_an_xlsx_is_refused():
    assert "n'est pas un classeur Excel (.xlsx)" in _refus(b"Date;Type\n01/01/2025;Atelier")
    assert "Excel 97-2003 (.xls)" in _refus(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert "il est peut-être endommagé" in _refus(b"PK\x03\x04 pas vraiment un zip")
    assert "il est peut-être endommagé" in _refus(classeur([ligne()])[:300])
    assert "endommagé" in _refus(_zip_sans_classeur())


def test_a_sheet_damaged_after_its_header_is_refused_by_the_analysis():
    """The upload reads the header only; the analysis, reading the rows, finds the damage."""
    source = zipfile.ZipFile(io.BytesIO(classeur([ligne() for _ in range(60)])))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: int(len(data) * 0.9)]
            archive.writestr(item, data)
    contenu = output.getvalue()

    ImporteurActivitesCoop().verifier(contenu, "activites.xlsx", {})
    with pytest.raises(FichierInvalide, match="il est peut-être endommagé"):
        ImporteurActivitesCoop().lire(contenu, "activites.xlsx", {})


def _zip_sans_classeur():
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("bonjour.txt", "Ceci n'est pas un classeur.")
    return output.getvalue()


def test_a_workbook_without_the_activities_sheet_is_refused():
    message = _refus(classeur([ligne()], feuille="Feuil1"))
    assert message.startswith("Le classeur n'a pas de feuille « Activités » (feuilles trouvées : « Feuil1 »)")


def test_a_sheet_without_the_table_is_refused():
    workbook = Workbook()
    workbook.active.title = "Activités"
    workbook.active.append(["Bonjour"])
    output = io.BytesIO()
    workbook.save(output)
    assert "ne contient pas le tableau des activités de la Coop" in _refus(output.getvalue())


def test_missing_columns_are_named():
    sans_duree = [column for column in NATIONAL if column not in ("Durée (min)", "ID CRA")]
    message = _refus(classeur([ligne()], colonnes=sans_duree))
    assert message.startswith(
        "Colonnes obligatoires absentes de la feuille « Activités » : « Durée (min) », « ID CRA »."
    )
    sans_genre = [column for column in NATIONAL if column != "Genre du bénéficiaire"]
    assert "Colonne obligatoire absente de la feuille « Activités » : « Genre du bénéficiaire »." in _refus(
        classeur([ligne()], colonnes=sans_genre)
    )


def test_columns_the_importer_does_not_read_may_be_missing():
    optional = {"Enregistré le", "Dernière modification le", "Adresse", "Commune", "Code postal", "Tags"}
    assert len(donnees([ligne()], colonnes=[col for col in NATIONAL if col not in optional])) == 1


def test_the_upload_check_reads_only_the_header():
    """Rows that cannot be read are the analysis's business, not the upload's."""
    ImporteurActivitesCoop().verifier(classeur([ligne(Date="n'importe quoi", Type="?")]), "activites.xlsx", {})
    ImporteurActivitesCoop().verifier(memoryview(classeur([])), "activites.xlsx", {})  # as a BinaryField gives it


def test_an_empty_table_has_no_lines():
    assert ImporteurActivitesCoop().lire(classeur([]), "activites.xlsx", {}) == []


# --- Whose activities ----------------------------------------------------------------------------------------------
def test_a_personal_import_refuses_the_activities_of_another_mediator(conseiller, collegue):
    mediateur = {"Prénom du médiateur": "Léo", "Nom du médiateur": "Martin", "ID - Conum": str(collegue.uuid)}
    rows = [
        ligne(**{"Prénom du médiateur": "Camille", "Nom du médiateur": "Dupré", "ID - Conum": str(conseiller.uuid)}),
        ligne(**{"Prénom du médiateur": "CAMILLE", "Nom du médiateur": "dupre", "ID - Conum": "true"}),
        ligne(**mediateur),
        *atelier([{}, {}], **mediateur),
    ]

    decisions = importer(classeur(rows, variante="equipe"), import_de(conseiller))

    assert actions(decisions) == [Action.CREER, Action.CREER, Action.INVALIDE, Action.INVALIDE]
    assert decisions[2].raison == (
        "Activité d'un autre médiateur (Léo Martin) : vous n'importez ici que vos propres activités."
    )
    assert decisions[3].raison == decisions[2].raison
    assert set(Activite.objects.values_list("conseiller", flat=True)) == {conseiller.pk}


def test_a_personal_import_knows_its_mediator_by_the_coop_ids(conseiller):
    MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), conum_id_pg=4242, conseiller=conseiller)
    rows = [ligne(**{"Prénom du médiateur": "Cam", "Nom du médiateur": "D.", "ID - Conum": "4242"})]

    assert actions(decider(classeur(rows, variante="equipe"), import_de(conseiller))) == [Action.CREER]


def test_a_team_import_finds_each_conseiller_by_id_or_name(staff_user, conseiller, collegue, structure):
    troisieme = employe(structure, prenom="Inès", nom="Lefèvre")
    quatrieme = employe(structure, prenom="Hugo", nom="Bernard")
    coop = MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), conseiller=troisieme)
    MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), conum_id_pg=1789, conseiller=quatrieme)
    MediateurCoop.objects.create(mediateur_id=uuid.uuid4(), conum_id_pg=1790)  # not mapped to anyone
    par_uuid = ligne(**{"Prénom du médiateur": "X", "Nom du médiateur": "Y", "ID - Conum": str(conseiller.uuid)})
    par_nom = ligne(**{"Prénom du médiateur": "leo", "Nom du médiateur": "MARTIN", "ID - Conum": "false"})
    par_coop = ligne(**{"Prénom du médiateur": "Inès", "Nom du médiateur": "L.", "ID - Conum": str(coop.mediateur_id)})
    par_conum = atelier([{}, {}], **{"Prénom du médiateur": "H", "Nom du médiateur": "B", "ID - Conum": 1789})
    inconnu = ligne(**{"Prénom du médiateur": "Jean", "Nom du médiateur": "Inconnu", "ID - Conum": "1790"})

    decisions = importer(
        classeur([par_uuid, par_nom, par_coop, *par_conum, inconnu], variante="equipe"), import_de(par=staff_user)
    )

    assert actions(decisions) == [Action.CREER] * 4 + [Action.INVALIDE]
    assert decisions[-1].raison == (
        "Aucun conseiller du territoire ne correspond au médiateur Jean Inconnu (ID - Conum « 1790 ») : créez sa "
        "fiche ou associez-le à son conseiller, puis importez de nouveau."
    )
    conseillers = dict(Activite.objects.values_list("id_externe", "conseiller"))
    assert conseillers == {
        par_uuid["ID CRA"]: conseiller.pk,
        par_nom["ID CRA"]: collegue.pk,
        par_coop["ID CRA"]: troisieme.pk,
        par_conum[0]["ID CRA"]: quatrieme.pk,
    }
    # The history names the staff member who imported.
    assert {h.history_user for h in Activite.history.all()} == {staff_user}


def test_a_team_import_refuses_homonyms_and_files_that_do_not_say_whose(staff_user, structure, conseiller):
    employe(structure, prenom="Camille", nom="Dupre")
    row = ligne(**{"Prénom du médiateur": "Camille", "Nom du médiateur": "Dupré"})

    (decision,) = decider(classeur([row], variante="equipe"), import_de(par=staff_user))
    assert decision.raison.startswith("Plusieurs conseillers s'appellent Camille Dupré : associez ce médiateur")

    (decision,) = decider(classeur([ligne()], variante="conseiller"), import_de(par=staff_user))
    assert decision.action == Action.INVALIDE
    assert decision.raison.startswith("Le fichier ne dit pas qui a réalisé cette activité")


def test_notes_come_only_with_a_personal_import_and_a_team_import_keeps_them(staff_user, conseiller):
    row = ligne(**{"Notes supplémentaires": "Revoir en novembre"})
    importer(classeur([row], variante="conseiller"), import_de(conseiller))
    assert Activite.objects.get().notes == "Revoir en novembre"

    equipe = {
        **row,
        "Prénom du médiateur": conseiller.prenom,
        "Nom du médiateur": conseiller.nom,
        "ID - Conum": str(conseiller.uuid),
    }
    assert actions(importer(classeur([equipe], variante="equipe"), import_de(par=staff_user))) == [Action.INCHANGE]
    assert Activite.objects.get().notes == "Revoir en novembre"

    nouvelle = {**equipe, "ID CRA": str(uuid.uuid4()), "Notes supplémentaires": "Privé"}
    importer(
        classeur([nouvelle], colonnes=[*EQUIPE[:-1], "Notes supplémentaires", "ID CRA"]), import_de(par=staff_user)
    )
    assert Activite.objects.get(id_externe=nouvelle["ID CRA"]).notes == ""


# --- Activities already here ---------------------------------------------------------------------------------------
def test_an_activity_already_imported_for_another_conseiller_is_refused(conseiller, collegue):
    row = ligne()
    importer(classeur([row]), import_de(collegue))

    (decision,) = importer(classeur([row]), import_de(conseiller))

    assert decision.action == Action.INVALIDE
    assert decision.raison == "Cette activité a déjà été importée pour un autre conseiller."
    assert Activite.objects.get().conseiller == collegue


def test_an_id_of_an_activity_typed_here_is_refused(conseiller, commune):
    locale = services.activite_create(
        by=conseiller.user,
        data={
            "type": c.INDIVIDUEL,
            "date": hier(),
            "duree": 30,
            "type_lieu": c.DOMICILE,
            "commune": commune,
            "thematiques": ["email"],
        },
    )
    avant = counts()

    (decision,) = importer(classeur([ligne(**{"ID CRA": str(locale.uuid).upper()})]), import_de(conseiller))

    assert decision.action == Action.INVALIDE
    assert decision.raison == "Cette activité a été saisie sur la plateforme : elle y est déjà."
    assert counts() == avant


def test_an_older_file_does_not_bring_back_an_activity_deleted_upstream(conseiller):
    """Only the synchronisation deletes an imported activity (deleted in the Coop): replaying an older export of the
    Coop changes nothing, as replaying any file."""
    row = ligne()
    importer(classeur([row]), import_de(conseiller))
    supprimee_le = timezone.now()
    Activite.objects.update(supprimee_le=supprimee_le)

    assert actions(importer(classeur([row]), import_de(conseiller))) == [Action.INCHANGE]
    assert Activite.objects.get().supprimee_le == supprimee_le


# --- Imported activities here --------------------------------------------------------------------------------------
def test_imported_activities_are_read_only_and_in_the_history_and_the_statistics(client, conseiller, commune):
    rows = [ligne(**{"Code Insee": "31588"}), *atelier([{}, {}, {}], **{"Code Insee": "31588", "Durée (min)": 90})]
    importer(classeur(rows), import_de(conseiller))
    individuel = Activite.objects.get(type=c.INDIVIDUEL)
    groupe = Activite.objects.get(type=c.COLLECTIF)

    with pytest.raises(PermissionDenied, match="vient de l'outil national"):
        services.activite_update(
            activite=individuel,
            by=conseiller.user,
            data={**{name: getattr(individuel, name) for name in services.ACTIVITE_FIELDS}, "duree": 50},
        )
    with pytest.raises(PermissionDenied):
        services.activite_delete(activite=groupe, by=conseiller.user)

    client.force_login(conseiller.user)
    page = client.get(reverse("accompagnements:list")).content.decode()
    assert f'id="activite-{individuel.uuid}"' in page and f'id="activite-{groupe.uuid}"' in page
    assert "Import d&#x27;un export de la Coop" in page or "Import d'un export de la Coop" in page
    assert f"/{individuel.uuid}/modifier/" not in page

    resume.mettre_a_jour()
    stats = resume.statistiques(hier(), hier(), conseillers=[conseiller.pk])
    assert stats.chiffres["activites"] == 2
    assert (stats.chiffres["individuels"], stats.chiffres["collectifs"]) == (1, 1)
    assert stats.chiffres["accompagnements"] == 4
    assert stats.chiffres["duree"] == 45 + 90


# --- Query budget --------------------------------------------------------------------------------------------------
def _lot(conseiller, n):
    """n activities of one conseiller on one day: workshops, places of activity, homes; the mediator known by id or
    by name."""
    rows = []
    for i in range(n):
        mediateur = {"Prénom du médiateur": conseiller.prenom, "Nom du médiateur": conseiller.nom}
        if i % 2:
            mediateur["ID - Conum"] = str(conseiller.uuid)
        if i % 3 == 0:
            rows.extend(atelier([{"Code Insee du bénéficiaire": "31113"}, {}], **{"Code Insee": "31588"}, **mediateur))
        elif i % 3 == 1:
            lieu = {"Canaux d’accompagnement": "Lieu d’activité", "Nom du lieu": "Médiathèque de l’Envol"}
            rows.append(ligne(**lieu, **{"Code Insee": "31588"}, **mediateur))
        else:
            rows.append(ligne(**mediateur))
    return classeur(rows, variante="equipe")


def _requetes(contenu, import_):
    importeur = ImporteurActivitesCoop()
    lignes = importeur.lire(contenu, "activites.xlsx", {})
    with CaptureQueriesContext(connection) as context:
        decisions = importeur.decider(lignes, import_)
    return len(context.captured_queries), decisions


@pytest.mark.parametrize("equipe", [False, True])
def test_deciding_a_batch_costs_a_fixed_number_of_queries(staff_user, conseiller, lieu, autre_commune, equipe):
    """Same day, same conseiller: the only per-activity lookup of the shared path (the employer per conseiller and
    day) is made once."""
    for _ in range(5):
        MediateurCoop.objects.create(mediateur_id=uuid.uuid4())
    import_ = import_de(par=staff_user) if equipe else import_de(conseiller)
    petit, decisions = _requetes(_lot(conseiller, 5), import_)
    assert set(actions(decisions)) == {Action.CREER}
    grand_lot = _lot(conseiller, 50)
    grand, decisions = _requetes(grand_lot, import_)
    assert set(actions(decisions)) == {Action.CREER}

    assert grand == petit
    assert petit <= 10

    importer(grand_lot, import_)
    rejoue, decisions = _requetes(grand_lot, import_)
    assert set(actions(decisions)) == {Action.INCHANGE}
    assert rejoue <= petit


def test_importing_by_batches_gives_the_same_result(conseiller, lieu, autre_commune):
    contenu = _lot(conseiller, 12)

    decisions = importer(contenu, import_de(conseiller), lot=5)

    assert actions(decisions) == [Action.CREER] * 12
    assert Activite.objects.count() == 12
    assert actions(importer(contenu, import_de(conseiller), lot=5)) == [Action.INCHANGE] * 12


def test_a_zip_bomb_is_refused_before_openpyxl_reads_it():
    """A workbook padded with a member that unpacks a thousand times larger than it weighs: refused at once."""
    contenu = io.BytesIO(classeur([ligne()]))
    with zipfile.ZipFile(contenu, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/rembourrage.bin", b"\0" * (30 * 1024 * 1024))
    message = _refus(contenu.getvalue())
    assert "anormalement volumineux" in message
