# Local rehearsal (docs/local.md): both meshes on this machine, every app behind a real Envoy.
# Overrides on the command line: make local-up CANARY_WEIGHT=100 MTLS_TRUST=ca1+ca2 TRACING=false,
# or any key as elsewhere: SET="canaryWeight=100 mtlsTrust=ca1+ca2".
LOCAL := $(PY) -m celestials.local
LOCAL_SET = $(if $(CANARY_WEIGHT),--set canaryWeight=$(CANARY_WEIGHT)) \
            $(if $(MTLS_TRUST),--set mtlsTrust=$(MTLS_TRUST)) \
            $(if $(TRACING),--set tracing=$(TRACING)) \
            $(foreach kv,$(SET),--set $(kv))

BENCH_TARGETS += bench-local
# The rehearsal runs one stack; down/status/restart/traces act on the running one, whatever its stack.
ONE_STACK_TARGETS += local local-up local-reconfigure bench-local bench
SET_TARGETS += local local-up local-reconfigure

.PHONY: local local-up local-down local-status local-restart local-reconfigure local-traces bench-local bench-tools

local: install ## Run the local rehearsal in the foreground (Ctrl-C stops it); STACK, CANARY_WEIGHT, MTLS_TRUST, SET
	$(LOCAL) run --stack $(STACK) $(LOCAL_SET)

local-up: install ## Start the local rehearsal in the background; returns once healthy, prints the URLs
	$(LOCAL) up --stack $(STACK) $(LOCAL_SET)

local-down: install-python ## Stop every process of the local rehearsal
	$(LOCAL) down

local-status: install-python ## List the local rehearsal's processes (a STOPPED one: make local-restart NAME=<name>)
	$(LOCAL) status

local-restart: install-python ## Restart one process of the running rehearsal: NAME=<name as local-status lists it>; no NAME: every STOPPED one
	$(LOCAL) restart $(NAME)

local-reconfigure: install-python ## Apply CANARY_WEIGHT / MTLS_TRUST / SET to the running rehearsal (in place: Envoys reload their xDS files)
	$(LOCAL) reconfigure --stack $(STACK) $(LOCAL_SET)

local-traces: install-python ## Print the rehearsal's service map and write build/local/service-map.svg
	$(LOCAL) traces

bench-local: install bench-tools ## Latency/throughput of the frontend direct vs through gateway + sidecars, and per Envoy hop
	$(PY) -m celestials.local.bench --stack $(STACK)
	$(PY) -m celestials.local.bench_hops --stack $(STACK)

# The load generators come from Debian; install them when missing (as root), else say how.
bench-tools:
	@missing=""; for t in wrk hey; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	  else echo "make bench needs:$$missing (e.g. sudo apt-get install$$missing)" >&2; exit 2; fi; \
	fi
