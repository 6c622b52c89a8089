"""Import of places from a file in the national standard « Lieux de médiation numérique » v1.0.2 (CSV or JSON).

- Reading: a CSV (UTF-8 with or without BOM, separator « , » or « ; ») whose header holds the standard's required
  columns, or a JSON list of objects (also ``{"data": [...]}`` and a GeoJSON ``FeatureCollection``), numbers as
  numbers or text, multi-valued fields as « a|b » or as arrays. One ``Ligne`` per place: its number in the file
  (the spreadsheet row, the header being row 1; the index from 1 in a JSON list), its key (the row's ``id``).
- Only places of the territory's communes are imported; the others are ignored, with their commune as reason.
- A row is matched with an existing place by its ``id`` (one of our uuids, for a file exported from here, or the
  producer's id we keep in ``Lieu.id_source``), then by SIRET (``pivot``, its own or its structure's) and the same
  name. A new place is attached to the structure whose SIRET (or RNA) is the row's ``pivot``, else to the structure
  chosen at upload (``options["structure"]``).
- A row is validated as the API validates a place (``LieuWriteSerializer``), then as the model and
  ``structures.services`` do (vocabularies, opening hours, phone, URLs, postcode of the commune, coordinates): any
  failure makes it invalid with the French messages. Writes go through ``lieu_create`` and ``lieu_update``.

What our own export writes for us and is not data of the place: ``source`` equal to the platform's name (written
for an empty source) and a ``pivot`` equal to the structure's SIRET or RNA (written when the place has none) are
read back as empty. ``commune`` (the name) and ``date_maj`` are computed here, never imported. A place retired from
publication stays retired. Columns missing from a CSV header leave the existing places' values as they are (in JSON,
where empty fields are left out, a missing field is an empty one).
"""

import copy
import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import Q
from rest_framework import serializers

from structures import choices, lieux_standard
from structures.api.serializers import MULTI_VALUED
from structures.models import ArretItinerant, Lieu, Structure
from structures.selectors import communes_territoire, normalise_nom
from structures.services import _check_lieu, lieu_create, lieu_update

from ..base import Action, Decision, FichierInvalide, Importeur
from ..models import TypeImport
from .colonnes import (
    COLUMN_OF_FIELD,
    DECIMAL_COMMA_RE,
    RNA_RE,
    _code_insee_re,
    _LigneSerializer,
    _number_columns,
    _writable_columns,
)
from .lecture import (
    _decode,
    _est_json,
    _lire_csv,
    _lire_json,
    _marquer_doublons,
)


# --- Deciding ------------------------------------------------------------------------------------------------------
def _pivot_brut(row):
    """The row's SIRET (or RNA) without spaces; empty for none or the standard's all-zeros « no SIRET »."""
    pivot = re.sub(r"\s", "", row.get("pivot") or "").upper()
    return "" if not pivot or set(pivot) == {"0"} else pivot


def _uuid(text):
    try:
        return uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return None


@dataclass
class _Contexte:
    """What a batch's decisions need, read in a fixed number of queries."""

    communes: dict  # code INSEE -> Commune of the territory
    communes_par_nom: dict  # normalised name -> [Commune]
    par_uuid: dict = field(default_factory=dict)
    par_id_source: dict = field(default_factory=dict)
    par_pivot: dict = field(default_factory=dict)  # SIRET/RNA -> [Lieu] (own pivot or structure's)
    structures: dict = field(default_factory=dict)  # SIRET/RNA -> Structure
    choisie: Structure = None
    choisie_absente: bool = False
    avec_arrets: set = field(default_factory=set)


def _messages(errors):
    """Django or DRF errors (a dict of lists) as « champ : message » joined."""
    out = []
    for name, messages in errors.items():
        if not isinstance(messages, list | tuple):
            messages = [messages]
        for message in messages:
            if isinstance(message, dict):  # nested DRF detail
                out.append(_messages(message))
                continue
            text = " ".join(str(m) for m in message) if isinstance(message, list) else str(message)
            if name in (NON_FIELD_ERRORS, "non_field_errors"):
                out.append(text)
            else:
                out.append(f"{COLUMN_OF_FIELD.get(name, name)} : {text}")
    return " ; ".join(out)


def _validation_messages(error):
    if hasattr(error, "error_dict"):
        return _messages(error.message_dict)
    return " ; ".join(error.messages)


_email = EmailValidator()
_url = URLValidator()


def _check_lists(lieu):
    """Each e-mail and website of the place (the model stores them as plain lists, unchecked)."""
    errors = {}
    for name, validator, what in (("courriels", _email, "une adresse e-mail"), ("site_web", _url, "une adresse web")):
        for value in getattr(lieu, name) or []:
            try:
                validator(value)
            except ValidationError:
                errors.setdefault(name, []).append(f"« {value} » n'est pas {what} valide.")
    if errors:
        raise ValidationError(errors)


def _itinerance(value):
    """The standard allows « Fixe|Itinérant »; a place here is one or the other (itinerant when it travels)."""
    parts = [part.strip() for part in (value or "").split("|") if part.strip()]
    if not parts:
        return choices.Itinerance.FIXE
    if choices.Itinerance.ITINERANT in parts:
        return choices.Itinerance.ITINERANT
    return choices.Itinerance.FIXE if set(parts) == {choices.Itinerance.FIXE} else value


class ImporteurLieux(Importeur):
    type = TypeImport.LIEUX
    extensions = (".csv", ".json")
    description = (
        "Lieux au standard national « Lieux de médiation numérique » (CSV ou JSON), par exemple l'export de la "
        "cartographie nationale : seuls les lieux des communes du territoire sont importés."
    )

    # --- the file
    def verifier(self, contenu, nom_fichier, options):
        self.lire(contenu, nom_fichier, options)
        choisie = str((options or {}).get("structure") or "")
        if choisie and (_uuid(choisie) is None or not Structure.objects.filter(uuid=choisie).exists()):
            raise FichierInvalide("La structure de rattachement choisie est introuvable.")

    def lire(self, contenu, nom_fichier, options):
        texte = _decode(contenu)
        if not texte.strip():
            raise FichierInvalide("Le fichier est vide.")
        lignes = _lire_json(texte) if _est_json(nom_fichier, texte) else _lire_csv(texte)
        if not lignes:
            raise FichierInvalide("Le fichier ne contient aucun lieu.")
        _marquer_doublons(lignes)
        return lignes

    # --- the decisions
    def _contexte(self, lignes, options):
        communes = list(communes_territoire())
        contexte = _Contexte(communes={c.code_insee: c for c in communes}, communes_par_nom={})
        for commune in communes:
            contexte.communes_par_nom.setdefault(normalise_nom(commune.nom), []).append(commune)
        rows = [ligne.donnees for ligne in lignes if isinstance(ligne.donnees, dict)]
        ids = {(row.get("id") or "").strip() for row in rows} - {""}
        uuids = {u for u in map(_uuid, ids) if u}
        pivots = {_pivot_brut(row) for row in rows} - {""}
        if ids or pivots:
            lieux = Lieu.objects.filter(
                Q(uuid__in=uuids)
                | Q(id_source__in=ids)
                | Q(pivot__in=pivots)
                | Q(structure__siret__in=pivots)
                | Q(structure__rna__in=pivots)
            ).select_related("structure", "commune")
            for lieu in lieux.order_by("pk"):
                contexte.par_uuid[lieu.uuid] = lieu
                if lieu.id_source:
                    contexte.par_id_source.setdefault(lieu.id_source, lieu)
                for key in {lieu.pivot, lieu.structure.siret, lieu.structure.rna} - {"", None}:
                    contexte.par_pivot.setdefault(key, []).append(lieu)
            contexte.avec_arrets = set(
                ArretItinerant.objects.filter(lieu_id__in=[lieu.pk for lieu in contexte.par_uuid.values()])
                .values_list("lieu_id", flat=True)
                .distinct()
            )
        choisie = str((options or {}).get("structure") or "")
        condition = Q(siret__in=pivots) | Q(rna__in=pivots)
        if _uuid(choisie):
            condition |= Q(uuid=choisie)
        if pivots or _uuid(choisie):
            for structure in Structure.objects.filter(condition):
                if structure.siret:
                    contexte.structures[structure.siret] = structure
                if structure.rna:
                    contexte.structures[structure.rna] = structure
                if str(structure.uuid) == choisie:
                    contexte.choisie = structure
        contexte.choisie_absente = bool(choisie) and contexte.choisie is None
        return contexte

    def decider(self, lignes, import_):
        contexte = self._contexte(lignes, import_.options)
        vus = {}  # place pk -> row number, for two rows of the batch on the same place
        return [self._decider_ligne(ligne, contexte, vus) for ligne in lignes]

    def _commune(self, row, contexte):
        """(commune, None) for a commune of the territory; (None, Decision kwargs) otherwise."""
        code = (row.get("code_insee") or "").strip().upper()
        nom = (row.get("commune") or "").strip()
        if code:
            if not _code_insee_re().fullmatch(code):
                message = f"code_insee : « {code} » n'est pas un code INSEE (5 caractères, par exemple 31254)."
                return None, {"action": Action.INVALIDE, "raison": message}
            if code not in contexte.communes:
                return None, {"action": Action.IGNORE, "raison": f"hors du territoire (commune {nom or code})"}
            return contexte.communes[code], None
        if not nom:
            message = "code_insee : renseignez le code INSEE de la commune (ou au moins son nom)."
            return None, {"action": Action.INVALIDE, "raison": message}
        candidates = contexte.communes_par_nom.get(normalise_nom(nom), [])
        if len(candidates) > 1:
            code_postal = (row.get("code_postal") or "").strip()
            candidates = [c for c in candidates if code_postal in c.codes_postaux] or candidates
        if not candidates:
            return None, {"action": Action.IGNORE, "raison": f"hors du territoire (commune {nom})"}
        return candidates[0], None

    def _correspondance(self, row, contexte):
        """The existing place this row is, and how it was found (« uuid », « id_source », « siret »)."""
        ident = (row.get("id") or "").strip()
        identifiant = _uuid(ident)
        if identifiant and identifiant in contexte.par_uuid:
            return contexte.par_uuid[identifiant], "uuid"
        if ident and ident in contexte.par_id_source:
            return contexte.par_id_source[ident], "id_source"
        pivot = _pivot_brut(row)
        if pivot:
            nom = normalise_nom(row.get("nom"))
            candidates = [lieu for lieu in contexte.par_pivot.get(pivot, []) if normalise_nom(lieu.nom) == nom]
            if candidates:
                code = (row.get("code_insee") or "").strip()
                same_commune = [lieu for lieu in candidates if lieu.commune.code_insee == code]
                return (same_commune or candidates)[0], "siret"
        return None, None

    def _structure(self, row, contexte):
        """(structure, None) for a new place, or (None, reason)."""
        pivot = _pivot_brut(row)
        if pivot in contexte.structures:
            return contexte.structures[pivot], None
        if contexte.choisie is not None:
            return contexte.choisie, None
        if contexte.choisie_absente:
            return None, "La structure de rattachement choisie n'existe plus : choisissez-en une autre."
        siret = (row.get("pivot") or "").strip()
        quoi = f"au SIRET « {siret} »" if siret else "à ce lieu (pas de SIRET)"
        raison = (
            f"Aucune structure ne correspond {quoi} : choisissez une structure de rattachement pour les nouveaux lieux."
        )
        return None, raison

    def _donnees(self, row, lieu, commune):
        """The row with every writable column: a column missing from the file keeps the place's current value."""
        complete = all(name in row for name in _writable_columns()) and "source" in row
        actuelles = lieux_standard.lieu_to_row(lieu) if lieu is not None and not complete else {}
        data = {}
        for name in [*_writable_columns(), "source"]:
            value = row[name] if name in row else actuelles.get(name, "")
            if name in _number_columns():
                value = (value or "").strip()
                if DECIMAL_COMMA_RE.fullmatch(value):
                    value = value.replace(",", ".")
                value = value or None
            data[name] = value
        data["code_insee"] = commune.code_insee
        return data

    def _champs(self, data, contexte):
        """The place's model fields from the row (raises serializers.ValidationError), its pivot as written."""
        serializer = _LigneSerializer(
            data={name: data[name] for name in _writable_columns()}, context={"communes": contexte.communes}
        )
        if not serializer.is_valid():
            raise serializers.ValidationError(serializer.errors)
        champs = serializer.model_fields()
        for name in MULTI_VALUED:
            champs.setdefault(name, [])
        champs["itinerance"] = _itinerance(champs.get("itinerance"))
        source = (data.get("source") or "").strip()
        # Our export writes the platform's name for a place without a source.
        champs["source"] = "" if source == settings.PLATFORM_NAME else source
        return champs

    @staticmethod
    def _pivot(champs, lieu, structure):
        """The place's own SIRET: none for the standard's all-zeros pivot, nor for its structure's identifier
        (which our export writes for a place without its own SIRET), nor for an RNA (a place here has a SIRET)."""
        pivot = re.sub(r"\s", "", champs.get("pivot") or "").upper()
        if not pivot or set(pivot) == {"0"}:
            return ""
        if pivot in {structure.siret, structure.rna} - {None, ""}:
            return lieu.pivot if lieu is not None and lieu.pivot == pivot else ""
        return "" if RNA_RE.fullmatch(pivot) else pivot

    def _verifier_lieu(self, champs, lieu, structure, contexte):
        """The model's and the services' rules, without a query (FKs, uniqueness and constraints checked here)."""
        if lieu is None:
            instance = Lieu(structure=structure, **champs)
        else:
            instance = copy.copy(lieu)
            for name, value in champs.items():
                setattr(instance, name, value)
        errors = {}
        try:
            instance.full_clean(exclude=["structure", "commune"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if (instance.latitude is None) != (instance.longitude is None):
            errors.setdefault("latitude" if instance.latitude is None else "longitude", []).append(
                "Renseignez la latitude et la longitude, ou aucune des deux."
            )
        for check in (_check_lieu, _check_lists):
            try:
                check(instance)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if lieu is not None and lieu.pk in contexte.avec_arrets and not instance.is_itinerant:
            errors.setdefault("itinerance", []).append(
                "Ce lieu a des arrêts itinérants : supprimez-les avant de le rendre fixe."
            )
        if errors:
            raise ValidationError(errors)

    def _decider_ligne(self, ligne, contexte, vus):
        row = ligne.donnees
        if not isinstance(row, dict):
            return Decision(ligne, Action.INVALIDE, ligne.erreur or "Ligne illisible.")
        commune, refus = self._commune(row, contexte)
        if refus and refus["action"] == Action.IGNORE:
            return Decision(ligne, **refus)
        if ligne.erreur:
            return Decision(ligne, Action.INVALIDE, ligne.erreur)
        if not ligne.cle:
            return Decision(ligne, Action.INVALIDE, "id : l'identifiant du lieu est obligatoire.")
        if refus:
            return Decision(ligne, **refus)
        lieu, trouve_par = self._correspondance(row, contexte)
        if lieu is not None and lieu.pk in vus:
            return Decision(ligne, Action.INVALIDE, f"Même lieu que la ligne {vus[lieu.pk]} ({lieu.nom}).")
        try:
            champs = self._champs(self._donnees(row, lieu, commune), contexte)
            if lieu is not None:
                structure = lieu.structure
            else:
                structure, sans_structure = self._structure(row, contexte)
                if structure is None:
                    return Decision(ligne, Action.INVALIDE, sans_structure)
            champs["pivot"] = self._pivot(champs, lieu, structure)
            if lieu is None or (trouve_par == "siret" and not lieu.id_source):
                champs["id_source"] = ligne.cle
            self._verifier_lieu(champs, lieu, structure, contexte)
        except serializers.ValidationError as error:
            return Decision(ligne, Action.INVALIDE, _messages(error.detail))
        except ValidationError as error:
            return Decision(ligne, Action.INVALIDE, _validation_messages(error))
        if lieu is None:
            return Decision(ligne, Action.CREER, cible={"structure": structure, "champs": champs})
        vus[lieu.pk] = ligne.numero
        changes = {name: value for name, value in champs.items() if not self._egal(lieu, name, value)}
        retire = "" if lieu.is_active else "Lieu retiré de la publication : il le reste."
        if not changes:
            return Decision(ligne, Action.INCHANGE, retire)
        labels = [str(Lieu._meta.get_field(name).verbose_name) for name in changes]
        return Decision(
            ligne, Action.METTRE_A_JOUR, retire, changements=labels, cible={"lieu": lieu, "champs": changes}
        )

    @staticmethod
    def _egal(lieu, name, value):
        if name == "commune":
            return lieu.commune_id == value.pk
        return getattr(lieu, name) == value

    # --- the writes
    def appliquer(self, decisions, import_):
        by = import_.demande_par
        if by is None:
            raise PermissionDenied("La personne qui a déposé le fichier n'a plus de compte.")
        with transaction.atomic():
            for decision in decisions:
                cible = decision.cible
                if decision.action == Action.CREER:
                    lieu_create(structure=cible["structure"], by=by, **cible["champs"])
                elif decision.action == Action.METTRE_A_JOUR:
                    lieu_update(lieu=cible["lieu"], by=by, **cible["champs"])
