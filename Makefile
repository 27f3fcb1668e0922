# celestials — one entry point for every task. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
STACK ?= dev
VENV ?= .venv
PY := $(CURDIR)/$(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Every venv (the program's and tests' .venv, the policy pack's, the scanners') runs the Python
# minor the apps' images ship: celestials/artifacts.py PYTHON, read here without an interpreter
# (tests/tooling/test_runtimes.py checks this reading against the catalogue).
PYTHON_MINOR := $(shell sed -nE 's/^PYTHON = Runtime."python", "([0-9]+\.[0-9]+)\.[0-9]+".*/\1/p' celestials/artifacts.py)
# What a venv is made from: python3.13 on PATH when it runs (a pyenv shim of a version pyenv has not
# selected does not), else the newest 3.13.x pyenv has installed; VENV_PYTHON=/path/to/python overrides.
# The base interpreter, never a venv's own python (the venv's bin is first on PATH below).
VENV_PYTHON ?= $(firstword $(shell python$(PYTHON_MINOR) -c 'import sys; print(sys._base_executable)' 2>/dev/null) \
  $(shell ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$(PYTHON_MINOR).*/bin/python$(PYTHON_MINOR) 2>/dev/null \
          | grep -E '/$(subst .,\.,$(PYTHON_MINOR))\.[0-9]+/bin/' | sort -V | tail -n 1))
# FORCE when the venv $(1) exists on another Python: its stamp is then out of date, and make-venv
# makes it again.
venv-stale = $(if $(wildcard $(1)/pyvenv.cfg),$(if $(filter $(PYTHON_MINOR).%,$(shell sed -n 's/^version *= *//p' $(1)/pyvenv.cfg)),,FORCE))
# The recipe lines that leave a venv of Python $(PYTHON_MINOR) at $(1).
define make-venv
	@if [ -n "$(call venv-stale,$(1))" ]; then echo "$(1) runs another Python than $(PYTHON_MINOR): making it again"; rm -rf $(1); fi
	@if [ ! -x $(1)/bin/python ]; then \
	  if [ -z "$(VENV_PYTHON)" ]; then \
	    echo "Python $(PYTHON_MINOR) is not installed (the apps' images run it, and so do the program and the tests:" \
	         "celestials/artifacts.py PYTHON). Install it (pyenv install $(PYTHON_MINOR), apt-get install python$(PYTHON_MINOR)," \
	         "or uv python install $(PYTHON_MINOR)), or name one: make install VENV_PYTHON=/path/to/python$(PYTHON_MINOR)" >&2; \
	    exit 2; fi; \
	  echo "$(VENV_PYTHON) -m venv $(1)"; $(VENV_PYTHON) -m venv $(1); fi
	@found=$$($(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	if [ "$$found" != "$(PYTHON_MINOR)" ]; then \
	  echo "$(1) was made from Python $$found, not $(PYTHON_MINOR): remove it, and give VENV_PYTHON a Python $(PYTHON_MINOR)" >&2; exit 2; fi
endef

# Each area's makefile (mk/*.mk) appends its own steps to these lists.
INSTALL_TARGETS := install-python
LINT_TARGETS :=
TEST_TARGETS := test-python
BENCH_TARGETS :=
# ... and says which of its targets read STACK and SET (checked below, the same for every target).
MULTI_STACK_TARGETS :=
ONE_STACK_TARGETS :=
SET_TARGETS :=

include $(sort $(wildcard mk/*.mk))

# STACK and SET mean the same on every target (README, "STACK and SET mean the same on every target"):
#   STACK  the stack(s) a target acts on: several (STACK="dev prod") where the target evaluates
#          offline (MULTI_STACK_TARGETS), exactly one where it deploys or runs something
#          (ONE_STACK_TARGETS); default dev.
#   SET    "key=value ..." overrides of the stack config for one offline run (SET_TARGETS).
# A target that does not read one of them refuses it when it is given on the command line, rather
# than ignore it, and says which targets read it.
GOALS := $(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))
STACK_READERS := $(sort $(MULTI_STACK_TARGETS) $(ONE_STACK_TARGETS))
ifeq ($(origin STACK),command line)
ifneq ($(filter-out $(STACK_READERS) help,$(GOALS)),)
$(error make $(firstword $(filter-out $(STACK_READERS) help,$(GOALS))) does not read STACK (it acts on every stack, or on none); drop STACK=$(STACK). Targets that read STACK: $(STACK_READERS))
endif
endif
ifneq ($(words $(STACK)),1)
ifneq ($(filter $(ONE_STACK_TARGETS),$(GOALS)),)
$(error make $(firstword $(filter $(ONE_STACK_TARGETS),$(GOALS))) acts on one stack, STACK="$(STACK)" names $(words $(STACK)); run it once per stack: make $(firstword $(filter $(ONE_STACK_TARGETS),$(GOALS))) STACK=$(firstword $(STACK)))
endif
endif
ifeq ($(origin SET),command line)
ifneq ($(filter-out $(SET_TARGETS) help,$(GOALS)),)
$(error make $(firstword $(filter-out $(SET_TARGETS) help,$(GOALS))) does not read SET (overrides for one offline run: $(sort $(SET_TARGETS))); to change the stack itself: pulumi config set celestials:<key> <value> --stack <stack>, or edit Pulumi.<stack>.yaml)
endif
endif

.PHONY: help install install-python lint test bench FORCE
FORCE:

# The name column is as wide as the longest documented target, so descriptions line up.
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' \
	  '{name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1)} \
	   END {for (i = 1; i <= NR; i++) printf "  %-" w "s  %s\n", name[i], text[i]}'

install: $(INSTALL_TARGETS) ## Install every dependency (Python venv, npm packages)

install-python: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt $(wildcard apps/*/requirements.txt apps/*/pyproject.toml) $(call venv-stale,$(VENV))
	$(call make-venv,$(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

lint: install $(LINT_TARGETS) ## Static checks: ruff, mypy --strict, hadolint, actionlint, checkov, zizmor

test: install lint $(TEST_TARGETS) ## Run every test, offline

test-python: install
	$(PY) -m pytest -q

bench: install $(BENCH_TARGETS) ## Benchmarks, printed as side-by-side ratios
