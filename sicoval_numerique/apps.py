from django.apps import AppConfig


class SicovalNumeriqueConfig(AppConfig):
    """The project package as an app: shared templates tags, the demo data command, the API base classes."""

    name = "sicoval_numerique"
    verbose_name = "Sicoval numérique"
