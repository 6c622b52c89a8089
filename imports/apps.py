from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports et synchronisation avec les outils nationaux"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deployment checks
