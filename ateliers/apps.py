from django.apps import AppConfig


class AteliersConfig(AppConfig):
    name = "ateliers"
    verbose_name = "Ateliers, inscriptions et Pass numérique"
