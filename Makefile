# make demo   example site on http://127.0.0.1:8000 with demo data; prints the admin login
# make test   ruff, migrations check, the whole suite on SQLite (and PostgreSQL with DATABASE_URL)
# make matrix the tox version matrix (TOX_ENVS=... to choose; all of setup.cfg's by default)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
CHROMIUM := /usr/bin/chromium
MANAGE := $(PY) example_site/manage.py
TOX_ENVS ?= ALL

.PHONY: demo test ci-guard lint migrations-check matrix install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installs again only when pyproject.toml changed since the last install.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

$(VENV)/.installed-ci: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,ci]"
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) preferences_demo
	$(MANAGE) runserver 127.0.0.1:8000

test: ci-guard $(VENV)/.installed lint migrations-check
	@echo "== pytest on SQLite"
	env -u DATABASE_URL $(PY) -m pytest
	@if [ -n "$${DATABASE_URL:-}" ]; then \
		echo "== pytest on $${DATABASE_URL%%:*} (DATABASE_URL)"; \
		$(PY) -m pytest; \
	else \
		echo "== DATABASE_URL is not set: no PostgreSQL run"; \
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

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: $(VENV)/.installed
	env -u DATABASE_URL $(PY) -m django makemigrations --check --dry-run --settings=tests.settings
	DATABASE_URL=sqlite://:memory: $(MANAGE) makemigrations --check --dry-run
	DATABASE_URL=sqlite://:memory: $(MANAGE) check

matrix: $(VENV)/.installed-ci
	$(BIN)/tox run -e $(TOX_ENVS)

clean:
	rm -rf $(VENV) .tox example_site/db.sqlite3 example_site/media
