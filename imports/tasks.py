"""Celery tasks of the imports: thin, they take a uuid or nothing and call ``imports.services``. Safe to run twice
or to be redelivered: a step is claimed by one worker, and an import writes nothing twice."""

from celery import shared_task

from . import services
from .models import Import
from .tasks_coop import *  # noqa: F403  (the synchronisation's tasks, registered with the app's)


# Big team files take more than the default limits. Below the broker's visibility timeout (an hour), after which Redis
# would hand the task to another worker; an import stopped by the soft limit goes on in a new run of the task.
@shared_task(name="imports.tasks.import_traiter", ignore_result=True, soft_time_limit=45 * 60, time_limit=50 * 60)
def import_traiter(import_uuid):
    """Analyse an uploaded file into its preview, or import it once confirmed."""
    import_ = Import.objects.filter(uuid=import_uuid).first()
    if import_ is None:
        return {"traite": False, "raison": "inconnu"}
    return {"traite": services.import_traiter(import_), "statut": import_.statut}


@shared_task(name="imports.tasks.imports_relancer", ignore_result=True)
def imports_relancer():
    """Every few minutes (beat): steps left waiting or claimed by a dead worker; expired previews dropped."""
    return {"relances": services.imports_relancer()}
