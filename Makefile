# celestials — one entry point for every task. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= dev
VENV ?= .venv
PY := $(CURDIR)/$(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Each area's makefile (mk/*.mk) appends its own steps to these lists.
INSTALL_TARGETS := install-python
LINT_TARGETS :=
TEST_TARGETS := test-python
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help install install-python lint test bench

# The name column is as wide as the longest documented target, so descriptions line up.
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' \
	  '{name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1)} \
	   END {for (i = 1; i <= NR; i++) printf "  %-" w "s  %s\n", name[i], text[i]}'

install: $(INSTALL_TARGETS) ## Install every dependency (Python venv, npm packages)

install-python: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt $(wildcard apps/*/requirements.txt)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

lint: install $(LINT_TARGETS) ## Static checks: ruff, mypy --strict, hadolint, actionlint, checkov, zizmor

test: install lint $(TEST_TARGETS) ## Run every test, offline

test-python: install
	$(PY) -m pytest -q -rs

bench: install $(BENCH_TARGETS) ## Benchmarks, printed as side-by-side ratios
