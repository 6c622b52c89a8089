"""Creating and revoking partner API clients. The secret is generated here, returned once to be shown once, and
stored only hashed (django-oauth-toolkit hashes it on save)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, RefreshToken

from structures.selectors import can_edit_structure

from . import scopes
from .models import ClientAPI


def can_manage_clients(user, structure):
    """Staff manage every structure's clients; a référent their own structure's."""
    return user.is_authenticated and can_edit_structure(user, structure)


@transaction.atomic
def client_create(*, structure, nom, scopes_list, by, statistiques_detaillees=False, secret=None):
    """A new client for ``structure``; returns ``(client, secret)``: the clear secret exists only in this return.
    ``secret`` fixes the secret instead of generating one: for the demo data only, never from user input."""
    if not can_manage_clients(by, structure):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de la structure gèrent ses accès à l'API.")
    if statistiques_detaillees and not by.is_staff:
        raise PermissionDenied("Seule l'équipe Sicoval accorde les statistiques détaillées.")
    nom = (nom or "").strip()
    granted = scopes.parse(" ".join(scopes_list))
    errors = {}
    if not nom:
        errors["nom"] = "Donnez un nom au client : le logiciel ou le service qui appellera l'API."
    if not granted or len(granted) != len(set(scopes_list)):
        errors["scopes"] = "Choisissez au moins un droit dans la liste."
    if errors:
        raise ValidationError(errors)
    secret = secret or generate_client_secret()
    application = Application.objects.create(
        name=f"{structure.nom} — {nom}"[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    client = ClientAPI(
        structure=structure,
        application=application,
        nom=nom,
        scopes=" ".join(granted),
        statistiques_detaillees=statistiques_detaillees,
        cree_par=by,
    )
    client._history_user = by
    client.save()
    return client, secret


@transaction.atomic
def client_revoke(*, client, by):
    """Revoked at once: its tokens are deleted (the next call answers 401) and no new token can be obtained."""
    if not can_manage_clients(by, client.structure):
        raise PermissionDenied("Seuls l'équipe Sicoval et les référents de la structure gèrent ses accès à l'API.")
    client = ClientAPI.objects.select_for_update().get(pk=client.pk)
    if not client.actif:
        raise ValidationError("Ce client est déjà révoqué.")
    RefreshToken.objects.filter(application_id=client.application_id).delete()
    AccessToken.objects.filter(application_id=client.application_id).delete()
    client.revoque_le = timezone.now()
    client.revoque_par = by
    client._history_user = by
    client.save(update_fields=["revoque_le", "revoque_par"])
    return client
