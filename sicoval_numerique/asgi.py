import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sicoval_numerique.settings.dev")

application = get_asgi_application()
