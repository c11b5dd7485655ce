# Two commands on a fresh machine (Python 3.11, make, git):
#   make book   -> .venv from the lock if missing, then `jupyter-book build book/`
#   make test   -> same set-up, then the whole test suite
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

.PHONY: help setup book test verify data lock clean

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

test: $(STAMP) ## Run the whole test suite
	$(BIN)/python -m pytest

verify: $(STAMP) ## Compare every published number with the one computed from DATA_DIR
	$(BIN)/python -m analysis verify "$(DATA_DIR)"

lock: ## Re-pin every dependency from requirements.in (needs network); rewrites environment.yml
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile requirements.in --python-version 3.11 --generate-hashes --no-header --output-file requirements.lock
	$(PYTHON) tools/write_environment_yml.py

clean: ## Remove build outputs (keeps .venv)
	rm -rf _build .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

SEED ?= 20250617
data: $(STAMP) ## Regenerate the synthetic cohort in data/synthetic/ (bit for bit, fixed seed)
	$(BIN)/python -m analysis.synthetic --seed $(SEED) --out data/synthetic
