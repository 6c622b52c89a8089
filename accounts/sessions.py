"""The session engine (``SESSION_ENGINE = "accounts.sessions"``): Django's database sessions, in a table that also
records the logged-in user of each session (``models.UserSession``), so that deactivating an account can delete its
sessions by an indexed query. Signed-cookie sessions could not be ended from the server; cached_db ones would also
need their cache entries deleted."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls):
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = _user_id(data)
        return session

    async def acreate_model_instance(self, data):
        session = await super().acreate_model_instance(data)
        session.user_id = _user_id(data)
        return session


def _user_id(data):
    """The id of the logged-in user that ``django.contrib.auth.login`` stored in the session data, if any."""
    try:
        return int(data.get(SESSION_KEY))
    except (TypeError, ValueError):
        return None
