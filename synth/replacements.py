"""Which input changes make Pulumi replace a resource instead of updating it, for every resource
type the program registers, each fact with where it comes from; and what a replacement takes with
it. Read by `make synth-diff` and `make cost-diff` (synth/diff.py); standard library only.

Sources, in short form in `Field.source`:
- `tf-aws <file>`: hashicorp/terraform-provider-aws `internal/service/<file>`, the schema field
  marked `ForceNew: true`. pulumi-aws is bridged from it and plans a replace for exactly these.
- `pulumi-k8s forceNew`: pulumi/pulumi-kubernetes `provider/pkg/provider`, the `forceNew` table
  (`metadataForceNewProperties`: `.metadata.name` and `.metadata.namespace` of every kind, plus
  per-kind paths).
- `pulumi-k8s helm_release.go`: the Helm Release's `Diff`, `forceNewFields := [".name", ".namespace"]`.
- `components/<file>`: our dynamic providers' own `diff`.

A replaced resource's outputs (ids, ARNs) are unknown until it is recreated, so every input of a
dependent that carries them may change: if that input forces replacement the dependent is
replaced too, otherwise it is updated with a value known only after the replacement. `Field.refers_to`
names the resource types whose identity an input carries; `{"$resource": urn}` references are
followed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping


@dataclass(frozen=True)
class Field:
    #: input path in Pulumi's names; it covers everything below it (`spec.selector` covers
    #: `spec.selector.matchLabels.app`)
    path: str
    #: where the fact comes from (see the module docstring for the short forms)
    source: str
    #: False: an updatable input, listed because it carries another resource's identity
    force_new: bool = True
    #: resource types whose id/ARN/name this input carries
    refers_to: tuple[str, ...] = ()
    #: what the provider's plan does not say (e.g. an update the cloud API will refuse)
    caveat: str = ""


@dataclass(frozen=True)
class Rule:
    """What forces replacement of one type. `partial`: why changes outside `fields` may still
    replace (e.g. an API server's immutable fields the provider learns only from a dry run)."""

    fields: tuple[Field, ...] = ()
    partial: str = ""
    about: str = ""


@dataclass(frozen=True)
class Unknown:
    """A type whose replacement behaviour this module does not know, and why."""

    reason: str


# --- AWS (pulumi-aws, bridged from the Terraform AWS provider) -------------------------------
VPC, SUBNET, IGW, EIP, NAT = ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
                              "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway")
ROUTE_TABLE, LAUNCH_TEMPLATE = "aws:ec2/routeTable:RouteTable", "aws:ec2/launchTemplate:LaunchTemplate"
ROLE, POLICY, KMS_KEY, TABLE = "aws:iam/role:Role", "aws:iam/policy:Policy", "aws:kms/key:Key", "aws:dynamodb/table:Table"
REPOSITORY = "aws:ecr/repository:Repository"
EKS_CLUSTER, NODE_GROUP = "eks:index:Cluster", "eks:index:ManagedNodeGroup"
K8S_PROVIDER = "pulumi:providers:kubernetes"
LOG_GROUP = "pulumi-python:dynamic/celestials:ControlPlaneLogGroup"

_EKS_SUBNETS_CAVEAT = ("EKS accepts new subnets for a cluster only in the cluster's VPC: when the "
                       "VPC is replaced this planned update fails at apply, and the cluster has to be "
                       "replaced explicitly (pulumi up --replace)")


def _f(path: str, source: str, *refers_to: str, caveat: str = "") -> Field:
    return Field(path, source, True, tuple(refers_to), caveat)


def _ref(path: str, source: str, *refers_to: str, caveat: str = "") -> Field:
    return Field(path, source, False, tuple(refers_to), caveat)


AWS: dict[str, Rule] = {
    VPC: Rule((_f("cidrBlock", "tf-aws ec2/vpc_.go: cidr_block ForceNew"),
               _f("instanceTenancy", "tf-aws ec2/vpc_.go: instance_tenancy ForceNew in its CustomizeDiff "
                                     "(all but dedicated → default)"),
               _f("ipv4IpamPoolId", "tf-aws ec2/vpc_.go: ipv4_ipam_pool_id ForceNew"))),
    SUBNET: Rule((_f("cidrBlock", "tf-aws ec2/vpc_subnet.go: cidr_block ForceNew"),
                  _f("availabilityZone", "tf-aws ec2/vpc_subnet.go: availability_zone ForceNew"),
                  _f("availabilityZoneId", "tf-aws ec2/vpc_subnet.go: availability_zone_id ForceNew"),
                  _f("vpcId", "tf-aws ec2/vpc_subnet.go: vpc_id ForceNew", VPC))),
    IGW: Rule((_ref("vpcId", "tf-aws ec2/vpc_internet_gateway.go: vpc_id updatable (detach, attach)", VPC),)),
    EIP: Rule((_f("domain", "tf-aws ec2/ec2_eip.go: domain ForceNew"),
               _f("networkBorderGroup", "tf-aws ec2/ec2_eip.go: network_border_group ForceNew"),
               _f("publicIpv4Pool", "tf-aws ec2/ec2_eip.go: public_ipv4_pool ForceNew"))),
    NAT: Rule((_f("allocationId", "tf-aws ec2/vpc_nat_gateway.go: allocation_id ForceNew", EIP),
               _f("subnetId", "tf-aws ec2/vpc_nat_gateway.go: subnet_id ForceNew", SUBNET),
               _f("connectivityType", "tf-aws ec2/vpc_nat_gateway.go: connectivity_type ForceNew"),
               _f("privateIp", "tf-aws ec2/vpc_nat_gateway.go: private_ip ForceNew"))),
    ROUTE_TABLE: Rule((_f("vpcId", "tf-aws ec2/vpc_route_table.go: vpc_id ForceNew", VPC),
                       _ref("routes", "tf-aws ec2/vpc_route_table.go: route updatable", NAT, IGW))),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Rule((
        _f("subnetId", "tf-aws ec2/vpc_route_table_association.go: subnet_id ForceNew", SUBNET),
        _f("gatewayId", "tf-aws ec2/vpc_route_table_association.go: gateway_id ForceNew", IGW),
        _ref("routeTableId", "tf-aws ec2/vpc_route_table_association.go: route_table_id updatable",
             ROUTE_TABLE))),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Rule((
        _f("vpcId", "tf-aws ec2/vpc_endpoint.go: vpc_id ForceNew", VPC),
        _f("serviceName", "tf-aws ec2/vpc_endpoint.go: service_name ForceNew"),
        _f("vpcEndpointType", "tf-aws ec2/vpc_endpoint.go: vpc_endpoint_type ForceNew"),
        _ref("routeTableIds", "tf-aws ec2/vpc_endpoint.go: route_table_ids updatable", ROUTE_TABLE))),
    LAUNCH_TEMPLATE: Rule((_f("name", "tf-aws ec2/ec2_launch_template.go: name ForceNew"),
                           _f("namePrefix", "tf-aws ec2/ec2_launch_template.go: name_prefix ForceNew")),
                          about="any other change is a new template version, not a new template"),
    REPOSITORY: Rule((_f("name", "tf-aws ecr/repository.go: name ForceNew"),
                      _f("encryptionConfigurations", "tf-aws ecr/repository.go: encryption_configuration ForceNew"))),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": Rule((
        _f("repository", "tf-aws ecr/lifecycle_policy.go: repository ForceNew", REPOSITORY),)),
    "aws:eks/addon:Addon": Rule((_f("addonName", "tf-aws eks/addon.go: addon_name ForceNew"),
                                 _f("clusterName", "tf-aws eks/addon.go: cluster_name ForceNew", EKS_CLUSTER))),
    POLICY: Rule((_f("name", "tf-aws iam/policy.go: name ForceNew"),
                  _f("namePrefix", "tf-aws iam/policy.go: name_prefix ForceNew"),
                  _f("path", "tf-aws iam/policy.go: path ForceNew"),
                  _f("description", "tf-aws iam/policy.go: description ForceNew"),
                  _ref("policy", "tf-aws iam/policy.go: policy updatable (a new default version)",
                       TABLE, KMS_KEY, ROLE, REPOSITORY))),
    ROLE: Rule((_f("name", "tf-aws iam/role.go: name ForceNew"),
                _f("namePrefix", "tf-aws iam/role.go: name_prefix ForceNew"),
                _f("path", "tf-aws iam/role.go: path ForceNew"),
                _ref("assumeRolePolicy", "tf-aws iam/role.go: assume_role_policy updatable", EKS_CLUSTER))),
    "aws:iam/rolePolicy:RolePolicy": Rule((
        _f("role", "tf-aws iam/role_policy.go: role ForceNew", ROLE),
        _f("name", "tf-aws iam/role_policy.go: name ForceNew"),
        _f("namePrefix", "tf-aws iam/role_policy.go: name_prefix ForceNew"),
        _ref("policy", "tf-aws iam/role_policy.go: policy updatable", TABLE, KMS_KEY, ROLE, REPOSITORY))),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Rule((
        _f("role", "tf-aws iam/role_policy_attachment.go: role ForceNew", ROLE),
        _f("policyArn", "tf-aws iam/role_policy_attachment.go: policy_arn ForceNew", POLICY))),
    "aws:kms/alias:Alias": Rule((_f("name", "tf-aws kms/alias.go: name ForceNew"),
                                 _f("namePrefix", "tf-aws kms/alias.go: name_prefix ForceNew"),
                                 _ref("targetKeyId", "tf-aws kms/alias.go: target_key_id updatable", KMS_KEY))),
    KMS_KEY: Rule((_f("customerMasterKeySpec", "tf-aws kms/key.go: customer_master_key_spec ForceNew"),
                   _f("keyUsage", "tf-aws kms/key.go: key_usage ForceNew"),
                   _f("multiRegion", "tf-aws kms/key.go: multi_region ForceNew"),
                   _f("customKeyStoreId", "tf-aws kms/key.go: custom_key_store_id ForceNew"),
                   _f("xksKeyId", "tf-aws kms/key.go: xks_key_id ForceNew"))),
    TABLE: Rule((_f("name", "tf-aws dynamodb/table.go: name ForceNew"),
                 _f("hashKey", "tf-aws dynamodb/table.go: hash_key ForceNew"),
                 _f("rangeKey", "tf-aws dynamodb/table.go: range_key ForceNew"),
                 _f("localSecondaryIndexes", "tf-aws dynamodb/table.go: local_secondary_index ForceNew"))),
}

# --- pulumi-eks components: their inputs mapped to the AWS resource they create ----------------
EKS: dict[str, Rule] = {
    EKS_CLUSTER: Rule(
        (_f("name", "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: name ForceNew"),
         _f("serviceRole", "pulumi-eks → aws_eks_cluster role_arn; tf-aws eks/cluster.go: role_arn ForceNew", ROLE),
         _f("kubernetesServiceIpAddressRange",
            "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: kubernetes_network_config.service_ipv4_cidr ForceNew"),
         _f("ipFamily", "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: kubernetes_network_config.ip_family ForceNew"),
         _f("bootstrapSelfManagedAddons",
            "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: bootstrap_self_managed_addons ForceNew"),
         _ref("privateSubnetIds", "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: vpc_config.subnet_ids updatable",
              SUBNET, caveat=_EKS_SUBNETS_CAVEAT),
         _ref("publicSubnetIds", "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: vpc_config.subnet_ids updatable",
              SUBNET, caveat=_EKS_SUBNETS_CAVEAT),
         _ref("vpcId", "pulumi-eks: the VPC of its security groups (none here: skipDefaultSecurityGroups)", VPC),
         _ref("encryptionConfigKeyArn",
              "pulumi-eks → aws_eks_cluster; tf-aws eks/cluster.go: encryption_config ForceNew only when removed",
              KMS_KEY, caveat="EKS cannot change the KMS key of a cluster's envelope encryption once set"),
         _ref("instanceRoles", "pulumi-eks: EKS access entries of the node role", ROLE)),
        about="a pulumi-eks component: the fields are those of the aws_eks_cluster it creates (its other "
              "children, the OIDC provider, access entries and add-ons, are not seen offline)"),
    NODE_GROUP: Rule(
        (_f("amiType", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: ami_type ForceNew"),
         _f("instanceTypes", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: instance_types ForceNew"),
         _f("capacityType", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: capacity_type ForceNew"),
         _f("diskSize", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: disk_size ForceNew"),
         _f("subnetIds", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: subnet_ids ForceNew", SUBNET),
         _f("nodeRole", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: node_role_arn ForceNew", ROLE),
         _f("nodeRoleArn", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: node_role_arn ForceNew", ROLE),
         _f("cluster", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: cluster_name ForceNew", EKS_CLUSTER),
         _f("nodeGroupName", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: node_group_name ForceNew"),
         _f("nodeGroupNamePrefix",
            "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: node_group_name_prefix ForceNew"),
         _f("launchTemplate.id", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: launch_template.id ForceNew",
            LAUNCH_TEMPLATE),
         _f("launchTemplate.name",
            "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: launch_template.name ForceNew", LAUNCH_TEMPLATE),
         _f("remoteAccess", "pulumi-eks → aws_eks_node_group; tf-aws eks/node_group.go: remote_access ForceNew")),
        about="a pulumi-eks component: the fields are those of the aws_eks_node_group it creates"),
}

# --- Kubernetes (pulumi-kubernetes) ---------------------------------------------------------
_METADATA = (_f("metadata.name", "pulumi-k8s forceNew: .metadata.name"),
             _f("metadata.namespace", "pulumi-k8s forceNew: .metadata.namespace"))
#: the CRDs of these groups declare no immutable field (no `self == oldSelf` validation rule in
#: the Gateway API v1.6.1 standard CRDs or Istio 1.31's crd-all.gen.yaml), and pulumi-kubernetes'
#: table has nothing for them beyond metadata
NO_IMMUTABLE_FIELDS = ("gateway.networking.k8s.io", "networking.istio.io", "security.istio.io", "telemetry.istio.io")
_APPMESH = ("the App Mesh controller's admission webhook refuses some spec changes (e.g. spec.awsName, "
            "spec.meshRef); whether pulumi-kubernetes then plans a replace or the preview fails is not known here")


def _k8s(*extra: Field, partial: str = "") -> Rule:
    return Rule(_METADATA + extra, partial=partial)


_SELECTOR = _f("spec.selector", "Kubernetes apps/v1: a Deployment's spec.selector is immutable; "
                                "pulumi-kubernetes replaces when the API server says so")

KUBERNETES: dict[str, Rule] = {
    "kubernetes:core/v1:Namespace": _k8s(),
    "kubernetes:core/v1:Secret": _k8s(_f("type", "pulumi-k8s forceNew: core/v1 Secret .type")),
    "kubernetes:core/v1:Service": _k8s(_f("spec.clusterIP", "pulumi-k8s forceNew: core/v1 Service .spec.clusterIP"),
                                       _f("spec.type", "pulumi-k8s forceNew: core/v1 Service .spec.type")),
    "kubernetes:core/v1:ServiceAccount": _k8s(),
    "kubernetes:apps/v1:Deployment": _k8s(_SELECTOR),
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": _k8s(),
    "kubernetes:policy/v1:PodDisruptionBudget": _k8s(),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _k8s(),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": _k8s(),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": _k8s(),
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": _k8s(
        _f("spec.scope", "Kubernetes apiextensions.k8s.io/v1: a CRD's spec.scope is immutable")),
    **{f"kubernetes:{kind}": _k8s() for kind in (
        "gateway.networking.k8s.io/v1:Gateway", "gateway.networking.k8s.io/v1:HTTPRoute",
        "networking.istio.io/v1:DestinationRule", "networking.istio.io/v1:Sidecar",
        "networking.istio.io/v1alpha3:EnvoyFilter", "security.istio.io/v1:AuthorizationPolicy",
        "security.istio.io/v1:PeerAuthentication", "telemetry.istio.io/v1:Telemetry")},
    **{f"kubernetes:appmesh.k8s.aws/v1beta2:{kind}": _k8s(partial=_APPMESH) for kind in (
        "GatewayRoute", "Mesh", "VirtualGateway", "VirtualNode", "VirtualRouter", "VirtualService")},
    "kubernetes:helm.sh/v3:Release": Rule((_f("name", "pulumi-k8s helm_release.go: forceNewFields .name"),
                                           _f("namespace", "pulumi-k8s helm_release.go: forceNewFields .namespace"))),
    K8S_PROVIDER: Rule(
        (_f("clusterIdentifier", "pulumi-kubernetes provider schema: clusterIdentifier alone decides replacement "
                                 "of the provider"),
         _ref("kubeconfig", "pulumi-kubernetes provider schema: with clusterIdentifier set, a changed kubeconfig "
                            "updates the provider", EKS_CLUSTER)),
        about="a replaced provider replaces every resource it manages"),
}

# --- our dynamic providers (components/*_provider.py) ---------------------------------------
DYNAMIC: dict[str, Rule | Unknown] = {
    LOG_GROUP: Rule((_f("name", "components/log_group_provider.py: diff replaces on name"),
                     _f("region", "components/log_group_provider.py: diff replaces on region"))),
    "pulumi-python:dynamic/celestials:MtlsMaterial": Rule(
        about="components/mtls_provider.py: diff never replaces (a rotation is an update)"),
}

OTHER: dict[str, Rule | Unknown] = {
    "docker-build:index:Image": Rule(
        about="pulumi-docker-build provider/internal/image.go: Diff marks every changed input an update, "
              "never a replace (the update builds and pushes again)"),
}

RULES: Mapping[str, Rule | Unknown] = {**AWS, **EKS, **KUBERNETES, **DYNAMIC, **OTHER}

#: our own ComponentResources: no provider diffs them, only their children are created or replaced
COMPONENT = Rule(about="a component resource (no provider): only its children change")


def rule_for(record: Mapping[str, Any]) -> Rule | Unknown | None:
    """The rule of a synth record's type; None when the type has no entry."""
    typ = str(record["type"])
    if typ in RULES:
        return RULES[typ]
    if typ.startswith("celestials:") and not record.get("custom", True):
        return COMPONENT
    return None


def covers(field_path: str, change_path: str) -> bool:
    """Does a change at `change_path` (`spec.selector.matchLabels.app`, `instanceTypes[0]`) fall
    under the field `field_path` (`spec.selector`, `instanceTypes`)?"""
    return change_path == field_path or change_path.startswith((field_path + ".", field_path + "["))


# --- the verdict for a set of changes ------------------------------------------------------
@dataclass
class Verdict:
    """What a changed resource will do. `reasons`: why it is replaced; `pending`: inputs that
    carry a replaced resource's identity (path → the replaced resources' names), known only after
    they are recreated; `unknown`: why replacement is not known; `caveats`: what the plan does not say."""

    replace: bool = False
    reasons: list[str] = field(default_factory=list)
    pending: dict[str, list[str]] = field(default_factory=dict)
    unknown: str = ""
    caveats: list[str] = field(default_factory=list)
    #: force-new path → (its source, the replaced resources whose identity it carries)
    follows: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def explained(self) -> Verdict:
        """With one reason per force-new input that follows replaced resources."""
        for path, (source, names) in self.follows.items():
            who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            verb = "is" if len(names) == 1 else "are"
            self.reasons.append(f"{path} carries the identity of {who}, which {verb} replaced ({source})")
        self.follows = {}
        return self


def _refs(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, urn) of every `{"$resource": urn}` in an input tree."""
    if isinstance(value, dict):
        if set(value) == {"$resource"}:
            yield path, str(value["$resource"])
            return
        for key, sub in value.items():
            yield from _refs(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _refs(sub, f"{path}[{i}]")


def _present(inputs: Mapping[str, Any], path: str) -> bool:
    value: Any = inputs
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return False
        value = value[key]
    return value is not None


def _note_unknown(verdict: Verdict, typ: str, rule: Rule | Unknown | None) -> None:
    if isinstance(rule, Unknown):
        verdict.unknown = f"replacement not known for {typ}: {rule.reason}"
    elif rule is None:
        verdict.unknown = f"replacement not known for {typ}: it has no entry in synth/replacements.py"


def judge(records: Iterable[Mapping[str, Any]], changed: Mapping[str, Iterable[str]]) -> dict[str, Verdict]:
    """Per URN, what happens: `records` are the head side's synth records of the resources that
    exist on both sides, `changed` maps a URN to the paths of its changed inputs. Returns a
    verdict for every changed resource and for every resource a replacement reaches."""
    by_urn = {str(r["urn"]): r for r in records}
    verdicts: dict[str, Verdict] = {}
    queue: list[str] = []
    for urn, paths in changed.items():
        record = by_urn.get(urn)
        if record is None:
            continue
        verdict = verdicts.setdefault(urn, Verdict())
        rule = rule_for(record)
        _note_unknown(verdict, str(record["type"]), rule)
        if isinstance(rule, Rule):
            for path in sorted(set(paths)):
                for f in rule.fields:
                    if f.force_new and covers(f.path, path):
                        verdict.reasons.append(f"{path} changes ({f.source})")
                        break
                else:
                    if rule.partial and path != "provider" and not verdict.unknown:
                        verdict.unknown = f"replacement not known for {path}: {rule.partial}"
        if verdict.reasons:
            verdict.replace = True
            queue.append(urn)

    dependents: dict[str, list[str]] = {}
    for urn, record in by_urn.items():
        upstream = set(record.get("dependencies") or ()) | {u for _, u in _refs(record.get("inputs") or {})}
        if record.get("provider"):
            upstream.add(str(record["provider"]))
        for u in upstream:
            dependents.setdefault(u, []).append(urn)

    while queue:
        up = queue.pop(0)
        up_record = by_urn[up]
        up_type, up_name = str(up_record["type"]), str(up_record["name"])
        for urn in sorted(dependents.get(up, ())):
            record = by_urn[urn]
            verdict = verdicts.get(urn) or Verdict()
            was_replaced = verdict.replace
            if record.get("provider") == up:
                verdict.reasons.append(f"its provider {up_name} is replaced, and with it every resource it manages")
                verdict.replace = True
            rule = rule_for(record)
            if isinstance(rule, Rule):
                refs = {p for p, u in _refs(record.get("inputs") or {}) if u == up}
                for f in rule.fields:
                    by_ref = any(covers(f.path, p) for p in refs)
                    by_type = up_type in f.refers_to and _present(record.get("inputs") or {}, f.path)
                    if not (by_ref or by_type):
                        continue
                    if f.force_new:
                        verdict.follows.setdefault(f.path, (f.source, []))[1].append(up_name)
                        verdict.replace = True
                    else:
                        verdict.pending.setdefault(f.path, []).append(up_name)
                        if f.caveat:
                            verdict.caveats.append(f.caveat)
            elif up in (record.get("dependencies") or ()) or any(u == up for _, u in _refs(record.get("inputs") or {})):
                if not verdict.unknown:
                    _note_unknown(verdict, str(record["type"]), rule)
                verdict.unknown += f"; it depends on {up_name}, which is replaced"
            if verdict.replace or verdict.pending or verdict.unknown:
                verdicts[urn] = verdict
            if verdict.replace and not was_replaced:
                queue.append(urn)
    return {urn: verdict.explained() for urn, verdict in verdicts.items()}
