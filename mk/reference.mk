# Reference data for the tests (tools/reference.py): without ../shared/reference beside the clone,
# `make reference` fetches the upstream files the tests check against, each by its pinned sha256,
# into ~/.cache/celestials/reference, which the tests then read.
.PHONY: reference

reference: install-python ## Fetch the upstream files the tests check against (pinned sha256 each) into ~/.cache/celestials/reference
	$(PY) -m tools.reference
