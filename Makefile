# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The newcomer's commands run the app in development mode (tracebacks on error pages, a
# dev key kept in var/). Everywhere else DEBUG is off unless set: wishlist/settings.py.
# `DEBUG=0 SECRET_KEY=... ALLOWED_HOSTS=... make run` tries the production settings.
DEBUG ?= 1
export DEBUG

.PHONY: run test lint format install migrate demo clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# uv installs the same pinned requirements faster than pip (bench/newcomer_start.sh times
# both; README, "Two commands"). It is itself a pinned PyPI package, put into the
# virtualenv by pip, so nothing outside the project is needed; if it cannot be had or
# fails, pip does the work. uv leaves bytecode to the first import unless told, which
# would only move the time into the first `make demo`.
UV_VERSION = 0.13.9

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	@echo "Installing the pinned requirements into $(VENV) (uv, or pip if uv fails)..."
	@if $(BIN)/pip install --quiet uv==$(UV_VERSION) \
		&& $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python \
			-r requirements-dev.txt; then \
		echo "Installed with uv."; \
	else \
		echo "uv failed; installing with pip instead (a few minutes)."; \
		$(BIN)/pip install --quiet --upgrade pip \
		&& $(BIN)/pip install --quiet -r requirements-dev.txt; \
	fi
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The address to open: a server listening on every interface is reached on loopback.
URL_HOST = $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
BASE_URL = http://$(URL_HOST):$(PORT)
# Demo passwords are kept across runs; RESET_DEMO_PASSWORDS=1 make run gives new ones.
RESET_DEMO_PASSWORDS ?=

demo: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py create_demo_users --base-url $(BASE_URL) \
		$(if $(filter 1 yes true,$(RESET_DEMO_PASSWORDS)),--reset)

run: demo
	@echo "Serving Wishlist on $(BASE_URL)/ (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
