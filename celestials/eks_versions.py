"""EKS versions this project offers and the add-on versions pinned for each: one data table.

Why pinned add-ons: left unpinned, pulumi-eks asks AWS for the *most recent* kube-proxy and VPC CNI
build on every run (`getAddonVersion(mostRecent: true)`, nodejs/eks/cluster/cluster.ts of
pulumi/pulumi-eks at 7bf0c1b), so every new eksbuild AWS publishes shows up as an unrelated change
in PR previews and breaks `pulumi preview --expect-no-changes` after a deploy. Here a version moves
only when this table does, in a reviewed commit, together with `eksVersion`.

Why offered versions follow dates: a stack is refused a version whose standard support ends within
MIN_SUPPORT_DAYS (the cluster uses `upgradePolicy.supportType = STANDARD`, so EKS upgrades it by
itself at that date); a version past it is in paid extended support.

Sources (read 2026-11-30):
- standard-support end dates: the Amazon EKS Kubernetes release calendar (docs.aws.amazon.com,
  "Understand the Kubernetes version lifecycle on EKS"), as listed by endoflife.date/amazon-eks:
  1.34 → 2026-12-02, 1.35 → 2027-03-27. 1.36: only the month (2027-07, release + 14 months) was
  found; taken as the 1st, the earliest it can be.
- kube-proxy: EKS User Guide "Manage kube-proxy in Amazon EKS clusters", latest add-on version per
  Kubernetes version (1.36 → v1.36.0-eksbuild.14, 1.35 → v1.35.3-eksbuild.13).
- CoreDNS 1.35: EKS User Guide "Manage CoreDNS for DNS in Amazon EKS clusters" (v1.14.2-eksbuild.4).
- VPC CNI 1.35 (v1.21.1-eksbuild.8) and CoreDNS/VPC CNI 1.36 (v1.14.3-eksbuild.3,
  v1.22.3-eksbuild.1): the User Guide pages found did not yet list these rows; the versions are
  the ones public EKS configurations pin for these cluster versions. Confirm before a first deploy:
  `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>
  --query 'addons[].addonVersions[].addonVersion'` (the CreateAddon call refuses a version that
  does not exist, so a wrong row fails loudly at `up`, never silently).
- metrics-server (the EKS *community* add-on, offered since 2025-03-31: AWS supports its install
  and upgrade through the EKS API, the software itself is upstream kubernetes-sigs/metrics-server
  v0.8.0): v0.8.0-eksbuild.6 is the build public EKS configurations pin for Kubernetes 1.35; no
  User Guide page listing builds per Kubernetes version was found, so the 1.34 and 1.36 rows
  assume the same build covers them (community add-on builds span several versions). NOT
  confirmed: check with the describe-addon-versions command above (`--addon-name metrics-server`)
  before a first deploy; a wrong row fails CreateAddon loudly.
Pure data: no Pulumi, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

#: a version whose standard support ends sooner than this is not offered to a stack
MIN_SUPPORT_DAYS = 90
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "metrics-server")


@dataclass(frozen=True)
class EksRelease:
    version: str
    standard_support_ends: date
    #: add-on name → EKS add-on version (`aws eks describe-addon-versions`)
    addons: Mapping[str, str]


RELEASES: tuple[EksRelease, ...] = (
    EksRelease("1.34", date(2026, 12, 2), {
        "vpc-cni": "v1.21.1-eksbuild.8", "kube-proxy": "v1.34.6-eksbuild.13", "coredns": "v1.13.2-eksbuild.7",
        "metrics-server": "v0.8.0-eksbuild.6"}),
    EksRelease("1.35", date(2027, 3, 27), {
        "vpc-cni": "v1.21.1-eksbuild.8", "kube-proxy": "v1.35.3-eksbuild.13", "coredns": "v1.14.2-eksbuild.4",
        "metrics-server": "v0.8.0-eksbuild.6"}),
    EksRelease("1.36", date(2027, 7, 1), {
        "vpc-cni": "v1.22.3-eksbuild.1", "kube-proxy": "v1.36.0-eksbuild.14", "coredns": "v1.14.3-eksbuild.3",
        "metrics-server": "v0.8.0-eksbuild.6"}),
)


def release(version: str) -> EksRelease:
    for r in RELEASES:
        if r.version == version:
            return r
    raise KeyError(f"EKS version {version!r} is not in celestials.eks_versions.RELEASES")


def offered_versions(today: date) -> tuple[str, ...]:
    """Versions with at least MIN_SUPPORT_DAYS of standard support left on `today`."""
    return tuple(r.version for r in RELEASES if (r.standard_support_ends - today).days >= MIN_SUPPORT_DAYS)


def addon_version(eks_version: str, addon: str) -> str:
    return release(eks_version).addons[addon]
