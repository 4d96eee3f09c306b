# wineq — the targets people expect: setup, test, lint, check, bench.
PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
# torch is installed first and pinned: on this project's machines 2.13.0 is a local CPU
# build. Elsewhere the same pin comes from PyPI; for a CPU-only wheel on Linux run
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
# The default DVC remote: a folder outside the work tree, shared by every clone of this user.
DVC_REMOTE ?= $(HOME)/.local/share/wineq/dvc-remote
UCI        ?= ../shared/datasets/uci-wine-quality

.PHONY: setup venv wheel remote data test test-fast lint check bench bench-speed bench-serving bench-quality bench-intervals bench-formats screenshots docs docs-serve clean

setup: venv remote data  ## venv with a CPU torch, the package, a DVC remote, the data

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[dev,s3,docs]"
	touch $@

wheel: venv  ## the package as a wheel in dist/, for machines that only use a model (no clone)
	$(BIN)/python -m pip wheel -q --no-deps --no-build-isolation -w dist .

remote: venv  ## a local-folder default remote, unless the repo already names one
	@if ! $(BIN)/dvc remote default >/dev/null 2>&1; then \
		mkdir -p "$(DVC_REMOTE)"; \
		$(BIN)/dvc remote add --local -d local "$(DVC_REMOTE)"; \
		echo "DVC remote: $(DVC_REMOTE)"; \
	fi

data: venv  ## the data of data.dvc: from the remote if it has it, else built from the UCI files
	@$(BIN)/dvc pull -q data.dvc 2>/dev/null || $(BIN)/wineq data import

test: venv  ## every test: the fast layer and the end-to-end ones (real git, DVC, MLflow, servers)
	$(BIN)/python -m pytest -q

test-fast: venv  ## the unit layer (tests/unit mirrors src/winequality): real stores, in seconds, one process
	$(BIN)/python -m pytest -q -n 0 tests/unit

lint: venv  ## style, the size of units, the layers (import-linter) and the types (mypy)
	$(BIN)/ruff check src tests bench docs
	$(BIN)/ruff format --check src tests bench docs
	$(BIN)/lint-imports
	$(BIN)/mypy

check: lint test

docs: venv  ## the documentation site, built as CI builds it; fails on a stale CLI reference
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	$(BIN)/python docs/cli_reference.py --check

docs-serve: venv  ## the documentation site at http://127.0.0.1:8000, rebuilt on every edit
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

bench: bench-speed bench-serving bench-quality bench-intervals bench-formats  ## every benchmark: speed, serving, model quality, intervals, file formats

bench-speed: venv  ## start-up, fetch, listing, training and inference against their baselines
	$(BIN)/python -m bench speed "$(UCI)"

bench-serving: venv  ## a registered version behind `mlflow models serve` against the model in process
	$(BIN)/python -m bench serving "$(UCI)"

screenshots: venv  ## re-make docs/img from a real run (Chromium, npm, the UCI files)
	$(BIN)/python -m docs.screenshots --uci "$(UCI)"  # from the root: it uses tests.support

bench-quality: venv  ## wineq's model against the paper and scikit-learn, same folds
	$(BIN)/python -m bench quality "$(UCI)"

bench-intervals: venv  ## coverage, width and p_premium calibration against extra trees, same folds
	$(BIN)/python -m bench intervals "$(UCI)"

bench-formats: venv  ## every file format of infer, read and written on 1M wines: rows/s, flat memory
	$(BIN)/python -m bench formats "$(UCI)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
