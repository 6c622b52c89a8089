from django.urls import path

from .views import public

# Mounted at /statistiques/.
app_name = "statistiques_publiques"

urlpatterns = [
    path("", public.index, name="index"),
]
