"""Monthly on-demand cost of what a stack registers: synth resource records × the price data.

Pure: records in (the `resources` of build/synth/<stack>/resources.json: urn, type, name,
dependencies, inputs) and the day they are priced as of, a report out; no Pulumi, no I/O besides
the price file, no clock (the day decides the EKS control plane's rate: celestials/eks_versions.py).

Every resource ends in exactly one of three places:
- priced: one or more charges (quantity × unit price × hours), usage-based ones at the volume
  stated in prices.yaml's `assumptions`;
- free: a type listed below with the reason it costs nothing by itself;
- unpriced: anything else (an unknown type, or a known one in a shape the data cannot price, e.g.
  an instance type without a figure). Unpriced is reported, never counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from celestials import eks_versions as ev

from ..settings import BURSTABLE_FAMILIES
from .prices import Assumption, CostError, PriceBook, Price, RegionPrices, load_price_book

#: the price keys of an EKS control plane's cluster-hour, in standard and in extended support
EKS_STANDARD_HOUR, EKS_EXTENDED_HOUR = "eks_cluster_hour", "eks_cluster_extended_support_hour"
NAT_GATEWAY, VPC_ENDPOINT, TABLE = ("aws:ec2/natGateway:NatGateway", "aws:ec2/vpcEndpoint:VpcEndpoint",
                                   "aws:dynamodb/table:Table")


@dataclass(frozen=True)
class Charge:
    """One line of a resource's bill: `quantity` units at `price`, for `hours` a month when the
    price is hourly (None: the price is already per month or per unit of usage)."""

    item: str
    quantity: float
    price: Price
    hours: float | None = None
    assumption: str | None = None

    @property
    def monthly(self) -> float:
        return self.quantity * self.price.usd * (self.hours if self.hours is not None else 1)


@dataclass(frozen=True)
class ResourceCost:
    urn: str
    type: str
    name: str
    #: "priced", "free" or "unpriced"
    status: str
    charges: tuple[Charge, ...] = ()
    #: why it is free, why it could not be priced, or (priced) what the figure leaves out
    note: str = ""
    #: (free) what it saves on other resources a month, at the assumptions: a gateway endpoint's
    #: NAT data processing
    saves: float = 0.0

    @property
    def monthly(self) -> float:
        return sum(c.monthly for c in self.charges)


@dataclass(frozen=True)
class CostReport:
    region: str
    resources: tuple[ResourceCost, ...]
    #: the usage volumes the usage-based charges assume (prices.yaml `assumptions`)
    assumptions: Mapping[str, Assumption]
    #: the day priced as of (which support, so which rate, an EKS version is in)
    today: date

    def with_status(self, status: str) -> list[ResourceCost]:
        return [r for r in self.resources if r.status == status]

    @property
    def priced(self) -> list[ResourceCost]:
        return self.with_status("priced")

    @property
    def unpriced(self) -> list[ResourceCost]:
        return self.with_status("unpriced")

    @property
    def free(self) -> list[ResourceCost]:
        return self.with_status("free")

    @property
    def total(self) -> float:
        return sum(r.monthly for r in self.priced)

    def by_urn(self) -> dict[str, ResourceCost]:
        return {r.urn: r for r in self.resources}


@dataclass(frozen=True)
class Partly:
    """A pricer's answer when a charge of the resource cannot be estimated: the charges that can,
    and what is left out (shown beside the figure, never counted as zero without saying so)."""

    charges: list[Charge]
    not_included: str


class Unpriced(Exception):
    """A known type in a shape the price data cannot price; the message says what is missing."""


class Free(Exception):
    """Raised by a pricer for a resource of a priced type whose shape costs nothing; says why, and
    what it saves elsewhere a month (`saves`), if anything."""

    def __init__(self, why: str, saves: float = 0.0):
        super().__init__(why)
        self.saves = saves


# --- what costs nothing by itself -----------------------------------------------------------
_ON_NODES = "a Kubernetes object: what it runs is paid for by the nodes"
_AWS_NO_CHARGE = "no AWS charge for this resource itself"
FREE_TYPES: dict[str, str] = {
    "aws:ec2/vpc:Vpc": _AWS_NO_CHARGE,
    "aws:ec2/subnet:Subnet": _AWS_NO_CHARGE,
    "aws:ec2/routeTable:RouteTable": _AWS_NO_CHARGE,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _AWS_NO_CHARGE,
    "aws:ec2/internetGateway:InternetGateway": _AWS_NO_CHARGE + " (data transfer out is per GB, not modelled)",
    "aws:ec2/launchTemplate:LaunchTemplate": "no charge itself; its root volumes are priced on the node group",
    "aws:iam/role:Role": _AWS_NO_CHARGE,
    "aws:iam/policy:Policy": _AWS_NO_CHARGE,
    "aws:iam/rolePolicy:RolePolicy": _AWS_NO_CHARGE,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _AWS_NO_CHARGE,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _AWS_NO_CHARGE,
    "aws:ec2/securityGroup:SecurityGroup": _AWS_NO_CHARGE,
    "aws:eks/addon:Addon": _AWS_NO_CHARGE + " (EKS add-ons are free; their pods run on the nodes)",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _AWS_NO_CHARGE,
    "aws:kms/alias:Alias": _AWS_NO_CHARGE + " (the key is priced)",
    "docker-build:index:Image": "built where `pulumi up` runs; its storage is priced on the ECR repository",
    "pulumi:providers:kubernetes": "a Pulumi provider, not a cloud resource",
    "pulumi:providers:aws": "a Pulumi provider, not a cloud resource",
    "pulumi-python:dynamic/celestials:MtlsMaterial": "key material generated where `pulumi up` runs",
    "kubernetes:core/v1:Namespace": _ON_NODES,
    "kubernetes:core/v1:Secret": _ON_NODES,
    "kubernetes:core/v1:ServiceAccount": _ON_NODES,
    "kubernetes:core/v1:ConfigMap": _ON_NODES,
    "kubernetes:apps/v1:Deployment": _ON_NODES,
    "kubernetes:apps/v1:DaemonSet": _ON_NODES,
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": _ON_NODES + " (bound to the program's own gateway Service)",
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": _ON_NODES,
    "kubernetes:networking.istio.io/v1:DestinationRule": _ON_NODES,
    "kubernetes:networking.istio.io/v1:Sidecar": _ON_NODES,
    "kubernetes:networking.istio.io/v1alpha3:EnvoyFilter": _ON_NODES,
    "kubernetes:security.istio.io/v1:PeerAuthentication": _ON_NODES,
    "kubernetes:security.istio.io/v1:AuthorizationPolicy": _ON_NODES,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _ON_NODES + " (enforced by the VPC CNI's agent)",
    "kubernetes:policy/v1:PodDisruptionBudget": _ON_NODES,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": _ON_NODES + " (the pods it adds fit on the nodes: capacity check)",
    "kubernetes:telemetry.istio.io/v1:Telemetry": _ON_NODES,
    "kubernetes:helm.sh/v3:Release": _ON_NODES + " (the charts' values here create no LoadBalancer Service)",
    # how older trees applied the Gateway API CRDs (`make cost-diff BASE=<older ref>` prices them)
    "kubernetes:yaml/v2:ConfigFile": _ON_NODES + " (CRDs)",
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": "API objects stored by the EKS control plane: no charge",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy":
        "evaluated in the EKS API server: no charge",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding":
        "evaluated in the EKS API server: no charge",
    "kubernetes:appmesh.k8s.aws/v1beta2:Mesh": "App Mesh objects: App Mesh has no charge, its Envoys run on the nodes",
    "kubernetes:appmesh.k8s.aws/v1beta2:VirtualNode": "App Mesh objects: App Mesh has no charge, its Envoys run on the nodes",
    "kubernetes:appmesh.k8s.aws/v1beta2:VirtualService": "App Mesh objects: App Mesh has no charge, its Envoys run on the nodes",
    "kubernetes:appmesh.k8s.aws/v1beta2:VirtualRouter": "App Mesh objects: App Mesh has no charge, its Envoys run on the nodes",
    "kubernetes:appmesh.k8s.aws/v1beta2:VirtualGateway": "App Mesh objects: App Mesh has no charge, its Envoys run on the nodes",
    "kubernetes:appmesh.k8s.aws/v1beta2:GatewayRoute": "App Mesh objects: App Mesh has no charge, its Envoys run on the nodes",
}
#: Our own component resources only group their children, which are priced one by one.
COMPONENT_PREFIX = "celestials:"


# --- pricing one resource -------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    prices: RegionPrices
    by_urn: Mapping[str, Mapping[str, Any]]
    records: tuple[Mapping[str, Any], ...]
    today: date

    def hourly(self, item: str, quantity: float, key: str) -> Charge:
        return Charge(item, quantity, self.prices[key], hours=self.prices.hours_per_month)

    def usage(self, item: str, assumption: str, key: str, scale: float = 1.0) -> Charge:
        a = self.assumption(assumption)
        return Charge(item, a.value * scale, self.prices[key], assumption=assumption)

    def assumption(self, key: str) -> Assumption:
        try:
            return self.prices.assumptions[key]
        except KeyError:
            raise CostError(f"prices.yaml states no assumption {key!r}") from None


def _eks_cluster(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    """The control plane at the rate of its version's support on the day priced: extended only
    for an EXTENDED upgrade policy past the version's standard support (a STANDARD cluster is
    upgraded by AWS instead). No upgrade policy: EKS's default applies, and the item says so."""
    inputs = r["inputs"]
    stated = (inputs.get("upgradePolicy") or {}).get("supportType")
    support = str(stated or ev.API_DEFAULT_SUPPORT_TYPE).upper()
    policy = f"{support} upgrade policy" + ("" if stated else " (none stated: EKS's default)")
    version = inputs.get("version")
    if version is None:
        return [ctx.hourly(f"EKS control plane (version not stated: standard support assumed, {policy})",
                           1, EKS_STANDARD_HOUR)]
    try:
        release = ev.release(str(version))
    except KeyError:
        raise Unpriced(f"EKS version {version} is not in celestials/eks_versions.py: its support dates, "
                       "so its rate, are unknown") from None
    billed = ev.billed_support(release.version, support, ctx.today)
    phase = release.phase(ctx.today)
    if billed == ev.ENDED:
        raise Unpriced(f"EKS no longer offers {version} on {ctx.today} (extended support ended on "
                       f"{release.extended_support_ends})")
    if billed == ev.IN_EXTENDED:
        return [ctx.hourly(f"EKS control plane {version}, {policy}: in extended support on {ctx.today} "
                           f"(until {release.extended_support_ends})", 1, EKS_EXTENDED_HOUR)]
    if phase == ev.IN_EXTENDED:
        return [ctx.hourly(f"EKS control plane {version}, {policy}: past standard support on {ctx.today}, "
                           "upgraded by AWS to a version in standard support", 1, EKS_STANDARD_HOUR)]
    return [ctx.hourly(f"EKS control plane {version}, {policy}: in standard support on {ctx.today} "
                       f"(until {release.standard_support_ends})", 1, EKS_STANDARD_HOUR)]


def _node_group(r: Mapping[str, Any], ctx: _Context) -> list[Charge] | Partly:
    inputs = r["inputs"]
    if (inputs.get("capacityType") or "ON_DEMAND") != "ON_DEMAND":
        raise Unpriced(f"capacityType {inputs.get('capacityType')}: only on-demand prices are in the data")
    types = inputs.get("instanceTypes") or []
    if len(types) != 1:
        raise Unpriced(f"instanceTypes {types}: the model prices a node group of exactly one instance type")
    itype = types[0]
    desired = (inputs.get("scalingConfig") or {}).get("desiredSize")
    if not isinstance(desired, (int, float)) or isinstance(desired, bool):
        raise Unpriced(f"scalingConfig.desiredSize = {desired!r}: the node count is unknown")
    nodes = int(desired)
    if itype not in ctx.prices.instance_hour:
        raise Unpriced(f"no on-demand price for {itype} in {ctx.prices.region} (prices.yaml ec2_instance_hour)")
    price = ctx.prices.instance_hour[itype]
    charges = [Charge(f"{nodes} × {itype} (desired size)", nodes, price, hours=ctx.prices.hours_per_month)]
    template = _launch_template(r, ctx)
    if template is None:
        raise Unpriced("no launch template among its dependencies: the root volume size and type are unknown")
    for mapping in template["inputs"].get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") or {}
        volume_type, size = ebs.get("volumeType", "gp2"), float(ebs.get("volumeSize", 0))
        key = f"ebs_{volume_type}_gb_month"
        if key not in ctx.prices.prices:
            raise Unpriced(f"no price for EBS {volume_type} volumes in {ctx.prices.region}")
        charges.append(Charge(f"{nodes} × {size:g} GiB {volume_type} root volume "
                              f"({mapping.get('deviceName', '?')})", nodes * size, ctx.prices[key]))
    family = itype.split(".", 1)[0]
    if family in BURSTABLE_FAMILIES:
        credits = (template["inputs"].get("creditSpecification") or {}).get("cpuCredits")
        if credits is None and family != "t2":  # EC2 launches T3/T3a/T4g as unlimited
            return Partly(charges, f"no credit specification: EC2 launches {itype} as unlimited (unless the "
                                   "account's default says otherwise), and surplus CPU credits above the "
                                   "baseline are billed per vCPU-hour, not estimated here")
        if credits == "unlimited":
            return Partly(charges, "unlimited CPU credits: surplus credits, when the 24-hour average CPU use "
                                   "exceeds the baseline, are billed per vCPU-hour, not estimated here")
    return charges


def _launch_template(r: Mapping[str, Any], ctx: _Context) -> Mapping[str, Any] | None:
    for urn in r.get("dependencies") or ():
        dep = ctx.by_urn.get(urn)
        if dep and dep["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
            return dep
    return None


def dynamodb_traffic_gb(ctx: _Context) -> float:
    """GB a month between the pods and the stack's on-demand tables: each request unit of the
    assumptions one request of `dynamodb_request_bytes`."""
    tables = sum(1 for t in ctx.records if t["type"] == TABLE and t["inputs"].get("billingMode") == "PAY_PER_REQUEST")
    if not tables:
        return 0.0
    requests = sum(ctx.assumption(k).value for k in ("dynamodb_read_request_units", "dynamodb_write_request_units"))
    return tables * requests * ctx.assumption("dynamodb_request_bytes").value / 1e9


def _dynamodb_gateway(ctx: _Context) -> Mapping[str, Any] | None:
    """The DynamoDB gateway endpoint, if the stack has one: then DynamoDB traffic bypasses NAT."""
    return next((e for e in ctx.records if e["type"] == VPC_ENDPOINT and e["inputs"].get("vpcEndpointType") == "Gateway"
                 and str(e["inputs"].get("serviceName", "")).endswith(".dynamodb")), None)


def _nat_gateway(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    if (r["inputs"].get("connectivityType") or "public") != "public":
        raise Unpriced("private NAT gateways are not in the price data")
    charges = [ctx.hourly("NAT gateway", 1, "nat_gateway_hour"),
               ctx.usage("data processed", "nat_gateway_gb_processed", "nat_gateway_gb")]
    dynamodb = dynamodb_traffic_gb(ctx)
    if dynamodb and _dynamodb_gateway(ctx) is None:
        nats = sum(1 for n in ctx.records if n["type"] == NAT_GATEWAY)
        charges.append(Charge(f"DynamoDB traffic processed, no DynamoDB gateway endpoint ({dynamodb:g} GB a month, "
                              f"shared evenly by {nats} NAT gateway(s))", dynamodb / nats, ctx.prices["nat_gateway_gb"],
                              assumption="dynamodb_request_bytes"))
    return charges


def _eip(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    return [ctx.hourly("public IPv4 address", 1, "public_ipv4_hour")]


def _service(r: Mapping[str, Any], ctx: _Context) -> list[Charge] | None:
    """A Service of type LoadBalancer with the NLB annotation is an NLB; other Services are free
    (None); a LoadBalancer of another kind (a Classic ELB) is not in the data."""
    spec = r["inputs"].get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    annotations = (r["inputs"].get("metadata") or {}).get("annotations") or {}
    kind = annotations.get("service.beta.kubernetes.io/aws-load-balancer-type")
    if kind not in ("nlb", "external"):
        raise Unpriced(f"a LoadBalancer Service without an NLB annotation (aws-load-balancer-type = {kind!r}) "
                       "would get a Classic Load Balancer, which is not in the price data")
    scheme = annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme")
    if kind == "external":  # the AWS Load Balancer Controller: internal unless told otherwise
        internal = scheme != "internet-facing"
    else:  # the in-tree NLB: internet-facing unless told otherwise
        internal = annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal") == "true"
    charges = [ctx.hourly("Network Load Balancer", 1, "nlb_hour"),
               Charge("NLCU", ctx.assumption("nlb_nlcu").value, ctx.prices["nlb_nlcu_hour"],
                      hours=ctx.prices.hours_per_month, assumption="nlb_nlcu")]
    if not internal:
        zones = sum(1 for s in ctx.records if s["type"] == "aws:ec2/subnet:Subnet"
                    and ((s["inputs"].get("tags") or {}).get("kubernetes.io/role/elb") == "1"))
        if zones == 0:
            raise Unpriced("internet-facing NLB but no subnet tagged kubernetes.io/role/elb: its zones are unknown")
        charges.append(ctx.hourly(f"{zones} public IPv4 addresses (one per public subnet)", zones, "public_ipv4_hour"))
    return charges


def _kms_key(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    return [Charge("customer managed key (first year)", 1, ctx.prices["kms_key_month"])]


def _dynamodb_table(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    inputs = r["inputs"]
    if inputs.get("billingMode") != "PAY_PER_REQUEST":
        raise Unpriced(f"billingMode {inputs.get('billingMode')}: only on-demand (PAY_PER_REQUEST) is in the data")
    charges = [ctx.usage("write request units (millions)", "dynamodb_write_request_units",
                         "dynamodb_write_request_unit_million", scale=1e-6),
               ctx.usage("read request units (millions)", "dynamodb_read_request_units",
                         "dynamodb_read_request_unit_million", scale=1e-6),
               ctx.usage("GB stored", "dynamodb_storage_gb", "dynamodb_storage_gb_month")]
    if (inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        charges.append(ctx.usage("GB of point-in-time recovery", "dynamodb_storage_gb", "dynamodb_pitr_gb_month"))
    return charges


def _ecr_repository(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    return [ctx.usage("GB of images stored", "ecr_storage_gb_per_repository", "ecr_storage_gb_month")]


def _log_group(r: Mapping[str, Any], ctx: _Context) -> list[Charge]:
    return [ctx.usage("GB ingested", "cloudwatch_log_ingestion_gb", "cloudwatch_logs_ingestion_gb"),
            ctx.usage("GB stored", "cloudwatch_log_storage_gb", "cloudwatch_logs_storage_gb_month")]


def _vpc_endpoint(r: Mapping[str, Any], ctx: _Context) -> list[Charge] | None:
    """Gateway endpoints (S3, DynamoDB) cost nothing; interface endpoints are billed per hour and
    AZ plus per GB, which the price data does not hold yet. The DynamoDB one says what it saves."""
    if r["inputs"].get("vpcEndpointType") == "Gateway":
        dynamodb = dynamodb_traffic_gb(ctx)
        gateway = _dynamodb_gateway(ctx)
        if gateway is not None and gateway["urn"] == r["urn"] and dynamodb and any(n["type"] == NAT_GATEWAY for n in ctx.records):
            saved = Charge("", dynamodb, ctx.prices["nat_gateway_gb"]).monthly
            raise Free(f"gateway endpoints have no AWS charge; this one carries the tables' {dynamodb:g} GB a month "
                       "of DynamoDB traffic past the NAT gateways, which would charge for processing it", saves=saved)
        raise Free("gateway endpoints have no AWS charge")
    raise Unpriced(f"interface endpoint {r['inputs'].get('serviceName')}: no interface-endpoint price in the data file")


PRICERS: dict[str, Callable[[Mapping[str, Any], _Context], list[Charge] | Partly | None]] = {
    "eks:index:Cluster": _eks_cluster,
    "eks:index:ManagedNodeGroup": _node_group,
    NAT_GATEWAY: _nat_gateway,
    "aws:ec2/eip:Eip": _eip,
    "kubernetes:core/v1:Service": _service,
    "aws:kms/key:Key": _kms_key,
    TABLE: _dynamodb_table,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    # the control plane's log group, created or adopted by a dynamic provider (components/cluster.py)
    "pulumi-python:dynamic/celestials:ControlPlaneLogGroup": _log_group,
    VPC_ENDPOINT: _vpc_endpoint,
}


def price_resources(records: Iterable[Mapping[str, Any]], region: str,
                    book: PriceBook | None = None, *, today: date) -> CostReport:
    """Price every record for `region` as of `today` (a region without price data raises
    `CostError`)."""
    records = tuple(records)
    prices = (book or load_price_book()).region(region)
    ctx = _Context(prices, {r["urn"]: r for r in records}, records, today)
    return CostReport(region, tuple(_price_one(r, ctx) for r in records), prices.assumptions, today)


def control_plane_rates(region: str, book: PriceBook | None = None) -> ev.ControlPlaneRates:
    """An EKS control plane's cluster-hour in standard and in extended support in `region`."""
    prices = (book or load_price_book()).region(region)
    return ev.ControlPlaneRates(prices[EKS_STANDARD_HOUR].usd, prices[EKS_EXTENDED_HOUR].usd)


def _price_one(r: Mapping[str, Any], ctx: _Context) -> ResourceCost:
    urn, typ, name = r["urn"], r["type"], r["name"]
    pricer = PRICERS.get(typ)
    if pricer is not None:
        try:
            charges = pricer(r, ctx)
        except Unpriced as why:
            return ResourceCost(urn, typ, name, "unpriced", note=str(why))
        except Free as why:
            return ResourceCost(urn, typ, name, "free", note=str(why), saves=why.saves)
        if charges is None:
            return ResourceCost(urn, typ, name, "free", note=_ON_NODES)
        if isinstance(charges, Partly):
            return ResourceCost(urn, typ, name, "priced", tuple(charges.charges), note=charges.not_included)
        return ResourceCost(urn, typ, name, "priced", tuple(charges))
    if typ in FREE_TYPES:
        return ResourceCost(urn, typ, name, "free", note=FREE_TYPES[typ])
    if typ.startswith(COMPONENT_PREFIX):
        return ResourceCost(urn, typ, name, "free", note="a component: its children are priced one by one")
    return ResourceCost(urn, typ, name, "unpriced", note="type not known to the cost model (celestials/cost/model.py)")
