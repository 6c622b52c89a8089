# Two commands on a fresh machine: `make run` (serve the demo on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run serve install install-dev migrate demo test lint format check-migrations audit worker beat clean bench-data bench bench-drop bench-postgresql

help:
	@echo "make run    — installe, migre, charge la démonstration du Sicoval et sert http://$(HOST):$(PORT)"
	@echo "make test   — installe les outils de test, vérifie ruff et les migrations, lance toute la suite"
	@echo "make audit  — vulnérabilités connues des dépendances (pip-audit) et analyse de sécurité du code (bandit)"
	@echo "make worker / make beat — un worker Celery / le beat (avec REDIS_URL défini)"
	@echo "make bench-data / make bench / make bench-drop — jeu de données national (PostgreSQL), bancs d'essai, suppression"
	@echo "make bench-postgresql — donne au PostgreSQL local les réglages de docker/postgresql.conf (puis le redémarre)"

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 ou plus récent est requis"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: install-dev
	DJANGO_SETTINGS_MODULE=sicoval_numerique.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Known vulnerabilities of the pinned dependencies, from PyPI's JSON API (each pin is read as written: the file is
# complete, so pip-audit needs no resolver nor throwaway venv), and bandit's medium-or-worse findings in our own code
# ([tool.bandit] in pyproject.toml). Either fails the target. A vulnerability with no fixed release yet is ignored
# only by its id, with the reason next to it, e.g. PIP_AUDIT_IGNORES := --ignore-vuln GHSA-xxxx-xxxx-xxxx
# (<package>: why it does not reach us, until when). None today.
# When PyPI's per-release JSON (where the advisories are) cannot be read from this machine (this workplace's PyPI
# answers 404 there, and OSV's API is not reachable), pip-audit cannot audit anything: the target then says so
# loudly and lets bandit decide, instead of failing on every dependency.
PIP_AUDIT_IGNORES :=
PIP_AUDIT_PROBE := https://pypi.org/pypi/django/$(shell sed -n 's/^Django==//p' requirements.txt)/json
audit: install-dev
	@if probe=$$($(BIN)/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=15)' \
		"$(PIP_AUDIT_PROBE)" 2>&1); then \
		$(BIN)/pip-audit --strict --vulnerability-service pypi --progress-spinner off --requirement requirements.txt \
			--no-deps --disable-pip $(PIP_AUDIT_IGNORES); \
	else \
		echo "AVERTISSEMENT : pip-audit n'a vérifié aucune dépendance : les avis de sécurité de PyPI ne se lisent pas"; \
		echo "depuis cette machine ($(PIP_AUDIT_PROBE) : $$(echo "$$probe" | tail -n 1))."; \
	fi
	$(BIN)/bandit --quiet --recursive . --configfile pyproject.toml --severity-level medium --confidence-level medium

test: lint check-migrations
	$(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A sicoval_numerique worker -l info

beat: install
	$(BIN)/celery -A sicoval_numerique beat -l info

# National-scale benchmarks (PostgreSQL and Redis on 127.0.0.1; BENCH_DATABASE_URL chooses the database).
benchmarks/node_modules/.package-lock.json: benchmarks/package-lock.json
	npm ci --prefix benchmarks --no-audit --no-fund

bench-data: install-dev benchmarks/node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.generer

bench: install-dev
	command -v wrk >/dev/null || { echo "wrk manque : apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m benchmarks.lancer $(SCENARIOS)

bench-postgresql: install-dev
	$(BIN)/python -m benchmarks.postgresql

bench-drop: install-dev
	$(BIN)/python -m benchmarks.generer --supprimer

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache db.sqlite3
