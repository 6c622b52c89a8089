"""Who acts when a partner system writes through the API: its client, on behalf of its structure and of nothing else.

Services take it as their ``by`` argument like a user. They check it with ``acts_for`` (it may write only its own
structure's objects) and record history with ``history_user`` (no user: the change is attributed to the client by
``partenaires.signals``)."""


class ActeurAPI:
    is_staff = False
    is_superuser = False
    is_authenticated = True
    is_active = True
    pk = None
    id = None

    def __init__(self, client):
        self.client = client
        self.structure = client.structure

    def __str__(self):
        return f"API : {self.client.nom} ({self.structure.nom})"


def is_api(by):
    return isinstance(by, ActeurAPI)


def acts_for(by, structure):
    """True when ``by`` is an API client of ``structure`` (compared by primary key)."""
    return isinstance(by, ActeurAPI) and structure is not None and by.structure.pk == structure.pk


def history_user(by):
    """The user to record in the history for a change made by ``by`` (None for an API client)."""
    return None if isinstance(by, ActeurAPI) else by
