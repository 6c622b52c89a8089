"""OAuth2 endpoints of the partner API: the token (client credentials) and its revocation. No authorization
page: partners are machines acting for their structure, not people granting access."""

from django.urls import path
from oauth2_provider import views as oauth_views

app_name = "oauth2_provider"

urlpatterns = [
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
]
