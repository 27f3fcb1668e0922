"""EKS versions this project knows, their support dates, what each costs and warns about on a given
day, and the add-on versions pinned for each: one data table and pure functions over it.

Why pinned add-ons: left unpinned, pulumi-eks asks AWS for the *most recent* kube-proxy and VPC CNI
build on every run (`getAddonVersion(mostRecent: true)`, nodejs/eks/cluster/cluster.ts of
pulumi/pulumi-eks at 7bf0c1b), so every new eksbuild AWS publishes shows up as an unrelated change
in PR previews and breaks `pulumi preview --expect-no-changes` after a deploy. Here a version moves
only when this table does, in a reviewed commit, together with `eksVersion`.

Why a passing day never refuses a version: EKS keeps a version in standard support for 14 months,
then in extended support for 12 more (billed at a higher rate), and only then stops offering it.
What happens at the end of standard support is the cluster's upgrade policy
(`upgradePolicy.supportType`, the stack's `eksSupportType`): EXTENDED stays on the version in
extended support, STANDARD lets AWS upgrade the control plane to the next version by itself. So a
stack is warned ahead of the end of standard support and while in extended support (the preview,
the advisory policy), priced at the extended rate in the cost model while it is in extended
support, and refused only for a version EKS no longer offers at all, past its extended support.
Every function takes the day as an input (`today`): nothing here reads the clock.

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
- end of extended support: 12 months after the end of standard support (EKS User Guide "Manage
  EKS extended support", docs.aws.amazon.com/eks/latest/userguide/extended-support-control.html:
  "Once a version is past the end of standard support date, it enters extended support for the
  next 12 months"); the calendar's own column, as copied by aws-samples/sample-apex-skills
  (skills/eks-operation-review/references/cluster-lifecycle.md, "last verified 2026-04-24"):
  1.34 → 2027-12-02, 1.35 → 2028-03-27 (read 2026-12-07). 1.36: its standard end + 12 months.
  A date is the last day of its period (1.24's standard support "ended on January 31, 2024" and
  its extended support "began on February 1, 2024", chkk.io/blog/amazon-eks-extended-support).
- upgrade policy (EKS API Reference, UpgradePolicyRequest and UpdateClusterConfig): STANDARD |
  EXTENDED, "the default value is EXTENDED"; "you can enable or disable extended support for
  clusters currently on standard support. You cannot disable extended support once it starts. You
  must enable extended support before your cluster exits standard support."
Pure data and functions: no Pulumi, no I/O, standard library only (the policy pack reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping, NamedTuple

ADDONS = ("vpc-cni", "kube-proxy", "coredns", "metrics-server")
#: the stack config keys (celestials:*) that choose the version and the upgrade policy
VERSION_KEY = "eksVersion"
SUPPORT_TYPE_KEY = "eksSupportType"
#: upgradePolicy.supportType values: what EKS does to a cluster when its version's standard
#: support ends (STANDARD: upgrades it to the next version; EXTENDED: keeps it, at a higher rate)
STANDARD, EXTENDED = "STANDARD", "EXTENDED"
SUPPORT_TYPES = (STANDARD, EXTENDED)
#: what EKS applies when a cluster states no upgrade policy (the program always states one)
API_DEFAULT_SUPPORT_TYPE = EXTENDED
#: warn this many days ahead of the end of a version's standard support: a quarter, time to
#: schedule and review an upgrade (one minor at a time) before AWS upgrades or bills extended
STANDARD_END_WARNING_DAYS = 90
#: the phases of a version on a given day
IN_STANDARD, IN_EXTENDED, ENDED = "standard", "extended", "ended"


@dataclass(frozen=True)
class EksRelease:
    version: str
    #: the last day of standard support
    standard_support_ends: date
    #: the last day of extended support; after it EKS no longer offers the version
    extended_support_ends: date
    #: add-on name → EKS add-on version (`aws eks describe-addon-versions`)
    addons: Mapping[str, str]
    #: the add-ons whose row for this version was read in the EKS User Guide (sources above); the
    #: others are what public EKS configurations pin, to confirm before a first deploy
    confirmed: frozenset[str] = frozenset()

    def phase(self, today: date) -> str:
        """IN_STANDARD, IN_EXTENDED or ENDED on `today`."""
        if today <= self.standard_support_ends:
            return IN_STANDARD
        if today <= self.extended_support_ends:
            return IN_EXTENDED
        return ENDED


RELEASES: tuple[EksRelease, ...] = (
    EksRelease("1.34", date(2026, 12, 2), date(2027, 12, 2), {
        "vpc-cni": "v1.21.1-eksbuild.8", "kube-proxy": "v1.34.6-eksbuild.13", "coredns": "v1.13.2-eksbuild.7",
        "metrics-server": "v0.8.0-eksbuild.6"}),
    EksRelease("1.35", date(2027, 3, 27), date(2028, 3, 27), {
        "vpc-cni": "v1.21.1-eksbuild.8", "kube-proxy": "v1.35.3-eksbuild.13", "coredns": "v1.14.2-eksbuild.4",
        "metrics-server": "v0.8.0-eksbuild.6"}, confirmed=frozenset({"kube-proxy", "coredns"})),
    EksRelease("1.36", date(2027, 7, 1), date(2028, 7, 1), {
        "vpc-cni": "v1.22.3-eksbuild.1", "kube-proxy": "v1.36.0-eksbuild.14", "coredns": "v1.14.3-eksbuild.3",
        "metrics-server": "v0.8.0-eksbuild.6"}, confirmed=frozenset({"kube-proxy"})),
)


class ControlPlaneRates(NamedTuple):
    """USD per cluster-hour in standard and in extended support (celestials/cost/prices.yaml)."""

    standard: float
    extended: float


def release(version: str) -> EksRelease:
    for r in RELEASES:
        if r.version == version:
            return r
    raise KeyError(f"EKS version {version!r} is not in celestials.eks_versions.RELEASES")


def known_versions() -> tuple[str, ...]:
    """Every version of the table (a stack may name only these: their add-ons are pinned)."""
    return tuple(r.version for r in RELEASES)


def offered_versions(today: date) -> tuple[str, ...]:
    """The known versions EKS still offers on `today`: in standard or extended support."""
    return tuple(r.version for r in RELEASES if r.phase(today) != ENDED)


def next_version(version: str) -> str | None:
    """The next minor in the table (EKS upgrades one minor at a time), None for the newest."""
    versions = known_versions()
    i = versions.index(release(version).version)
    return versions[i + 1] if i + 1 < len(versions) else None


def billed_support(version: str, support_type: str, today: date) -> str:
    """Which rate the control plane is billed at on `today`: IN_STANDARD or IN_EXTENDED (ENDED for
    a version EKS no longer offers). A STANDARD cluster past its version's standard support is
    upgraded by AWS to a version in standard support, so it is billed the standard rate."""
    phase = release(version).phase(today)
    if phase == IN_EXTENDED and support_type == STANDARD:
        return IN_STANDARD
    return phase


def _price(rates: ControlPlaneRates | None) -> str:
    if rates is None:
        return "at the extended-support rate instead of the standard one (celestials/cost/prices.yaml)"
    return f"${rates.extended:.2f} instead of ${rates.standard:.2f} per cluster-hour"


def _upgrade_to(version: str) -> str:
    nxt = next_version(version)
    if nxt is None:
        return f"set celestials:{VERSION_KEY} to the next version once its row is in celestials/eks_versions.py"
    return f"set celestials:{VERSION_KEY} to {nxt}"


def lifecycle_warnings(version: str, support_type: str, today: date,
                       rates: ControlPlaneRates | None = None) -> tuple[str, ...]:
    """What a stack running `version` with upgrade policy `support_type` should be told on
    `today`: nothing while standard support has STANDARD_END_WARNING_DAYS or more to go; ahead of
    its end, what the policy will do then; in extended support, the price and how long it lasts;
    past it, that EKS no longer offers the version. The rates make the price concrete."""
    r = release(version)
    phase = r.phase(today)
    std, ext = r.standard_support_ends, r.extended_support_ends
    upgrade = _upgrade_to(version)
    if phase == IN_STANDARD:
        left = (std - today).days
        if left >= STANDARD_END_WARNING_DAYS:
            return ()
        ahead = f"EKS {version}: standard support ends on {std} (in {left} days, as of {today})."
        if support_type == STANDARD:
            return (f"{ahead} With {SUPPORT_TYPE_KEY} {STANDARD}, AWS then upgrades this control plane to the "
                    f"next version by itself, outside any review, and leaves the nodes and add-ons pinned for "
                    f"{version}. Upgrade before: {upgrade}. Or, to stay on {version} until {ext}, set "
                    f"celestials:{SUPPORT_TYPE_KEY} {EXTENDED} before {std} (EKS accepts it only during standard "
                    f"support) and pay {_price(rates)} from then on.",)
        return (f"{ahead} With {SUPPORT_TYPE_KEY} {EXTENDED}, the cluster then stays on {version} in extended "
                f"support until {ext}, billed {_price(rates)}. Upgrade before: {upgrade}.",)
    if phase == IN_EXTENDED:
        if support_type == STANDARD:
            return (f"EKS {version} is past standard support (it ended on {std}). With {SUPPORT_TYPE_KEY} "
                    f"{STANDARD}, AWS upgrades this control plane to the next version by itself, so it no longer "
                    f"runs the {version} this stack names, and an update from it asks EKS for a downgrade, which "
                    f"EKS refuses: {upgrade}. ({EXTENDED} is accepted only during standard support, so switching "
                    f"now does not keep {version}.)",)
        return (f"EKS {version} is in extended support (standard support ended on {std}): the control plane is "
                f"billed {_price(rates)}. {SUPPORT_TYPE_KEY} {EXTENDED} keeps it on {version} until {ext} "
                f"({(ext - today).days} days left as of {today}); then AWS upgrades it by itself. Upgrade: {upgrade}.",)
    return (f"EKS no longer offers {version}: its extended support ended on {ext}, and AWS upgrades such a "
            f"control plane by itself. {upgrade[0].upper()}{upgrade[1:]}.",)


def addon_version(eks_version: str, addon: str) -> str:
    return release(eks_version).addons[addon]
