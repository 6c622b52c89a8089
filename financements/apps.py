from django.apps import AppConfig


class FinancementsConfig(AppConfig):
    name = "financements"
    verbose_name = "Financements des postes"
