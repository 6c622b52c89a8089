from django.apps import AppConfig


class DonneesPersonnellesConfig(AppConfig):
    name = "donnees_personnelles"
    verbose_name = "Données personnelles (export et effacement)"
