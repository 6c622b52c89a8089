"""The demo's partner API client: the information system of the mairie de Ramonville-Saint-Agne (a commune with its
own tools: it organises workshops, hosts a conseillère and a post), with every right, so that a developer can try
``/api/docs/`` ("Authorize", client credentials) right after ``make run`` on data that is there.

Its client id and secret are fixed and printed by ``manage.py load_demo``: they are demo credentials, known to
everyone, like the demo password (the demo is refused in production). Idempotent: a client already there (even
revoked from the web pages) is left as it is."""

from oauth2_provider.models import Application

from partenaires import scopes
from partenaires.models import ClientAPI
from partenaires.services import client_create

DEMO_CLIENT_ID = "demo-ramonville"
DEMO_CLIENT_SECRET = "demo-secret-ramonville-sicoval-2026"  # noqa: S105 - printed on purpose, like DEMO_PASSWORD
DEMO_CLIENT_NAME = "Logiciel de la mairie (démonstration)"


def load_partenaires_demo(*, structures, staff):
    """Ramonville-Saint-Agne's demo client (created once); returns it."""
    existing = (
        ClientAPI.objects.filter(application__client_id=DEMO_CLIENT_ID)
        .select_related("application", "structure")
        .first()
    )
    if existing is not None:
        return existing
    client, _secret = client_create(
        structure=structures["ramonville"],
        nom=DEMO_CLIENT_NAME,
        scopes_list=list(scopes.SCOPES),
        by=staff,
        secret=DEMO_CLIENT_SECRET,
    )
    # A fixed client id too, so that the credentials can be written down once (django-oauth-toolkit draws one).
    Application.objects.filter(pk=client.application_id).update(client_id=DEMO_CLIENT_ID)
    client.application.client_id = DEMO_CLIENT_ID
    return client
