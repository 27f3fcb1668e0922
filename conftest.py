"""Project-wide pytest plugins (tests/ and apps/): every run ends by listing what it skipped, and why."""

pytest_plugins = ["tools.skip_summary"]
