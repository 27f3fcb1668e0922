"""Renderers: pure functions that turn the topology model into plain data for one backend."""
