import datetime

from django import forms

from .models import StatutEmail

# The dates the filter accepts: wide enough for any real search, narrow enough for every database and time zone.
PREMIERE_DATE = datetime.date(2000, 1, 1)
DERNIERE_DATE = datetime.date(2100, 12, 31)


def _date_field(label):
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide (jj/mm/aaaa)."},
    )


class EmailFilterForm(forms.Form):
    statut = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous les statuts"), *StatutEmail.choices],
        error_messages={"invalid_choice": "Choisissez un statut de la liste."},
    )
    type = forms.ChoiceField(
        label="Type d'e-mail",
        required=False,
        choices=[],
        error_messages={"invalid_choice": "Choisissez un type d'e-mail de la liste."},
    )
    du = _date_field("Créé à partir du")
    au = _date_field("Créé jusqu'au")
    destinataire = forms.EmailField(
        label="Adresse du destinataire",
        required=False,
        max_length=254,
        help_text="Adresse exacte, pour vérifier qu'un e-mail est parti ; elle n'est pas affichée dans la liste.",
        error_messages={"invalid": "Saisissez une adresse e-mail valide."},
    )

    def __init__(self, *args, types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Tous les types"), *((value, value) for value in types)]

    def _clean_date(self, name):
        date = self.cleaned_data.get(name)
        if date and not PREMIERE_DATE <= date <= DERNIERE_DATE:
            raise forms.ValidationError(
                f"Saisissez une date entre {PREMIERE_DATE:%d/%m/%Y} et {DERNIERE_DATE:%d/%m/%Y}."
            )
        return date

    def clean_du(self):
        return self._clean_date("du")

    def clean_au(self):
        return self._clean_date("au")

    def clean(self):
        cleaned = super().clean()
        du, au = cleaned.get("du"), cleaned.get("au")
        if du and au and au < du:
            self.add_error("au", "La date de fin doit être égale ou postérieure à la date de début.")
        return cleaned

    def filters(self):
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class ReglageRappelForm(forms.Form):
    """A family of reminders switched on or off, and its delays: one field per parameter the family declares, within
    its bounds, then the family's checks across them."""

    actif = forms.BooleanField(
        label="Rappel actif",
        required=False,
        help_text="Désactivé, il n'est plus envoyé ; réactivé, les rappels dont le moment est passé entre-temps ne "
        "partent pas en retard.",
    )

    def __init__(self, *args, famille, **kwargs):
        super().__init__(*args, **kwargs)
        self.famille = famille
        for parametre in famille.parametres:
            minimum, maximum = parametre.minimum, parametre.borne_max
            bornes = f"De {minimum} à {parametre.affiche(maximum)}."
            self.fields[parametre.nom] = forms.IntegerField(
                label=parametre.libelle,
                min_value=minimum,
                max_value=maximum,
                help_text=f"{parametre.aide} {bornes}".strip(),
                error_messages={
                    "required": "Saisissez une valeur.",
                    "invalid": "Saisissez un nombre entier.",
                    "min_value": f"Saisissez un nombre entre {minimum} et {maximum}.",
                    "max_value": f"Saisissez un nombre entre {minimum} et {maximum}.",
                },
            )

    def clean(self):
        cleaned = super().clean()
        values = {parametre.nom: cleaned.get(parametre.nom) for parametre in self.famille.parametres}
        if all(isinstance(value, int) for value in values.values()):
            for name, message in self.famille.verifier(values).items():
                self.add_error(name, message)
        return cleaned

    def parametres(self):
        return {parametre.nom: self.cleaned_data[parametre.nom] for parametre in self.famille.parametres}
