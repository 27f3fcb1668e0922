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
from abc import ABC, abstractmethod
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from .stacks import PRODUCTION_KEY
from . import eks_versions as ev
from .zones import EKS_UNSUPPORTED_ZONE_IDS, ZONE_ID, unsupported, zone_id_prefix

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


@dataclass(frozen=True)
class Settings:
    """Typed stack settings. A field's default is its key's default (`Key.default` reads it here);
    README's configuration reference is written from these and `KEYS` (tools/settings_doc.py)."""

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


# --- what a key accepts ------------------------------------------------------------------------
# Each kind parses a value and states what it allows, from the same fields: the refusal and the
# configuration reference (README, written by tools/settings_doc.py) cannot say different things.


class Kind(ABC):
    """What one key accepts: `parse` refuses anything else with `allowed` (or a narrower reason
    built from the same data); `doc` is how the configuration reference states it."""

    @property
    @abstractmethod
    def allowed(self) -> str: ...

    @property
    def doc(self) -> str:
        return self.allowed

    @abstractmethod
    def parse(self, key: str, raw: Any) -> Any: ...


@dataclass(frozen=True)
class Integer(Kind):
    lo: int
    hi: int | None = None

    @property
    def allowed(self) -> str:
        return f"an integer from {self.lo}" + (f" to {self.hi}" if self.hi is not None else " up")

    def parse(self, key: str, raw: Any) -> int:
        if isinstance(raw, bool):
            raise SettingsError(key, raw, self.allowed)
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
            value = int(raw.strip())
        else:
            raise SettingsError(key, raw, self.allowed)
        if value < self.lo or (self.hi is not None and value > self.hi):
            raise SettingsError(key, raw, self.allowed)
        return value


@dataclass(frozen=True)
class Boolean(Kind):
    @property
    def allowed(self) -> str:
        return "true or false"

    @property
    def doc(self) -> str:
        return "`true` or `false`"

    def parse(self, key: str, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
            return raw.strip().lower() == "true"
        raise SettingsError(key, raw, self.allowed)


@dataclass(frozen=True)
class Choice(Kind):
    choices: tuple[str, ...]
    #: (choice, what it means) for each choice, when the refusal should say so
    meanings: tuple[tuple[str, str], ...] = ()

    @property
    def allowed(self) -> str:
        if self.meanings:
            said = [f"{c} ({m})" for c, m in self.meanings]
            return ", ".join(said[:-1]) + " or " + said[-1]
        return "one of " + ", ".join(self.choices)

    @property
    def doc(self) -> str:
        return ", ".join(f"`{c}`" for c in self.choices)

    def parse(self, key: str, raw: Any) -> str:
        if isinstance(raw, str) and raw in self.choices:
            return raw
        raise SettingsError(key, raw, self.allowed)


@dataclass(frozen=True)
class Subset(Kind):
    """A list of distinct values from `choices` (possibly empty), kept in `choices` order."""

    choices: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return "a list of distinct values from " + ", ".join(self.choices) + " (may be empty)"

    @property
    def doc(self) -> str:
        return "a list of distinct values from " + ", ".join(f"`{c}`" for c in self.choices) + " (may be empty)"

    def parse(self, key: str, raw: Any) -> tuple[str, ...]:
        value = _json_list(key, raw, self.allowed)
        if not all(isinstance(v, str) and v in self.choices for v in value) or len(set(value)) != len(value):
            raise SettingsError(key, raw, self.allowed)
        return tuple(c for c in self.choices if c in value)


@dataclass(frozen=True)
class Pattern(Kind):
    pattern: re.Pattern[str]
    text: str

    @property
    def allowed(self) -> str:
        return self.text

    def parse(self, key: str, raw: Any) -> str:
        if isinstance(raw, str) and self.pattern.fullmatch(raw):
            return raw
        raise SettingsError(key, raw, self.allowed)


_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_CIDR = "an IPv4 CIDR block such as 10.0.0.0/16"


def _is_rfc1918(net: ipaddress.IPv4Network) -> bool:
    return any(net.subnet_of(n) for n in _RFC1918)


def _as_cidr(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or "/" not in raw:
        raise SettingsError(key, raw, _CIDR)
    try:
        return str(ipaddress.IPv4Network(raw.strip(), strict=True))
    except ValueError as err:
        raise SettingsError(key, raw, f"{_CIDR} ({err})") from None


@dataclass(frozen=True)
class VpcCidr(Kind):
    """The VPC's range; the prefix bounds leave room for two subnets per zone (celestials.network)."""

    min_prefix: int
    max_prefix: int

    @property
    def allowed(self) -> str:
        return f"a private (RFC 1918) IPv4 CIDR block with a prefix from /{self.min_prefix} to /{self.max_prefix}"

    def parse(self, key: str, raw: Any) -> str:
        cidr = _as_cidr(key, raw)
        net = ipaddress.IPv4Network(cidr)
        if not self.min_prefix <= net.prefixlen <= self.max_prefix:
            raise SettingsError(key, raw, f"a VPC CIDR with a prefix from /{self.min_prefix} to /{self.max_prefix} "
                                "(room for 2x subnets per AZ)")
        if not _is_rfc1918(net):
            raise SettingsError(key, raw, "a private (RFC 1918) range: " + ", ".join(str(n) for n in _RFC1918))
        return cidr


#: what a public endpoint can never see as a source: documentation (TEST-NET-1/2/3, RFC 5737),
#: private, shared, loopback, link-local, multicast and reserved ranges (`is_global` is False)
_NOT_PUBLIC = "documentation (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), private, shared (100.64.0.0/10), " \
              "loopback, link-local, multicast or reserved"


@dataclass(frozen=True)
class CidrList(Kind):
    """CIDRs the API endpoint is opened to: `public`, real routable internet addresses (or
    0.0.0.0/0), at least one; otherwise RFC 1918 networks routed to the VPC, possibly none."""

    public: bool

    @property
    def _shape(self) -> str:
        if self.public:
            return 'a non-empty list of IPv4 CIDR blocks, e.g. ["52.95.110.0/24"]'
        return 'a list of IPv4 CIDR blocks, e.g. ["172.31.0.0/16"] (may be empty)'

    @property
    def allowed(self) -> str:
        if self.public:
            return f"{self._shape}, of public internet addresses (no {_NOT_PUBLIC} range)"
        return f"{self._shape}, of private (RFC 1918) networks routed to the VPC"

    def parse(self, key: str, raw: Any) -> tuple[str, ...]:
        value = _json_list(key, raw, self._shape)
        if self.public and not value:
            raise SettingsError(key, raw, self._shape)
        try:
            cidrs = tuple(_as_cidr(key, item) for item in value)
        except SettingsError as err:
            raise SettingsError(key, raw, f"{self._shape}; {err.value!r} is not: {err.allowed}") from None
        repeated = sorted({c for c in cidrs if cidrs.count(c) > 1})
        if repeated:
            raise SettingsError(key, raw, f"a list without duplicates; {', '.join(repeated)} is written more than once")
        for cidr in cidrs:
            net = ipaddress.IPv4Network(cidr)
            if self.public and cidr != "0.0.0.0/0" and not net.is_global:
                raise SettingsError(key, raw, f"public internet CIDRs (the addresses your operators and CI runners "
                                    f"connect from); {cidr} is {_NOT_PUBLIC}, which never reaches a public endpoint")
            if not self.public and not _is_rfc1918(net):
                raise SettingsError(key, raw, f"private (RFC 1918) CIDRs routed to the VPC; {cidr} is not one")
        return cidrs


@dataclass(frozen=True)
class PrincipalList(Kind):
    roles_only: bool = False

    @property
    def allowed(self) -> str:
        return (f'a list of IAM role{"" if self.roles_only else " or user"} ARNs, '
                'e.g. ["arn:aws:iam::123456789012:role/admins"]')

    def parse(self, key: str, raw: Any) -> tuple[str, ...]:
        value = _json_list(key, raw, self.allowed)
        if not all(isinstance(a, str) and _IAM_PRINCIPAL.match(a) and (":role/" in a or not self.roles_only)
                   for a in value):
            raise SettingsError(key, raw, self.allowed)
        if len(set(value)) != len(value):
            raise SettingsError(key, raw, "a list without duplicates")
        return tuple(value)


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


@dataclass(frozen=True)
class EksVersion(Kind):
    """A version of the table (whose add-ons are pinned); whether EKS still offers it on a given day
    is `check_eks_version`'s, never the parser's: parsing gives the same answer on every day."""

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(ev.known_versions()) + " (the EKS versions in celestials/eks_versions.py, " \
               "each with its support dates and pinned add-ons)"

    def parse(self, key: str, raw: Any) -> str:
        value = str(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw
        if isinstance(value, str) and value in ev.known_versions():
            return value
        raise SettingsError(key, raw, self.allowed)


@dataclass(frozen=True)
class ZoneIds(Kind):
    lo: int
    hi: int

    @property
    def allowed(self) -> str:
        return f'a list of {self.lo} to {self.hi} distinct availability zone IDs, e.g. ["usw2-az1", "usw2-az2"]'

    @property
    def doc(self) -> str:
        refused = ", ".join(f"`{z}`" for ids in EKS_UNSUPPORTED_ZONE_IDS.values() for z in ids)
        return f"{self.allowed}, none EKS cannot hold subnets in ({refused})"

    def parse(self, key: str, raw: Any) -> tuple[str, ...]:
        value = _json_list(key, raw, self.allowed)
        if not self.lo <= len(value) <= self.hi or len(set(value)) != len(value) \
                or not all(isinstance(z, str) and ZONE_ID.match(z) for z in value):
            raise SettingsError(key, raw, self.allowed)
        refused = [z for z in value if unsupported(z)]
        if refused:
            known = "; ".join(f"{r}: {', '.join(ids)}" for r, ids in EKS_UNSUPPORTED_ZONE_IDS.items())
            raise SettingsError(key, raw, f"zones EKS supports; {', '.join(refused)} cannot hold EKS cluster subnets "
                                f"(EKS User Guide, subnet requirements: {known})")
        return tuple(value)


@dataclass(frozen=True)
class Region(Kind):
    @property
    def allowed(self) -> str:
        return "an AWS region the provider knows, such as us-west-2"

    @property
    def doc(self) -> str:
        return "an AWS region the pinned AWS provider knows (`pulumi_aws.Region`), such as `us-west-2`"

    def parse(self, key: str, raw: Any) -> str:
        if isinstance(raw, str) and raw in aws_regions():
            return raw
        hint = did_you_mean(closest(raw, aws_regions())) if isinstance(raw, str) else ""
        raise SettingsError(key, raw, f"{self.allowed}{hint}")


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


#: the key a production stack with fewer NAT gateways than zones states its reason in
FEWER_NAT_GATEWAYS_KEY = "fewerNatGatewaysReason"


@dataclass(frozen=True)
class Reason(Kind):
    """A reason, in words: it is what a reviewer of the stack file reads instead of the rule."""

    lo: int
    hi: int

    @property
    def allowed(self) -> str:
        return (f"a sentence ({self.lo} to {self.hi} characters) saying why fewer NAT gateways than zones are "
                "enough for this production stack")

    def parse(self, key: str, raw: Any) -> str:
        if isinstance(raw, str) and self.lo <= len(raw.strip()) <= self.hi:
            return raw.strip()
        raise SettingsError(key, raw, self.allowed)


# --- the keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One config key: its name, the Settings field it sets (whose default is the key's default),
    what it accepts, and what it does (one line of the configuration reference)."""

    name: str
    field: str
    kind: Kind
    what: str
    #: what leaving the key out means, for a field whose default is None (unset); else empty
    unset: str = ""

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.field]

    def parse(self, raw: Any) -> Any:
        return self.kind.parse(self.name, raw)


_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}

#: How many zones a stack may span (and so how many NAT gateways and zone IDs it may have).
MIN_ZONES, MAX_ZONES = 2, 6

REGION = Key("aws:region", "region", Region(), "where everything is created")

#: Every `celestials:*` key, in the reference's order. The set is the whole accepted vocabulary.
KEYS: tuple[Key, ...] = (
    Key(PRODUCTION_KEY, "production", Boolean(),
        "held to production's rules (the rules below that name it, the N-1 capacity check, deletion protection, "
        "longer log retention, the guardrails' production rules); every stack file states it, the stack's name "
        "plays no part ([production stacks](docs/platform.md#production-stacks))"),
    Key("vpcCidr", "vpc_cidr", VpcCidr(16, 20), "the VPC's address range"),
    Key("availabilityZones", "availability_zones", Integer(MIN_ZONES, MAX_ZONES),
        "AZs spanned by public and private subnets"),
    Key("availabilityZoneIds", "availability_zone_ids", ZoneIds(MIN_ZONES, MAX_ZONES),
        "exactly these zones (IDs are the same in every account, names are not); sets availabilityZones",
        unset="the first zones by name that EKS supports"),
    Key("natGateways", "nat_gateways", Integer(1, MAX_ZONES),
        "NAT gateways (one per AZ for zone-independent egress); each holds an Elastic IP, and EC2 allows 5 per "
        "account and region unless the quota is raised: `make up` checks the region has room first "
        "([Elastic IP addresses](docs/platform.md#network))"),
    Key(ev.VERSION_KEY, "eks_version", EksVersion(),
        "Kubernetes version of the control plane, the nodes and the pinned add-ons (VPC CNI, kube-proxy, CoreDNS); "
        "refused only once EKS no longer offers it (past its extended support); the preview warns ahead of the end "
        "of its standard support and while it is in extended support ([EKS versions](docs/platform.md#eks-versions))"),
    Key(ev.SUPPORT_TYPE_KEY, "eks_support_type", Choice(ev.SUPPORT_TYPES, meanings=(
        (ev.STANDARD, "when standard support of the version ends, AWS upgrades the control plane to the next "
                      "version by itself"),
        (ev.EXTENDED, "it stays on its version in extended support, billed at the higher rate"))),
        "the cluster's `upgradePolicy.supportType`, always set: at the end of the version's standard support, "
        f"`{ev.STANDARD}` lets AWS upgrade the control plane by itself, `{ev.EXTENDED}` keeps the version in extended "
        "support at the higher cluster-hour rate (priced by `make cost`)"),
    Key("instanceType", "instance_type",
        Pattern(_INSTANCE_TYPE, "an EC2 instance type such as m6i.xlarge (family.size)"),
        "node instance type (the capacity check must pass)"),
    Key("nodeArchitecture", "node_architecture", Choice(NODE_ARCHITECTURES),
        "CPU architecture of the nodes: selects the AL2023 AMI type and the platform the images are built for, and "
        "every pod is pinned to it (`kubernetes.io/arch`); an `instanceType` of the other architecture is refused "
        "([changing it](docs/platform.md#changing-nodearchitecture))"),
    Key("burstableCpuCredits", "burstable_cpu_credits", Choice(CPU_CREDITS),
        "CPU credit specification of burstable nodes (" + ", ".join(BURSTABLE_FAMILIES) + "), stated in the launch "
        "template instead of EC2's default (`unlimited` for T3/T3a/T4g). `standard`: the bill is the instance price, "
        "and a node whose credits run out is throttled to its baseline; `unlimited`: no throttling, surplus credits "
        "billed per vCPU-hour (not in `make cost`). A policy for burstable types: another type has no credits, so "
        "none is specified and the key changes nothing "
        "([the trade-off](docs/platform.md#cpu-credits-of-burstable-nodes))"),
    Key("nodeCount", "node_count", Integer(1, 100), "desired (and minimum) nodes of the managed node group"),
    Key("nodeMaxCount", "node_max_count", Integer(1, 100), "maximum nodes of the managed node group"),
    Key("endpointPublicAccess", "endpoint_public_access", Boolean(),
        "whether the EKS API has a public endpoint (the private one is always on)"),
    Key("endpointPublicAccessCidrs", "endpoint_public_access_cidrs", CidrList(public=True),
        "who may reach the public API endpoint ([reaching the API](docs/platform.md#reaching-the-api-endpoint))"),
    Key("endpointPrivateAccessCidrs", "endpoint_private_access_cidrs", CidrList(public=False),
        "networks outside the VPC (peered, Transit Gateway, VPN: a CI runner's) allowed to the private API "
        "endpoint on 443"),
    Key("sshKeyName", "ssh_key_name", Pattern(_NAME, "the name of an existing EC2 key pair"),
        "SSH access to the nodes with this key pair, as in the tutorial", unset="no SSH access"),
    Key("clusterAdmins", "cluster_admins", PrincipalList(),
        "extra cluster-admin access entries (the principal that creates the cluster is admin already)"),
    Key("clusterViewers", "cluster_viewers", PrincipalList(),
        "read-only access entries (`AmazonEKSAdminViewPolicy`), e.g. the CI preview role "
        "([CI set-up](docs/platform.md#ci-githubworkflows))"),
    Key("ciDeployRoles", "ci_deploy_roles", PrincipalList(roles_only=True),
        "cluster-admin access entries for the CI deploy roles (needed when the stack was first created from a laptop)"),
    Key("meshBackend", "mesh_backend", Pattern(_MESH_BACKEND, "the name of a mesh backend, e.g. istio"),
        "which mesh backend renders the topology (`components/mesh_backends.py` refuses a name it does not have)"),
    Key("appMeshEndOfSupportAcknowledged", "appmesh_end_of_support_acknowledged", Boolean(),
        "required `true` to deploy the discontinued App Mesh backend; an acknowledgement, not a setting: with "
        "another backend it deploys nothing, and a stack that keeps it can switch `meshBackend` alone"),
    Key("canaryWeight", "canary_weight", Integer(0, 100),
        "share (%) of proddetail traffic sent to v2; v1 gets the rest"),
    Key("mtlsTrust", "mtls_trust", Choice(MTLS_TRUSTS),
        "what front trusts when calling the color service (the trust switch)"),
    Key("tlsKeyAlgorithm", "tls_key_algorithm", Choice(TLS_KEY_ALGORITHMS),
        "key algorithm of the mTLS demo's CAs and leaves"),
    Key("tlsValidityDays", "tls_validity_days", Integer(2, 825),
        "validity of issued leaf certificates (CAs live three times as long)"),
    Key("tlsRotationWindowDays", "tls_rotation_window_days", Integer(1, 365),
        "leaves are re-issued by `pulumi up` when this close to expiry"),
    Key("tlsRotation", "tls_rotation", Integer(0), "bump to re-issue the leaves now"),
    Key("tlsRotateCas", "tls_rotate_cas", Boolean(),
        "each bump of `tlsRotation` also re-issues the CAs (a standing choice: without a bump it re-issues nothing)"),
    Key("prodcatalogStorage", "prodcatalog_storage", Choice(PRODCATALOG_STORAGES),
        "where prodcatalog keeps products in the cluster (`sqlite`: one pod's file, lost with the pod)"),
    Key("prodcatalogReplicas", "prodcatalog_replicas", Integer(1, 20), "prodcatalog replicas"),
    Key("requestPathReplicas", "request_path_replicas", Integer(1, 10),
        "replicas of the ingress gateway, frontend-node, proddetail v1 and v2 and istiod; with 2 or more each gets a "
        "PodDisruptionBudget and a required spread across zones"),
    Key("autoscaleMaxReplicas", "autoscale_max_replicas", Integer(1, 40),
        "with a value, every request-path Deployment and istiod get a HorizontalPodAutoscaler from their replicas up "
        "to this many, and the cluster gets metrics-server; the capacity check refuses a max that would not fit "
        "([Autoscaling](docs/platform.md#autoscaling))",
        unset="twice the larger of `requestPathReplicas` and `prodcatalogReplicas` in production, no "
              "autoscalers elsewhere"),
    Key("tracing", "tracing", Boolean(), "deploy the tracing pipeline (collector → X-Ray)"),
    Key("controlPlaneLogTypes", "control_plane_log_types", Subset(CONTROL_PLANE_LOG_TYPES),
        "EKS control-plane logs sent to CloudWatch (billed per GB; `audit` is the largest)",
        unset=f"all of them in production, `{json.dumps(list(DEV_CONTROL_PLANE_LOG_TYPES))}` elsewhere"),
    Key("ecrEndpoints", "ecr_endpoints", Boolean(),
        "ECR interface endpoints (api, dkr) in the private subnets; the free S3 gateway endpoint that carries image "
        "layers is always there ([when they pay](docs/platform.md#network))"),
    Key(FEWER_NAT_GATEWAYS_KEY, "fewer_nat_gateways_reason", Reason(20, 500),
        "in a production stack, why fewer `natGateways` than `availabilityZones` are enough (the reviewer reads it "
        "instead of the rule)", unset="a production stack has a NAT gateway per zone"),
)

_BY_NAME: dict[str, Key] = {k.name: k for k in KEYS}
CONFIG_KEYS = tuple(_BY_NAME)


def definition(name: str) -> Key:
    """The definition of `celestials:<name>` (or of `aws:region`)."""
    return REGION if name == REGION.name else _BY_NAME[name]


# --- rules between keys ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A limit on `key`'s value that other keys set, checked once every key is parsed. `doc` is the
    limit as the configuration reference states it (on the rows of `key` and of `also`);
    `broken(settings, written)` is what the refusal says is allowed, or None when the rule holds
    (`written`: the keys the stack sets)."""

    key: str
    doc: str
    broken: Callable[[Settings, frozenset[str]], str | None]
    also: tuple[str, ...] = ()
    #: a bound's relation ("<=", ">=", "<") of `key` to the largest value of `others`
    relation: str = ""
    others: tuple[str, ...] = ()
    #: (key, value) under which `key` needs the value `needs`
    when: tuple[str, Any] | None = None
    needs: Any = None


_RELATIONS: dict[str, tuple[str, Callable[[int, int], bool]]] = {
    "<=": ("at most", lambda a, b: a <= b), ">=": ("at least", lambda a, b: a >= b),
    "<": ("fewer than", lambda a, b: a < b)}


def _bound(name: str, relation: str, others: tuple[str, ...], what: str = "",
           fix: Callable[[Settings], str] | None = None) -> Rule:
    """`name` `relation` the other key's value (the largest of several): doc and refusal from the
    same relation."""
    phrase, holds = _RELATIONS[relation]
    doc = f"{phrase} {what + ', ' if what else ''}" + (others[0] if len(others) == 1 else f"max({', '.join(others)})")

    def broken(s: Settings, written: frozenset[str]) -> str | None:
        value = getattr(s, _BY_NAME[name].field)
        bound = max(getattr(s, _BY_NAME[o].field) for o in others)
        if value is None or holds(value, bound):
            return None
        return doc + (f" ({bound})" if len(others) == 1 else f" = {bound}") + (fix(s) if fix else "")

    return Rule(name, doc, broken, relation=relation, others=others)


def _zone_count(s: Settings, written: frozenset[str]) -> str | None:
    if s.availability_zone_ids and len(s.availability_zone_ids) != s.availability_zones:
        return f"the number of availabilityZoneIds ({len(s.availability_zone_ids)}), or leave it unset"
    return None


def _zones_of_the_region(s: Settings, written: frozenset[str]) -> str | None:
    prefix = zone_id_prefix(s.region)
    foreign = [z for z in s.availability_zone_ids or () if prefix and not z.startswith(f"{prefix}-az")]
    if foreign:
        return (f"zone IDs of aws:region {s.region} ({prefix}-az1, {prefix}-az2, ...); "
                f"{', '.join(foreign)} belong to another region")
    return None


def _private_cidrs_outside_the_vpc(s: Settings, written: frozenset[str]) -> str | None:
    vpc = ipaddress.IPv4Network(s.vpc_cidr)
    inside = [c for c in s.endpoint_private_access_cidrs if ipaddress.IPv4Network(c).overlaps(vpc)]
    if inside:
        return (f"networks outside the VPC ({s.vpc_cidr}, whose own addresses already reach the private "
                f"endpoint); {', '.join(inside)} overlaps it")
    return None


def _disjoint(name: str, earlier: tuple[str, ...]) -> Rule:
    """No principal of `name` in an `earlier` list: one access entry per principal."""

    def broken(s: Settings, written: frozenset[str]) -> str | None:
        for other in earlier:
            common = [arn for arn in getattr(s, _BY_NAME[name].field) if arn in getattr(s, _BY_NAME[other].field)]
            if common:
                return f"principals not already in {other} ({common[0]}: one access entry per principal)"
        return None

    return Rule(name, "none also in " + " or ".join(earlier), broken)


def _requires(name: str, needs: Any, when: tuple[str, str], why: str) -> Rule:
    """`name` must be `needs` while the key `when[0]` is `when[1]`."""
    other, value = when
    kind = _BY_NAME[other].kind
    alternatives = [c for c in kind.choices if c != value] if isinstance(kind, Choice) else []

    def broken(s: Settings, written: frozenset[str]) -> str | None:
        if getattr(s, _BY_NAME[other].field) == value and getattr(s, _BY_NAME[name].field) != needs:
            return f"{needs} with {other} {value} ({why})" + "".join(f"; or {other} {a}" for a in alternatives)
        return None

    return Rule(name, f"`{needs}` with {other} `{value}`", broken, also=(other,), when=when, needs=needs)


#: how a production refusal says where the rule comes from
PRODUCTION_NOTE = f"the stack has {PROJECT}:{PRODUCTION_KEY} true"

#: The least a production stack may have of each key, and why.
PROD_MINIMUMS: tuple[tuple[str, int, str], ...] = (
    ("nodeCount", 2, "nodes spread across AZs"),
    # One node or zone lost must not take a request-path workload down with it.
    ("requestPathReplicas", 2, "replicas spread across zones survive losing a node or a zone"),
    ("prodcatalogReplicas", 2, "replicas spread across zones survive losing a node or a zone"),
)


def _prod_minimum(name: str, least: int, why: str) -> Rule:
    def broken(s: Settings, written: frozenset[str]) -> str | None:
        if s.production and getattr(s, _BY_NAME[name].field) < least:
            return f"at least {least} in production ({why}; {PRODUCTION_NOTE})"
        return None

    return Rule(name, f"at least {least} in production", broken, also=(PRODUCTION_KEY,))


def _nat_per_zone(s: Settings, written: frozenset[str]) -> str | None:
    if s.production and s.nat_gateways < s.availability_zones and s.fewer_nat_gateways_reason is None:
        return (f"in production, one per availability zone: {s.availability_zones} (availabilityZones). A private "
                "subnet routes through the NAT gateway of another zone otherwise, and loses its egress (image pulls "
                "from Docker Hub, STS for the pods' IAM credentials, X-Ray) when that zone fails. Set "
                f"{PROJECT}:natGateways {s.availability_zones}, or say why fewer are enough in "
                f"{PROJECT}:{FEWER_NAT_GATEWAYS_KEY} ({PRODUCTION_NOTE})")
    return None


def _reason_excuses_something(s: Settings, written: frozenset[str]) -> str | None:
    if s.fewer_nat_gateways_reason is not None and not (s.production and s.nat_gateways < s.availability_zones):
        here = (f"natGateways is {s.nat_gateways} for {s.availability_zones} zones" if s.production
                else f"{PROJECT}:{PRODUCTION_KEY} is false")
        return (f"set only in a production stack with fewer natGateways than availabilityZones, to say why; here "
                f"{here}, so it excuses nothing: remove it")
    return None


def _public_cidrs_need_a_public_endpoint(s: Settings, written: frozenset[str]) -> str | None:
    if "endpointPublicAccessCidrs" in written and not s.endpoint_public_access:
        return ("only with endpointPublicAccess true; with endpointPublicAccess false the cluster has no public "
                "endpoint for these CIDRs to open, so the key would change nothing: remove it, or set "
                "endpointPublicAccess true")
    return None


def _prod_public_cidrs(s: Settings, written: frozenset[str]) -> str | None:
    if s.production and s.endpoint_public_access and "0.0.0.0/0" in s.endpoint_public_access_cidrs:
        return ("in production with endpointPublicAccess true, the public CIDRs of your operators and CI runners "
                "(not 0.0.0.0/0); or endpointPublicAccess false: private endpoint only "
                f"(docs/platform.md, \"Reaching the API endpoint\"; {PRODUCTION_NOTE})")
    return None


#: Every rule between keys, in the order they are checked.
RULES: tuple[Rule, ...] = (
    Rule("availabilityZones", "the number of availabilityZoneIds when both are set (the list alone sets it)",
         _zone_count),
    Rule("availabilityZoneIds", "zone IDs of the stack's `aws:region`", _zones_of_the_region),
    Rule("endpointPrivateAccessCidrs", "none overlapping vpcCidr", _private_cidrs_outside_the_vpc,
         also=("vpcCidr",)),
    _bound("natGateways", "<=", ("availabilityZones",)),
    # Blamed on nodeCount: raising it is the usual change (nodeCount's default, 1, is every
    # nodeMaxCount's floor); the refusal names both ways out.
    _bound("nodeCount", "<=", ("nodeMaxCount",),
           fix=lambda s: f"; also raise nodeMaxCount to at least {s.node_count}, or lower nodeCount to at most "
                         f"{s.node_max_count}"),
    _bound("tlsRotationWindowDays", "<", ("tlsValidityDays",)),
    _bound("autoscaleMaxReplicas", ">=", ("requestPathReplicas", "prodcatalogReplicas"),
           what="the autoscalers' minimum"),
    _disjoint("ciDeployRoles", ("clusterAdmins",)),
    _disjoint("clusterViewers", ("clusterAdmins", "ciDeployRoles")),
    _requires("prodcatalogReplicas", 1, ("prodcatalogStorage", "sqlite"),
              "products live in one pod's file, which one writer holds"),
    *(_prod_minimum(*m) for m in PROD_MINIMUMS),
    Rule("natGateways", f"one per zone in production, unless `{FEWER_NAT_GATEWAYS_KEY}` says why fewer",
         _nat_per_zone, also=(PRODUCTION_KEY, FEWER_NAT_GATEWAYS_KEY)),
    Rule(FEWER_NAT_GATEWAYS_KEY, "only in production with fewer natGateways than availabilityZones",
         _reason_excuses_something),
    Rule("endpointPublicAccessCidrs", "only with endpointPublicAccess `true`", _public_cidrs_need_a_public_endpoint,
         also=("endpointPublicAccess",)),
    Rule("endpointPublicAccessCidrs", "not `0.0.0.0/0` in production", _prod_public_cidrs,
         also=(PRODUCTION_KEY,)),
)


def rules_of(name: str) -> tuple[Rule, ...]:
    """The rules the reference states on `name`'s row."""
    return tuple(r for r in RULES if name == r.key or name in r.also)


def parse_settings(raw: Mapping[str, Any], stack: str, region: str | None = None) -> Settings:
    """Parse `celestials:*` config (keys with or without the `celestials:` prefix)."""
    values: dict[str, Any] = {"stack": stack}
    if region is not None:
        values["region"] = REGION.parse(region)
    written: set[str] = set()
    for full_key, value in sorted(raw.items()):
        name = full_key.split(":", 1)[1] if full_key.startswith(PROJECT + ":") else full_key
        if name not in _BY_NAME:
            raise SettingsError(name, value, f"unknown key{did_you_mean(closest(name, _BY_NAME))}; known keys are "
                                + ", ".join(sorted(_BY_NAME)))
        values[_BY_NAME[name].field] = _BY_NAME[name].parse(value)
        written.add(name)
    if values.get("availability_zone_ids") and "availability_zones" not in values:
        values["availability_zones"] = len(values["availability_zone_ids"])  # the list gives the count
    settings = Settings(**values)
    _check_combinations(settings, raw, frozenset(written))
    return settings


def _check_combinations(s: Settings, raw: Mapping[str, Any], written: frozenset[str]) -> None:
    """Rules between keys; the error shows the value as the user wrote it."""
    for rule in RULES:
        allowed = rule.broken(s, written)
        if allowed is not None:
            parsed = getattr(s, _BY_NAME[rule.key].field)
            shown = raw.get(rule.key, raw.get(f"{PROJECT}:{rule.key}",
                                              list(parsed) if isinstance(parsed, tuple) else parsed))
            raise SettingsError(rule.key, shown, allowed)


def settings_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Settings))
