"""Every family of reminders gets its settings row with its default delays (and the first line of its history), so
that a fresh database shows and runs them all. The defaults are written here as they were (a later change of a family's defaults does not rewrite rows
staff may have changed); a family added later gets its row from ``rappels.services.reglage_of``."""

from django.db import migrations

DEFAUTS = {
    "atelier": {"jours_avant": 1, "jours_avant_anticipe": 2, "anticipation_jours": 14, "heure": 9},
    "inactivite": {"jours_inactivite": 30, "jours_escalade": 15, "heure": 9},
    "fin_contrat": {"jours_avant": 60, "heure": 9},
    "formation_continue": {"jour": 1, "mois": 10, "heure": 9},
    "poste_vacant": {"mois_vacance": 4, "heure": 9},
    "versement_retard": {"jours_retard": 1, "heure": 9},
    "fin_convention": {"jours_avant": 90, "heure": 9},
    "orientation_attente": {"jours_ouvres": 3},
    "pass_expiration": {"jours_avant": 30, "heure": 9},
}


def seed(apps, schema_editor):
    ReglageRappel = apps.get_model("notifications", "ReglageRappel")
    HistoricalReglageRappel = apps.get_model("notifications", "HistoricalReglageRappel")
    for famille, parametres in DEFAUTS.items():
        reglage, created = ReglageRappel.objects.get_or_create(
            famille=famille, defaults={"actif": True, "parametres": parametres}
        )
        if created:  # the history starts with the defaults, so that staff's first change shows what it replaced
            HistoricalReglageRappel.objects.create(
                id=reglage.pk,
                famille=reglage.famille,
                actif=reglage.actif,
                parametres=reglage.parametres,
                updated_at=reglage.updated_at,
                history_date=reglage.updated_at,
                history_type="+",
                history_change_reason="Réglage initial",
            )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_rappels")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
