"""Code both Python apps (colorapp, prodcatalog) run: each image copies this package beside its
app's own (their Dockerfiles), the venv installs it editable (requirements-dev.txt)."""
