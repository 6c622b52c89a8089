"""The project's routes, plus the bare JSON view the API figures are compared with (same server, same run)."""

from django.http import JsonResponse
from django.urls import include, path


def json_nu(request):
    """No database, no authentication, no serializer: what Django and gunicorn cost alone."""
    return JsonResponse({"results": [{"id": n, "nom": f"ligne {n}"} for n in range(50)]})


urlpatterns = [
    path("_banc/json", json_nu),
    path("", include("sicoval_numerique.urls")),
]
