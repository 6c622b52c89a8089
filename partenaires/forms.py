"""Forms of the "Accès à l'API" pages: a new client of a structure, and the staff's filter of every client."""

import uuid

from django import forms
from django.utils.text import capfirst

from structures.forms import add_service_error

from . import scopes

STAFF_ONLY_FLAG = "Seule l'équipe Sicoval accorde les statistiques détaillées."


class ClientCreateForm(forms.Form):
    nom = forms.CharField(
        label="Nom du client",
        max_length=100,
        help_text="Le logiciel ou le service qui appellera l'API, par exemple « Logiciel de suivi des usagers ».",
        error_messages={
            "required": "Donnez un nom au client : le logiciel ou le service qui appellera l'API.",
            "max_length": "Le nom tient en 100 caractères au plus.",
        },
    )
    scopes = forms.MultipleChoiceField(
        label="Droits",
        choices=scopes.SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Accordez seulement ce dont le logiciel a besoin. Le client ne voit que les données de la structure.",
        error_messages={
            "required": "Choisissez au moins un droit.",
            "invalid_choice": "Choisissez des droits de la liste.",
        },
    )
    statistiques_detaillees = forms.BooleanField(
        label="Statistiques détaillées (effectifs de moins de 5 personnes)",
        required=False,
        help_text="Réservé à l'équipe Sicoval : sans cette case, les statistiques masquent les effectifs de moins "
        "de 5 personnes.",
    )
    # Identifies one display of the form, so that sending it twice (reloading the page that shows the secret)
    # does not create a second client.
    formulaire = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["formulaire"].initial = str(uuid.uuid4())

    @property
    def shows_staff_flag(self):
        return self.user.is_staff

    def clean_formulaire(self):
        # A hidden field the person cannot correct: a value that is not ours is ignored, never an error.
        try:
            return str(uuid.UUID(self.cleaned_data["formulaire"]))
        except ValueError:
            return ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("statistiques_detaillees") and not self.user.is_staff:
            self.add_error(None, STAFF_ONLY_FLAG)
        return cleaned

    def scope_groups(self):
        """The rights' checkboxes grouped by family: ``(family label, [(checkbox, short label, scope)])``."""
        by_value = {widget.data["value"]: widget for widget in self["scopes"]}
        groups = []
        for famille, label in scopes.FAMILLES.items():
            options = []
            for mode, short in ((scopes.READ, "Lire"), (scopes.WRITE, "Créer et modifier")):
                name = scopes.scope(famille, mode)
                if name in by_value:
                    options.append((by_value[name], short, name))
            groups.append((capfirst(label), options))
        return groups

    def add_service_error(self, error):
        add_service_error(self, error)


class ClientFilterForm(forms.Form):
    ACTIFS, REVOQUES = "actifs", "revoques"

    statut = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("", "Tous les clients"), (ACTIFS, "Actifs"), (REVOQUES, "Révoqués")],
    )

    def filters(self):
        return {"statut": self.cleaned_data["statut"]} if self.is_valid() and self.cleaned_data["statut"] else {}
