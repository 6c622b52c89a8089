from django.urls import include, path

app_name = "reporting"

urlpatterns = [
    path("", include("reporting.urls_tableau")),
    path("rapports/", include("reporting.urls_rapports")),
]
