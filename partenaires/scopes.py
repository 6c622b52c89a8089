"""The partner API's scopes: read and write per resource family. A client is granted a subset; a token carries the
scopes asked for (all those granted when none is asked), and each endpoint names the family it belongs to."""

from oauth2_provider.scopes import BaseScopes

FAMILLES = {
    "lieux": "lieux de médiation numérique de la structure",
    "postes": "postes de conseillers numériques et conventions de financement",
    "ateliers": "ateliers et séances",
    "inscriptions": "inscriptions aux séances et présences",
    "activites": "activités des conseillers, anonymisées",
    "statistiques": "statistiques territoriales",
}
# Families a partner may write; the others are read-only.
ECRITURE = ("lieux", "ateliers", "inscriptions")

READ, WRITE = "read", "write"


def scope(famille, mode):
    return f"{famille}:{mode}"


SCOPES = {}
for _famille, _label in FAMILLES.items():
    SCOPES[scope(_famille, READ)] = f"Lire : {_label}"
    if _famille in ECRITURE:
        SCOPES[scope(_famille, WRITE)] = f"Créer et modifier : {_label}"

SCOPE_CHOICES = list(SCOPES.items())


def parse(text):
    """The scopes of a space-separated string, in the catalogue's order, unknown ones dropped."""
    asked = set((text or "").split())
    return [name for name in SCOPES if name in asked]


class ClientScopes(BaseScopes):
    """django-oauth-toolkit's scopes backend: a client may only obtain the scopes it was granted."""

    def get_all_scopes(self):
        return SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = getattr(application, "client_partenaire", None) if application is not None else None
        if client is None or not client.actif:
            return []
        return client.scopes_list

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request, *args, **kwargs)
