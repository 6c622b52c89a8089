"""A real Celery worker for the tests that need one: a separate process (pool solo) consuming a queue of its own on
a Redis database of its own, against the database of the running test. Parallel runs and a developer's worker on the
same Redis never take each other's messages."""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from django.conf import settings
from django.db import connection

REDIS_TEST_DB = 14
WORKER_START_TIMEOUT = 20
TASK_TIMEOUT = 30


def redis_url(db):
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def database_url_of_this_test():
    """DATABASE_URL of the database this test runs on (the test database, test_…), for the worker process."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@contextmanager
def celery_worker(tmp_path, *, prefix, settings_module="sicoval_numerique.settings.test", env=None):
    """Start a worker and yield (queue, log path); it is always stopped, its log printed (pytest shows it when the
    test fails) and its queue removed from Redis. ``env`` adds variables (the queue is in ``TEST_CELERY_QUEUE``)."""
    queue = f"{prefix}-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "TEST_CELERY_QUEUE": queue,
        "CELERY_USE_BROKER_IN_TESTS": "1",
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": redis_url(REDIS_TEST_DB),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "sicoval_numerique", "worker", "--pool=solo", "-c", "1",
               "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-Q", queue,
               "-n", f"{queue}@%h"]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        ready = wait_for(lambda: " ready." in log_path.read_text() or process.poll() is not None, WORKER_START_TIMEOUT)
        assert ready and process.poll() is None, "le worker n'a pas démarré :\n" + log_path.read_text()
        yield queue, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        print(log_path.read_text())  # shown by pytest when the test fails
        client = redis.Redis.from_url(redis_url(REDIS_TEST_DB), socket_connect_timeout=2, socket_timeout=2)
        leftovers = list(client.scan_iter(match=f"*{queue}*"))
        if leftovers:
            client.delete(*leftovers)
