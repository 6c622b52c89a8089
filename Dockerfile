# syntax=docker/dockerfile:1
#
# Production image of Sicoval numérique: one image for every process of the stack (see docker-compose.yml).
#   web     the default CMD below (gunicorn)
#   worker  celery -A sicoval_numerique worker -l info
#   beat    celery -A sicoval_numerique beat -l info   (exactly one)
#   setup   /app/docker/entrypoint.sh                  (waits for the database, migrates, loads reference data)
# Configuration comes only from environment variables (django-environ); nothing secret is baked in.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the dependencies in a virtualenv, built once and copied as a whole -----------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every requirement ships a wheel (psycopg[binary] brings its own libpq): no compiler, no -dev package needed.
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# --- runtime --------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=sicoval_numerique.settings.production

# WeasyPrint (the PDF reports) draws text with Pango and subsets fonts with HarfBuzz: the libraries and a font
# family (DejaVu, which the charts' sans-serif resolves to) come from Debian, without their recommends.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A non-root user. The code stays owned by root, so the processes cannot modify it; the only writable place is the
# directory of celery beat's schedule (a volume in docker-compose.yml).
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0755 /var/lib/celery

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
COPY . /app

# Static files are collected (and compressed, with a manifest, by WhiteNoise) at build time. The production settings
# refuse to load without DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS: the dummy values below exist only in this RUN
# command (they are not ENV, so they do not stay in the image) and serve no request.
RUN DJANGO_SECRET_KEY="build-only-collectstatic-key-never-used-at-runtime-0123456789abcdef" \
    DJANGO_ALLOWED_HOSTS="localhost" \
    python manage.py collectstatic --noinput \
    && chmod 0755 /app/docker/entrypoint.sh

USER app

EXPOSE 8000

# No curl in the slim image: Python's urllib asks /healthz (which queries the database). Django answers 400 to an
# unknown Host header, so the probe sends the first entry of DJANGO_ALLOWED_HOSTS (a leading dot, as in
# ".example.org", is dropped; "*" means any host).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; hosts = [h.strip().lstrip('.') for h in os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',') if h.strip() and '*' not in h]; request = urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': hosts[0] if hosts else 'localhost'}); urllib.request.urlopen(request, timeout=4).read()"]

# 3 sync workers: measured as the best setting on 2 cores (more made it slower). Access log on stdout.
CMD ["gunicorn", "sicoval_numerique.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--worker-class", "sync", \
     "--timeout", "30", \
     "--graceful-timeout", "30", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--no-control-socket", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
