"""Where a stack can be built and deployed from, read from its stack file by the program's own
settings parser (`celestials.local.stack.load_settings`, the check `pulumi up` runs too).

    python -m tools.stack_runner platform STACK     the Docker platform of its images (make up's preflight)
    python -m tools.stack_runner way-in STACK       exit 3, with the reason, when no deployer outside the
                                                    cluster's own nodes can reach its API endpoint
    python -m tools.stack_runner elastic-ips STACK  exit 3, with the numbers and the fix, when the account's
                                                    Elastic IP quota in the stack's region cannot hold its
                                                    NAT gateways' addresses (asks the AWS CLI)
    python -m tools.stack_runner github --output FILE STACK...
                                                    `stacks=<JSON>` for $GITHUB_OUTPUT: per stack the
                                                    runner (runs-on), its runner.arch, the image
                                                    platform and, when CI cannot deploy it, why

Why one reading: the workflows take each stack's runner from here and make up's preflight its
Docker platform, so neither can drift from `celestials:nodeArchitecture`. The images are built by
the Docker engine of whoever runs `pulumi up`, natively, on a runner of the nodes' architecture:
no emulation, which is slow and fails where a Dockerfile `RUN` meets an instruction QEMU lacks.

Why reachability is decided here and not by the settings: whether `pulumi up` can reach the
Kubernetes API depends on where the deployer runs (a laptop, a GitHub-hosted runner, a runner in a
network routed to the VPC), which no stack file knows; the committed prod stack is private-only
on purpose and must still evaluate offline. What the stack file does decide is checked here: an
endpoint that nothing outside the cluster's nodes can reach, and, for CI, an endpoint that the
GitHub-hosted runners (no fixed addresses) cannot reach and no runner of the repository's is
configured for.

Why Elastic IPs are checked before `up`: each NAT gateway holds one, the quota is per account and
region (5 by default), and a prod stack (3) beside a dev stack (1) and anything else in the same
region reaches it; `pulumi up` would then fail allocating an address (AddressLimitExceeded) with
part of the stack already created. The stack's own addresses (a second `up`) count as held.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from celestials.images import PLATFORMS as IMAGE_PLATFORMS
from celestials.local.stack import StackFileError, load_settings
from celestials.settings import Settings, SettingsError
from celestials.stacks import identity_tags

ROOT = Path(__file__).resolve().parents[1]
#: GitHub's standard hosted runner of each architecture (Ubuntu 24.04 with Docker and buildx, for
#: public and private repositories).
HOSTED_RUNNERS = {"amd64": "ubuntu-24.04", "arm64": "ubuntu-24.04-arm"}
#: each architecture as GitHub names it in `runner.arch` (RUNNER_ARCH)
RUNNER_ARCHS = {"amd64": "X64", "arm64": "ARM64"}
#: the docs section that says how to open a way in
WAY_IN_DOCS = 'docs/platform.md, "Reaching the API endpoint"'
#: EC2's "EC2-VPC Elastic IPs" quota in Service Quotas (per account and region)
EIP_QUOTA_CODE = "L-0263D0A3"
EIP_DOCS = 'docs/platform.md, "Elastic IP addresses"'


@dataclass(frozen=True)
class Plan:
    """One stack's CI runner. `refusal` non-empty: CI must not deploy it (its jobs fail first,
    with this reason, on `runs_on`, the hosted runner of its architecture)."""

    runs_on: list[str]
    runner_arch: str
    platform: str
    refusal: str = ""


def labels_variable(stack: str) -> str:
    """The repository variable naming a stack's own runner: PROD_RUNNER_LABELS for prod."""
    return f"{stack.upper().replace('-', '_')}_RUNNER_LABELS"


def way_in(s: Settings) -> str | None:
    """Who, besides the cluster's own nodes, can reach the API endpoint; None: nobody (the cluster
    security group lets in only itself and endpointPrivateAccessCidrs)."""
    ways = []
    if s.endpoint_public_access:
        ways.append("anywhere on the internet" if "0.0.0.0/0" in s.endpoint_public_access_cidrs
                    else f"the public endpoint from {', '.join(s.endpoint_public_access_cidrs)}")
    if s.endpoint_private_access_cidrs:
        ways.append(f"networks routed to the VPC ({', '.join(s.endpoint_private_access_cidrs)})")
    return " or ".join(ways) or None


def no_way_in(s: Settings) -> str:
    """Why a stack whose endpoint nobody outside its nodes can reach cannot be deployed; empty when
    someone can."""
    if way_in(s) is not None:
        return ""
    return (f"the {s.stack} stack's Kubernetes API endpoint is private-only and open to no network outside "
            f"its VPC (celestials:endpointPublicAccess false, no celestials:endpointPrivateAccessCidrs): "
            f"`pulumi up` from anywhere but the cluster's own nodes would create the VPC, NAT gateways, EKS "
            f"and nodes, then fail on every Kubernetes object. Give it a way in first ({WAY_IN_DOCS}).")


def elastic_ips(s: Settings) -> int:
    """The Elastic IP addresses the stack holds: one per NAT gateway (components/network.py)."""
    return s.nat_gateways


def _tags(address: Mapping[str, Any]) -> dict[str, str]:
    return {t.get("Key", ""): t.get("Value", "") for t in address.get("Tags") or []}


def eip_shortfall(s: Settings, quota: int, addresses: Sequence[Mapping[str, Any]]) -> str:
    """Why the region cannot hold the stack's Elastic IPs (`addresses`: what `describe-addresses`
    lists there), empty when it can. Addresses tagged as this stack's are its own already."""
    own_tags = identity_tags(s.stack).items()
    own = sum(1 for a in addresses if own_tags <= _tags(a).items())
    others, need = len(addresses) - own, elastic_ips(s)
    if others + need <= quota:
        return ""
    fits = quota - others
    fewer = (f"or run fewer NAT gateways (pulumi config set --stack {s.stack} celestials:natGateways {fits}; "
             f"fewer than one per zone makes egress depend on those zones)" if fits >= 1 else
             "no natGateways value fits (at least one is needed)")
    held = f", besides the {own} the stack holds already" if own else ""
    return (f"the {s.stack} stack needs {need} Elastic IP addresses in {s.region} (celestials:natGateways = "
            f"{s.nat_gateways}, one per NAT gateway), but {others} of the account's quota of {quota} there are "
            f"allocated to others{held}: {others} + {need} > {quota}. `pulumi up` would fail allocating a NAT "
            f"gateway's address (AddressLimitExceeded) with part of the stack created. Request a quota increase "
            f"(aws service-quotas request-service-quota-increase --service-code ec2 --quota-code {EIP_QUOTA_CODE} "
            f"--desired-value {others + need} --region {s.region}), release addresses nothing uses, or {fewer} "
            f"({EIP_DOCS}).")


def _aws_json(args: list[str]) -> tuple[Any, str]:
    """The AWS CLI's JSON answer, or None and why there is none."""
    try:
        proc = subprocess.run(["aws", *args, "--output", "json"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, str(err)
    if proc.returncode != 0:
        return None, proc.stderr.strip() or f"exit status {proc.returncode}"
    try:
        return json.loads(proc.stdout), ""
    except ValueError:
        return None, f"not JSON: {proc.stdout.strip()[:200]!r}"


def check_elastic_ips(s: Settings) -> tuple[int, str]:
    """(exit status, message) of the Elastic IP check: 3 and the shortfall when the quota cannot
    hold the stack's addresses; 0 and a note when the CLI cannot tell (a role without
    servicequotas:GetServiceQuota must not block a deploy the quota may well allow)."""
    quota_doc, why = _aws_json(["service-quotas", "get-service-quota", "--service-code", "ec2",
                                "--quota-code", EIP_QUOTA_CODE, "--region", s.region])
    listed, why_listed = _aws_json(["ec2", "describe-addresses", "--region", s.region])
    try:
        quota = math.floor(float(quota_doc["Quota"]["Value"])) if quota_doc is not None else None
    except (KeyError, TypeError, ValueError):
        quota, why = None, f"no Quota.Value in {json.dumps(quota_doc)[:200]}"
    addresses = listed.get("Addresses") if isinstance(listed, dict) else None
    if not isinstance(addresses, list):
        why_listed = why_listed or f"no Addresses in {json.dumps(listed)[:200]}"
    if quota is None or not isinstance(addresses, list):
        what = "the Elastic IP quota" if quota is None else "the allocated Elastic IPs"
        return 0, (f"note: Elastic IP check skipped: could not read {what} in {s.region} ({why or why_listed}); "
                   f"the {s.stack} stack needs {elastic_ips(s)} ({EIP_DOCS}).")
    shortfall = eip_shortfall(s, quota, addresses)
    return (3, shortfall) if shortfall else (0, "")


def hosted_runners_reach(s: Settings) -> bool:
    """GitHub-hosted standard runners have no fixed addresses: only an endpoint open to the whole
    internet is reachable from them."""
    return s.endpoint_public_access and "0.0.0.0/0" in s.endpoint_public_access_cidrs


def _labels(variable: str, raw: str) -> tuple[list[str] | None, str]:
    """A runner variable's labels (None: unset), or why it is not valid."""
    if not raw.strip():
        return None, ""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if isinstance(value, str) and value:
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        return None, (f"the repository variable {variable} = {raw!r} is not runner labels as JSON: a "
                      f'non-empty list of strings such as ["self-hosted", "celestials-prod"]')
    return value, ""


def plan(s: Settings, labels_json: str = "") -> Plan:
    """Where CI runs this stack: its own runner (`labels_json`, the stack's runner variable) when
    one is configured, else the GitHub-hosted runner of its nodes' architecture."""
    hosted = Plan(runs_on=[HOSTED_RUNNERS[s.node_architecture]], runner_arch=RUNNER_ARCHS[s.node_architecture],
                  platform=IMAGE_PLATFORMS[s.node_architecture])
    variable = labels_variable(s.stack)
    labels, bad = _labels(variable, labels_json)
    refusal = bad or no_way_in(s)
    if not refusal and labels is None and not hosted_runners_reach(s):
        refusal = (f"the {s.stack} stack's Kubernetes API endpoint is reachable only from {way_in(s)}, and "
                   f"GitHub-hosted runners have no fixed addresses: `pulumi up` there would create the AWS "
                   f"half and then fail on every Kubernetes object. Set the repository variable {variable} "
                   f"to the labels (JSON) of a {s.node_architecture} runner that reaches it ({WAY_IN_DOCS}).")
    if refusal or labels is None:
        return replace(hosted, refusal=refusal)
    return replace(hosted, runs_on=labels)


def plans(stacks: list[str], env: Mapping[str, str], root: Path = ROOT) -> dict[str, Plan]:
    return {stack: plan(load_settings(root, stack), env.get(labels_variable(stack), "")) for stack in stacks}


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stack_runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("platform").add_argument("stack")
    sub.add_parser("way-in").add_argument("stack")
    sub.add_parser("elastic-ips").add_argument("stack")
    github = sub.add_parser("github")
    github.add_argument("--output", type=Path, required=True, help="the step's $GITHUB_OUTPUT file")
    github.add_argument("stacks", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "platform":
            print(IMAGE_PLATFORMS[load_settings(args.root, args.stack).node_architecture])
            return 0
        if args.command == "way-in":
            reason = no_way_in(load_settings(args.root, args.stack))
            if reason:
                print(reason, file=sys.stderr)
                return 3
            return 0
        if args.command == "elastic-ips":
            status, message = check_elastic_ips(load_settings(args.root, args.stack))
            if message:
                print(message, file=sys.stderr)
            return status
        found = plans(args.stacks, os.environ if env is None else env, args.root)
    except (SettingsError, StackFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with args.output.open("a") as out:
        out.write("stacks=" + json.dumps({k: asdict(v) for k, v in found.items()}, sort_keys=True) + "\n")
    for stack, p in found.items():
        if p.refusal:
            print(f"::warning title={stack} cannot be deployed from CI::{p.refusal}")
        else:
            print(f"{stack}: runs on {json.dumps(p.runs_on)} ({p.runner_arch}), images {p.platform}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
