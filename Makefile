# Two commands do everything on a fresh machine:
#   make demo   set up, generate the demo extracts, run nightly_refresh once, print a summary
#   make test   set up and run the full test suite
# Configuration: defaults.env; any variable set in the environment (or on the command line) wins.

# `VAR ?= default` for each line of defaults.env: a value from the environment is kept.
SETTINGS := $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' defaults.env)
$(foreach setting,$(SETTINGS),$(eval $(setting) ?= $(shell sed -n 's/^$(setting)=//p' defaults.env)))
export $(SETTINGS)
# One project-local Dagster instance, shared by `make demo` and `make ui`, inside the data directory.
export DAGSTER_HOME ?= $(abspath $(WAREHOUSE_DATA_DIR))/dagster_home

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every package pinned (make lock writes it from pyproject.toml): a fresh clone installs what CI ran.
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha1sum | cut -c1-12)
# The Spark engine's packages (pyspark, dbt-spark), pinned beside the rest: for make test and
# WAREHOUSE_ENGINE=spark only, so a DuckDB-only install stays half a gigabyte smaller.
SPARK_LOCK := requirements-spark.lock
SPARK_STAMP := $(VENV)/.spark-$(shell cat $(SPARK_LOCK) | sha1sum | cut -c1-12)
MANIFEST := dbt_project/target/manifest.json

.PHONY: setup-spark spark-cluster spark-cluster-stop end-rollback lock notebooks-report setup instance demo test test-fast lint format ui serve notebooks dashboard reload versions rollback clean config docs docs-serve dbt browser postgres

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

$(SPARK_STAMP): $(STAMP) $(SPARK_LOCK)
	$(BIN)/python -m pip install --quiet -r $(SPARK_LOCK)
	rm -f $(VENV)/.spark-* && touch $@

$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/seeds dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet --vars "$$(../$(BIN)/python -m config.settings --dbt-vars)"

# $(DAGSTER_HOME)/dagster.yaml from orchestration/dagster.yaml, on PostgreSQL when WAREHOUSE_DAGSTER_PG_URL is set.
# requirements.lock from pyproject.toml, for Linux x86-64 and Python 3.11 (CI's platform), whatever machine runs it.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --quiet --custom-compile-command "make lock" --output-file $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --constraint $(LOCK) --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --quiet --custom-compile-command "make lock" --output-file $(SPARK_LOCK)

instance: $(STAMP)
	@$(BIN)/python -m commands.instance

setup: $(STAMP) $(MANIFEST) instance $(if $(filter spark,$(WAREHOUSE_ENGINE)),$(SPARK_STAMP))

setup-spark: $(SPARK_STAMP)  ## pyspark and dbt-spark, for WAREHOUSE_ENGINE=spark (make test installs them too)

demo: setup
	$(BIN)/python -m commands.demo_night

# Debian's Chromium and CJK fonts, for the tests that look at the UI in a real browser.
browser:
	@command -v chromium >/dev/null && fc-list :lang=ja | grep -q . || \
	  (apt-get update -q && apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk)

# Debian's PostgreSQL server, for the test that runs the instance on PostgreSQL (tests/test_serve.py).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -q && apt-get install -y -q --no-install-recommends postgresql)

spark-cluster: setup-spark  ## a Spark master, two workers and the Thrift server on 127.0.0.1, from pyspark's jars
	$(BIN)/python -m commands.spark_cluster start

spark-cluster-stop: setup
	$(BIN)/python -m commands.spark_cluster stop

test: setup setup-spark browser postgres lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25

test-fast: setup  ## the unit lane, under 2 minutes: pure functions, macros, dbt unit tests; no pipeline run, server or browser
	$(BIN)/python -m pytest -m "not pipeline" -q -n 2 --durations=10

lint: setup  ## ruff and mypy (pyproject.toml) on the Python, sqlfluff (.sqlfluff) on the dbt models, dg on the code location
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project/models
	$(BIN)/dg check defs

format: setup  ## apply ruff's formatting and its safe fixes (sqlfluff's fixes are left to review: make lint lists them)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ui: setup  ## development only: `dg dev` runs the webserver and the daemon in one process tree
	$(BIN)/dg dev --host $(WAREHOUSE_UI_HOST) --port $(WAREHOUSE_UI_PORT)

serve: setup  ## production: dagster-webserver and dagster-daemon as separate processes (README, Operations)
	$(BIN)/python -m commands.serve

dashboard: setup  ## the analysts' dashboard on http://127.0.0.1:$(WAREHOUSE_DASHBOARD_PORT), over the published database
	$(BIN)/streamlit run dashboard/app.py --server.port $(WAREHOUSE_DASHBOARD_PORT)  # the rest: .streamlit/config.toml

notebooks: setup  ## JupyterLab on notebooks/, reading the published database (WAREHOUSE_PUBLISHED_DB to choose another); saved without outputs
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root) \
	  --ContentsManager.pre_save_hook=analytics.notebook_hooks.strip_outputs

notebooks-report: setup  ## every notebook run headless, as HTML with its tables and charts, into $(WAREHOUSE_DATA_DIR)/reports/
	$(BIN)/jupyter nbconvert --execute --to html --output-dir "$(WAREHOUSE_DATA_DIR)/reports" notebooks/*.ipynb

reload: setup  ## make reload FILE=data/landing/<source>/<file>: the next run reads it again, whatever its size and time
	@test -n "$(FILE)" || (echo 'usage: make reload FILE=data/landing/<source>/<file name>' >&2; exit 2)
	$(BIN)/python -m commands.reload "$(FILE)"

versions: setup  ## the published versions kept, the current one starred
	@$(BIN)/python -m commands.versions

rollback: setup  ## make rollback VERSION=warehouse_..._employer.duckdb REASON="why": show that version again
	@test -n "$(VERSION)" || (echo 'usage: make rollback VERSION=<file name from make versions> REASON="why"' >&2; exit 2)
	$(BIN)/python -m commands.versions --to "$(VERSION)" --reason "$(REASON)"

end-rollback: setup  ## make end-rollback REASON="why": the published figures no longer marked rolled back; the next run publishes anew
	@test -n "$(REASON)" || (echo 'usage: make end-rollback REASON="why"' >&2; exit 2)
	$(BIN)/python -m commands.versions --end --reason "$(REASON)"

docs: setup  ## dbt docs of the working database's schema, generated on a copy (the nightly run is never locked out)
	$(BIN)/python -m commands.working_copy docs generate
	@echo "docs in $(WAREHOUSE_DATA_DIR)/sandbox/target; serve them with: make docs-serve"

docs-serve: docs  ## on 127.0.0.1 only, like the other servers here
	$(BIN)/python -m http.server 8080 --bind 127.0.0.1 --directory "$(WAREHOUSE_DATA_DIR)/sandbox/target"

dbt: setup  ## dbt by hand on a sandbox copy of the working database: make dbt ARGS="build -s tag:employer"
	$(BIN)/python -m commands.working_copy $(ARGS)

config: $(STAMP)  ## the settings every command here runs with, as config.settings reads them (secrets masked)
	@$(BIN)/python -m config.settings
	@echo "DAGSTER_HOME=$(DAGSTER_HOME)"

clean:  ## published versions are immutable (chattr +i) where the pipeline could make them so: released first
	@-chattr -R -i "$(WAREHOUSE_DATA_DIR)/published" 2>/dev/null
	rm -rf "$(WAREHOUSE_DATA_DIR)" dbt_project/target dbt_project/logs
