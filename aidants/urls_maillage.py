"""Routes of the aidants network (maillage): filled by its views module."""

urlpatterns = []
