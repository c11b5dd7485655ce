# Two commands on a fresh machine (Python 3.11, make, git):
#   make book   -> .venv from the lock if missing, then `jupyter-book build book/`
#   make test   -> same set-up and the Debian packages of `make system-deps` (TeX Live, poppler,
#                  Chromium; apt-get, as root), then the whole test suite
# `make help` lists every target.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Dataset for the whole build; relative paths are taken from the repository root.
DATA_DIR ?= data/synthetic
export ANALYSIS_DATA_DIR := $(DATA_DIR)
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Reproducible outputs: no stray hash seeds, no user matplotlib config.
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
# The date the outputs print (the PDFs' title block, the Word and JATS files, the zip's members)
# is the last commit's, not the build's: two builds of one commit are the same (Sphinx, TeX Live,
# pandoc and analysis.submission read SOURCE_DATE_EPOCH). Outside a git checkout it stays unset.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif

.PHONY: help setup book test verify data lock clean pdf docx jats submission system-deps bench ensemble

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
	@echo "  Variables: DATA_DIR=path (default data/synthetic), PYTHON=interpreter (default python3.11)"

# The venv is rebuilt from scratch whenever the lock changes, so it never drifts from it.
$(STAMP): requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or pass PYTHON=..." >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip check
	# Make the `analysis` package importable from anywhere (notebooks, Sphinx) without a build step.
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/msc_ra_reproduction.pth"
	touch $@

setup: $(STAMP) ## Create .venv from requirements.lock (idempotent)

book: $(STAMP) ## Build the book (HTML in _build/html) from DATA_DIR
	jupyter-book build book/ -W

test: $(STAMP) system-deps ## Lint (ruff, configured in pyproject.toml), then run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

pdf: $(STAMP) system-deps ## Build the article and its supplement as PDFs (_build/latex/) from DATA_DIR
	jupyter-book build book/ --builder pdflatex -W
	@echo "PDF: _build/latex/paper.pdf (article), _build/latex/supplement.pdf (supplement)"

docx: book ## Word manuscripts of the article and the supplement (_build/docx/) from the built book
	$(BIN)/python -m analysis.submission docx

jats: book ## The article as JATS Archiving 1.3 XML (_build/jats/paper.xml) from the built book
	$(BIN)/python -m analysis.submission jats

submission: pdf docx jats ## One zip for the journal (_build/submission/): manuscripts, supplement, figures, tables, manifest
	$(BIN)/python -m analysis.submission bundle

# Debian packages that `make pdf` (xelatex, latexmk, the FreeFont faces Sphinx sets for xelatex)
# and the PDF and browser tests (pdftotext, headless Chromium at /usr/bin/chromium) need. Their
# Depends are enough, so recommends are not installed.
SYSTEM_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
	texlive-fonts-recommended latexmk fonts-freefont-otf poppler-utils chromium
system-deps: ## Install the missing SYSTEM_PACKAGES with apt-get (root), or name them and fail
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
	  [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$pkg" 2>/dev/null)" = installed ] || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "error: missing system packages:$$missing (Debian names; install them with: apt-get install$$missing)" >&2; exit 1; \
	fi; \
	echo "system-deps: installing$$missing"; \
	start=$$(date +%s); \
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  $$missing >/dev/null; } || { echo "error: apt-get could not install:$$missing" >&2; exit 1; }; \
	echo "system-deps: installed in $$(( $$(date +%s) - start )) s"

verify: $(STAMP) ## Compare every published number with the one computed from DATA_DIR
	$(BIN)/python -m analysis verify "$(DATA_DIR)"

lock: ## Re-pin every dependency from requirements.in (needs network); rewrites environment.yml
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile requirements.in --python-version 3.11 --generate-hashes --no-header --output-file requirements.lock
	$(PYTHON) tools/write_environment_yml.py

clean: ## Remove build outputs (keeps .venv)
	rm -rf _build .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

bench: $(STAMP) ## Time the book build, the analysis at 1k-100k patients and the ensemble -> _build/bench/
	$(BIN)/python -m analysis.bench $(BENCH_ARGS)
	$(BIN)/python -m analysis.ensemble.bench $(ENSEMBLE_BENCH_ARGS)

SEED ?= 20250617
data: $(STAMP) ## Regenerate the synthetic cohort in data/synthetic/ (bit for bit, fixed seed)
	$(BIN)/python -m analysis.synthetic --seed $(SEED) --out data/synthetic

# The reconstruction ensemble: N reconstructions from child seeds of the root seed SEED, on Dask
# (a local cluster of CPU-count worker processes, or the scheduler at SCHEDULER=tcp://host:8786).
N ?= 200
SCHEDULER ?=
ensemble: $(STAMP) ## Regenerate the reconstruction ensemble in data/ensemble/ (N=200, SEED, SCHEDULER=)
	$(BIN)/python -m analysis.ensemble --n $(N) --seed $(SEED) $(if $(SCHEDULER),--scheduler $(SCHEDULER),)
