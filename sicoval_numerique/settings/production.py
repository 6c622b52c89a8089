"""Production: every secret comes from the environment; no default secret, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: refuse to start without it
if not SECRET_KEY.strip():
    # An empty line in .env ("DJANGO_SECRET_KEY=") would otherwise start, then fail on the first request.
    raise ImproperlyConfigured("DJANGO_SECRET_KEY est vide : la production exige une clé secrète.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Links in e-mails (verification, password reset): https behind the TLS proxy; http for the local compose stack.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="https")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

ADMINS = [("Exploitation", email) for email in env.list("DJANGO_ADMINS", default=[])]
