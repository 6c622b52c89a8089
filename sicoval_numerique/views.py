from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from structures.selectors import territoire_summary


def _wants_json(request):
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Ressource introuvable."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Erreur interne : l'équipe technique est prévenue."}, status=500)
    return render(request, "500.html", status=500)


def permission_denied(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Vous n'avez pas les droits pour cette opération."}, status=403)
    return render(request, "403.html", status=403)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Requête invalide."}, status=400)
    return render(request, "400.html", status=400)


@require_safe
def home(request):
    return render(request, "home.html", {"territoire": territoire_summary()})


@require_safe
def accessibilite(request):
    return render(
        request,
        "accessibilite.html",
        {"contact": settings.CONTACT_ACCESSIBILITE, "contact_donnees": settings.CONTACT_DONNEES_PERSONNELLES},
    )


@never_cache
@require_safe
def healthz(request):
    """Liveness and database readiness for the load balancer and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
