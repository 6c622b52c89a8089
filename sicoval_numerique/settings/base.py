"""Settings shared by every runtime mode, read from environment variables.

Modes: ``dev`` (the quick start: SQLite, tasks inline, e-mails to the console), ``test`` and ``production``
(no default secret). Every variable is documented in ``.env.example`` and the README.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third parties
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "csp",
    "oauth2_provider",
    # ours
    "sicoval_numerique",
    "accounts",
    "structures",
    "conseillers",
    "financements",
    "accompagnements",
    "notifications",
    "ateliers",
    "aidants",
    "partenaires",
    "reporting",
    "imports",
    "donnees_personnelles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.NoStoreForAccountsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.StaffMfaRequiredMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "sicoval_numerique.urls"
WSGI_APPLICATION = "sicoval_numerique.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sicoval_numerique.context_processors.platform",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------------
# SQLite file by default (quick start); DATABASE_URL=postgres://… for PostgreSQL through psycopg 3 with a pool.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ---------------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication (django-allauth, e-mail login, MFA) -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Sicoval numérique] "
# allauth's rate limits, written out so that they are reviewed: the 6th bad password in 5 minutes for one account
# is refused, whatever the IP. They rely on the cache: Redis in production so that every process shares them.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "signup": "20/m/ip",
}
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Sicoval numérique"
MFA_RECOVERY_CODE_COUNT = 10

# --- Internationalisation -----------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files -------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail --------------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Sicoval numérique <ne-pas-repondre@sicoval.fr>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- Security (strengthened in production) ------------------------------------------------------------------
# Database sessions that record their user, so that deactivating an account ends its sessions (accounts.sessions).
SESSION_ENGINE = "accounts.sessions"
# Staff and coordinators are logged out after this many seconds without a request (accounts.middleware); the other
# accounts keep the default session age (SESSION_COOKIE_AGE, two weeks).
DELAI_INACTIVITE_EQUIPE = 30 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy: no inline script anywhere; the nonce serves the rare inline need.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],  # no page uses <base>: none may be injected
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- REST API ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "sicoval_numerique.api.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "sicoval_numerique.api.StandardPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    # The client address of the anonymous limit: the one the declared proxies saw (0: the connection's own), never
    # the whole X-Forwarded-For header a client may write itself (the same count as allauth's login limits).
    "NUM_PROXIES": env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_THROTTLE_RATE", default="120/min"),
        "client": env("API_CLIENT_THROTTLE_RATE", default="600/min"),
    },
    "EXCEPTION_HANDLER": "sicoval_numerique.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Sicoval numérique",
    "DESCRIPTION": (
        "API de la plateforme territoriale d'inclusion numérique : référentiel des communes et lieux de "
        "médiation numérique (standard national « Lieux de médiation numérique » v1.0.2), et API des structures "
        "partenaires : lieux, postes, conventions, ateliers, séances, inscriptions et activités de votre structure, "
        "statistiques du territoire.\n\n"
        "**Démarrer.** 1) Demandez à l'équipe Sicoval ou au référent de votre structure un client d'API (page "
        "« Accès à l'API » de la structure) : un identifiant et un secret, montré une seule fois. "
        "2) Obtenez un jeton : "
        "`curl -u IDENTIFIANT:SECRET -d grant_type=client_credentials https://<plateforme>/api/oauth/token/` (le jeton "
        "vaut une heure ; demandez-en un nouveau quand il expire). 3) Appelez l'API avec l'en-tête "
        "`Authorization: Bearer <jeton>`. Ici, le bouton « Authorize » fait les étapes 2 et 3 pour vous.\n\n"
        "**Périmètre.** Un client ne voit et ne modifie que les objets de sa structure ; l'objet d'une autre structure "
        "répond 404. Chaque opération demande un droit (scope) `famille:read` ou `famille:write`.\n\n"
        "**Listes.** Les collections synchronisables sont paginées par curseur (suivez `next`), triées par date de "
        "modification, filtrables par `modified_since` ; `taille` de 1 à 200.\n\n"
        "**Écritures sûres.** Un POST avec l'en-tête `Idempotency-Key` peut être rejoué sans effet double.\n\n"
        "**Erreurs.** Toujours en JSON, en français : `detail` ou un message par champ. 429 : attendez le délai de "
        "l'en-tête `Retry-After`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True, "tryItOutEnabled": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sicoval_numerique.api.schema.document_error_responses",
    ],
}

# --- Partner API credentials (django-oauth-toolkit: client credentials only) -----------------------------------
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # not swapped: a ClientAPI row extends it
OAUTH2_PROVIDER = {
    # Access tokens live one hour at most, whatever the environment asks.
    "ACCESS_TOKEN_EXPIRE_SECONDS": min(env.int("API_TOKEN_LIFETIME", default=3600), 3600),
    "SCOPES_BACKEND_CLASS": "partenaires.scopes.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "partenaires.oauth.PartnerValidator",
    # Tokens are stored hashed (only their SHA-256), and accepted only in the Authorization header.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    # No redirect flows are used (client credentials only); should one ever be, only over HTTPS.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # RFC 9700 behaviours for the flows the platform does not use, so that `check --deploy` stays clean.
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
}

# The summaries' unique constraints treat an empty commune as a value (NULLS NOT DISTINCT): PostgreSQL 15+ has them,
# SQLite (quick start) does not. They are a safety net only: a summary slice is always replaced whole.
SILENCED_SYSTEM_CHECKS = ["models.W047"]

# --- Celery --------------------------------------------------------------------------------------------------
# Without a broker (quick start, most tests) tasks run inline in the calling process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
# Our tasks are idempotent: acknowledge after the work, so a killed worker's task is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
# A broker that is down or hung must not hold a web request: fail fast, and keep the database as queue of record.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "visibility_timeout": 3600,
    "max_retries": 1,
}
# Memory (MB) PostgreSQL may use per sort or hash while recomputing the summaries (work_mem, for that transaction).
RESUMES_WORK_MEM_MO = env.int("RESUMES_WORK_MEM_MO", default=256)
# How many months (the current one included) the nightly rebuild of the summaries covers; the weekly one covers all.
RESUMES_NUIT_MOIS = env.int("RESUMES_NUIT_MOIS", default=3)
CELERY_BEAT_SCHEDULE = {
    "notifications-relay-outbox": {
        "task": "notifications.tasks.relay_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},  # ticks do not pile up while the workers are down
    },
    # --- Rappels (notifications) ---
    # One entry per family of reminders (notifications.rappels). A run puts in the outbox the reminders whose moment
    # has come (the hour is set by staff on /gestion/emails/rappels/) and records those too late as missed; it is
    # idempotent, so a tick delivered twice sends nothing twice. Workshops every quarter of an hour, the rest hourly.
    "notifications-rappels-atelier": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("atelier",),
        "schedule": crontab(minute="2,17,32,47"),
        "options": {"expires": 14 * 60},
    },
    "notifications-rappels-inactivite": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("inactivite",),
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-fin-contrat": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("fin_contrat",),
        "schedule": crontab(minute=7),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-formation-continue": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("formation_continue",),
        "schedule": crontab(minute=9),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-poste-vacant": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("poste_vacant",),
        "schedule": crontab(minute=11),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-versement-retard": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("versement_retard",),
        "schedule": crontab(minute=13),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-fin-convention": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("fin_convention",),
        "schedule": crontab(minute=17),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-orientation-attente": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("orientation_attente",),
        "schedule": crontab(minute=19),
        "options": {"expires": 50 * 60},
    },
    "notifications-rappels-pass-expiration": {
        "task": "notifications.tasks.rappels_famille",
        "args": ("pass_expiration",),
        "schedule": crontab(minute=23),
        "options": {"expires": 50 * 60},
    },
    # --- Fin des rappels (notifications) ---
    # Just after midnight (Paris): passes whose tolerance date (31/01) has passed are expired.
    # Registrants' contact details are erased 12 months after their session (registration form, e-mails).
    "ateliers-inscriptions-purger": {
        "task": "ateliers.tasks.inscriptions_purger",
        "schedule": crontab(minute=40, hour=3),
    },
    # Referrals' personal data erased 12 months after they were closed.
    "aidants-orientations-purger": {
        "task": "aidants.tasks.orientations_purger",
        "schedule": crontab(minute=50, hour=3),
    },
    # Followed people anonymised 2 years after their last contact; notes of activities older than 2 years emptied.
    "accompagnements-donnees-anonymiser": {
        "task": "accompagnements.tasks.donnees_anonymiser",
        "schedule": crontab(minute=55, hour=3),
    },
    # E-mails of the outbox (recipients, bodies) deleted 12 months after they were sent (or written, if never sent).
    "notifications-emails-purger": {
        "task": "notifications.tasks.emails_purger",
        "schedule": crontab(minute=5, hour=4),
    },
    "ateliers-passes-expirer": {
        "task": "ateliers.tasks.passes_expirer",
        "schedule": crontab(minute=10, hour=0),
    },
    "accounts-clear-expired-sessions": {
        "task": "accounts.tasks.sessions_clear_expired",
        "schedule": crontab(minute=20, hour=3),
    },
    # --- Résumés des activités (reporting) ---
    # Slices whose activities changed are recomputed right after the change; this catches what a lost kick left.
    "reporting-resumes-mettre-a-jour": {
        "task": "reporting.tasks.resumes_mettre_a_jour",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every night, the summaries of the months still being logged are rebuilt from the facts; every week, the whole
    # history (a few minutes for ten million activities: see benchmarks/RESULTS.md).
    "reporting-resumes-reconstruire": {
        "task": "reporting.tasks.resumes_reconstruire",
        "schedule": crontab(minute=15, hour=2),
        "kwargs": {"derniers_mois": RESUMES_NUIT_MOIS},
    },
    "reporting-resumes-reconstruire-tout": {
        "task": "reporting.tasks.resumes_reconstruire",
        "schedule": crontab(minute=45, hour=2, day_of_week="sun"),
    },
    # Expired API tokens and idempotency records older than 24 hours.
    "partenaires-nettoyer": {
        "task": "partenaires.tasks.nettoyer",
        "schedule": crontab(minute=30, hour=3),
    },
    # --- Rapports (reporting) ---
    # On the 1st at 06:00 (Paris) the previous month's report is built and e-mailed to staff and funders; on
    # 1 January at 06:30 the previous year's, for the State and the Département. Each is made once per period.
    "reporting-rapport-mensuel": {
        "task": "reporting.tasks.rapport_mensuel",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
    },
    "reporting-rapport-annuel": {
        "task": "reporting.tasks.rapport_annuel",
        "schedule": crontab(minute=30, hour=6, day_of_month=1, month_of_year=1),
    },
    # Reports left waiting (broker down when asked for, worker killed), and an automatic report whose run was missed.
    "reporting-rapports-relancer": {
        "task": "reporting.tasks.rapports_relancer",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 280},
    },
    # --- Imports (imports) ---
    # Analyses and imports whose publication was lost or whose worker died; previews left a week are dropped.
    "imports-relancer": {
        "task": "imports.tasks.imports_relancer",
        "schedule": crontab(minute="1-59/5"),
        "options": {"expires": 280},
    },
    # The nightly synchronisation with the Coop's API (activities modified since the last successful run).
    "imports-coop-synchroniser": {
        "task": "imports.tasks.coop_synchroniser",
        "schedule": crontab(minute=30, hour=3),
        "options": {"expires": 3 * 3600},
    },
}

# --- Logging: no personal data of the public goes to logs ------------------------------------------------------
# Every line written to the console and every error e-mail to ADMINS goes through a filter that masks e-mail
# addresses, French phone numbers and the capability tokens of links (sicoval_numerique.journaux); error reports
# show no POST value and no query string value. gunicorn's access log does the same (gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "personal_data": {"()": "sicoval_numerique.journaux.PersonalDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own configuration would send "django" to an unfiltered mail_admins: ours replaces it.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
    },
}
DEFAULT_EXCEPTION_REPORTER = "sicoval_numerique.journaux.PersonalDataExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "sicoval_numerique.journaux.PersonalDataReporterFilter"

# --- The platform ----------------------------------------------------------------------------------------------
# The territory that runs the platform: an EPCI by SIREN (the Sicoval by default).
TERRITOIRE_EPCI_SIREN = env("TERRITOIRE_EPCI_SIREN", default="243100633")
TERRITOIRE_NOM = env("TERRITOIRE_NOM", default="Sicoval")
PLATFORM_NAME = env("PLATFORM_NAME", default="Sicoval numérique")
# Where people write about accessibility and about their personal data (the accessibility statement, the register
# of processing, the registration form's notice): the territory's own addresses, set per deployment.
CONTACT_ACCESSIBILITE = env("CONTACT_ACCESSIBILITE", default="numerique@sicoval.fr")
CONTACT_DONNEES_PERSONNELLES = env("CONTACT_DONNEES_PERSONNELLES", default="dpo@sicoval.fr")
# The public address of the platform, for the links in e-mails (cancellation, session page) and calendar entries.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Behind a reverse proxy, how many proxies set X-Forwarded-For: the client's IP (login and public-form rate limits)
# is read from there; 0 reads the connection's address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)
# Since 2025 a post left vacant this many months must be returned (DOMAIN.md); policy may change the delay.
POSTE_VACANCE_MAX_MOIS = env.int("POSTE_VACANCE_MAX_MOIS", default=6)
# The first conseillers numériques France Services took up their posts in the spring of 2021 (recruitment opened
# in November 2020): no activity can be dated before the programme's start.
PROGRAMME_DATE_DEBUT = datetime.date.fromisoformat(env.str("PROGRAMME_DATE_DEBUT", default="2020-11-01"))

# Imports: the largest file accepted (bytes).
IMPORT_TAILLE_MAX = env.int("IMPORT_TAILLE_MAX", default=20 * 1024 * 1024)
# Keys that encrypt secrets stored in the database (the Coop's client secret): Fernet keys, comma-separated; the first
# encrypts, all decrypt (rotation: put the new key first, keep the old ones until secrets are saved again). Empty:
# a key derived from DJANGO_SECRET_KEY (fine for a demo; production sets its own, kept apart from the secret key).
CHIFFREMENT_CLES = env.list("CHIFFREMENT_CLES", default=[])
