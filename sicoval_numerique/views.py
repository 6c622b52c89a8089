from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from structures.selectors import territoire_summary


@require_safe
def home(request):
    return render(request, "home.html", {"territoire": territoire_summary()})


@require_safe
def accessibilite(request):
    return render(request, "accessibilite.html")


@never_cache
@require_safe
def healthz(request):
    """Liveness and database readiness for the load balancer and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
