"""The rules, by name, and one entry point that runs them all over a stack's resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

from celestials.guardrails import aws_rules as aws
from celestials.guardrails import kubernetes_rules as k8s
from celestials.guardrails.prod_rules import prod_survives_node_loss, stack_states_production
from celestials.guardrails.resource import Resource, Violation


@dataclass(frozen=True)
class ResourceRule:
    """A rule on one resource at a time: `check` yields a message per fault, naming the resource."""

    name: str
    description: str
    types: frozenset[str]
    check: Callable[[Resource], Iterable[str]]
    #: the rule needs to know which inputs are secret; Pulumi's Python policy SDK unwraps secrets
    #: before a policy sees them, so in the pack such a rule is reported not applicable
    needs_secretness: bool = False


@dataclass(frozen=True)
class StackRule:
    """A rule relating resources to each other: `check` yields (resource, message) per fault."""

    name: str
    description: str
    check: Callable[[Sequence[Resource]], Iterable[tuple[Resource, str]]]


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule("ecr-scan-on-push-immutable-tags",
                 "ECR repositories scan images on push and keep tags immutable",
                 frozenset({aws.ECR_REPOSITORY}), aws.ecr_scan_on_push_and_immutable_tags),
    ResourceRule("eks-endpoint-not-open-in-prod",
                 "The EKS API endpoint of a production stack (tag production=true) is not open to 0.0.0.0/0",
                 frozenset({aws.EKS_CLUSTER_COMPONENT, aws.EKS_CLUSTER}), aws.eks_endpoint_not_open_in_prod),
    ResourceRule("eks-secrets-encrypted-with-kms",
                 "Kubernetes Secrets are envelope-encrypted with a KMS key",
                 frozenset({aws.EKS_CLUSTER_COMPONENT, aws.EKS_CLUSTER}), aws.eks_secrets_encrypted),
    ResourceRule("nodes-require-imdsv2",
                 "Nodes require IMDSv2 (launch templates with httpTokens: required)",
                 frozenset({aws.LAUNCH_TEMPLATE, aws.INSTANCE, aws.NODE_GROUP_COMPONENT, aws.NODE_GROUP}),
                 aws.nodes_require_imdsv2),
    ResourceRule("iam-no-wildcard-actions",
                 "IAM policies name their actions; exceptions are listed with reasons in one place",
                 frozenset({*aws.IAM_DOCUMENTS, aws.IAM_ROLE, *aws.IAM_ATTACHMENTS}), aws.iam_no_wildcard_actions),
    ResourceRule("irsa-trust-pins-sub-and-aud",
                 "IRSA trust policies pin both the service account (sub) and the audience (aud)",
                 frozenset({aws.IAM_ROLE}), aws.irsa_trust_pins_sub_and_aud),
    ResourceRule("secret-from-secret-value",
                 "Kubernetes Secrets are built from Pulumi secrets, never from plain values",
                 frozenset({k8s.SECRET_TYPE}), k8s.secret_from_secret_value, needs_secretness=True),
    ResourceRule("containers-hardened",
                 "Containers run as non-root on a read-only root filesystem, without privilege "
                 "escalation, with CPU/memory requests and a memory limit (injected mesh containers excepted)",
                 frozenset({*k8s.POD_SPECS, k8s.HELM_RELEASE}), k8s.containers_hardened),
    ResourceRule("load-balancer-only-for-ingress-gateway",
                 "Only the ingress gateway gets a LoadBalancer Service",
                 frozenset({k8s.SERVICE_TYPE}), k8s.load_balancer_only_for_ingress_gateway),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule("stack-states-production",
              "The stack's tagged resources say whether it is production (tag production=true|false), "
              "all of them the same",
              stack_states_production),
    StackRule("prod-survives-node-loss",
              "In a production stack (tag production=true) every Deployment runs 2+ replicas over zones with a "
              "PodDisruptionBudget and a HorizontalPodAutoscaler (or says why one is enough); so does the mesh "
              "control plane",
              prod_survives_node_loss),
)


def check(resources: Sequence[Resource]) -> list[Violation]:
    """Every rule over a stack's resources (with secretness known, as in the offline synth)."""
    return [*_resource_violations(resources), *(
        Violation(rule.name, r.urn, message) for rule in STACK_RULES for r, message in rule.check(resources))]


def _resource_violations(resources: Sequence[Resource]) -> Iterator[Violation]:
    for rule in RESOURCE_RULES:
        for r in resources:
            if r.type in rule.types:
                yield from (Violation(rule.name, r.urn, message) for message in rule.check(r))
