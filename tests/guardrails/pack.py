"""Calling the policy pack's policies as Pulumi's policy engine would, without its server: inputs
wrapped in the SDK's own proxy (the one that raises on values unknown during preview)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

from celestials.stacks import resource_tags
from policy.guardrail_policies import POLICIES, policies

BY_NAME = {p.name: p for p in POLICIES}


def urn(resource_type: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::celestials::{resource_type}::{name}"


def validate(policy: str, resource_type: str, props: dict[str, Any], *, name: str = "res",
             stack: str = "dev", today: date | None = None) -> list[tuple[str, str | None]]:
    """(message, urn) of every violation the policy reports for one resource; `today`: the day
    the pack is built as of (needed for an advisory policy)."""
    found: list[tuple[str, str | None]] = []
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(copy.deepcopy(props)),
                                  urn(resource_type, name, stack), name, None, None)  # type: ignore[arg-type]
    by_name = BY_NAME if today is None else {p.name: p for p in policies(today)}
    by_name[policy].validate(args, lambda message, at=None: found.append((message, at)))
    return found


VPC = "aws:ec2/vpc:Vpc"


def tagged(production: bool, stack: str = "any", **props: Any) -> dict[str, Any]:
    """Props carrying the tags the program gives every AWS resource (production included)."""
    return {**props, "tags": resource_tags(stack, production)}


def validate_stack(policy: str, resources: list[tuple[str, str, dict[str, Any]]], *,
                   stack: str = "prod", production: bool | None = True) -> list[tuple[str, str | None]]:
    """Same for a stack policy over (type, name, props) resources; with `production` not None, the
    stack also has a VPC tagged as the program tags it (what tells the rules it is production)."""
    found: list[tuple[str, str | None]] = []
    if production is not None:
        resources = [(VPC, "vpc", tagged(production, stack)), *resources]
    policy_resources = [PolicyResource(t, unknown_checking_proxy(copy.deepcopy(p)), urn(t, n, stack), n,
                                       None, None, None, [], {})  # type: ignore[arg-type]
                        for t, n, p in resources]
    BY_NAME[policy].validate(StackValidationArgs(policy_resources),
                             lambda message, at=None: found.append((message, at)))
    return found
