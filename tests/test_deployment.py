"""The deployment files (Dockerfile, docker/entrypoint.sh, docker-compose.yml, .dockerignore) only name things that
exist in the project, and the production settings they select are safe: `check --deploy` is clean, there is no
default secret, the Celery configuration is bounded. Docker itself is not needed: the files are parsed, and what they
run is run here with the same settings, in subprocesses."""

import ast
import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from celery.bin.celery import celery as celery_cli
from django.conf import settings
from django.core.management import get_commands
from django.urls import resolve

from sicoval_numerique.celery import app as celery_app

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat")
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
PRODUCTION = "sicoval_numerique.settings.production"
STRONG_SECRET = "tests-deploy-7f3a9c1e5b2d8f4a6c0e9b7d3f1a5c8e2b4d6f8a0c2e4b6d8f0a1c3e5"
ENCRYPTION_KEY = "q5dZ3n7mYJ4m0VhQX1YdC2mC9e8sV2k3bX6pQ0wR1tA="  # a Fernet key (32 bytes, url-safe base64)
REDIS = "redis://redis:6379/0"
# Variables that docker-compose.yml uses for itself (interpolation), not read by the settings.
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "WEB_PORT", "MAILPIT_UI_PORT"}


# --- reading the files ------------------------------------------------------------------------------------------
def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined, comments left out."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [tuple(line.strip().split(None, 1)) for line in joined.splitlines() if line.strip()]


def dockerfile_exec_form(instruction):
    (arguments,) = [args for name, args in dockerfile_instructions() if name == instruction]
    if instruction == "HEALTHCHECK":
        arguments = arguments.split(" CMD ", 1)[1]
    return json.loads(arguments)


def shell_lines(path):
    return [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]


def service_command(name):
    """What a service runs: its `command`, else the image's CMD."""
    return SERVICES[name].get("command") or dockerfile_exec_form("CMD")


def compose_commands():
    """Every argv that docker-compose.yml runs in the application image, healthchecks included."""
    commands = []
    for name, service in SERVICES.items():
        if service.get("build"):
            commands.append(service_command(name))
            test = service.get("healthcheck", {}).get("test")
            if test and test[0] == "CMD":
                commands.append(test[1:])
            elif test and test[0] == "CMD-SHELL":
                commands.append(shlex.split(test[1].replace("$$", "$")))
    return commands


def app_environment():
    return SERVICES["web"]["environment"]


def interpolate(value, variables):
    """docker compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$."""

    def substitute(match):
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        if variables.get(name):
            return variables[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument or ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", substitute, value).replace("$$", "$")


def settings_variables():
    """Names of the environment variables that the settings read, found in the source: env("X"), env.bool("X")…"""
    names = set()
    for path in (ROOT / "sicoval_numerique" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            function = node.func
            if (isinstance(function, ast.Name) and function.id == "env") or (
                isinstance(function, ast.Attribute)
                and isinstance(function.value, ast.Name)
                and function.value.id == "env"
            ):
                names.add(node.args[0].value)
    return names


def run_django(args, environment, code=None, timeout=120):
    """Run manage.py ARGS (or CODE after django.setup()) in a fresh process with exactly the settings variables given.

    The image has no .env file (.dockerignore); the process does not read the developer's one either, so that its
    values cannot mask what is tested."""
    # The deployment is checked as it runs: nothing of the settings' variables, nor of the test run's own switches.
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in settings_variables() and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    inherited.pop("DJANGO_SETTINGS_MODULE", None)
    bootstrap = "import environ\nenviron.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)\n"
    if code is None:
        bootstrap += "from django.core.management import execute_from_command_line\n"
        bootstrap += f"execute_from_command_line(['manage.py', *{list(args)!r}])\n"
    else:
        bootstrap += "import django\ndjango.setup()\n" + code
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", bootstrap],
        cwd=ROOT,
        env={**inherited, **environment},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def production_env(tmp_path):
    return {
        "DJANGO_SETTINGS_MODULE": PRODUCTION,
        "DJANGO_SECRET_KEY": STRONG_SECRET,
        "CHIFFREMENT_CLES": ENCRYPTION_KEY,
        "DJANGO_ALLOWED_HOSTS": "sicoval-numerique.example,localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }


@pytest.fixture
def compose_env():
    """The application containers' environment as docker compose computes it (a secret given, no .env)."""
    variables = {"DJANGO_SECRET_KEY": STRONG_SECRET, "CHIFFREMENT_CLES": ENCRYPTION_KEY}
    return {key: interpolate(str(value), variables) for key, value in app_environment().items()}


# --- docker-compose.yml -------------------------------------------------------------------------------------------
def test_compose_runs_the_six_services_of_the_stack():
    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(SERVICES)
    assert SERVICES["postgres"]["image"] == "postgres:15"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert SERVICES["mailpit"]["image"].startswith("axllent/mailpit:")
    for name in APP_SERVICES:
        assert SERVICES[name]["build"]["context"] == "."


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and test != ["NONE"], name


def test_services_start_after_what_they_need_is_healthy():
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert SERVICES[dependency].get("healthcheck", {}).get("test"), (name, dependency)
    for name in APP_SERVICES:
        depends_on = SERVICES[name]["depends_on"]
        for dependency in ("postgres", "redis", "mailpit"):
            assert depends_on[dependency] == {"condition": "service_healthy"}, (name, dependency)
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
    assert SERVICES["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_state_lives_in_named_volumes():
    declared = set(COMPOSE["volumes"])
    mounts = {
        (name, volume.split(":")[1]): volume.split(":")[0]
        for name, service in SERVICES.items()
        for volume in service.get("volumes", [])
    }
    # Besides named volumes, only files of the repository, read-only (configuration).
    fichiers = {source for source in mounts.values() if source.startswith("./")}
    assert set(mounts.values()) - fichiers <= declared
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            if volume.startswith("./"):
                assert volume.endswith(":ro") and (ROOT / volume.split(":")[0]).is_file(), (name, volume)
    assert ("postgres", "/var/lib/postgresql/data") in mounts
    assert ("redis", "/data") in mounts


def test_postgresql_runs_with_the_tuning_the_benchmarks_used():
    postgres = SERVICES["postgres"]
    assert postgres["command"] == ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
    assert "./docker/postgresql.conf:/etc/postgresql/postgresql.conf:ro" in postgres["volumes"]
    reglages = {}
    for ligne in (ROOT / "docker" / "postgresql.conf").read_text().splitlines():
        ligne = ligne.split("#")[0].strip()
        if ligne:
            cle, valeur = (part.strip() for part in ligne.split("=", 1))
            reglages[cle] = valeur
    # The other containers reach it over the stack's network; the memory is not the 128 MB default.
    assert reglages["listen_addresses"] == "'*'"
    assert reglages["shared_buffers"].endswith("GB") and postgres["shm_size"] == "1gb"


def test_exactly_one_beat_with_its_schedule_on_a_volume():
    command = service_command("beat")
    assert command[command.index("-A") + 2] == "beat"
    schedule = command[command.index("--schedule") + 1]
    mount_points = [volume.split(":")[1] for volume in SERVICES["beat"]["volumes"]]
    assert str(Path(schedule).parent) in mount_points
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1
    for name in ("web", "worker"):
        assert not {"beat", "-B", "--beat"} & set(service_command(name)), f"{name} must not embed a beat"


def test_compose_environment_points_at_the_stack_and_requires_a_secret():
    environment = app_environment()
    assert environment["DJANGO_SETTINGS_MODULE"] == PRODUCTION
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/sicoval")
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment["EMAIL_URL"] == "smtp://mailpit:1025"
    assert environment["DJANGO_SECURE_SSL_REDIRECT"] == "False"
    for name in APP_SERVICES + ("migrate",):
        assert SERVICES[name]["env_file"] == ".env"
        assert SERVICES[name]["environment"] == environment
    with pytest.raises(KeyError, match="DJANGO_SECRET_KEY"):
        interpolate(environment["DJANGO_SECRET_KEY"], {})


def test_every_variable_of_compose_is_read_by_the_settings():
    read = settings_variables() | {"DJANGO_SETTINGS_MODULE"}
    assert set(app_environment()) <= read
    interpolated = set(re.findall(r"(?<!\$)\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    assert interpolated - COMPOSE_ONLY_VARIABLES <= read


def test_compose_environment_gives_the_intended_production_settings(compose_env):
    code = (
        "import json\nfrom django.conf import settings as s\n"
        "print(json.dumps({'debug': s.DEBUG, 'db': s.DATABASES['default'], 'cache': s.CACHES['default'],"
        " 'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER, 'email': [s.EMAIL_HOST, s.EMAIL_PORT],"
        " 'ssl_redirect': s.SECURE_SSL_REDIRECT, 'cookie_secure': s.SESSION_COOKIE_SECURE,"
        " 'hosts': s.ALLOWED_HOSTS}, default=str))\n"
    )
    result = run_django([], compose_env, code=code)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is False
    assert values["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (values["db"]["HOST"], values["db"]["PORT"], values["db"]["NAME"]) == ("postgres", 5432, "sicoval")
    assert "pool" in values["db"]["OPTIONS"]
    assert values["cache"]["LOCATION"] == "redis://redis:6379/0"
    assert (values["broker"], values["eager"]) == ("redis://redis:6379/0", False)
    assert values["email"] == ["mailpit", 1025]
    assert (values["ssl_redirect"], values["cookie_secure"]) == (False, True)
    assert "localhost" in values["hosts"]


def test_compose_stack_departs_from_check_deploy_only_by_its_http_redirect(compose_env):
    result = run_django(["check", "--deploy"], compose_env)
    assert result.returncode == 0, result.stderr
    assert set(re.findall(r"\((security\.\w+|[\w.]+\.[EW]\d+)\)", result.stdout + result.stderr)) == {"security.W008"}


# --- what the files run exists ------------------------------------------------------------------------------------
def test_every_manage_py_subcommand_named_is_a_django_command():
    texts = [" ".join(command) for command in compose_commands()]
    texts += [arguments for _, arguments in dockerfile_instructions()]
    texts += shell_lines(ENTRYPOINT)
    named = set(re.findall(r"manage\.py\s+([\w-]+)", "\n".join(texts)))
    assert {"migrate", "load_reference_data", "collectstatic"} <= named
    assert "load_demo" not in named, "demo data is not for production"
    assert named <= set(get_commands())


def test_celery_commands_load_our_app_and_use_real_options():
    commands = [command for command in compose_commands() if command[0] == "celery"]
    assert {command[3] for command in commands} == {"worker", "beat", "inspect"}
    global_options = {option for param in celery_cli.params for option in param.opts}
    for command in commands:
        assert command[1] in ("-A", "--app")
        assert find_app(command[2]) is celery_app
        subcommand = celery_cli.commands[command[3]]
        known = global_options | {option for param in subcommand.params for option in param.opts}
        unknown = {word for word in command[4:] if word.startswith("-") and word not in known}
        assert not unknown, (command, unknown)


def test_gunicorn_cmd_serves_our_wsgi_application_with_three_sync_workers(production_env):
    from gunicorn.config import Config

    command = dockerfile_exec_form("CMD")
    assert command[0] == "gunicorn"
    options = Config().parser().parse_args(command[1:])
    assert options.workers == 3 and options.worker_class == "sync"
    assert options.bind == ["0.0.0.0:8000"] and options.accesslog == "-"
    (application,) = options.args
    module, attribute = application.split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    # gunicorn itself, with the production settings, loads the application and validates the command line.
    check = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "gunicorn", *command[1:], "--check-config"],
        cwd=ROOT,
        env={**os.environ, **production_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_settings_module_named_exists():
    named = {
        arguments.split("DJANGO_SETTINGS_MODULE=")[1].split()[0]
        for name, arguments in dockerfile_instructions()
        if name == "ENV" and "DJANGO_SETTINGS_MODULE=" in arguments
    }
    named |= {
        service["environment"]["DJANGO_SETTINGS_MODULE"]
        for service in SERVICES.values()
        if "DJANGO_SETTINGS_MODULE" in service.get("environment", {})
    }
    assert named == {PRODUCTION}
    assert importlib.util.find_spec(PRODUCTION) is not None


def test_files_run_by_the_image_exist_and_the_entrypoint_is_sound():
    instructions = dockerfile_instructions()
    assert not [name for name, _ in instructions if name == "ENTRYPOINT"]
    assert ("WORKDIR", "/app") in instructions
    run_paths = [
        word
        for command in compose_commands() + [dockerfile_exec_form("CMD")]
        for word in command
        if word.startswith("/app/")
    ]
    assert "/app/docker/entrypoint.sh" in run_paths
    for path in run_paths:
        assert (ROOT / path.removeprefix("/app/")).is_file(), path
    for name, arguments in instructions:
        if name == "COPY" and "--from" not in arguments:
            assert (ROOT / arguments.split()[0]).exists(), arguments
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    assert os.access(ENTRYPOINT, os.X_OK) or "chmod 0755 /app/docker/entrypoint.sh" in (ROOT / "Dockerfile").read_text()
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)  # noqa: S603, S607
    assert 'exec "$@"' in ENTRYPOINT.read_text()


def test_dockerfile_builds_a_slim_multi_stage_image_run_by_a_non_root_user():
    instructions = dockerfile_instructions()
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in text
    stages = [arguments for name, arguments in instructions if name == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in instructions
    users = [arguments for name, arguments in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in instructions
    (collectstatic,) = [arguments for name, arguments in instructions if name == "RUN" and "collectstatic" in arguments]
    assert "DJANGO_SECRET_KEY=" in collectstatic and "--noinput" in collectstatic
    assert not any("SECRET" in arguments for name, arguments in instructions if name in ("ENV", "ARG"))


def test_the_healthchecks_of_the_web_ask_healthz():
    image_probe = dockerfile_exec_form("HEALTHCHECK")
    compose_probe = SERVICES["web"]["healthcheck"]["test"]
    assert image_probe[:2] == ["python", "-c"] and compose_probe == ["CMD", *image_probe]
    compile(image_probe[2], "<healthcheck>", "exec")
    assert "http://127.0.0.1:8000/healthz" in image_probe[2]
    assert resolve("/healthz").url_name == "healthz"


def dockerignore_matcher():
    """Docker's .dockerignore rules: * and ? stay inside one path segment, ** crosses them, a pattern that matches a
    directory excludes what it holds, the last matching pattern wins, ! re-includes."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for token in re.findall(r"\*\*/|\*\*|\*|\?|\[[^]]*\]|.", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, token if token.startswith("[") else re.escape(token)
            )
        rules.append((re.compile(regex), negated))

    def excluded(path):
        parts = path.split("/")
        candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        result = False
        for regex, negated in rules:
            if any(regex.fullmatch(candidate) for candidate in candidates):
                result = not negated
        return result

    return excluded


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    excluded = dockerignore_matcher()
    for path in (
        ".env",
        ".env.production",
        "db.sqlite3",
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "staticfiles/css/app.css",
        "accounts/__pycache__/models.cpython-311.pyc",
        "node_modules/x/y.js",
    ):
        assert excluded(path), path
    for path in (
        "manage.py",
        "requirements.txt",
        "docker/entrypoint.sh",
        "sicoval_numerique/wsgi.py",
        "sicoval_numerique/settings/production.py",
        "static/css/app.css",
        "templates/base.html",
    ):
        assert not excluded(path), path
    context = []
    for directory, subdirectories, files in os.walk(ROOT):
        relative = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if relative == "." else relative + "/"
        subdirectories[:] = [name for name in subdirectories if not excluded(prefix + name)]
        context += [prefix + name for name in files if not excluded(prefix + name)]
    assert not [path for path in context if Path(path).name.startswith(".env") or path.endswith(".sqlite3")]
    fixtures = [path.relative_to(ROOT).as_posix() for path in (ROOT / "structures" / "fixtures").iterdir()]
    assert set(fixtures) <= set(context), "load_reference_data needs its bundled files in the image"


# --- production settings -------------------------------------------------------------------------------------------
def test_check_deploy_is_clean_with_production_settings(production_env):
    # Production has its Redis: the login rate limits are shared by every process (nothing connects to it here).
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], {**production_env, "REDIS_URL": REDIS})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_the_rate_limits_would_be_counted_per_process(production_env):
    result = run_django(["check", "--deploy"], production_env)  # no REDIS_URL: a local-memory cache
    assert "accounts.W001" in result.stdout + result.stderr


@pytest.mark.parametrize("secret", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_production_settings_refuse_to_load_without_a_secret_key(production_env, secret):
    environment = {key: value for key, value in production_env.items() if key != "DJANGO_SECRET_KEY"}
    if secret is not None:
        environment["DJANGO_SECRET_KEY"] = secret
    result = run_django(["check"], environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_production_redirects_to_https_except_the_health_probe(production_env):
    code = (
        "from django.test import Client\nclient = Client()\n"
        "health = client.get('/healthz', HTTP_HOST='localhost')\n"
        "home = client.get('/', HTTP_HOST='localhost')\n"
        "print(health.status_code, home.status_code, home.headers.get('Location'))\n"
    )
    result = run_django([], production_env, code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "301", "https://localhost/"]


def test_production_celery_configuration_is_bounded_and_its_beat_sends_registered_tasks(production_env):
    code = (
        "import json\nfrom sicoval_numerique.celery import app\napp.loader.import_default_modules()\n"
        "keys = ['task_serializer', 'result_serializer', 'accept_content', 'task_acks_late',"
        " 'task_reject_on_worker_lost', 'task_time_limit', 'task_soft_time_limit', 'broker_connection_timeout',"
        " 'broker_transport_options', 'task_always_eager', 'worker_prefetch_multiplier']\n"
        "conf = {key: app.conf[key] for key in keys}\n"
        "conf['beat_tasks'] = sorted(entry['task'] for entry in app.conf.beat_schedule.values())\n"
        "conf['registered'] = sorted(app.tasks)\nprint(json.dumps(conf))\n"
    )
    result = run_django([], {**production_env, "REDIS_URL": "redis://redis:6379/0"}, code=code)
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["task_serializer"] == conf["result_serializer"] == "json"
    assert conf["accept_content"] == ["json"]
    assert conf["task_acks_late"] is True and conf["task_reject_on_worker_lost"] is True
    assert 0 < conf["task_soft_time_limit"] < conf["task_time_limit"]
    assert 0 < conf["broker_connection_timeout"] <= 5
    transport = conf["broker_transport_options"]
    assert 0 < transport["socket_timeout"] <= 5 and 0 < transport["socket_connect_timeout"] <= 5
    assert conf["task_always_eager"] is False
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["beat_tasks"], "the beat schedule is empty"
    assert set(conf["beat_tasks"]) <= set(conf["registered"])
    assert "accounts.tasks.sessions_clear_expired" in conf["beat_tasks"]


def test_check_deploy_warns_when_secrets_would_be_encrypted_with_a_key_derived_from_the_secret_key(production_env):
    result = run_django(["check", "--deploy"], {**production_env, "CHIFFREMENT_CLES": ""})
    assert "imports.W001" in result.stdout + result.stderr
