"""A new activity is queued for its figures to be added to the summaries (``reporting.resume.ajouter``); every other
change to an activity or to one of its accompaniments marks its (month, conseiller) summary slice to recompute
(``reporting.resume.marquer``), both in the transaction of the change. An activity moved to another month marks
both. The accompaniments of a new activity are written in bulk, with no signal: the activity's figures are read
after commit, with them. A change to an activity still in the queue marks nothing (``reporting.resume.en_file``):
its figures are read, as changed, when it is added.

Thématique rows are written with their activity (``accompagnements.services``), whose save marks the slice."""

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from accompagnements.models import Accompagnement, Activite

from . import resume


@receiver(post_init, sender=Activite)
def _remember_slice(sender, instance, **kwargs):
    # Read from __dict__: a deferred field must not cost a query per loaded activity.
    instance._tranche_resume = (instance.__dict__.get("conseiller_id"), instance.__dict__.get("date"))


@receiver(post_save, sender=Activite)
@receiver(post_delete, sender=Activite)
def _activite_changed(sender, instance, created=False, **kwargs):
    origine = getattr(instance, "_tranche_resume", (None, None))
    instance._tranche_resume = (instance.conseiller_id, instance.date)
    if created:
        resume.ajouter(instance.pk)
        return
    if resume.en_file(instance.pk):
        return
    resume.marquer(instance.conseiller_id, instance.date)
    if origine[1] is not None and origine != (instance.conseiller_id, instance.date):
        resume.marquer(*origine)


@receiver(post_save, sender=Accompagnement)
@receiver(post_delete, sender=Accompagnement)
def _accompagnement_changed(sender, instance, **kwargs):
    activite = instance.activite
    if not resume.en_file(activite.pk):
        resume.marquer(activite.conseiller_id, activite.date)
