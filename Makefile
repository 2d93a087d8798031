# Two commands do all set-up on a fresh machine (Python 3.10-3.13 and Java 17+):
#   make demo   creates .venv, installs, materializes the whole graph for a sample month offline, prints the report
#   make test   creates .venv, installs, runs the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MONTH ?= 2021-01

export SPARK_LOCAL_IP ?= 127.0.0.1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export NO_GCE_CHECK ?= True

.PHONY: install lock demo test dev validate bench clean

install: $(VENV)/.installed

# Installs exactly uv.lock: the venv's own pip (any version) installs only the pinned, hash-checked uv, and uv installs the
# locked set (runtime + dev) without resolving anything. `make lock` moves the lock forward. --compile-bytecode writes the
# .pyc files at install: uv does not by default, and where PYTHONDONTWRITEBYTECODE is set (CI images, this sandbox) every
# process (a Dagster run, the webserver, a Spark Python worker) would otherwise compile dagster, pandas and pyspark from
# source again (measured: importing the definitions took 9.0 s without, 4.2 s with).
$(VENV)/.installed: pyproject.toml uv.lock requirements/bootstrap.txt
	@command -v java >/dev/null 2>&1 || { echo "Spark needs Java 17+ on PATH (e.g. apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements/bootstrap.txt
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --extra dev --python $(BIN)/python --no-progress --compile-bytecode
	@# the local Spark driver's class-data archive (resources/class_data.py: ~10 s off each session start); never fatal
	-$(BIN)/python -m taxi_platform.resources.class_data
	@touch $@

# Re-resolve every dependency to the newest versions pyproject.toml allows, and rewrite uv.lock (commit it with a test run)
lock: $(VENV)/.installed
	$(BIN)/uv lock --upgrade
	$(BIN)/uv pip compile -q --upgrade --generate-hashes --universal --python-version 3.13 --no-header \
	    requirements/bigquery-emulator.in -o requirements/bigquery-emulator.txt
	@echo "uv.lock and requirements/*.txt updated: run make test, then commit them with pyproject.toml"

demo: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/python -m taxi_platform.demo --month $(MONTH)

test: install
	@mkdir -p "$(DAGSTER_HOME)"
	@bash scripts/ensure-chromium  # installs chromium for the browser test when root; else the test skips
	$(BIN)/python -m pytest

dev: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1

# Platform vs bare PySpark vs the course's script vs DuckDB (bench/run.py); e.g. make bench BENCH_ARGS="--repeat 5"
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

validate: install
	@mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/dagster definitions validate -w workspace.yaml
	$(BIN)/dg check defs

clean:
	rm -rf data/lake .dagster_home spark-warehouse
