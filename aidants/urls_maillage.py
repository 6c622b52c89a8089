"""Routes of the aidants network (maillage): the territorial mesh for Sicoval staff and its CSV."""

from django.urls import path

from .views import maillage

urlpatterns = [
    path("maillage/", maillage.maillage, name="maillage"),
    path("maillage/export.csv", maillage.maillage_csv, name="maillage_csv"),
]
