# The README's two commands: `make book` and `make test`. Both create .venv if it is missing and
# install the pinned stack (requirements.txt) plus gnnrl_lite once; a stamp file skips the install
# on repeat runs until requirements.txt or pyproject.toml change.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODE ?= $(or $(GNNRL_MODE),ci)
# Notebooks run on both cores (one kernel per core), each with one torch thread.
WORKERS ?= 2
NBVAL_FLAGS := --nbval-lax --nbval-current-env --nbval-cell-timeout=1200 --nbval-sanitize-with tests/nbval_sanitize.cfg
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export DGLBACKEND := pytorch
export PYTHONHASHSEED := 0

.PHONY: book test install unit chapter clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --all --warningiserror --nitpick --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	GNNRL_MODE=$(MODE) $(BIN)/python -m pytest -n $(WORKERS) --dist loadscope $(NBVAL_FLAGS) tests chapters

# Helpers for authors (not part of the contract): unit tests only, or one chapter.
unit: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) tests

chapter: $(STAMP)
	@test -n "$(CH)" || { echo "usage: make chapter CH=01 [MODE=full]"; exit 2; }
	GNNRL_MODE=$(MODE) $(BIN)/python -m pytest $(NBVAL_FLAGS) chapters/$(CH)_*.ipynb

clean:
	rm -rf _build .pytest_cache
