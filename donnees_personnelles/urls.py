from django.urls import path

from . import views

app_name = "donnees_personnelles"

urlpatterns = [
    path("", views.recherche, name="recherche"),
    path("exporter/", views.export, name="export"),
    path("effacer/", views.effacement, name="effacement"),
    path("demandes/", views.demande_list, name="demandes"),
]
