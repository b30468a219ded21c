# The two commands of the README:  `make book`  and  `make test`.
# Both create the virtual environment (.venv) on first use; nothing else is assumed.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JB_FLAGS := -W -n --keep-going
# Chapters executed at once by the book build (Sphinx worker processes; Jupyter Book's own
# command line always uses one): a full build took 67 s serially, 41 s with 3 (2 cores).
BOOK_JOBS ?= 3
JB := $(PY) scripts/jupyter_book_jobs.py $(BOOK_JOBS)
# Seconds per cell for nbmake, as _config.yml's execute.timeout and execution.CELL_TIMEOUT:
# every chapter cell runs in seconds, so a cell at the limit is a stall; it fails naming the cell
# (issue #10; the guard is installed by ./conftest.py).
NBMAKE_TIMEOUT ?= 90
# pytest-xdist workers for the notebook and browser parts (each waits on a kernel or on
# Chromium much of the time: 2 workers on 2 cores cut nbmake from ~65 s to ~41 s and
# browser from ~290 s to ~238 s; the reproducibility part too). The unit part too, with one
# torch thread per worker (OMP_NUM_THREADS=1: 160 s serial -> 94 s; two workers each using both
# cores made it slower, 191 s). WORKERS=0 runs everything serially.
WORKERS ?= 2

.PHONY: book book-quick pdf linkcheck test unit built nbmake browser lab bench stress chromium clean

# -- environment -------------------------------------------------------------
# torch first, by exact version: 2.13.0 is a CPU wheel here; resolving it as a
# dependency of another package could pull a multi-GB CUDA build instead.
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "python3 -m venv failed: installing Debian's python3-venv"; rm -rf $(VENV); \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (explainer)" >/dev/null
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
chromium:
	@command -v /usr/bin/chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@/usr/bin/chromium --version

# -- the book ----------------------------------------------------------------
# Full build: every notebook executed (execute_notebooks: force in _config.yml),
# any failing cell or Sphinx warning fails the build.
book: $(VENV)/.installed
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(JB) build . $(JB_FLAGS)
	@echo "Built: $$(pwd)/_build/html/index.html"

# Quick local rebuild: same flags, notebooks re-executed only when they changed.
book-quick: $(VENV)/.installed
	mkdir -p _build
	sed 's/^  execute_notebooks: force/  execute_notebooks: cache/' _config.yml > _build/_config.quick.yml
	$(JB) build . $(JB_FLAGS) --config _build/_config.quick.yml

# The PDF edition: the built site printed by Chromium (title page, contents, every chapter,
# page numbers, charts as vectors) into _build/pdf/cheaper-by-design.pdf.
pdf: $(VENV)/.installed chromium
	@test -f _build/html/index.html || $(MAKE) book
	$(PY) scripts/make_pdf.py

# External links checked by Sphinx's linkcheck where a network exists; skipped, saying so,
# where it does not (the book itself never needs one).
linkcheck: $(VENV)/.installed
	@if $(PY) -c "import socket; socket.create_connection(('arxiv.org', 443), timeout=5)" 2>/dev/null; then \
	  $(VENV)/bin/jupyter-book build . --builder linkcheck; \
	else echo "linkcheck skipped: no network on this machine (the book builds and reads offline)"; fi

# -- tests -------------------------------------------------------------------
unit: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -m "not browser and not built" -n $(WORKERS) tests --durations=8

# tests that compare with the built book (each chapter executed once more, compared with the build)
built: $(VENV)/.installed
	$(PY) -m pytest -m built -n $(WORKERS) tests --durations=4

nbmake: $(VENV)/.installed
	$(PY) -m pytest --nbmake --nbmake-timeout=$(NBMAKE_TIMEOUT) -n $(WORKERS) chapters

browser: $(VENV)/.installed chromium
	$(PY) -m pytest -m browser -n $(WORKERS) tests --durations=8

# Every test: unit + hygiene + failing-build tests, a full book build, the reproducibility
# test against the build's outputs, every chapter via nbmake, then headless Chromium against
# the built site.
# Prints each part's wall time at the end (CONTRIBUTING.md keeps the latest figures).
# Every part runs even if an earlier one fails (one run shows every failure); the target
# fails if any part failed, naming them.
test: $(VENV)/.installed chromium
	@t0=$$(date +%s); failed=""; \
	$(MAKE) unit || failed="$$failed unit"; t1=$$(date +%s); \
	$(MAKE) book || failed="$$failed book"; t2=$$(date +%s); \
	$(MAKE) built || failed="$$failed built"; t3=$$(date +%s); \
	$(MAKE) nbmake || failed="$$failed nbmake"; t4=$$(date +%s); \
	$(MAKE) browser || failed="$$failed browser"; t5=$$(date +%s); \
	echo "make test wall time: unit $$((t1-t0)) s, book $$((t2-t1)) s, reproducible $$((t3-t2)) s, nbmake $$((t4-t3)) s, browser $$((t5-t4)) s, total $$((t5-t0)) s"; \
	if [ -n "$$failed" ]; then echo "make test FAILED:$$failed"; exit 1; fi

# -- reading and measuring ---------------------------------------------------
lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) chapters/

bench: $(VENV)/.installed
	for f in benchmarks/*.py; do \
	  [ "$$f" = benchmarks/stress.py ] || { echo "== $$f"; $(PY) $$f; }; done

# Every chapter executed N times with per-cell timings and a stall count (issue #10; ~30 min).
STRESS_RUNS ?= 10
stress: $(VENV)/.installed
	$(PY) benchmarks/stress.py -n $(STRESS_RUNS)

clean:
	rm -rf _build
