# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test lint format translations clean

install: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cần Python 3.11 trở lên (đang dùng %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# English catalogue: Vietnamese is the source language.
translations: $(VENV)/.installed
	@$(BIN)/pybabel compile --use-fuzzy -d survey/translations

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host $(HOST) --port $(PORT)

# Two pytest-xdist workers (each with its own SQLite files, PostgreSQL database, Chromium and
# ports); `make test PYTEST_ARGS=` runs in one process, `PYTEST_ARGS='-n auto'` on more cores.
PYTEST_ARGS ?= -n 2

test: install lint
	$(BIN)/pytest $(PYTEST_ARGS)

# ruff (lint and format), the import contracts of pyproject.toml, mypy (strict on analysis/).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract the messages after changing user-facing strings, then translate the .po file.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o survey/translations/messages.pot .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
