"""The annotation by which a Deployment says why it runs one replica.

The renderers write it (the apps' Deployments, the trace collector's chart values) and the
guardrails' prod rule reads it (celestials/guardrails/prod_rules.py): one name for both, in a
module of the standard library only, as the policy pack needs."""

from __future__ import annotations

SINGLE_REPLICA_ANNOTATION = "celestials.io/single-replica-reason"
