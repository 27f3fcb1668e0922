# Guardrails (celestials/guardrails): one set of rules, run offline here and by Pulumi's policy
# engine on every `make preview` / `make up` (the pack in policy/, in its own venv policy/venv).
.PHONY: guardrails policy-venv
MULTI_STACK_TARGETS += guardrails
SET_TARGETS += guardrails

# STACK / BACKEND narrow the run when given on the command line; otherwise every stack and backend.
guardrails: install-python ## Offline: the policy pack's rules over the synth of every stack and mesh backend (STACK=, BACKEND=, SET=)
	$(PY) -m synth.guardrails $(if $(filter command line,$(origin STACK)),$(foreach s,$(STACK),--stack $(s))) \
	  $(foreach b,$(BACKEND),--backend $(b)) $(foreach kv,$(SET),--set $(kv))

policy-venv: policy/venv/.installed ## The policy pack's venv (policy/requirements.txt), used by make preview/up

policy/venv/.installed: policy/requirements.txt $(call venv-stale,policy/venv)
	$(call make-venv,policy/venv)
	policy/venv/bin/python -m pip install --quiet -r policy/requirements.txt
	touch $@
