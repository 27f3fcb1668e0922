# Monthly cost of a stack from its offline synth (celestials/cost: prices with date and source in
# celestials/cost/prices.yaml). Overrides: SET="nodeCount=2 natGateways=2".
.PHONY: cost cost-diff cost-tutorial
MULTI_STACK_TARGETS += cost cost-diff
SET_TARGETS += cost cost-diff

cost: install-python ## Offline: monthly on-demand cost of STACK per resource and in total (SET="key=value ..." overrides; STACK="dev prod")
	$(PY) -m synth.cost $(foreach s,$(STACK),--stack $(s)) $(foreach kv,$(SET),--set $(kv))

# Same sides as synth-diff: SET vs the stack config, or BASE=<git ref> / BASE_TREE=<dir> vs the working tree.
cost-diff: install-python ## Offline: $ per month a change adds or saves, per resource and in total; SET=... or BASE=<ref>; STACK="dev prod"
	$(PY) -m synth.cost diff $(foreach s,$(STACK),--stack $(s)) $(if $(BASE),--base $(BASE)) $(if $(BASE_TREE),--base-tree $(BASE_TREE)) $(foreach kv,$(SET),--set $(kv))

cost-tutorial: install-python ## The original tutorial's footprint (eksctl defaults) on the same price data
	$(PY) -m synth.cost --tutorial
