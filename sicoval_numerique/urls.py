from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .api.router import router

# The admin is reached only through allauth's login (and so its rate limits and MFA).
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Administration Sicoval numérique"
admin.site.site_title = "Sicoval numérique"

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibilite/", views.accessibilite, name="accessibilite"),
    path("healthz", views.healthz, name="healthz"),
    path("comptes/", include("allauth.urls")),
    path("espace/", include("accounts.urls")),
    path("lieux/", include("structures.urls_public")),
    path("gestion/financements/", include("financements.urls")),
    path("gestion/emails/", include("notifications.urls")),
    path("gestion/donnees-personnelles/", include("donnees_personnelles.urls")),
    path("gestion/aidants/", include("aidants.urls")),
    path("gestion/", include("partenaires.urls")),
    path("gestion/", include("structures.urls")),
    path("gestion/", include("conseillers.urls")),
    path("activites/", include("accompagnements.urls")),
    path("imports/", include("imports.urls")),
    path("gestion/pilotage/", include("reporting.urls")),
    path("statistiques/", include("reporting.urls_public")),
    path("", include("ateliers.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/oauth/", include("partenaires.urls_oauth")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "sicoval_numerique.views.bad_request"
handler403 = "sicoval_numerique.views.permission_denied"
handler404 = "sicoval_numerique.views.page_not_found"
handler500 = "sicoval_numerique.views.server_error"
