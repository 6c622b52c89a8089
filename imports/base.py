"""What every file importer provides, and what the engine (``imports.services``) does with it.

An importer reads a file into ``Ligne`` objects (one per thing to import: a place, or a Coop activity with all its
rows), decides for a batch of them what to do (``Decision``: create, update, unchanged, invalid with its reason,
ignored with its reason), and applies a batch of creations and updates. The engine runs the same decisions twice:
for the preview (nothing written) and for the import (decided again, so that what changed since the preview is
taken into account), batch by batch, each batch in one transaction, reporting its progress. Decisions are keyed,
so that importing the same file twice finds everything unchanged the second time.
"""

import abc
import enum
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any


class FichierInvalide(Exception):
    """The file as a whole cannot be read (format, sheet, columns): the French message says why; nothing is
    written."""


class Action(enum.StrEnum):
    CREER = "creer"
    METTRE_A_JOUR = "mettre_a_jour"
    INCHANGE = "inchange"
    INVALIDE = "invalide"
    IGNORE = "ignore"


ACTION_LABELS = {
    Action.CREER: "À créer",
    Action.METTRE_A_JOUR: "À mettre à jour",
    Action.INCHANGE: "Inchangées",
    Action.INVALIDE: "Invalides",
    Action.IGNORE: "Ignorées",
}
# What an applied import reports, per action.
ACTION_FAITE = {
    Action.CREER: "Créées",
    Action.METTRE_A_JOUR: "Mises à jour",
    Action.INCHANGE: "Inchangées",
    Action.INVALIDE: "Invalides (non importées)",
    Action.IGNORE: "Ignorées",
}


@dataclass
class Ligne:
    """One thing to import. ``numero``: where it is in the file, for people (« 12 » or « 12 à 14 »); ``cle``: its
    key (ID CRA, place id); ``libelle``: a short description for the preview; ``donnees``: what the importer
    parsed, or ``erreur`` when the row cannot be read (the decision will be « invalide » with that reason)."""

    numero: str
    cle: str
    libelle: str
    donnees: Any = None
    erreur: str = ""


@dataclass
class Decision:
    ligne: Ligne
    action: Action
    raison: str = ""
    changements: list = field(default_factory=list)  # labels of the fields an update changes
    cible: Any = None  # what ``appliquer`` needs (importer-specific), for creations and updates


class Importeur(abc.ABC):
    """One kind of file. Subclasses set ``type`` (a ``TypeImport``), ``extensions`` and ``description``."""

    type: str
    extensions: tuple = ()
    description: str = ""

    def verifier(self, contenu, nom_fichier, options):
        """Refuse at upload a file that cannot be imported at all (raise ``FichierInvalide``). The default reads
        the whole file; importers of big files check only the header here."""
        self.lire(contenu, nom_fichier, options)

    @abc.abstractmethod
    def lire(self, contenu, nom_fichier, options):
        """The file's ``Ligne`` objects, in file order (a list). Raise ``FichierInvalide`` for a file that cannot
        be read; a row that cannot be read becomes a ``Ligne`` with ``erreur``."""

    @abc.abstractmethod
    def decider(self, lignes, import_):
        """One ``Decision`` per ``Ligne`` of the batch, in order, with a fixed number of queries per batch. Writes
        nothing."""

    @abc.abstractmethod
    def appliquer(self, decisions, import_):
        """Write the batch's creations and updates (the engine wraps the call in a transaction and passes only
        those two actions). ``import_.demande_par`` is the author of the changes in the history."""

    def apres(self, import_):  # noqa: B027 - optional hook
        """Called once after the last batch was applied (outside the batches' transactions)."""


# An XLSX file is a zip archive: openpyxl streams the sheet but loads the shared strings whole. An honest export of
# the Coop unpacks to about 11 times its size (measured on 5,000 rows) and its shared strings are small (ids, labels);
# a « zip bomb » unpacks to thousands of times its size.
ARCHIVE_DECOMPRESSEE_MAX = 300 * 1024 * 1024
ARCHIVE_RATIO_MAX = 100
CHAINES_PARTAGEES_MAX = 60 * 1024 * 1024


def verifier_archive(contenu):
    """Refuse an XLSX archive that would unpack to more than ``ARCHIVE_DECOMPRESSEE_MAX`` bytes, or that is far more
    compressed than a spreadsheet ever is, before anything reads it (``FichierInvalide``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(contenu)) as archive:
            membres = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a readable archive: the importer says so in its own words
    total = sum(membre.file_size for membre in membres)
    compresse = sum(membre.compress_size for membre in membres) or 1
    chaines = sum(membre.file_size for membre in membres if membre.filename.lower().endswith("sharedstrings.xml"))
    if total > ARCHIVE_DECOMPRESSEE_MAX or total / compresse > ARCHIVE_RATIO_MAX or chaines > CHAINES_PARTAGEES_MAX:
        raise FichierInvalide(
            "Ce classeur est anormalement volumineux une fois décompressé : il ne peut pas être un export de la Coop. "
            "Exportez de nouveau vos activités depuis la Coop, puis déposez le fichier obtenu."
        )
