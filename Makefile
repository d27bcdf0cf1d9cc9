# The two commands a newcomer needs:  `make docs` (build the site) and `make test` (run every test).
# Both install what they need first, into .venv, with torch pinned to the CPU build.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0

.PHONY: install browser test docs serve check bench clean-venv

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml litdoc/assets/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	cd litdoc/assets && npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium for the page tests (needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: install browser
	$(BIN)/python -m pytest

docs: install
	$(BIN)/litdoc build

serve: install
	$(BIN)/litdoc serve

check: install
	$(BIN)/litdoc check

bench: install
	$(BIN)/python scripts/bench_optimizers.py
	$(BIN)/python scripts/bench_build.py

clean-venv:
	rm -rf $(VENV)
