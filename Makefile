# The verbs people type. `make run` and `make test` work on a fresh clone with only
# Python 3.11+ and make: they build the environment in .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# gunicorn's processes and threads: gunicorn.conf.py's defaults unless set here.
WORKERS ?=
THREADS ?=
# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint admin bench bench-quality clean browser backup restore fuzz load

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
	@echo "Beheer (Django admin): http://$(HOST):$(PORT)/$(or $(ADMIN_URL),admin/)"
	@echo "Een beheerdersaccount maak je in een tweede terminal met: make admin"
	@echo
	SECRET_KEY="$$(cat .secret_key)" $(if $(WORKERS),WEB_WORKERS=$(WORKERS)) \
		$(if $(THREADS),WEB_THREADS=$(THREADS)) \
		$(BIN)/gunicorn archive.wsgi --config gunicorn.conf.py --bind $(HOST):$(PORT)

admin: $(VENV)/.installed
	$(BIN)/python manage.py createsuperuser

# Test-only JavaScript: axe-core for the accessibility tests, again when the lock changes.
node_modules/.installed: package.json $(wildcard package-lock.json)
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the accessibility tests will be skipped (install Node.js 18+)"; \
	elif [ -f package-lock.json ]; then \
		echo "npm ci (axe-core for the accessibility tests)"; \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		npm install --no-audit --no-fund --loglevel=error && touch $@; \
	fi

# Chromium for the browser tests: installed once with apt-get when we are root (CI, a
# container); otherwise those tests skip and say why.
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		mkdir -p test-artifacts; \
		echo "Installing Debian's chromium for the browser tests (log: test-artifacts/apt-chromium.log)"; \
		if { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
				>test-artifacts/apt-chromium.log 2>&1; then \
			echo "Installed: $$("$(CHROMIUM)" --version 2>/dev/null || echo "no $(CHROMIUM) still")"; \
		else \
			tail -n 15 test-artifacts/apt-chromium.log; \
			echo "Could not install chromium: the browser tests will be skipped"; \
		fi; \
	else \
		echo "No Chromium at $(CHROMIUM) and not root: the browser tests will be skipped"; \
		echo "  (as root: apt-get install chromium; or CHROMIUM=/path/to/chromium make test)"; \
	fi

test: $(VENV)/.installed node_modules/.installed browser
	KRONIEK_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The archive at each size in SIZES (generated pieces; 10000 when unset), in databases of
# their own under .bench/, served by gunicorn and measured over HTTP beside Tantivy;
# writes docs/benchmarks.md. Smoke run: make bench BENCH_ARGS=--smoke
SIZES ?=
RUNS ?= 50
DURATION ?= 20
# Then bulk import at each size in IMPORT_SIZES (10000 when unset) from a generated JSON
# Lines file into an empty archive of its own, stopped half way and resumed, and the
# editor's saves on it: the "Bulk import and editing" section of docs/benchmarks.md.
IMPORT_SIZES ?=
IMPORT_ARGS ?=
bench: $(VENV)/.installed
	$(BIN)/python manage.py benchmark $(SIZES) --runs $(RUNS) --duration $(DURATION) $(BENCH_ARGS)
	$(BIN)/python manage.py bench_import $(IMPORT_SIZES) $(IMPORT_ARGS)

# Search quality (known-item queries) and latency on ../shared/corpus, in this process and
# inside one transaction that is rolled back: the archive is left as it was.
bench-quality: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py bench_search $(BENCH_ARGS)

# The whole database (embedded, or DATABASE_URL's) to backups/kroniek-<UTC time>.dump with
# pg_dump; BACKUP=path chooses the file (a folder: the dated name inside it).
backup: $(VENV)/.installed
	$(BIN)/python manage.py backup $(if $(BACKUP),--file "$(BACKUP)")

# A backup back into the configured database, all in one transaction: make restore
# BACKUP=backups/kroniek-....dump (asks first; YES=1 does not).
restore: $(VENV)/.installed
	$(BIN)/python manage.py restore $(if $(BACKUP),"$(BACKUP)") $(if $(filter 1 yes true,$(YES)),--yes)

# Every public URL fed FUZZ_EXAMPLES generated requests (the test suite runs a fixed few
# hundred); a failure found is kept in .hypothesis/ and tried first the next run.
FUZZ_EXAMPLES ?= 20000
fuzz: $(VENV)/.installed
	FUZZ_PROFILE=deep FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_fuzz.py -q $(PYTEST_ARGS)

# The archive driven past its capacity and back, in a database of its own under .bench/;
# prints a Markdown report. The database stopped mid-burst: make load LOAD_ARGS=--fault
LOAD_ARGS ?=
load: $(VENV)/.installed
	$(BIN)/python manage.py loadtest $(LOAD_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache node_modules test-artifacts
