# Local rehearsal (docs/local.md): both meshes on this machine, every app behind a real Envoy.
# Overrides on the command line: make local-up CANARY_WEIGHT=100 MTLS_TRUST=ca1+ca2 TRACING=false
LOCAL := $(PY) -m celestials.local
LOCAL_SET = $(if $(CANARY_WEIGHT),--set canaryWeight=$(CANARY_WEIGHT)) \
            $(if $(MTLS_TRUST),--set mtlsTrust=$(MTLS_TRUST)) \
            $(if $(TRACING),--set tracing=$(TRACING))

BENCH_TARGETS += bench-local

.PHONY: local local-up local-down local-status local-reconfigure local-traces bench-local

local: install ## Run the local rehearsal in the foreground (Ctrl-C stops it); STACK, CANARY_WEIGHT, MTLS_TRUST
	$(LOCAL) run --stack $(STACK) $(LOCAL_SET)

local-up: install ## Start the local rehearsal in the background; returns once healthy, prints the URLs
	$(LOCAL) up --stack $(STACK) $(LOCAL_SET)

local-down: ## Stop every process of the local rehearsal
	$(LOCAL) down

local-status: ## List the local rehearsal's processes
	$(LOCAL) status

local-reconfigure: ## Apply CANARY_WEIGHT / MTLS_TRUST to the running rehearsal (restarts only what changed)
	$(LOCAL) reconfigure --stack $(STACK) $(LOCAL_SET)

local-traces: ## Print the rehearsal's service map and write build/local/service-map.svg
	$(LOCAL) traces

bench-local: install ## Latency/throughput of the frontend direct vs through gateway + sidecars (needs wrk, hey)
	$(PY) -m celestials.local.bench --stack $(STACK)
