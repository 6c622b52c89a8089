"""Helpers shared by the back-office pages of posts and conseillers."""

from django.core.exceptions import PermissionDenied

from conseillers.choices import EtatPoste
from conseillers.selectors import TrainingStatus

ETAT_BADGES = {
    EtatPoste.OCCUPE: "badge-success",
    EtatPoste.VACANT: "badge-warning",
    EtatPoste.RENDU: "badge-neutral",
}
TRAINING_BADGES = {
    TrainingStatus.DONE: "badge-success",
    TrainingStatus.DUE: "badge-warning",
    TrainingStatus.LATE: "badge-danger",
}


def query_string(request):
    """The list's query string without its page number (for pagination and export links)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def posted(request):
    """The submitted data of a POST (even an empty one, so that its errors show), None for a GET."""
    return request.POST if request.method == "POST" else None


def require_staff(user, message):
    if not user.is_staff:
        raise PermissionDenied(message)
