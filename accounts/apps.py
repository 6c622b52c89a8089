from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes et rôles"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 - registers the deployment checks
        from .middleware import stamp_activity_at_login

        user_logged_in.connect(stamp_activity_at_login, dispatch_uid="accounts.stamp_activity_at_login")
