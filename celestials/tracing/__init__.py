"""Trace plumbing shared by the tests and the local rehearsal (an OTLP sink that writes JSON lines)."""
