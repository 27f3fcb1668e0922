"""Stack settings: every `celestials:*` config key parsed once into frozen, typed values.

Why one module: a bad value must fail before any resource is registered, with the key, the value
given and what is allowed, and every layer below reads typed values instead of raw strings.
Config values arrive as strings, structured values JSON-encoded: from the Pulumi runtime, and from
the offline tools, which read a stack file as Pulumi does (celestials/local/stack.py). Native values
(ints, booleans, lists) are accepted too, for callers that build settings directly (tests, tools).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import json
import re
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from .stacks import PRODUCTION_KEY
from . import eks_versions as ev
from .zones import EKS_UNSUPPORTED_ZONE_IDS, ZONE_ID, unsupported

PROJECT = "celestials"

#: A mesh backend's name; which names exist is the registry's (components.mesh_backends), which
#: refuses an unknown one before any resource, naming this key.
_MESH_BACKEND = re.compile(r"^[a-z][a-z0-9]{1,30}$")
MTLS_TRUSTS = ("ca1", "ca1+ca2")
TLS_KEY_ALGORITHMS = ("rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256")
PRODCATALOG_STORAGES = ("dynamodb", "sqlite")
#: EKS control-plane log types (CloudWatch Logs ingestion is billed per GB; `audit` is by far the
#: largest). Production keeps all five; other stacks default to what a developer reads when something
#: fails: API server errors and authentication (401s, access entries).
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
DEV_CONTROL_PLANE_LOG_TYPES = ("api", "authenticator")
NODE_ARCHITECTURES = ("amd64", "arm64")
#: CPU credit specifications of burstable instances (EC2 `CreditSpecification.CpuCredits`)
CPU_CREDITS = ("standard", "unlimited")
#: instance families that run on CPU credits (EC2 burstable performance instances); only these
#: take a credit specification
BURSTABLE_FAMILIES = ("t2", "t3", "t3a", "t4g")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|metal|[0-9]*xlarge)(-[0-9]+xl)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$")


class SettingsError(ValueError):
    """A stack config value that is not allowed; the message names key, value and what is allowed.

    The key is shown as the user writes it: a bare name is one of ours (`celestials:<name>`), a
    namespaced key (`aws:region`) is shown as is; `written` overrides both (a bare key found in a
    stack file is shown bare, because that is the mistake)."""

    def __init__(self, key: str, value: Any, allowed: str, *, written: str | None = None):
        self.key, self.value, self.allowed = key, value, allowed
        shown = written or (key if ":" in key else f"{PROJECT}:{key}")
        super().__init__(f"invalid stack config {shown} = {value!r}: {allowed}")


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to a mistyped word (difflib), or None when none is close."""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(match: str | None) -> str:
    return f" (did you mean {match}?)" if match else ""


@functools.lru_cache(maxsize=1)
def aws_regions() -> tuple[str, ...]:
    """The regions the pinned AWS provider knows (pulumi_aws's `Region` enum).

    Why this source: it is the provider that will deploy the stack, it is pinned in
    requirements.txt (botocore's endpoint data is only a test dependency here), and it moves with
    provider upgrades instead of a hand-typed list. Imported lazily: pulumi_aws takes ~0.7 s to
    import and the local rehearsal does not otherwise need it."""
    from pulumi_aws import Region

    return tuple(region.value for region in Region)


def _as_region(key: str, raw: Any) -> str:
    if isinstance(raw, str) and raw in aws_regions():
        return raw
    hint = did_you_mean(closest(raw, aws_regions())) if isinstance(raw, str) else ""
    raise SettingsError(key, raw, f"an AWS region the provider knows, such as us-west-2{hint}")


@dataclass(frozen=True)
class Settings:
    """Typed stack settings; defaults here are the documented defaults (README config table)."""

    stack: str = "dev"
    #: `celestials:production`: held to production's rules (at least 2 nodes and replicas, a NAT
    #: gateway per zone, no API endpoint open to the internet, the N-1 capacity check, deletion
    #: protection, longer log retention, autoscalers, the guardrails' production rules). The stack's
    #: name plays no part. A stack's config must state it (celestials.stack_config.REQUIRED_KEYS);
    #: False here only for settings built directly (tests, tools).
    production: bool = False
    #: AWS region (`aws:region`), used for the controller chart and X-Ray exporter.
    region: str = "us-west-2"
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: int = 2
    #: explicit zone IDs (account-independent, e.g. usw2-az1); None: the first zones EKS supports
    availability_zone_ids: tuple[str, ...] | None = None
    nat_gateways: int = 1
    eks_version: str = "1.35"
    #: upgradePolicy.supportType of the cluster (celestials.eks_versions): STANDARD lets AWS upgrade
    #: the control plane when its version's standard support ends, EXTENDED keeps the version in paid
    #: extended support. Always written to the cluster, so EKS's own default (EXTENDED) never applies
    #: silently; the committed stack files set it explicitly.
    eks_support_type: str = ev.STANDARD
    instance_type: str = "m6i.xlarge"
    #: CPU architecture of the node group (and so of the AMI and the images built): amd64 | arm64.
    node_architecture: str = "amd64"
    #: credit specification of burstable nodes (`cpu_credits`); EC2 would launch T3/T3a/T4g as
    #: unlimited (or as the account's default), billing surplus credits per vCPU-hour
    burstable_cpu_credits: str = "standard"
    node_count: int = 1
    node_max_count: int = 2
    endpoint_public_access: bool = True
    endpoint_public_access_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    #: networks outside the VPC (peered, Transit Gateway, VPN: a CI runner's) allowed to reach the
    #: private API endpoint on 443
    endpoint_private_access_cidrs: tuple[str, ...] = ()
    ssh_key_name: str | None = None
    #: IAM role/user ARNs given cluster-admin access entries (besides the cluster's creator).
    cluster_admins: tuple[str, ...] = ()
    #: IAM role/user ARNs given read-only access entries (AmazonEKSAdminViewPolicy), e.g. the CI
    #: preview role, whose `pulumi preview --refresh` reads every object of the stack
    cluster_viewers: tuple[str, ...] = ()
    #: IAM role ARNs of CI deploy roles, given cluster-admin access entries (a stack created from a
    #: laptop makes only the laptop's principal admin)
    ci_deploy_roles: tuple[str, ...] = ()
    mesh_backend: str = "istio"
    appmesh_end_of_support_acknowledged: bool = False
    canary_weight: int = 50
    mtls_trust: str = "ca1"
    tls_key_algorithm: str = "rsa-2048"
    tls_validity_days: int = 365
    tls_rotation_window_days: int = 30
    tls_rotation: int = 0
    tls_rotate_cas: bool = False
    prodcatalog_storage: str = "dynamodb"
    prodcatalog_replicas: int = 2
    #: replicas of every other workload on the request path (ingress gateway, frontend-node,
    #: proddetail v1 and v2) and of the mesh control plane; production needs at least 2
    request_path_replicas: int = 1
    #: HorizontalPodAutoscalers' max for the request path; None: the stack's default (`autoscale_max`)
    autoscale_max_replicas: int | None = None
    tracing: bool = True
    #: None: all five in production, DEV_CONTROL_PLANE_LOG_TYPES elsewhere; see `log_types`
    control_plane_log_types: tuple[str, ...] | None = None
    #: interface endpoints for ECR (api + dkr) in the private subnets (see docs/platform.md)
    ecr_endpoints: bool = False
    #: why a production stack runs fewer NAT gateways than zones (None: it may not)
    fewer_nat_gateways_reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def proddetail_weights(self) -> dict[str, int]:
        """Canary split: the share of proddetail traffic that v2 gets, the rest to v1."""
        return {"v1": 100 - self.canary_weight, "v2": self.canary_weight}

    @property
    def autoscale_max(self) -> int | None:
        """The max of every request-path HPA (each one's min is its workload's replicas), or None
        for no autoscalers. Set: `autoscaleMaxReplicas`. Unset: in production, twice the largest minimum
        (each workload may at least double under load; the capacity check refuses the stack if
        that many pods would not fit on the node group); elsewhere none, since a dev node group is
        sized for one replica of most things."""
        if self.autoscale_max_replicas is not None:
            return self.autoscale_max_replicas
        if self.production:
            return 2 * self.autoscale_min
        return None

    @property
    def autoscale_min(self) -> int:
        """The largest minimum among the request path's autoscalers (each one's min is its
        workload's replicas): the least any autoscaler max may be."""
        return max(self.request_path_replicas, self.prodcatalog_replicas)

    @property
    def cpu_credits(self) -> str | None:
        """The nodes' CPU credit specification: `burstableCpuCredits` when the instance type is of
        a burstable family, None for every other type (which has no credits to specify)."""
        family = self.instance_type.split(".", 1)[0]
        return self.burstable_cpu_credits if family in BURSTABLE_FAMILIES else None

    @property
    def log_types(self) -> tuple[str, ...]:
        """Control-plane log types to enable: the configured ones, else the stack's default."""
        if self.control_plane_log_types is not None:
            return self.control_plane_log_types
        return CONTROL_PLANE_LOG_TYPES if self.production else DEV_CONTROL_PLANE_LOG_TYPES


def _as_int(key: str, raw: Any, lo: int, hi: int | None = None) -> int:
    allowed = f"an integer from {lo}" + (f" to {hi}" if hi is not None else " up")
    if isinstance(raw, bool):
        raise SettingsError(key, raw, allowed)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
        value = int(raw.strip())
    else:
        raise SettingsError(key, raw, allowed)
    if value < lo or (hi is not None and value > hi):
        raise SettingsError(key, raw, allowed)
    return value


def _as_bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise SettingsError(key, raw, "true or false")


def _as_choice(key: str, raw: Any, choices: tuple[str, ...]) -> str:
    if isinstance(raw, str) and raw in choices:
        return raw
    raise SettingsError(key, raw, "one of " + ", ".join(choices))


def _as_cidr(key: str, raw: Any) -> str:
    allowed = "an IPv4 CIDR block such as 10.0.0.0/16"
    if not isinstance(raw, str) or "/" not in raw:
        raise SettingsError(key, raw, allowed)
    try:
        return str(ipaddress.IPv4Network(raw.strip(), strict=True))
    except ValueError as err:
        raise SettingsError(key, raw, f"{allowed} ({err})") from None


def _as_cidr_list(key: str, raw: Any) -> tuple[str, ...]:
    allowed = 'a non-empty list of IPv4 CIDR blocks, e.g. ["172.31.0.0/16"]' if key == "endpointPrivateAccessCidrs" \
        else 'a non-empty list of IPv4 CIDR blocks, e.g. ["52.95.110.0/24"]'
    original = raw
    raw = _json_list(key, raw, allowed)
    if not raw:
        raise SettingsError(key, original, allowed)
    try:
        return tuple(_as_cidr(key, item) for item in raw)
    except SettingsError as err:
        raise SettingsError(key, original, f"{allowed}; {err.value!r} is not: {err.allowed}") from None


#: what a public endpoint can never see as a source: documentation (TEST-NET-1/2/3, RFC 5737),
#: private, shared, loopback, link-local, multicast and reserved ranges (`is_global` is False)
_NOT_PUBLIC = "documentation (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), private, shared (100.64.0.0/10), " \
              "loopback, link-local, multicast or reserved"


def _as_public_cidr_list(key: str, raw: Any) -> tuple[str, ...]:
    """CIDRs a public API endpoint is opened to: real, routable internet addresses (or 0.0.0.0/0)."""
    cidrs = _as_cidr_list(key, raw)
    for cidr in cidrs:
        net = ipaddress.IPv4Network(cidr)
        if cidr != "0.0.0.0/0" and not net.is_global:
            raise SettingsError(key, raw, f"public internet CIDRs (the addresses your operators and CI runners "
                                f"connect from); {cidr} is {_NOT_PUBLIC}, which never reaches a public endpoint")
    return cidrs


def _as_private_cidr_list(key: str, raw: Any) -> tuple[str, ...]:
    cidrs = _as_cidr_list(key, raw)
    rfc1918 = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    for cidr in cidrs:
        if not any(ipaddress.IPv4Network(cidr).subnet_of(n) for n in rfc1918):
            raise SettingsError(key, raw, f"private (RFC 1918) CIDRs routed to the VPC; {cidr} is not one")
    return cidrs


def _as_principal_list(key: str, raw: Any, roles_only: bool = False) -> tuple[str, ...]:
    allowed = (f'a list of IAM role{"" if roles_only else " or user"} ARNs, '
               'e.g. ["arn:aws:iam::123456789012:role/admins"]')
    raw = _json_list(key, raw, allowed)
    if not all(isinstance(a, str) and _IAM_PRINCIPAL.match(a)
                                            and (":role/" in a or not roles_only) for a in raw):
        raise SettingsError(key, raw, allowed)
    if len(set(raw)) != len(raw):
        raise SettingsError(key, raw, "a list without duplicates")
    return tuple(raw)


def _json_list(key: str, raw: Any, allowed: str) -> list[Any]:
    """A list given natively (stack file) or JSON-encoded (CLI); anything else is refused."""
    value = raw
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SettingsError(key, raw, allowed) from None
    if not isinstance(value, list):
        raise SettingsError(key, raw, allowed)
    return value


def _as_subset(key: str, raw: Any, choices: tuple[str, ...]) -> tuple[str, ...]:
    """A list of distinct values from `choices` (possibly empty), kept in `choices` order."""
    allowed = "a list of distinct values from " + ", ".join(choices) + " (may be empty)"
    value = _json_list(key, raw, allowed)
    if not all(isinstance(v, str) and v in choices for v in value) \
            or len(set(value)) != len(value):
        raise SettingsError(key, raw, allowed)
    return tuple(c for c in choices if c in value)


def _as_pattern(key: str, raw: Any, pattern: re.Pattern[str], allowed: str) -> str:
    if isinstance(raw, str) and pattern.fullmatch(raw):
        return raw
    raise SettingsError(key, raw, allowed)


def _as_eks_version(key: str, raw: Any) -> str:
    """A version of the table (whose add-ons are pinned); whether EKS still offers it on a given day
    is `check_eks_version`'s, never the parser's: parsing gives the same answer on every day."""
    value = str(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw
    if isinstance(value, str) and value in ev.known_versions():
        return value
    raise SettingsError(key, raw, "one of " + ", ".join(ev.known_versions()) + " (the EKS versions in "
                        "celestials/eks_versions.py, each with its support dates and pinned add-ons)")


def _as_eks_support_type(key: str, raw: Any) -> str:
    if isinstance(raw, str) and raw in ev.SUPPORT_TYPES:
        return raw
    raise SettingsError(key, raw, f"{ev.STANDARD} (when standard support of the version ends, AWS upgrades the "
                        f"control plane to the next version by itself) or {ev.EXTENDED} (it stays on its version "
                        "in extended support, billed at the higher rate)")


def check_eks_version(s: Settings, today: date, rates: ev.ControlPlaneRates | None = None) -> tuple[str, ...]:
    """The stack's EKS version on `today`: refused only when EKS no longer offers it at all (past
    its extended support), naming key, value and what EKS still offers that day; otherwise the
    warnings a preview shows (celestials.eks_versions.lifecycle_warnings), possibly none."""
    offered = ev.offered_versions(today)
    if s.eks_version not in offered:
        ended = ev.release(s.eks_version).extended_support_ends
        allowed = ", ".join(offered) if offered else "none of the table's: add the current ones to it"
        raise SettingsError(ev.VERSION_KEY, s.eks_version, f"a version EKS still offers on {today}: {allowed} "
                            f"(extended support of {s.eks_version} ended on {ended}, and AWS upgrades such a "
                            "control plane by itself; celestials/eks_versions.py)")
    return ev.lifecycle_warnings(s.eks_version, s.eks_support_type, today, rates)


def _as_zone_ids(key: str, raw: Any) -> tuple[str, ...]:
    allowed = 'a list of 2 to 6 distinct availability zone IDs, e.g. ["usw2-az1", "usw2-az2"]'
    value = _json_list(key, raw, allowed)
    if not 2 <= len(value) <= 6 or len(set(value)) != len(value) \
            or not all(isinstance(z, str) and ZONE_ID.match(z) for z in value):
        raise SettingsError(key, raw, allowed)
    refused = [z for z in value if unsupported(z)]
    if refused:
        known = "; ".join(f"{r}: {', '.join(ids)}" for r, ids in EKS_UNSUPPORTED_ZONE_IDS.items())
        raise SettingsError(key, raw, f"zones EKS supports; {', '.join(refused)} cannot hold EKS cluster subnets "
                            f"(EKS User Guide, subnet requirements: {known})")
    return tuple(value)


def _as_vpc_cidr(key: str, raw: Any) -> str:
    cidr = _as_cidr(key, raw)
    net = ipaddress.IPv4Network(cidr)
    if not 16 <= net.prefixlen <= 20:
        raise SettingsError(key, raw, "a VPC CIDR with a prefix from /16 to /20 (room for 2x subnets per AZ)")
    if not net.is_private:
        raise SettingsError(key, raw, "a private (RFC 1918) range")
    return cidr


#: the key a production stack with fewer NAT gateways than zones states its reason in
FEWER_NAT_GATEWAYS_KEY = "fewerNatGatewaysReason"
_MIN_REASON = 20


def _as_reason(key: str, raw: Any) -> str:
    """A reason, in words: it is what a reviewer of the stack file reads instead of the rule."""
    if isinstance(raw, str) and _MIN_REASON <= len(raw.strip()) <= 500:
        return raw.strip()
    raise SettingsError(key, raw, f"a sentence ({_MIN_REASON} to 500 characters) saying why fewer NAT gateways than "
                        "zones are enough for this production stack")


#: key → (field name, parser). The key set is the whole accepted vocabulary: anything else fails.
_PARSERS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    PRODUCTION_KEY: ("production", _as_bool),
    "vpcCidr": ("vpc_cidr", _as_vpc_cidr),
    "availabilityZones": ("availability_zones", lambda k, v: _as_int(k, v, 2, 6)),
    "natGateways": ("nat_gateways", lambda k, v: _as_int(k, v, 1, 6)),
    "availabilityZoneIds": ("availability_zone_ids", _as_zone_ids),
    ev.VERSION_KEY: ("eks_version", _as_eks_version),
    ev.SUPPORT_TYPE_KEY: ("eks_support_type", _as_eks_support_type),
    "instanceType": ("instance_type", lambda k, v: _as_pattern(k, v, _INSTANCE_TYPE, "an EC2 instance type such as m6i.xlarge (family.size)")),
    "nodeArchitecture": ("node_architecture", lambda k, v: _as_choice(k, v, NODE_ARCHITECTURES)),
    "burstableCpuCredits": ("burstable_cpu_credits", lambda k, v: _as_choice(k, v, CPU_CREDITS)),
    "nodeCount": ("node_count", lambda k, v: _as_int(k, v, 1, 100)),
    "nodeMaxCount": ("node_max_count", lambda k, v: _as_int(k, v, 1, 100)),
    "endpointPublicAccess": ("endpoint_public_access", _as_bool),
    "endpointPublicAccessCidrs": ("endpoint_public_access_cidrs", _as_public_cidr_list),
    "endpointPrivateAccessCidrs": ("endpoint_private_access_cidrs", _as_private_cidr_list),
    "sshKeyName": ("ssh_key_name", lambda k, v: _as_pattern(k, v, _NAME, "the name of an existing EC2 key pair")),
    "clusterAdmins": ("cluster_admins", _as_principal_list),
    "clusterViewers": ("cluster_viewers", _as_principal_list),
    "ciDeployRoles": ("ci_deploy_roles", lambda k, v: _as_principal_list(k, v, roles_only=True)),
    "meshBackend": ("mesh_backend", lambda k, v: _as_pattern(k, v, _MESH_BACKEND, "the name of a mesh backend, e.g. istio")),
    "appMeshEndOfSupportAcknowledged": ("appmesh_end_of_support_acknowledged", _as_bool),
    "canaryWeight": ("canary_weight", lambda k, v: _as_int(k, v, 0, 100)),
    "mtlsTrust": ("mtls_trust", lambda k, v: _as_choice(k, v, MTLS_TRUSTS)),
    "tlsKeyAlgorithm": ("tls_key_algorithm", lambda k, v: _as_choice(k, v, TLS_KEY_ALGORITHMS)),
    "tlsValidityDays": ("tls_validity_days", lambda k, v: _as_int(k, v, 2, 825)),
    "tlsRotationWindowDays": ("tls_rotation_window_days", lambda k, v: _as_int(k, v, 1, 365)),
    "tlsRotation": ("tls_rotation", lambda k, v: _as_int(k, v, 0)),
    "tlsRotateCas": ("tls_rotate_cas", _as_bool),
    "prodcatalogStorage": ("prodcatalog_storage", lambda k, v: _as_choice(k, v, PRODCATALOG_STORAGES)),
    "prodcatalogReplicas": ("prodcatalog_replicas", lambda k, v: _as_int(k, v, 1, 20)),
    "requestPathReplicas": ("request_path_replicas", lambda k, v: _as_int(k, v, 1, 10)),
    "autoscaleMaxReplicas": ("autoscale_max_replicas", lambda k, v: _as_int(k, v, 1, 40)),
    "tracing": ("tracing", _as_bool),
    "controlPlaneLogTypes": ("control_plane_log_types", lambda k, v: _as_subset(k, v, CONTROL_PLANE_LOG_TYPES)),
    "ecrEndpoints": ("ecr_endpoints", _as_bool),
    FEWER_NAT_GATEWAYS_KEY: ("fewer_nat_gateways_reason", _as_reason),
}

CONFIG_KEYS = tuple(_PARSERS)


def parse_settings(raw: Mapping[str, Any], stack: str, region: str | None = None) -> Settings:
    """Parse `celestials:*` config (keys with or without the `celestials:` prefix)."""
    values: dict[str, Any] = {"stack": stack}
    if region is not None:
        values["region"] = _as_region("aws:region", region)
    for full_key, value in sorted(raw.items()):
        key = full_key.split(":", 1)[1] if full_key.startswith(PROJECT + ":") else full_key
        if key not in _PARSERS:
            raise SettingsError(key, value, f"unknown key{did_you_mean(closest(key, _PARSERS))}; known keys are "
                                + ", ".join(sorted(_PARSERS)))
        name, parser = _PARSERS[key]
        values[name] = parser(key, value)
    if values.get("availability_zone_ids") and "availability_zones" not in values:
        values["availability_zones"] = len(values["availability_zone_ids"])  # the list gives the count
    settings = Settings(**values)
    _check_combinations(settings, raw)
    return settings


#: how a production refusal says where the rule comes from
PRODUCTION_NOTE = f"the stack has {PROJECT}:{PRODUCTION_KEY} true"


def _check_combinations(s: Settings, raw: Mapping[str, Any]) -> None:
    """Rules between keys; the error shows the value as the user wrote it."""

    def given(key: str, parsed: Any) -> Any:
        return raw.get(key, raw.get(f"{PROJECT}:{key}", parsed))

    if s.availability_zone_ids and len(s.availability_zone_ids) != s.availability_zones:
        raise SettingsError("availabilityZones", given("availabilityZones", s.availability_zones),
                            f"the number of availabilityZoneIds ({len(s.availability_zone_ids)}), or leave it unset")
    if s.nat_gateways > s.availability_zones:
        raise SettingsError("natGateways", given("natGateways", s.nat_gateways), f"at most availabilityZones ({s.availability_zones})")
    if s.node_max_count < s.node_count:
        raise SettingsError("nodeMaxCount", given("nodeMaxCount", s.node_max_count), f"at least nodeCount ({s.node_count})")
    if s.tls_rotation_window_days >= s.tls_validity_days:
        raise SettingsError("tlsRotationWindowDays", given("tlsRotationWindowDays", s.tls_rotation_window_days),
                            f"fewer days than tlsValidityDays ({s.tls_validity_days})")
    if s.autoscale_max_replicas is not None and s.autoscale_max_replicas < s.autoscale_min:
        raise SettingsError("autoscaleMaxReplicas", given("autoscaleMaxReplicas", s.autoscale_max_replicas),
                            f"at least the autoscalers' minimum, max(requestPathReplicas, prodcatalogReplicas) "
                            f"= {s.autoscale_min}")
    seen: dict[str, str] = {}
    for key, principals in (("clusterAdmins", s.cluster_admins), ("ciDeployRoles", s.ci_deploy_roles),
                            ("clusterViewers", s.cluster_viewers)):
        for arn in principals:
            if arn in seen:
                raise SettingsError(key, given(key, list(principals)),
                                    f"principals not already in {seen[arn]} ({arn}: one access entry per principal)")
            seen[arn] = key
    if s.fewer_nat_gateways_reason is not None and not (s.production and s.nat_gateways < s.availability_zones):
        here = (f"natGateways is {s.nat_gateways} for {s.availability_zones} zones" if s.production
                else f"{PROJECT}:{PRODUCTION_KEY} is false")
        raise SettingsError(FEWER_NAT_GATEWAYS_KEY, given(FEWER_NAT_GATEWAYS_KEY, s.fewer_nat_gateways_reason),
                            f"set only in a production stack with fewer natGateways than availabilityZones, to say "
                            f"why; here {here}, so it excuses nothing: remove it")
    if s.production:
        if s.node_count < 2:
            raise SettingsError("nodeCount", given("nodeCount", s.node_count),
                                f"at least 2 in production (nodes spread across AZs; {PRODUCTION_NOTE})")
        # One node or zone lost must not take a request-path workload down with it.
        for key, value in (("requestPathReplicas", s.request_path_replicas),
                           ("prodcatalogReplicas", s.prodcatalog_replicas)):
            if value < 2:
                raise SettingsError(key, given(key, value), "at least 2 in production (replicas spread across zones "
                                    f"survive losing a node or a zone; {PRODUCTION_NOTE})")
        if s.nat_gateways < s.availability_zones and s.fewer_nat_gateways_reason is None:
            raise SettingsError("natGateways", given("natGateways", s.nat_gateways),
                                f"in production, one per availability zone: {s.availability_zones} "
                                f"(availabilityZones). A private subnet routes through the NAT gateway of "
                                f"another zone otherwise, and loses its egress (image pulls from Docker Hub, "
                                f"STS for the pods' IAM credentials, X-Ray) when that zone fails. Set "
                                f"{PROJECT}:natGateways {s.availability_zones}, or say why fewer are enough in "
                                f"{PROJECT}:{FEWER_NAT_GATEWAYS_KEY} ({PRODUCTION_NOTE})")
        if s.endpoint_public_access and "0.0.0.0/0" in s.endpoint_public_access_cidrs:
            raise SettingsError("endpointPublicAccessCidrs", given("endpointPublicAccessCidrs", list(s.endpoint_public_access_cidrs)),
                                "in production with endpointPublicAccess true, the public CIDRs of your operators and CI "
                                "runners (not 0.0.0.0/0); or endpointPublicAccess false: private endpoint only "
                                f"(docs/platform.md, \"Reaching the API endpoint\"; {PRODUCTION_NOTE})")


def settings_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Settings))
