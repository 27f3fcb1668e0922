# Python static checks (the lead's area): pyflakes + bugbear via ruff.
LINT_TARGETS += lint-python

.PHONY: lint-python
lint-python: install-python ## ruff (pyflakes, bugbear) over the Python code
	$(PY) -m ruff check --quiet .

LINT_TARGETS += lint-types

.PHONY: lint-types
lint-types: install-python ## mypy, strict over celestials/ and components/ (config: mypy.ini)
	$(PY) -m mypy
