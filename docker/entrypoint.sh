#!/bin/sh
# Prepares the database for a deployment, then runs its arguments (if any).
#
# Used by the one-shot "migrate" service of docker-compose.yml, which web, worker and beat wait for
# (depends_on: condition: service_completed_successfully). Why a separate one-shot service rather than the web
# container's entrypoint: migrations must run once per deployment, before any process uses the new schema. Run from
# every web container they would race as soon as web is scaled out (docker compose up --scale web=3), and worker and
# beat could start on a schema that is not there yet. Any other orchestrator runs it the same way, as a release or
# init step: `docker run --rm --env-file .env IMAGE /app/docker/entrypoint.sh`.
#
# Steps: wait for the database (DATABASE_WAIT_TIMEOUT seconds, 60 by default), apply the migrations, load the
# territory's reference data (communes and EPCIs; idempotent). Demo data is never loaded here: not for production.
# With arguments, it then becomes them (exec), e.g. `entrypoint.sh gunicorn sicoval_numerique.wsgi:application`.
set -eu

cd "$(dirname "$0")/.."

echo "entrypoint: attente de la base de données…"
# The connection pool is left out of this short-lived check, so that a failure shows psycopg's own message.
DATABASE_POOL=false python - <<'PY'
import os
import sys
import time

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.utils import OperationalError  # noqa: E402

timeout = float(os.environ.get("DATABASE_WAIT_TIMEOUT", "60"))
if connection.vendor == "postgresql":
    # A host that drops packets must not hang one attempt past the deadline.
    connection.settings_dict["OPTIONS"].setdefault("connect_timeout", 5)
deadline = time.monotonic() + timeout
while True:
    try:
        connection.ensure_connection()
    except OperationalError as error:
        if time.monotonic() >= deadline:
            sys.exit(f"entrypoint: base de données injoignable après {timeout:.0f} s : {error}")
        time.sleep(1)
    else:
        connection.close()
        break
PY

echo "entrypoint: migrations…"
python manage.py migrate --noinput

echo "entrypoint: données de référence du territoire…"
python manage.py load_reference_data

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
