# Voltwatch — `make run` starts the platform, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test bench lint format messages clean-data help chromium wrk lock mysql-headers

help:
	@echo "make run    start the whole platform on embedded defaults (http://localhost:8000/)"
	@echo "make test   install the dev requirements and run the whole test suite"
	@echo "make bench  run the benchmarks under bench/ and print their figures"
	@echo "make lint   ruff check + format check"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

# mysqlclient (the charging sources' MySQL driver) compiles against MariaDB Connector/C: Debian's
# libmariadb-dev, installed here when pkg-config does not find it.
mysql-headers:
	@pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || { \
	  echo "Installing MariaDB Connector/C headers from Debian's packages (for mysqlclient)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev pkg-config >/dev/null; }

$(VENV)/.run-installed: $(BIN)/python requirements/base.txt requirements/embedded.txt | mysql-headers
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/embedded.txt
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python requirements/base.txt requirements/embedded.txt requirements/dev.txt | mysql-headers
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	@touch $(VENV)/.run-installed $@

run: $(VENV)/.run-installed
	$(BIN)/python -m config.launcher

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium from Debian's packages for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.dev-installed chromium
	$(BIN)/python -m pytest

# wrk: the fleet bench's heartbeat load generator (in C, so that it leaves the 2 cores to the server).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing wrk from Debian's packages for the benchmarks"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

bench: $(VENV)/.dev-installed wrk
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Every dependency, transitive ones included, is locked with its hashes: requirements/*.in say what we
# ask for, requirements/*.txt what installs. Edit an .in file, then run this.
lock: $(VENV)/.dev-installed
	cd requirements && for name in base embedded dev; do \
	  ../$(BIN)/uv pip compile $$name.in --quiet --generate-hashes --universal --python-version 3.11 \
	    --custom-compile-command "make lock" -o $$name.txt; done

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(VENV)/.dev-installed
	$(BIN)/python manage.py makemessages -l fr --ignore=.venv --ignore=static/vendor
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean-data:
	rm -rf .data
