from django.core.management.base import BaseCommand, CommandError

from structures.territoire import TerritoireError, import_epci


class Command(BaseCommand):
    help = (
        "Importe un EPCI et ses communes depuis les fichiers du paquet npm @etalab/decoupage-administratif "
        "(data/epci.json et data/communes.json). Rien n'est écrit si un fichier est absent ou invalide."
    )

    def add_arguments(self, parser):
        parser.add_argument("--epci", required=True, help="SIREN de l'EPCI, par exemple 243100633 (Sicoval).")
        parser.add_argument("--communes", required=True, help="Chemin de data/communes.json.")
        parser.add_argument("--epcis", required=True, help="Chemin de data/epci.json.")

    def handle(self, *args, **options):
        siren = options["epci"].strip()
        if not (siren.isdigit() and len(siren) == 9):
            raise CommandError("Le SIREN d'un EPCI compte 9 chiffres.")
        try:
            report = import_epci(siren=siren, communes_path=options["communes"], epci_path=options["epcis"])
        except TerritoireError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Territoire importé. {report}"))
