"""Routes of the aidants network (evenements): filled by its views module."""

urlpatterns = []
