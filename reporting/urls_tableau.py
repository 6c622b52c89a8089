from django.urls import path

from .views import tableau

# Included by ``reporting.urls`` (namespace ``reporting``), at /gestion/pilotage/.
urlpatterns = [
    path("", tableau.tableau, name="tableau"),
    path("export.csv", tableau.export_csv, name="tableau_csv"),
    path("export.xlsx", tableau.export_xlsx, name="tableau_xlsx"),
]
