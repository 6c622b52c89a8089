"""Activities recorded in the national tool (La Coop de la médiation numérique), brought here by a file import or
by the API synchronisation: one path for both.

An importer turns what it read into ``ActiviteExterne`` objects (national codes, the conseiller, the place and the
participants resolved), then ``planifier`` says for a batch what each one is (to create, to update, unchanged, to
delete, or invalid with a French reason) and ``appliquer`` writes a batch's plan.

- The key is the Coop's activity id (``Activite.id_externe``), whatever the channel: a file and the API never make
  two copies of one activity.
- ``empreinte_externe`` summarises what was imported: the same content again is « inchangée » and writes nothing,
  so that a file or a page can be replayed any number of times.
- Imported activities are read-only here (``activite_update`` refuses them); they are corrected upstream and come
  back through the next import. An activity deleted upstream is soft-deleted here, as a local deletion is.
- No followed beneficiary is created: the national tool's beneficiary names carry no consent recorded here, so each
  participant is an anonymous accompaniment with its national attributes.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accompagnements import choices as c
from accompagnements.models import Accompagnement, Activite, ActiviteThematique

from .activites import ACTIVITE_FIELDS, MAX_PARTICIPANTS, _check_date, employeur

CREER, METTRE_A_JOUR, INCHANGE, SUPPRIMER, INVALIDE = "creer", "mettre_a_jour", "inchange", "supprimer", "invalide"

# The activity's own fields: what a conseiller types, and what an import brings.
CHAMPS = ACTIVITE_FIELDS
LONGUEUR_MAX = Activite._meta.get_field("titre_atelier").max_length
ATTRIBUTS = tuple(attribut for attribut, _vocabulaire, _label in c.ATTRIBUTS_BENEFICIAIRE)
CODES = {
    "type": {code for code, _ in c.TYPE_ACTIVITE},
    "type_lieu": {code for code, _ in c.TYPE_LIEU},
    "thematiques": {code for code, _ in c.THEMATIQUES},
    "materiel": {code for code, _ in c.MATERIEL},
    "autonomie": {code for code, _ in c.AUTONOMIE},
    "structure_redirection": {code for code, _ in c.STRUCTURE_REDIRECTION},
    "niveau": {code for code, _ in c.NIVEAU_ATELIER},
    **{attribut: {code for code, _ in vocabulaire} for attribut, vocabulaire, _label in c.ATTRIBUTS_BENEFICIAIRE},
}
LIBELLES = {
    "type": "type",
    "type_lieu": "canal",
    "thematiques": "thématique",
    "materiel": "matériel",
    "autonomie": "niveau d'autonomie",
    "structure_redirection": "structure de redirection",
    "niveau": "niveau de l'atelier",
    "genre": "genre",
    "tranche_age": "tranche d'âge",
    "statut_social": "statut",
}


@dataclass
class ActiviteExterne:
    """An activity of the national tool in our terms: national codes, and the related rows already found.

    ``participants``: one dict per accompaniment (``genre``, ``tranche_age``, ``statut_social`` codes and
    ``commune_residence``, a ``Commune`` or None). ``supprimee``: deleted upstream."""

    id_externe: str
    source: str
    conseiller: object
    type: str
    date: object
    duree: int
    type_lieu: str
    lieu: object = None
    commune: object = None
    thematiques: list = field(default_factory=list)
    nom_demarche: str = ""
    materiel: list = field(default_factory=list)
    autonomie: str = ""
    oriente: bool | None = None
    structure_redirection: str = ""
    titre_atelier: str = ""
    niveau: str = ""
    notes: str = ""
    participants: list = field(default_factory=list)
    supprimee: bool = False

    def normaliser(self):
        """Blank what does not belong to the type, as a form would, and default unknown attributes."""
        if self.type == c.COLLECTIF:
            self.autonomie, self.oriente, self.structure_redirection = "", None, ""
        else:
            self.titre_atelier, self.niveau = "", ""
            if not self.oriente:
                self.structure_redirection = ""
        if self.type_lieu == c.LIEU_ACTIVITE and self.lieu is not None:
            self.commune = self.lieu.commune
        elif self.type_lieu != c.LIEU_ACTIVITE:
            self.lieu = None
        # A value given twice upstream counts once (and the thématique rows are unique per activity).
        self.thematiques = list(dict.fromkeys(self.thematiques or []))
        self.materiel = list(dict.fromkeys(self.materiel or []))
        if c.AIDE_DEMARCHES not in self.thematiques:
            self.nom_demarche = ""
        self.participants = [
            {
                **{attribut: (p.get(attribut) or c.NON_COMMUNIQUE) for attribut in ATTRIBUTS},
                "commune_residence": p.get("commune_residence"),
            }
            for p in self.participants
        ]
        for name in ("nom_demarche", "titre_atelier", "notes"):
            setattr(self, name, (getattr(self, name) or "").strip())
        return self

    def erreurs(self):
        """What prevents recording it, as French sentences (empty when it can be recorded)."""
        erreurs = []
        if self.conseiller is None:
            erreurs.append("Aucun conseiller du territoire ne correspond au médiateur de cette activité.")
        for name in ("type", "type_lieu", "autonomie", "structure_redirection", "niveau"):
            value = getattr(self, name)
            if value and value not in CODES[name]:
                erreurs.append(f"Valeur inconnue pour le {LIBELLES[name]} : « {value} ».")
        if not self.type:
            erreurs.append("Le type d'activité manque.")
        if not self.type_lieu:
            erreurs.append("Le canal d'accompagnement (lieu) manque.")
        for name in ("thematiques", "materiel"):
            inconnues = [code for code in getattr(self, name) if code not in CODES[name]]
            if inconnues:
                erreurs.append(f"Valeur inconnue pour le {LIBELLES[name]} : « {', '.join(inconnues)} ».")
        if not self.thematiques:
            erreurs.append("Aucune thématique n'est indiquée.")
        if self.date is None:
            erreurs.append("La date manque.")
        else:
            try:
                _check_date(self.date)
            except ValidationError as error:
                erreurs.extend(error.messages)
        if self.duree is None or not 1 <= self.duree <= c.DUREE_MAX:
            erreurs.append(f"La durée doit être comprise entre 1 et {c.DUREE_MAX} minutes (lu : {self.duree}).")
        if self.type_lieu == c.LIEU_ACTIVITE and self.lieu is None:
            erreurs.append(
                "Le lieu d'activité n'existe pas sur la plateforme : importez les lieux de la cartographie nationale "
                "ou créez-le, puis importez de nouveau."
            )
        for name, label in (("titre_atelier", "titre de l'atelier"), ("nom_demarche", "nom de la démarche")):
            if len(getattr(self, name)) > LONGUEUR_MAX:
                erreurs.append(f"Le {label} dépasse {LONGUEUR_MAX} caractères.")
        if not self.participants:
            erreurs.append("L'activité n'a aucun participant.")
        elif len(self.participants) > MAX_PARTICIPANTS:
            nombre = len(self.participants)
            erreurs.append(f"Un atelier compte au plus {MAX_PARTICIPANTS} participants (lu : {nombre}).")
        elif self.type == c.INDIVIDUEL and len(self.participants) != 1:
            erreurs.append("Un accompagnement individuel concerne une seule personne.")
        for attribut in ATTRIBUTS:
            inconnues = sorted({p[attribut] for p in self.participants if p[attribut] not in CODES[attribut]})
            if inconnues:
                erreurs.append(f"Valeur inconnue pour le {LIBELLES[attribut]} : « {', '.join(inconnues)} ».")
        return erreurs

    def valeurs(self):
        """The activity's field values (``CHAMPS``)."""
        return {name: getattr(self, name) for name in CHAMPS}

    def empreinte(self):
        """A digest of everything imported: equal digests, nothing to write. The channel (file or API) is not part of
        it: the same activity by the other channel is unchanged."""
        data = {
            **self.valeurs(),
            "lieu": self.lieu.pk if self.lieu else None,
            "commune": self.commune.pk if self.commune else None,
            "conseiller": self.conseiller.pk if self.conseiller else None,
            "participants": [
                {**p, "commune_residence": p["commune_residence"].pk if p["commune_residence"] else None}
                for p in self.participants
            ],
            "supprimee": self.supprimee,
        }
        text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Plan:
    """What to do with one external activity: ``action`` (CREER…INVALIDE), ``raison`` for INVALIDE, the existing
    activity's pk for updates and deletions, and the employer structure for writes."""

    externe: ActiviteExterne
    action: str
    raison: str = ""
    existante: int | None = None
    structure: object = None


def _existantes(externes):
    """The activities already here for these ids (by national id, or by our own uuid when a file exported from this
    platform comes back): {id: row}. One query."""
    ids = {e.id_externe for e in externes if e.id_externe}
    if not ids:
        return {}, {}
    par_id = {
        row["id_externe"]: row
        for row in Activite.objects.filter(id_externe__in=ids).values(
            "pk", "id_externe", "conseiller_id", "empreinte_externe", "supprimee_le", "source"
        )
    }
    uuids = []
    for value in ids - set(par_id):
        try:
            uuids.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    locales = set()
    if uuids:
        locales = {
            str(u) for u in Activite.objects.filter(uuid__in=uuids, id_externe="").values_list("uuid", flat=True)
        }
    return par_id, locales


def planifier(externes, *, reattribuer=False):
    """A ``Plan`` per external activity, in order. Writes nothing. Queries: two, plus one per distinct (conseiller,
    date) of the activities to write (their employer). ``reattribuer``: an activity already imported for another
    conseiller moves to the new one (the API, after staff corrected a mapping); otherwise it is refused (a file)."""
    par_id, locales = _existantes(externes)
    employeurs = {}
    plans = []
    for externe in externes:
        externe.normaliser()
        row = par_id.get(externe.id_externe)
        if externe.id_externe in locales:
            plans.append(Plan(externe, INVALIDE, "Cette activité a été saisie sur la plateforme : elle y est déjà."))
            continue
        if externe.supprimee:
            if row is None or row["supprimee_le"] is not None:
                plans.append(Plan(externe, INCHANGE, existante=row and row["pk"]))
            else:
                plans.append(Plan(externe, SUPPRIMER, existante=row["pk"]))
            continue
        if row is not None and row["supprimee_le"] is not None and externe.source != c.Source.API_COOP:
            # Deleted upstream (only the synchronisation deletes an imported activity): an older file brings it back
            # no more than replaying it changes anything; only the API, if the Coop restores it, does.
            plans.append(Plan(externe, INCHANGE, existante=row["pk"]))
            continue
        erreurs = externe.erreurs()
        if not erreurs and row is not None and row["source"] == c.Source.SAISIE:
            erreurs.append("Une activité saisie sur la plateforme porte déjà cet identifiant.")
        if not erreurs and row is not None and not reattribuer and row["conseiller_id"] != externe.conseiller.pk:
            erreurs.append("Cette activité a déjà été importée pour un autre conseiller.")
        if erreurs:
            plans.append(Plan(externe, INVALIDE, " ".join(erreurs), existante=row and row["pk"]))
            continue
        if row is not None and row["empreinte_externe"] == externe.empreinte() and row["supprimee_le"] is None:
            plans.append(Plan(externe, INCHANGE, existante=row["pk"]))
            continue
        key = (externe.conseiller.pk, externe.date)
        if key not in employeurs:
            employeurs[key] = _employeur(externe.conseiller, externe.date)
        structure = employeurs[key]
        if structure is None:
            plans.append(
                Plan(
                    externe,
                    INVALIDE,
                    f"{externe.conseiller} n'était rattaché(e) à aucune structure employeuse le "
                    f"{externe.date:%d/%m/%Y} : rattachez son poste ou son contrat, puis importez de nouveau.",
                    existante=row and row["pk"],
                )
            )
            continue
        plans.append(Plan(externe, METTRE_A_JOUR if row else CREER, existante=row and row["pk"], structure=structure))
    return plans


def _employeur(conseiller, date):
    """The employer on the day, by the same rule as an activity typed here (post or contract, else membership)."""
    try:
        return employeur(conseiller, date)
    except ValidationError:
        return None


def _accompagnements(activite, externe):
    return [
        Accompagnement(
            activite=activite,
            rang=rang,
            premier_accompagnement=True,
            genre=p["genre"],
            tranche_age=p["tranche_age"],
            statut_social=p["statut_social"],
            commune_residence=p["commune_residence"],
        )
        for rang, p in enumerate(externe.participants, start=1)
    ]


def _ecrire(plan, by):
    externe = plan.externe
    if plan.action == CREER:
        activite = Activite(conseiller=externe.conseiller, id_externe=externe.id_externe)
    else:
        activite = Activite.objects.select_for_update().get(pk=plan.existante)
        activite.conseiller = externe.conseiller
    for name, value in externe.valeurs().items():
        setattr(activite, name, value)
    activite.structure = plan.structure
    activite.participants = len(externe.participants)
    activite.participants_anonymes = {"total": len(externe.participants)} if externe.type == c.COLLECTIF else {}
    activite.source = externe.source
    activite.empreinte_externe = externe.empreinte()
    activite.supprimee_le = None
    activite._history_user = by
    activite.save()
    if plan.action == METTRE_A_JOUR:
        ActiviteThematique.objects.filter(activite=activite).delete()
        for row in activite.accompagnements.all():
            row._history_user = by
            row.delete()
    ActiviteThematique.objects.bulk_create(
        [ActiviteThematique(activite=activite, thematique=code) for code in externe.thematiques]
    )
    bulk_create_with_history(_accompagnements(activite, externe), Accompagnement, default_user=by)
    return activite


def _supprimer(plan, by):
    activite = Activite.objects.select_for_update().get(pk=plan.existante)
    activite.supprimee_le = timezone.now()
    activite.empreinte_externe = plan.externe.empreinte()
    activite._history_user = by
    activite.save(update_fields=["supprimee_le", "empreinte_externe", "updated_at"])


def appliquer(plans, *, by=None):
    """Write the plans to create, update and delete (the others are skipped), in one transaction. Returns the
    count per action written."""
    faits = {CREER: 0, METTRE_A_JOUR: 0, SUPPRIMER: 0}
    with transaction.atomic():
        for plan in plans:
            if plan.action in (CREER, METTRE_A_JOUR):
                _ecrire(plan, by)
            elif plan.action == SUPPRIMER:
                _supprimer(plan, by)
            else:
                continue
            faits[plan.action] += 1
    return faits
