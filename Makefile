# The two commands a newcomer needs:  `make docs` (build the site) and `make test` (run every test).
# Both install what they need first, into .venv, with torch pinned to the CPU build.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
# Every other package at the version the tests last passed with (see the file's header); `make install
# CONSTRAINTS=` takes the newest versions the pyproject files allow instead.
CONSTRAINTS ?= constraints.txt
PIN    := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: install lock check-docs-reproducible browser test test-notebooks test-litdoc test-pythons lint lint-types docs serve check bench clean-venv

install: $(VENV)/.installed

# litdoc first, from its folder (editable), so that this project's `litdoc>=0.2` is already met.
$(VENV)/.installed: pyproject.toml litdoc/pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet $(PIN) -e './litdoc[test,browser,lint]'
	$(BIN)/pip install --quiet $(PIN) -e '.[dev,experiments,docs]'
	touch $@

# Rewrite constraints.txt from what .venv holds (after `make install CONSTRAINTS=` and a green `make test`).
lock: install
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^torch=='; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# Debian's Chromium for the page tests (needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Everything: labml_nn's tests and the site's, litdoc's own suite here, then litdoc's suite on every
# Python that litdoc claims (installed from its wheel, each in a fresh virtual environment).
# labml_nn's tests run in two processes (the machine's two cores) with one OpenMP thread each: two
# threads per test cost 3.4x the CPU time on these small tensors.
test: install browser
	@s=$$(date +%s) && OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 && echo "make test: labml_nn's tests took $$(( $$(date +%s) - s ))s"
	@s=$$(date +%s) && $(MAKE) test-litdoc && echo "make test: test-litdoc took $$(( $$(date +%s) - s ))s"
	@s=$$(date +%s) && $(MAKE) test-pythons && echo "make test: test-pythons took $$(( $$(date +%s) - s ))s"
	@s=$$(date +%s) && $(MAKE) test-notebooks && echo "make test: test-notebooks took $$(( $$(date +%s) - s ))s"

# Every notebook of both sites in a fresh kernel, and every .py download as a script, from a fresh
# virtual environment that installs the project as a learner's first cell does (scripts/run_notebooks.py).
test-notebooks: install
	$(PYTHON) scripts/run_notebooks.py

test-litdoc: install browser
	cd litdoc/tests/axe && npm ci --ignore-scripts --no-audit --no-fund --silent
	cd litdoc && LITDOC_BROWSER_PAGES=$(CURDIR)/docs/optimizers/adam.html ../$(BIN)/python -m pytest -n 2

# The running Python's version is left out (test-litdoc has just run the suite on it); two versions at
# a time, one per core.
test-pythons: install
	$(BIN)/python litdoc/scripts/test_pythons.py --except-running --jobs 2

# ruff (lint and format) over the whole repository, then mypy: labml_nn at its configured level,
# litdoc in strict mode. `.venv/bin/ruff check --fix . && .venv/bin/ruff format .` fixes what ruff can.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) lint-types

lint-types: install
	$(BIN)/mypy
	cd litdoc && ../$(BIN)/mypy

# This site into docs/, and litdoc's own annotated source into docs/litdoc/.
docs: install
	$(BIN)/litdoc build
	cd litdoc && ../$(BIN)/litdoc build

serve: install
	$(BIN)/litdoc serve

check: install
	$(BIN)/litdoc check
	cd litdoc && ../$(BIN)/litdoc check

# docs/ of the last commit, built from nothing with the newest patch releases, byte for byte (CI runs it).
check-docs-reproducible:
	$(PYTHON) scripts/check_docs_reproducible.py

bench: install
	$(BIN)/python scripts/bench_optimizers.py
	$(BIN)/python scripts/bench_build.py
	$(BIN)/python litdoc/scripts/bench_math.py

clean-venv:
	rm -rf $(VENV) .venvs
