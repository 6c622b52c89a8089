"""The form that asks for a report on a period: two months, the first and the last (included). The rules of a
period (order, not after the current month, ten years at most) are the service's (``rapports.periode_valider``)."""

from django import forms

from sicoval_numerique.forms import MoisField


class RapportDemandeForm(forms.Form):
    du = MoisField(
        label="Premier mois",
        help_text="Au format AAAA-MM, par exemple 2026-01 pour janvier 2026.",
    )
    au = MoisField(
        label="Dernier mois (inclus)",
        fin=True,
        help_text="Au format AAAA-MM. Le mois en cours au plus tard ; la période couvre dix ans au plus.",
    )
