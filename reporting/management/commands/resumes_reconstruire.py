"""``manage.py resumes_reconstruire [--du AAAA-MM] [--au AAAA-MM]``: rebuild the activity summaries of a period
(by default every month with activities), one month per transaction."""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from reporting import resume


def _mois(value):
    try:
        return datetime.date.fromisoformat(f"{value}-01" if len(value) == 7 else value)
    except ValueError:
        raise CommandError(f"Mois invalide : « {value} » (format attendu : AAAA-MM, par exemple 2026-01).") from None


class Command(BaseCommand):
    help = "Reconstruit les résumés des activités (tableaux de bord, statistiques) d'une période."

    def add_arguments(self, parser):
        parser.add_argument("--du", type=_mois, help="Premier mois (AAAA-MM). Par défaut : la première activité.")
        parser.add_argument("--au", type=_mois, help="Dernier mois (AAAA-MM). Par défaut : la dernière activité.")

    def handle(self, *args, du=None, au=None, **options):
        if du and au and du > au:
            raise CommandError("Le premier mois doit précéder le dernier.")
        started = time.monotonic()
        mois, lignes = resume.reconstruire(du, au)
        resume.entretenir()
        self.stdout.write(
            f"{mois} mois reconstruit(s), {lignes} ligne(s) de résumé, en {time.monotonic() - started:.1f} s."
        )
