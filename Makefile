# Every target the README and CI use. `make lab` and `make test` set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# A classroom with no network: `make wheelhouse` where there is one, then
# `make lab PIP_OFFLINE=1` installs from wheelhouse/ only (see INSTRUCTORS.md).
WHEELHOUSE ?= wheelhouse
PIP_SOURCE := $(if $(PIP_OFFLINE),--no-index --find-links $(WHEELHOUSE))

.PHONY: help setup lab services services-stop test test-fast lint typecheck format data lock exercises wheelhouse clean bench bench-smoke bench-postgres

help:
	@echo "make lab        trust the solved notebooks, start JupyterLab on notebooks/exercises/"
	@echo "make services   start the project's PostgreSQL server (127.0.0.1 only; prints its URL)"
	@echo "make services-stop  stop it (its data stays under .services/)"
	@echo "make test       run every test: unit, property, CLI, doctests, notebooks (nbval), browser"
	@echo "make test-fast  the same without the notebooks and the browser"
	@echo "make lint       ruff check and format check, mypy, the import contracts"
	@echo "make data       regenerate data/ byte for byte"
	@echo "make exercises  regenerate the learner notebooks from the solved ones"
	@echo "make wheelhouse download every pinned package into wheelhouse/ for offline classes"
	@echo "make bench      benchmark against the peers (SIZE=1M by default; SIZE=10M for the full run)"
	@echo "make bench-postgres  the PostgreSQL backend against eventsourcing's, same server"

# The venv is rebuilt when the pinned lock or the project metadata change.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "eventsim needs Python >= 3.11, found " + sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PIP_SOURCE) --upgrade pip
	$(PY) -m pip install --quiet $(PIP_SOURCE) -r requirements.lock
	$(PY) -m pip install --quiet $(PIP_SOURCE) --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Jupyter's token stays on: the URL it prints carries it. Only root (containers, some
# classroom VMs) needs --allow-root, which Jupyter otherwise refuses to start without.
# The solved notebooks are trusted first: JupyterLab shows an untrusted notebook's saved
# widgets and HTML as plain text. The lab opens on the learner copies, where a learner starts.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup
	$(VENV)/bin/jupyter trust notebooks/*.ipynb
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --LabApp.default_url=/lab/tree/exercises \
		--ServerApp.ip=127.0.0.1 $(ALLOW_ROOT)

# The servers come from wheels (no Docker, no system package); the tests start their own.
services: setup
	$(PY) -m eventsim.services start

services-stop: setup
	$(PY) -m eventsim.services stop

# tests/browser drives JupyterLab in the system Chromium (apt-get install chromium).
test: setup
	$(PY) -m pytest --nbval

test-fast: setup
	$(PY) -m pytest --ignore=tests/browser

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

data: setup
	$(PY) -m eventsim generate bank --accounts 300 --days 120 --seed 42 --start 2024-01-01 --out data/bank.parquet
	$(PY) -m eventsim generate orders --orders 400 --days 120 --seed 42 --start 2024-01-01 --out data/orders.parquet

# The benchmark writes benchmarks/RESULTS.md; the smoke (also inside make test) writes nothing.
SIZE ?= 1M
REPEATS ?= 3
bench: setup
	$(PY) -m benchmarks --size $(SIZE) --repeats $(REPEATS)

bench-smoke: setup
	$(PY) -m pytest -q tests/test_benchmarks.py

bench-postgres: setup
	$(PY) -m benchmarks.postgres

exercises: setup
	$(PY) tools/make_exercises.py

# Every pinned package, plus what building eventsim itself needs, for this platform.
wheelhouse: setup
	$(PY) -m pip download --quiet --dest $(WHEELHOUSE) -r requirements.lock pip 'setuptools>=77'

# Re-pin: resolve the newest versions the project allows and write them to the lock.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[lab,test,bench]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^eventsim' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
