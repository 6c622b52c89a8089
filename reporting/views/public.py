"""The public statistics of the territory (``/statistiques/``), without an account: the headline figures of the
last twelve whole months, with accompaniments by month and by thématique, every count of people from 1 to 4 shown
as « moins de 5 » (``reporting.tableau.statistiques_publiques``).

The figures are cheap (a fixed number of queries on the summaries) and kept an hour in the cache, shared by every
process; if the cache is unreachable they are computed for the request rather than refused.
"""

import logging

from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from ..forms import fin_du_mois
from ..tableau import statistiques_publiques

logger = logging.getLogger(__name__)
CACHE_SECONDS = 3600
MOIS = 12


def periode_publique(today=None):
    """The last twelve whole months, ending with the month before the current one (figures of a month still being
    recorded would look like a drop)."""
    today = today or timezone.localdate()
    last = today.replace(day=1) - relativedelta(months=1)
    return last - relativedelta(months=MOIS - 1), fin_du_mois(last)


def _chiffres(du, au):
    key = f"reporting:statistiques-publiques:v1:{du:%Y-%m}:{au:%Y-%m}"
    try:
        tableau = cache.get(key)
    except Exception:  # the cache is down: compute the figures for this request
        logger.warning("Statistiques publiques : cache injoignable, chiffres recalculés.")
        return statistiques_publiques(du, au)
    if tableau is None:
        tableau = statistiques_publiques(du, au)
        try:
            cache.set(key, tableau, timeout=CACHE_SECONDS)
        except Exception:
            logger.warning("Statistiques publiques : cache injoignable, chiffres non gardés.")
    return tableau


@require_safe
def index(request):
    du, au = periode_publique()
    tableau = _chiffres(du, au)
    return render(request, "reporting/public/index.html", {"tableau": tableau, "section": tableau.sections[0]})
