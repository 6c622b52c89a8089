from django.core.management.base import BaseCommand, CommandError

from structures.territoire import TerritoireError, load_bundled


class Command(BaseCommand):
    help = "Charge les communes de la Haute-Garonne et les EPCI (dont le Sicoval) livrés avec le projet. Idempotent."

    def handle(self, *args, **options):
        try:
            report = load_bundled()
        except TerritoireError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Référentiel territorial chargé. {report}"))
