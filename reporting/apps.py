from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Tableaux de bord et rapports"

    def ready(self):
        from . import signals  # noqa: F401  (activity changes mark their summary slices to update)
