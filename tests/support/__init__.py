"""Helpers shared by the cross-service tests (tracing, end-to-end browser)."""
