"""The register of processing (docs/registre-traitements.md) says what the code does: every retention task it cites
runs every night, and every task that erases personal data is in the register."""

import re
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

REGISTRE = Path(settings.BASE_DIR) / "docs" / "registre-traitements.md"
CITED = re.compile(r"`([a-z_]+\.tasks\.[a-z_]+)`")
# The scheduled tasks that erase or anonymise personal data, by what their names say.
ERASES = re.compile(r"purger|anonymiser|nettoyer|clear_expired")


def _scheduled():
    return {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_every_retention_task_the_register_cites_is_a_task_scheduled_every_day():
    cited = set(CITED.findall(REGISTRE.read_text(encoding="utf-8")))
    assert cited, "le registre ne cite aucune tâche"
    scheduled = _scheduled()
    for name in sorted(cited):
        assert name in scheduled, f"{name} est cité par le registre mais n'est pas planifié"
        schedule = scheduled[name]["schedule"]
        assert getattr(schedule, "day_of_month", None) == set(range(1, 32)), f"{name} ne tourne pas chaque jour"
        assert getattr(schedule, "day_of_week", None) == set(range(7)), f"{name} ne tourne pas chaque jour"
        assert callable(import_string(name).delay)


def test_every_scheduled_erasing_task_is_in_the_register():
    cited = set(CITED.findall(REGISTRE.read_text(encoding="utf-8")))
    erasing = {name for name in _scheduled() if ERASES.search(name)}
    assert erasing <= cited, f"tâches d'effacement absentes du registre : {sorted(erasing - cited)}"
