# Two commands do everything on a fresh machine:
#   make demo   set up, generate the demo extracts, run nightly_refresh once, print a summary
#   make test   set up and run the full test suite
# Configuration: see .env (every variable can be overridden from the environment).

include .env
export WAREHOUSE_DATA_DIR WAREHOUSE_SCALE WAREHOUSE_SEED WAREHOUSE_DUCKDB_MEMORY_LIMIT
# One project-local Dagster instance, shared by `make demo` and `make ui`.
export DAGSTER_HOME := $(CURDIR)/data/dagster_home

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
MANIFEST := dbt_project/target/manifest.json

.PHONY: setup demo test ui clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME) && cp $< $@

setup: $(STAMP) $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

demo: setup
	$(BIN)/python -m orchestration.demo

test: setup
	$(BIN)/python -m pytest

ui: setup
	$(BIN)/dagster dev

clean:
	rm -rf data dbt_project/target dbt_project/logs
