# Platform (AWS components, capacity model, CI workflows).
# actionlint (a wheel in requirements-dev.txt) checks every workflow; it runs shellcheck (also a
# wheel) on their `run:` scripts because the venv's bin directory is on PATH.
LINT_TARGETS += lint-workflows

.PHONY: lint-workflows

lint-workflows: install-python ## actionlint (+ shellcheck) on .github/workflows
	$(VENV)/bin/actionlint -no-color .github/workflows/*.yml

# Pinned artifacts (celestials/artifacts.py): the README table and every version the docs name.
.PHONY: docs-pins
docs-pins: install-python ## Rewrite the pinned versions in README.md and docs/ from celestials/artifacts.py
	$(PY) -m tools.artifacts_doc

# The configuration reference in README.md (celestials/settings.py: keys, defaults, limits).
.PHONY: docs-settings
docs-settings: install-python ## Rewrite README's configuration reference from celestials/settings.py and the stack files
	$(PY) -m tools.settings_doc
