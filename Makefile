# The verbs people type. `make run` and `make test` work on a fresh clone with only
# Python 3.11+ and make: they build the environment in .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test lint admin bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Kroniek needs Python 3.11 or newer; set PYTHON=python3.12 (or similar)"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# A real key for the local server, made once and kept out of git.
.secret_key:
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

run: $(VENV)/.installed .secret_key
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py loaddata seed_articles
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "Kroniek draait op http://$(HOST):$(PORT)/  (stoppen: Ctrl-C)"
	@echo "Beheer (Django admin): http://$(HOST):$(PORT)/admin/"
	@echo "Een beheerdersaccount maak je in een tweede terminal met: make admin"
	@echo
	SECRET_KEY="$$(cat .secret_key)" $(BIN)/gunicorn archive.wsgi \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile -

admin: $(VENV)/.installed
	$(BIN)/python manage.py createsuperuser

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
