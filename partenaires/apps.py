from django.apps import AppConfig


class PartenairesConfig(AppConfig):
    name = "partenaires"
    verbose_name = "API des structures partenaires"

    def ready(self):
        from . import signals  # noqa: F401  (history attribution of API writes)
