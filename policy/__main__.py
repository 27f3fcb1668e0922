"""The celestials policy pack: `pulumi preview --policy-pack policy` (README: Security and
resilience). The rules live in celestials/guardrails, shared with the offline run in `make test`.
The advisory policies are as of the day read here, once (`CELESTIALS_TODAY`, else the system date)."""

import sys
from pathlib import Path

# The pack runs from this folder; the rules are in the project beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from celestials.today import today  # noqa: E402
from policy.guardrail_policies import policies  # noqa: E402

PolicyPack(name="celestials-guardrails", enforcement_level=EnforcementLevel.MANDATORY, policies=policies(today()))
