from django.apps import AppConfig


class ConseillersConfig(AppConfig):
    name = "conseillers"
    verbose_name = "Postes, conseillers, contrats et formations"
