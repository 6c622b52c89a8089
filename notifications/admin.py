"""The outbox in the Django admin: read only (e-mails are written by the services that cause them, and sent again
from the staff page ``gestion/emails/``). Recipients are shown masked, as on that page. The reminders' settings and
runs are read only here too: they change from ``gestion/emails/rappels/``, which validates the delays."""

from django.contrib import admin

from sicoval_numerique.admin import ReadOnlyAdmin, ReadOnlyModelAdmin

from .models import Email, ExecutionRappel, ReglageRappel
from .services import mask_email


@admin.register(Email)
class EmailAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "type", "objet", "destinataire_masque", "statut", "tentatives", "envoye_le"]
    list_filter = ["statut", "type", "created_at"]
    search_fields = ["=uuid", "objet", "type"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    fields = [
        "uuid",
        "destinataire_masque",
        "type",
        "objet",
        "sujet",
        "statut",
        "tentatives",
        "prochain_essai",
        "pris_le",
        "envoye_le",
        "envoyer_avant",
        "derniere_erreur",
        "created_at",
        "texte",
        "pieces_jointes",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("texte", "html", "pieces_jointes")

    @admin.display(description="destinataire")
    def destinataire_masque(self, email):
        return mask_email(email.destinataire)


@admin.register(ReglageRappel)
class ReglageRappelAdmin(ReadOnlyAdmin):
    list_display = ["famille", "actif", "parametres", "updated_at"]
    fields = list_display
    readonly_fields = fields  # the history's form view builds a form of them: updated_at is not editable


@admin.register(ExecutionRappel)
class ExecutionRappelAdmin(ReadOnlyModelAdmin):
    list_display = ["debut", "famille", "declenchement", "statut", "envoyes", "deja_traites", "manques", "erreurs"]
    list_filter = ["famille", "statut", "declenchement"]
    ordering = ["-debut", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    fields = [*list_display, "fin", "lance_par", "message", "uuid"]
    readonly_fields = fields
