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
	$(PY) -m pytest -q

bench: install $(BENCH_TARGETS) ## Benchmarks, printed as side-by-side ratios
