"""Routes of the aidants network (orientations): filled by its views module."""

urlpatterns = []
