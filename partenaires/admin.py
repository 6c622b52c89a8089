from django.contrib import admin

from sicoval_numerique.admin import ReadOnlyAdmin

from .models import ClientAPI


@admin.register(ClientAPI)
class ClientAPIAdmin(ReadOnlyAdmin):
    """Clients are created and revoked from the structure's page (the secret is shown there, once)."""

    list_display = ["nom", "structure", "scopes", "created_at", "revoque_le", "derniere_utilisation_le"]
    list_filter = ["revoque_le"]
    list_select_related = ["structure"]
    search_fields = ["nom", "structure__nom"]
