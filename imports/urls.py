"""The imports' pages under /imports/ (namespace ``imports``), and the synchronisation with the Coop under
/imports/coop/."""

from django.urls import include, path

from . import views
from .urls_coop import urlpatterns as coop_urlpatterns

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="liste"),
    path("nouveau/<slug:slug>/", views.import_nouveau, name="nouveau"),
    path("<uuid:uuid>/", views.import_detail, name="detail"),
    path("<uuid:uuid>/progression/", views.import_progression, name="progression"),
    path("<uuid:uuid>/importer/", views.import_confirmer, name="confirmer"),
    path("<uuid:uuid>/abandonner/", views.import_abandonner, name="abandonner"),
    path("<uuid:uuid>/relancer/", views.import_relancer, name="relancer"),
]
urlpatterns += [path("coop/", include(coop_urlpatterns))]
