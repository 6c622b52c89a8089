"""Routes of the workshops (gestion part): filled by its views module."""

urlpatterns = []
