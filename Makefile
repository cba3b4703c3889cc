# make demo   example site on http://127.0.0.1:8000 (PORT=... for another) with demo data; prints the admin login
# make test   ruff, migrations check, the whole suite on SQLite (and PostgreSQL with DATABASE_URL)
# make matrix the tox version matrix (TOX_ENVS=... to choose; all of setup.cfg's by default)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CHROMIUM := /usr/bin/chromium
MANAGE := $(PY) example_site/manage.py
TOX_ENVS ?= ALL
PORT ?= 8000
DEMO_URL := http://127.0.0.1:$(PORT)
# tox looks for each environment's Python (python3.11, python3.13, ...) on PATH; pyenv's
# interpreters are offered to it too, since pyenv's shims answer only for the active version.
PYENV_PYTHONS := $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.1[1-9]*/bin/python3)

.PHONY: demo test ci-guard lint migrations-check matrix install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installs again only when pyproject.toml changed since the last install.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,workers]"
	touch $@

$(VENV)/.installed-ci: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,ci]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	WAGTAILADMIN_BASE_URL=$(DEMO_URL) $(MANAGE) preferences_demo
	WAGTAILADMIN_BASE_URL=$(DEMO_URL) $(MANAGE) runserver 127.0.0.1:$(PORT)

# Tests marked postgres run only in the PostgreSQL run; without DATABASE_URL they are skipped
# (and fail on CI, where ci-guard stops earlier anyway).
test: ci-guard $(VENV)/.installed lint migrations-check
	@if [ -n "$${DATABASE_URL:-}" ]; then \
		echo "== pytest on SQLite (the postgres-marked tests run in the next step)"; \
		env -u DATABASE_URL $(PY) -m pytest -m "not postgres" && \
		echo "== pytest on $${DATABASE_URL%%:*} (DATABASE_URL)" && \
		$(PY) -m pytest; \
	else \
		echo "== pytest on SQLite; DATABASE_URL is not set: no PostgreSQL run"; \
		env -u DATABASE_URL $(PY) -m pytest; \
	fi

# On CI nothing may be skipped for want of a service: fail at once, saying what is missing.
ci-guard:
	@if [ "$${CI:-}" = "true" ] && [ -z "$${DATABASE_URL:-}" ]; then \
		echo "make test: CI=true but DATABASE_URL is not set; CI runs the suite on PostgreSQL too." >&2; \
		exit 1; \
	fi
	@if [ "$${CI:-}" = "true" ] && [ ! -x $(CHROMIUM) ]; then \
		echo "make test: CI=true but $(CHROMIUM) is missing; CI runs the browser tests." >&2; \
		exit 1; \
	fi
	@if [ "$${CI:-}" = "true" ] && ! command -v redis-server >/dev/null; then \
		echo "make test: CI=true but redis-server is missing; CI runs the Redis tests." >&2; \
		exit 1; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: $(VENV)/.installed
	env -u DATABASE_URL $(PY) -m django makemigrations --check --dry-run --settings=tests.settings
	DATABASE_URL=sqlite://:memory: $(MANAGE) makemigrations --check --dry-run
	DATABASE_URL=sqlite://:memory: $(MANAGE) check

matrix: $(VENV)/.installed-ci
	$(BIN)/tox run -e $(TOX_ENVS) $(if $(PYENV_PYTHONS),--discover $(PYENV_PYTHONS))

clean:
	rm -rf $(VENV) .tox example_site/db.sqlite3 example_site/media
