from django.apps import AppConfig


class AidantsConfig(AppConfig):
    name = "aidants"
    verbose_name = "Réseau des aidants"
