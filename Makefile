# pypush: two commands do everything on a fresh machine.
#   make demo   set up what the server needs (first time only) and serve http://127.0.0.1:8080
#   make test   set up everything the tests need (first time only) and run every test
#   make bench  set up, then run the benchmarks (python -m bench; BENCH_ARGS='--quick')
#   make bench-server  the server's benchmarks (python -m bench.server; BENCH_ARGS='--quick')
#   make wheel  the wheels into dist/ (pypush, pypush-pyodide, pypush-pyscript); make jar
#               the resource jar for Java Faces applications, dist/pypush.jar
#   make docs   the documentation site into site/ (MkDocs, from docs/ and mkdocs.yml)
# Each set-up step runs again only when its inputs change (stamp files).

VENV      := .venv
PYTHON    := $(VENV)/bin/python
HOST      ?= 127.0.0.1
PORT      ?= 8080
SOAK_SECONDS ?= 120
# Two pytest workers (pytest-xdist), each with its own browsers and servers; a file's tests
# stay on one worker, so the pages and servers they share are booted once per file at most.
TEST_WORKERS ?= 2
SERVE_OK  := $(VENV)/.installed-serve
TEST_OK   := $(VENV)/.installed-test
BENCH_OK  := $(VENV)/.installed-bench
DOCS_OK   := $(VENV)/.installed-docs
# mkdocs-material's notice about its successor is not a warning of this site's.
export NO_MKDOCS_2_WARNING := 1
WEB_OK    := web/node_modules/.installed

.PHONY: demo test soak bench bench-server setup wheel jar docs

demo: setup
	$(PYTHON) serve.py --host $(HOST) --port $(PORT)

test: setup $(TEST_OK)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-webkit.sh
	bash scripts/ensure-firefox.sh
	bash scripts/ensure-redis.sh
	bash scripts/ensure-nginx.sh
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mkdocs build --strict --quiet
	$(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The soak test: 100 clients through two minutes of faults, nothing lost, each topology (SOAK_SECONDS=N).
soak: setup $(TEST_OK)
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-webkit.sh
	bash scripts/ensure-firefox.sh
	SOAK_SECONDS=$(SOAK_SECONDS) $(PYTHON) -m pytest -m soak tests/browser/test_soak.py

# The benchmarks: figures into bench-results/ (see README, Benchmarks).
bench: setup $(BENCH_OK)
	bash scripts/ensure-chromium.sh
	$(PYTHON) -m bench $(BENCH_ARGS)

# The server's benchmarks: fan-out against websockets' broadcast(), slow clients (README).
bench-server: setup $(BENCH_OK)
	$(PYTHON) -m bench.server $(BENCH_ARGS)

# The wheels, built by pip from the set-up's runtimes (README, The wheels).
wheel: setup
	$(PYTHON) -m pip wheel --quiet --disable-pip-version-check --no-deps -w dist \
		. runtimes/pyodide runtimes/pyscript

jar: setup
	$(PYTHON) serve.py bundle --jar dist/pypush.jar

# The documentation site, into site/ (not committed); warnings are errors (mkdocs.yml).
docs: $(DOCS_OK)
	$(PYTHON) -m mkdocs build --strict

setup: $(SERVE_OK) $(WEB_OK)

$(PYTHON):
	python3 -m venv $(VENV)

$(SERVE_OK): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[build]'
	touch $@

$(TEST_OK): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(DOCS_OK): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[docs]'
	touch $@

$(BENCH_OK): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

# The browser runtimes, pinned by web/package-lock.json, from the npm registry.
$(WEB_OK): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@
