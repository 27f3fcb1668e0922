"""The whole program's synth per mesh backend and stack, evaluated once per test session and
shared by every suite that reads it (meshes, traffic rules, guardrails)."""

from __future__ import annotations

from functools import lru_cache

from synth.harness import BACKEND_SELECTION, SynthResult, quiet, synth_stack


@lru_cache(maxsize=None)
def synth(backend: str, stack: str = "dev", **overrides: str) -> SynthResult:
    with quiet():
        return synth_stack(stack, {**BACKEND_SELECTION[backend], **overrides})
