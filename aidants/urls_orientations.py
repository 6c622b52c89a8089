"""Routes of the referrals (orientations), mounted at /gestion/aidants/."""

from django.urls import path

from .views import orientations

urlpatterns = [
    path("orientations/", orientations.orientation_list, name="orientation_list"),
    path("orientations/nouvelle/", orientations.orientation_create, name="orientation_create"),
    path("orientations/recues/", orientations.orientation_recues, name="orientation_recues"),
    path("orientations/suivi/", orientations.orientation_suivi, name="orientation_suivi"),
    path("orientations/<uuid:uuid>/", orientations.orientation_detail, name="orientation_detail"),
    path("orientations/<uuid:uuid>/prendre-en-charge/", orientations.orientation_accept, name="orientation_accept"),
    path("orientations/<uuid:uuid>/cloturer/", orientations.orientation_close, name="orientation_close"),
    path("orientations/<uuid:uuid>/reorienter/", orientations.orientation_redirect, name="orientation_redirect"),
    path("orientations/<uuid:uuid>/annuler/", orientations.orientation_cancel, name="orientation_cancel"),
]
