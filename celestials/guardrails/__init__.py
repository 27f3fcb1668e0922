"""Guardrails: the rules an unsafe change must not get past, written once and run in two places.

`pulumi preview --policy-pack policy` runs them through Pulumi's policy engine (policy/), and
`make test` runs them offline over the synth of every stack and mesh backend (synth/guardrails.py),
so a violation fails here without the Pulumi CLI. Each rule is a pure function of the resources'
inputs: no Pulumi, no I/O, nothing but the standard library (the pack's own venv has no more).
Advisory rules (`advisory`) warn instead of blocking, and may also depend on the day, given to them.
"""

from celestials.guardrails.advisory import ADVISORY_RULES, AdvisoryRule, advise
from celestials.guardrails.resource import SECRET, Resource, Violation
from celestials.guardrails.rules import RESOURCE_RULES, STACK_RULES, ResourceRule, StackRule, check

__all__ = ["ADVISORY_RULES", "AdvisoryRule", "RESOURCE_RULES", "SECRET", "STACK_RULES", "Resource",
           "ResourceRule", "StackRule", "Violation", "advise", "check"]
