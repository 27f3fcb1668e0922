# Figures the docs quote from the program's offline evaluation (resource counts, the canary diff
# example, migration counts): tools/figures_doc.py writes them between markers; a test fails when
# they are stale. Timings are not among them: `make bench-synth` measures those.
.PHONY: docs-figures

docs-figures: install-python ## Rewrite the figures README.md and docs/ quote from the offline synth (counts, example diff)
	$(PY) -m tools.figures_doc
