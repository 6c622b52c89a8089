import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from structures import lieux_standard
from structures.selectors import lieux_publics


class Command(BaseCommand):
    help = "Écrit les lieux publiés au standard national « Lieux de médiation numérique » (CSV et/ou JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--csv", help="Chemin du fichier CSV à écrire.")
        parser.add_argument("--json", help="Chemin du fichier JSON à écrire.")

    def handle(self, *args, **options):
        if not options["csv"] and not options["json"]:
            raise CommandError("Indiquez --csv et/ou --json.")
        lieux = list(lieux_publics(with_stops=False))
        errors = lieux_standard.validate_rows(lieux_standard.rows(lieux))
        if errors:
            raise CommandError("Export non conforme au standard :\n" + "\n".join(errors[:20]))
        try:
            if options["csv"]:
                Path(options["csv"]).write_text(lieux_standard.to_csv(lieux), encoding="utf-8")
            if options["json"]:
                Path(options["json"]).write_text(
                    json.dumps(lieux_standard.to_json(lieux), ensure_ascii=False, indent=2), encoding="utf-8"
                )
        except OSError as error:
            raise CommandError(f"Écriture impossible : {error}") from error
        self.stdout.write(self.style.SUCCESS(f"{len(lieux)} lieu(x) exporté(s)."))
