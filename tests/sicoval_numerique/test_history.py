"""The readable history shows list values (national codes, linked rows) as words, never fails on them."""

from aidants import services
from sicoval_numerique.history import HistorySource, history_entries
from tests import factories
from tests.aidants.conftest import AidantFactory


def test_changes_of_lists_and_linked_rows_read_as_words(db):
    staff = factories.StaffUserFactory()
    aidant = AidantFactory(thematiques=["email"])
    communes = [factories.CommuneFactory(), factories.CommuneFactory()]
    services.aidant_update(aidant=aidant, by=staff, thematiques=["email", "sante"], communes=communes)
    services.aidant_update(aidant=aidant, by=staff, profession="Agent d'accueil")  # records the linked communes
    entries = history_entries([HistorySource(aidant.history.all(), "Aidant")])
    changes = {change["label"]: change for entry in entries for change in entry["changes"]}
    assert changes["Aide pour"]["old"] == "E-mail"
    assert changes["Aide pour"]["new"] == "E-mail, Santé"
    assert changes["Communes couvertes"]["new"] == "2 éléments"
