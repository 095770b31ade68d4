# The two commands: `make demo` and `make test`. Both set everything up from a fresh clone.
# `make lint` is the quick loop while editing: style, the import contracts, types.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint style imports system-deps bench clean

install: $(STAMP)

# Re-installs whenever pyproject.toml or setup.py changes, or a classifier module: setup.py compiles some of them
# (mypyc), and Python would run an extension built from an older source. Editable so scrapy.cfg and watchlist.yaml
# stay at the root.
$(STAMP): pyproject.toml setup.py $(wildcard classifier/*.py)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Chromium renders flagged pages; without it (no root to install it) the demo runs and says it did not render.
demo: install
	bash scripts/system-deps.sh || echo "demo: continuing without the missing system packages"
	$(VENV)/bin/keywatch demo

# Debian packages the test suite needs (headless Chromium for the review UI, pdftotext for notices).
system-deps:
	bash scripts/system-deps.sh

# Seconds, and first: a style slip or a broken layer fails before the suite starts.
style: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The import table of docs/architecture.md, as contracts in pyproject.toml.
imports: install
	$(BIN)/lint-imports

# Every check runs, so one pass shows everything to fix; fails if any of them failed.
lint: install
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/lint-imports || status=1; \
	$(BIN)/mypy classifier db networks || status=1; \
	exit $$status

# The 15 slowest tests are listed at the end: CI has a time budget, and a slow test should be seen where it starts.
test: style imports system-deps
	$(BIN)/mypy classifier db networks
	$(PY) -m pytest -q -n 2 --durations=15

# On demand, not in CI: about 40 minutes on 2 cores, and bench/store.py needs about 6 GB of disk for 100,000 captures.
bench: install
	$(PY) bench/classify.py
	$(PY) bench/store.py
	$(PY) bench/crawl.py
	$(PY) bench/export.py
	$(PY) bench/verify.py
	$(PY) bench/render.py
	$(PY) bench/networks.py

clean:
	rm -rf $(VENV) build classifier/*.so classifier/compiled.json *__mypyc*.so data/*.sqlite* .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
