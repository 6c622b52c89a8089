"""Import of the activity export of the national tool (La Coop de la médiation numérique), as an XLSX file.

What is read (``export_notes`` and ``export_cellules`` of the vocabulary fixture, and ``accompagnements.exports``,
which writes the same format):

- the sheet « Activités »; the Coop writes a few rows about the export (who, when, filters) above its table, so the
  header is the row, among the first ones, that names the most national columns;
- one row per accompaniment: a workshop of n participants is n rows (« Participants » 'i/n') sharing one « ID CRA »,
  read back as one activity (the rows are grouped by ID CRA, wherever they are); the Coop writes « 1 » for an
  activity of one participant, this platform « 1/1 » for a workshop of one: both are read;
- labels, not codes, in the cells (multi-values separated by line breaks), read back to the stored national codes,
  whatever the case, the spaces and the apostrophes; the autonomy or the workshop's level as 'k/3' stars;
- three variants of columns: the plain national one, a conseiller's own export (« Bénéficiaire » and « Notes
  supplémentaires »), the team export (« Prénom du médiateur », « Nom du médiateur », « Rôle », « ID - Conum »).

Who the activities are for: a personal import gives them to its conseiller (the rows of another mediator, when the
file says whose they are, are refused); a team import (staff) finds each activity's conseiller by « ID - Conum »
(the conseiller's id here, or the Coop mediator's id or conseiller numérique id known from the synchronisation),
else by first and last name.

Everything is written by ``accompagnements.services.externes`` (the one path for external activities): this module
only reads the file and finds the related rows, with a fixed number of queries per batch. The beneficiary's name is
never read: no followed beneficiary is created from a file (no consent is recorded here).
"""

import datetime
import re
import uuid
from dataclasses import dataclass, field

from django.db.models import Q

from accompagnements import choices as c
from accompagnements.models import Activite
from accompagnements.services import externes
from conseillers.models import Conseiller
from structures.models import Commune
from structures.selectors import lieux_par_nom, normalise_nom

from ..base import Action, Decision, FichierInvalide, Importeur, Ligne
from ..models import MediateurCoop, TypeImport
from .cellules import (
    ENDOMMAGE,
    ID_CONUM,
    ID_CRA,
    ID_EXTERNE_MAX,
    ILLISIBLE,
    NOM_MEDIATEUR,
    PRENOM_MEDIATEUR,
    _id_cra,
    _nom_complet,
    _plage,
)
from .feuille import (
    _activite,
    _libelle,
    _ouvrir,
)


# --- Who the activities are for ------------------------------------------------------------------------------------
@dataclass
class Mediateurs:
    """The conseillers a batch's mediators may be: by id here, by Coop ids, by normalised name."""

    par_uuid: dict = field(default_factory=dict)
    par_mediateur_id: dict = field(default_factory=dict)
    par_conum: dict = field(default_factory=dict)
    par_nom: dict = field(default_factory=dict)


def _conum(identifiant):
    """A conseiller numérique id (« ID - Conum »: a positive integer of the Coop's first version), or None."""
    if identifiant.isascii() and identifiant.isdigit() and len(identifiant) <= 10 and int(identifiant) < 2**31:
        return int(identifiant)
    return None


def _par_id(mediateurs, identifiant):
    if not identifiant:
        return None
    try:
        value = str(uuid.UUID(identifiant))
    except ValueError:
        value = None
    if value is not None:
        return mediateurs.par_uuid.get(value) or mediateurs.par_mediateur_id.get(value)
    if _conum(identifiant) is not None:
        return mediateurs.par_conum.get(_conum(identifiant))
    return None  # the Coop may write « true »/« false » here, or an id of its first version


def _lieu(lieux, code_insee, nom):
    """The place of this name in this commune (``lieux_par_nom``'s index)."""
    return lieux.get((code_insee, normalise_nom(nom)))


def _ids_coop(uuids, conums):
    """The condition on the Coop mediators known by one of these mediator ids or conseiller numérique ids."""
    condition = Q(pk__in=[])
    if uuids:
        condition |= Q(mediateur_id__in=uuids)
    if conums:
        condition |= Q(conum_id_pg__in=conums)
    return condition


def _nom(mediateur):
    return " ".join(part for part in (mediateur["prenom"], mediateur["nom"]) if part) or "sans nom"


# --- The importer --------------------------------------------------------------------------------------------------
class ImporteurActivitesCoop(Importeur):
    type = TypeImport.ACTIVITES_COOP
    extensions = (".xlsx",)
    description = (
        "L'export des activités de la Coop de la médiation numérique (fichier Excel, feuille « Activités ») : "
        "vos propres activités, ou celles de l'équipe pour le territoire."
    )

    # --- Reading
    def verifier(self, contenu, nom_fichier, options):
        """The header only: the whole file is read by the analysis."""
        _ouvrir(bytes(contenu)).fermer()

    def lire(self, contenu, nom_fichier, options):
        feuille = _ouvrir(bytes(contenu))
        try:
            groupes, sans_id = self._lignes(feuille)
        except ILLISIBLE as error:  # the rows are parsed as they are read
            raise FichierInvalide(ENDOMMAGE) from error
        finally:
            feuille.fermer()
        equipe = feuille.equipe

        lignes = []
        for id_cra, rows in groupes.items():
            numero = _plage([n for n, _ in rows])
            libelle = _libelle(rows)
            if len(id_cra) > ID_EXTERNE_MAX:
                lignes.append(
                    Ligne(
                        numero,
                        id_cra,
                        libelle,
                        erreur=f"Colonne « {ID_CRA} » : identifiant trop long ({len(id_cra)} caractères, au plus "
                        f"{ID_EXTERNE_MAX}).",
                    )
                )
                continue
            donnees, erreurs = _activite(id_cra, rows, equipe)
            lignes.append(Ligne(numero, id_cra, libelle, donnees=donnees, erreur=" ".join(erreurs)))
        for numero, valeurs in sans_id:
            lignes.append(
                Ligne(
                    str(numero),
                    "",
                    _libelle([(numero, valeurs)]),
                    erreur=f"Colonne « {ID_CRA} » vide : sans son identifiant, l'activité ne peut pas être importée "
                    "(ni reconnue à l'import suivant).",
                )
            )
        lignes.sort(key=lambda ligne: int(re.match(r"\d+", ligne.numero).group()))
        return lignes

    def _lignes(self, feuille):
        """The table's rows ({column: value}) grouped by ID CRA, in file order, and the rows without one."""
        groupes = {}
        sans_id = []
        largeur = max(feuille.colonnes.values()) + 1
        rows = feuille.feuille.iter_rows(min_row=feuille.entete + 1, max_col=largeur, values_only=True)
        for numero, row in enumerate(rows, start=feuille.entete + 1):
            row = tuple(row) + (None,) * (largeur - len(row))
            if all(value is None or (isinstance(value, str) and not value.strip()) for value in row):
                continue
            valeurs = {name: row[index] for name, index in feuille.colonnes.items()}
            id_cra = _id_cra(valeurs.get(ID_CRA))
            if not id_cra:
                sans_id.append((numero, valeurs))
            else:
                groupes.setdefault(id_cra, []).append((numero, valeurs))
        return groupes, sans_id

    # --- Deciding
    def decider(self, lignes, import_):
        lisibles = [ligne for ligne in lignes if not ligne.erreur]
        personnel = import_.conseiller_id is not None
        communes = self._communes(lisibles)
        lieux = self._lieux(lisibles)
        mediateurs = self._mediateurs(lisibles, import_)
        notes = {} if personnel else self._notes_existantes(lisibles)

        refus = {}  # id(ligne): reason, for activities not planned at all
        a_planifier = []
        for ligne in lisibles:
            donnees = ligne.donnees
            if personnel:
                conseiller = import_.conseiller
                motif = self._autre_mediateur(donnees["mediateur"], conseiller, mediateurs)
            else:
                conseiller, motif = self._conseiller_equipe(donnees["mediateur"], mediateurs)
            if motif:
                refus[id(ligne)] = motif
                continue
            a_planifier.append((ligne, self._externe(donnees, conseiller, communes, lieux, personnel, notes)))

        plans = externes.planifier([externe for _ligne, externe in a_planifier])
        par_ligne = {id(ligne): plan for (ligne, _externe), plan in zip(a_planifier, plans, strict=True)}
        changements = self._changements([plan for plan in plans if plan.action == externes.METTRE_A_JOUR])

        decisions = []
        for ligne in lignes:
            if ligne.erreur:
                decisions.append(Decision(ligne, Action.INVALIDE, raison=ligne.erreur))
            elif id(ligne) in refus:
                decisions.append(Decision(ligne, Action.INVALIDE, raison=refus[id(ligne)]))
            else:
                decisions.append(self._decision(ligne, par_ligne[id(ligne)], changements))
        return decisions

    def _decision(self, ligne, plan, changements):
        if plan.action == externes.CREER:
            return Decision(ligne, Action.CREER, cible=plan)
        if plan.action == externes.METTRE_A_JOUR:
            return Decision(ligne, Action.METTRE_A_JOUR, changements=changements.get(plan.existante, []), cible=plan)
        if plan.action == externes.INCHANGE:
            return Decision(ligne, Action.INCHANGE, cible=plan)
        raison = plan.raison
        externe = plan.externe
        if externe.type_lieu == c.LIEU_ACTIVITE and externe.lieu is None:
            donnees = ligne.donnees
            cherche = f"« {donnees['nom_lieu']} »" if donnees["nom_lieu"] else "sans nom"
            raison += f" Lieu cherché : {cherche}, code Insee « {donnees['code_insee'] or 'vide'} »."
        # A file never deletes: SUPPRIMER cannot be planned for it (``supprimee`` is never set).
        return Decision(ligne, Action.INVALIDE, raison=raison, cible=plan)

    def _externe(self, donnees, conseiller, communes, lieux, personnel, notes):
        type_lieu = donnees["type_lieu"]
        lieu = None
        if type_lieu == c.LIEU_ACTIVITE:
            lieu = _lieu(lieux, donnees["code_insee"], donnees["nom_lieu"])
        return externes.ActiviteExterne(
            id_externe=donnees["id_cra"],
            source=c.Source.IMPORT_COOP,
            conseiller=conseiller,
            type=donnees["type"],
            date=datetime.date.fromisoformat(donnees["date"]) if donnees["date"] else None,
            duree=donnees["duree"],
            type_lieu=type_lieu,
            lieu=lieu,
            commune=communes.get(donnees["code_insee"]),
            thematiques=list(donnees["thematiques"]),
            nom_demarche=donnees["nom_demarche"],
            materiel=list(donnees["materiel"]),
            autonomie=donnees["autonomie"],
            oriente=donnees["oriente"],
            structure_redirection=donnees["structure_redirection"],
            titre_atelier=donnees["titre_atelier"],
            niveau=donnees["niveau"],
            # Notes are private: only their author's import brings them; a team import keeps those already here.
            notes=donnees["notes"] if personnel else notes.get(donnees["id_cra"], ""),
            participants=[
                {
                    "genre": p["genre"],
                    "tranche_age": p["tranche_age"],
                    "statut_social": p["statut_social"],
                    "commune_residence": communes.get(p["code_insee"]),
                }
                for p in donnees["participants"]
            ],
        )

    # --- Bulk lookups (one query each, per batch)
    def _communes(self, lignes):
        codes = set()
        for ligne in lignes:
            codes.add(ligne.donnees["code_insee"])
            codes.update(p["code_insee"] for p in ligne.donnees["participants"])
        codes.discard("")
        if not codes:
            return {}
        return {commune.code_insee: commune for commune in Commune.objects.filter(code_insee__in=codes)}

    def _lieux(self, lignes):
        codes = {
            ligne.donnees["code_insee"]
            for ligne in lignes
            if ligne.donnees["type_lieu"] == c.LIEU_ACTIVITE and ligne.donnees["code_insee"]
        }
        return lieux_par_nom(codes) if codes else {}

    def _mediateurs(self, lignes, import_):
        """What the batch's mediators may be: for a team import every conseiller (by name, by id) and the Coop
        mediators mapped to one (by the Coop's ids); for a personal import, the importer's own Coop ids."""
        mediateurs = Mediateurs()
        lus = [ligne.donnees["mediateur"] for ligne in lignes if ligne.donnees["mediateur"]]
        if not lus:
            return mediateurs
        ids = {m["id"] for m in lus if m["id"]}
        uuids, conums = set(), set()
        for identifiant in ids:
            try:
                uuids.add(uuid.UUID(identifiant))
            except ValueError:
                if _conum(identifiant) is not None:
                    conums.add(_conum(identifiant))
        coop = MediateurCoop.objects.filter(conseiller__isnull=False).select_related("conseiller")
        if import_.conseiller_id is not None:
            coop = coop.filter(conseiller_id=import_.conseiller_id)
            mediateurs.par_uuid[str(import_.conseiller.uuid)] = import_.conseiller
        else:
            for conseiller in Conseiller.objects.all():
                mediateurs.par_uuid[str(conseiller.uuid)] = conseiller
                mediateurs.par_nom.setdefault(_nom_complet(conseiller.prenom, conseiller.nom), []).append(conseiller)
        if uuids or conums:
            for mediateur in coop.filter(_ids_coop(uuids, conums)):
                mediateurs.par_mediateur_id[str(mediateur.mediateur_id)] = mediateur.conseiller
                if mediateur.conum_id_pg is not None:
                    mediateurs.par_conum[mediateur.conum_id_pg] = mediateur.conseiller
        return mediateurs

    def _notes_existantes(self, lignes):
        """{ID CRA: notes} of the activities already imported: a team import leaves their author's notes alone."""
        ids = {ligne.donnees["id_cra"] for ligne in lignes}
        if not ids:
            return {}
        return dict(Activite.objects.filter(id_externe__in=ids).exclude(notes="").values_list("id_externe", "notes"))

    def _autre_mediateur(self, mediateur, conseiller, mediateurs):
        """For a personal import: why this activity is someone else's, or "" when it is the importer's (or the file
        does not say whose it is)."""
        if mediateur is None or not (mediateur["id"] or mediateur["prenom"] or mediateur["nom"]):
            return ""
        if _par_id(mediateurs, mediateur["id"]) == conseiller:
            return ""
        if _nom_complet(mediateur["prenom"], mediateur["nom"]) == _nom_complet(conseiller.prenom, conseiller.nom):
            return ""
        return f"Activité d'un autre médiateur ({_nom(mediateur)}) : vous n'importez ici que vos propres activités."

    def _conseiller_equipe(self, mediateur, mediateurs):
        """For a team import: (the activity's conseiller, "") or (None, why none was found)."""
        if mediateur is None:
            return None, (
                f"Le fichier ne dit pas qui a réalisé cette activité (colonnes « {PRENOM_MEDIATEUR} », "
                f"« {NOM_MEDIATEUR} » et « {ID_CONUM} » absentes) : importez l'export de l'équipe, ou importez ce "
                "fichier depuis le compte du conseiller."
            )
        conseiller = _par_id(mediateurs, mediateur["id"])
        if conseiller is not None:
            return conseiller, ""
        homonymes = mediateurs.par_nom.get(_nom_complet(mediateur["prenom"], mediateur["nom"]), [])
        if len(homonymes) == 1:
            return homonymes[0], ""
        identifiant = f" (ID - Conum « {mediateur['id']} »)" if mediateur["id"] else ""
        if len(homonymes) > 1:
            return None, (
                f"Plusieurs conseillers s'appellent {_nom(mediateur)}{identifiant} : associez ce médiateur de la Coop "
                "à son conseiller (synchronisation avec la Coop), puis importez de nouveau."
            )
        return None, (
            f"Aucun conseiller du territoire ne correspond au médiateur {_nom(mediateur)}{identifiant} : créez sa "
            "fiche ou associez-le à son conseiller, puis importez de nouveau."
        )

    def _changements(self, plans):
        """{activity pk: labels of the fields an update changes} (two queries, only when there are updates)."""
        if not plans:
            return {}
        activites = Activite.objects.filter(pk__in=[plan.existante for plan in plans]).prefetch_related(
            "accompagnements"
        )
        activites = {activite.pk: activite for activite in activites}
        changements = {}
        for plan in plans:
            activite = activites.get(plan.existante)
            if activite is None:
                continue
            externe = plan.externe
            labels = []
            for name in externes.CHAMPS:
                model_field = Activite._meta.get_field(name)
                avant = getattr(activite, model_field.attname)
                apres = getattr(externe, name)
                if model_field.is_relation:
                    apres = apres.pk if apres is not None else None
                if avant != apres:
                    labels.append(str(model_field.verbose_name))
            avant = [
                (row.genre, row.tranche_age, row.statut_social, row.commune_residence_id)
                for row in sorted(activite.accompagnements.all(), key=lambda row: row.rang)
            ]
            apres = [
                (
                    p["genre"],
                    p["tranche_age"],
                    p["statut_social"],
                    p["commune_residence"].pk if p["commune_residence"] else None,
                )
                for p in externe.participants
            ]
            if avant != apres:
                labels.append("participants")
            changements[plan.existante] = labels
        return changements

    # --- Writing
    def appliquer(self, decisions, import_):
        return externes.appliquer([decision.cible for decision in decisions], by=import_.demande_par)
