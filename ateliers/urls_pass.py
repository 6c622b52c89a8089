"""Routes of the workshops (pass part): filled by its views module."""

urlpatterns = []
