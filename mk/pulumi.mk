# Deploying and previewing stacks (the lead's area): synth works offline, the rest needs the
# Pulumi CLI and AWS credentials (tools/preflight.sh says what is missing and how to get it).
export PULUMI_BACKEND_URL ?= file://$(HOME)/.pulumi-celestials

# Stack secrets: one passphrase file per stack (PASSPHRASE_DIR/<stack>), used unless the caller
# sets PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE. PULUMI_CONFIG_PASSPHRASE is never
# exported from here: Pulumi prefers it, even empty, over the file (preflight refuses an empty one).
PASSPHRASE_DIR ?= $(HOME)/.pulumi-celestials/passphrases
ifeq ($(origin PULUMI_CONFIG_PASSPHRASE)$(origin PULUMI_CONFIG_PASSPHRASE_FILE),undefinedundefined)
export PULUMI_CONFIG_PASSPHRASE_FILE := $(PASSPHRASE_DIR)/$(STACK)
endif

# A stack file without its `encryptionsalt` (committed after `pulumi stack init`, README "Stack
# secrets") would make Pulumi mint a new salt on every machine; with this it takes the secrets
# manager (salt included) from the stack's state instead, and writes it into the stack file.
export PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER := true

# `pulumi up`/`destroy` show the preview and ask, unless the user says so (YES=1) or in CI
# (CI=true, set by GitHub Actions and most CI systems).
PULUMI_YES = $(if $(filter 1 true yes,$(YES) $(CI)),--yes)

BENCH_TARGETS += bench-synth
MULTI_STACK_TARGETS += synth synth-diff bench-synth
ONE_STACK_TARGETS += preview up destroy preflight preflight-up preflight-preview preflight-destroy
SET_TARGETS += synth synth-diff

.PHONY: synth synth-diff bench-synth preview up destroy preflight preflight-up preflight-preview preflight-destroy

# synth evaluates Python only: it needs the venv, not the Node apps' npm packages.
synth: install-python ## Offline: evaluate the program for STACK under Pulumi's mock runtime → build/synth/STACK (SET="key=value ..." overrides; STACK="dev prod")
	$(PY) -m synth $(foreach s,$(STACK),--stack $(s)) $(foreach kv,$(SET),--set $(kv))

# Per resource, what a change does (offline `pulumi preview --diff`): SET="canaryWeight=90" compares
# the stack's config with the overrides; BASE=main compares that git ref with the working tree
# (BASE_TREE=<dir>: an already checked-out base, as in CI).
synth-diff: install-python ## Offline per-resource diff: SET="key=value ..." vs the config, or BASE=<git ref> vs the working tree; STACK="dev prod"
	$(PY) -m synth.diff $(foreach s,$(STACK),--stack $(s)) $(if $(BASE),--base $(BASE)) $(if $(BASE_TREE),--base-tree $(BASE_TREE)) $(foreach kv,$(SET),--set $(kv))

# Every stack unless STACK is given on the command line (as make guardrails); synth.bench takes a comma list.
comma := ,
bench-synth: install-python ## Offline synth times (fresh command, first and warm evaluations) with machine, load, Python (STACK=, RUNS=)
	$(PY) -m synth.bench --runs $(or $(RUNS),5) $(if $(filter command line,$(origin STACK)),--stacks $(subst $() $(),$(comma),$(strip $(STACK))))

preflight: preflight-up

# What each command needs, checked before Pulumi runs (tools/preflight.sh). up's also reads the
# stack's platform and endpoint through the program's settings parser, so it needs the venv first.
preflight-up: install-python
preflight-up preflight-preview preflight-destroy:
	@PYTHON=$(PY) bash tools/preflight.sh $(@:preflight-%=%) $(STACK)

# The program runs in the Python venv; images are built by Docker from apps/, so no npm here.
# Both run the policy pack (policy/, mandatory): a violation stops the preview, and `up` before it applies anything.
POLICY_PACK := --policy-pack policy

preview: preflight-preview install-python policy-venv ## pulumi preview --diff for STACK, with the policy pack (needs the Pulumi CLI and AWS credentials)
	pulumi stack select --create $(STACK) --secrets-provider passphrase
	pulumi preview --stack $(STACK) --diff $(POLICY_PACK)

up: preflight-up install-python policy-venv ## Deploy STACK (default dev): shows the preview (policy pack included) and asks (YES=1 or CI=true: no question)
	pulumi stack select --create $(STACK) --secrets-provider passphrase
	pulumi up --stack $(STACK) $(POLICY_PACK) $(PULUMI_YES)

destroy: preflight-destroy ## Delete everything of STACK: shows what goes and asks (YES=1 or CI=true: no question)
	pulumi stack select $(STACK)
	pulumi destroy --stack $(STACK) $(PULUMI_YES)
