"""IAM vocabulary every part of the program shares: policy documents, and the actions of the
callers that are not a mesh backend's own (the trace collector's X-Ray writes).

Why here: least privilege is decided once, in code that tests read; an action list written in two
places drifts. No document built from here grants a wildcard action.
"""

from __future__ import annotations

from typing import Any

VERSION = "2012-10-17"

#: What the X-Ray daemon and the collector's X-Ray exporter call (AWSXrayWriteOnlyAccess's actions).
XRAY_WRITE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                      "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries")


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def xray_write_statement() -> dict[str, Any]:
    # X-Ray's write actions do not support resource-level permissions.
    return {"Sid": "WriteTraces", "Effect": "Allow", "Action": list(XRAY_WRITE_ACTIONS), "Resource": "*"}


def collector_policy() -> dict[str, Any]:
    return document(xray_write_statement())


def actions_of(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for statement in policy["Statement"]:
        action = statement["Action"]
        out.extend([action] if isinstance(action, str) else action)
    return out
