"""Upload forms: the file, and for places the structure new places are attached to when none has their SIRET."""

from django import forms

from structures.models import Structure


class ImportActivitesForm(forms.Form):
    fichier = forms.FileField(
        label="Export des activités de la Coop (XLSX)",
        help_text=(
            "Dans la Coop de la médiation numérique : Mes activités, puis « Exporter » au format tableur (.xlsx). "
            "20 Mo au plus."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        error_messages={"required": "Choisissez le fichier à importer.", "empty": "Ce fichier est vide."},
    )


class ImportLieuxForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier de lieux au standard national (CSV ou JSON)",
        help_text=(
            "L'export de la cartographie nationale pour le département, ou le fichier de tout producteur au standard "
            "« Lieux de médiation numérique ». Seuls les lieux des communes du territoire sont pris. 20 Mo au plus."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,text/csv,application/json"}),
        error_messages={"required": "Choisissez le fichier à importer.", "empty": "Ce fichier est vide."},
    )
    structure = forms.ModelChoiceField(
        label="Structure de rattachement des nouveaux lieux",
        queryset=Structure.objects.order_by("nom"),
        to_field_name="uuid",
        required=False,
        empty_label="Aucune : ne créer que les lieux dont le SIRET est celui d'une structure",
        help_text=(
            "Un nouveau lieu est rattaché à la structure qui a son SIRET ; à défaut, à celle-ci. Sans structure "
            "choisie, ces lieux sont signalés dans l'aperçu et ne sont pas créés."
        ),
        error_messages={"invalid_choice": "Choisissez une structure de la liste."},
    )
