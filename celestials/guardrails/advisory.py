"""Advisory rules: they warn and never block (the pack reports them at the ADVISORY level, `make
guardrails` prints them without failing). Unlike the mandatory rules they may depend on the day,
which the caller passes in (`today`): the pack's entry point and `make guardrails` read it once,
from `celestials.today`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Iterator, Sequence

from celestials import eks_versions as ev
from celestials.guardrails.aws_rules import EKS_CLUSTER, EKS_CLUSTER_COMPONENT
from celestials.guardrails.resource import Resource, Violation, get


@dataclass(frozen=True)
class AdvisoryRule:
    """A rule on one resource on a given day: `check` yields a warning per finding, naming it."""

    name: str
    description: str
    types: frozenset[str]
    check: Callable[[Resource, date], Iterable[str]]


def eks_version_support(r: Resource, today: date) -> Iterator[str]:
    """The support of the cluster's EKS version on `today` (celestials.eks_versions): ahead of the
    end of standard support, in extended support, or no longer offered. An unstated upgrade
    policy is read as EKS's default, and the warning says so."""
    version = r.props.get("version")
    if not isinstance(version, str):
        return  # not stated: EKS creates it on its default version, one in standard support
    stated = get(r.props, "upgradePolicy", "supportType")
    support = stated if stated in ev.SUPPORT_TYPES else ev.API_DEFAULT_SUPPORT_TYPE
    if version not in ev.known_versions():
        yield (f"{r.label}: EKS version {version} is not in celestials/eks_versions.py, so its support "
               "dates are unknown")
        return
    unstated = "" if stated else f" (no upgradePolicy.supportType: EKS's default, {support}, applies)"
    for warning in ev.lifecycle_warnings(version, support, today):
        yield f"{r.label}{unstated}: {warning}"


ADVISORY_RULES: tuple[AdvisoryRule, ...] = (
    AdvisoryRule("eks-version-support",
                 "The EKS version is flagged ahead of the end of its standard support, while in (paid) "
                 "extended support, and once EKS no longer offers it",
                 frozenset({EKS_CLUSTER_COMPONENT, EKS_CLUSTER}), eks_version_support),
)


def advise(resources: Sequence[Resource], today: date) -> list[Violation]:
    """Every advisory rule over a stack's resources, as of `today`."""
    return [Violation(rule.name, r.urn, message) for rule in ADVISORY_RULES for r in resources
            if r.type in rule.types for message in rule.check(r, today)]
