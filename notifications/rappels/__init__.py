"""The reminders of the platform, by family (issue 8). Each family (``base.Famille``) says who is reminded of what,
and when: a *moment* (e.g. the day before a session at 9 h, Paris time) and a *window* after it (e.g. until the session
starts, or one day). A run (``services.famille_run``, a Celery task started by beat) puts in the outbox every
reminder whose moment has come and whose window is still open, each with that window's end as its send-by limit;
one whose window has closed is recorded as missed, never sent. The outbox's unique (recipient, type, object) makes a
reminder leave at most once, whatever runs twice, and the send-by limit keeps the relay from sending it late.

Staff set each family's delays and switch it on or off (``ReglageRappel``), see its runs (``ExecutionRappel``),
preview its e-mails and run it now, from ``/gestion/emails/rappels/``."""

from .familles_aidants import OrientationAttente
from .familles_ateliers import PassExpiration, RappelAtelier
from .familles_conseillers import FinContrat, FormationContinue, Inactivite, PosteVacant
from .familles_financements import FinConvention, VersementRetard

FAMILLES = {
    famille.code: famille
    for famille in (
        RappelAtelier(),
        Inactivite(),
        FinContrat(),
        FormationContinue(),
        PosteVacant(),
        VersementRetard(),
        FinConvention(),
        OrientationAttente(),
        PassExpiration(),
    )
}


def famille(code):
    """The family of reminders ``code``; KeyError when there is none."""
    return FAMILLES[code]
