"""The EKS cluster, its managed node group, and the Kubernetes provider every object uses.

Why these choices:
- Access: API authentication mode with access entries (no aws-auth ConfigMap to drift); the
  principal that creates the cluster is admin (EKS bootstrap), `admin_principal_arns` add others
  (people, CI deploy roles), `viewer_principal_arns` read-only ones (the CI preview role: without
  an entry the API answers 401 and `pulumi refresh` fails on every Kubernetes object). Entries are
  keyed by principal (`access_entry_key`), never by list position.
- Secrets in etcd are envelope-encrypted with our KMS key (rotation on); the cluster role gets a
  policy for exactly that key. Control-plane logs (the types the stack asks for: all five in prod,
  api + authenticator elsewhere) go to a log group with our retention instead of "never expire".
- `upgradePolicy.supportType` is always the stack's `eksSupportType`, never EKS's own default
  (EXTENDED, which would let a cluster slide into paid extended support unasked): STANDARD lets AWS
  upgrade the control plane when its version's standard support ends, EXTENDED keeps the version
  at the extended-support rate (celestials/eks_versions.py says when each applies).
- Upgrades happen as one change of `eksVersion`: the node group carries `version` (with a launch
  template that names no AMI, EKS takes the node AMI from `version`; without it the nodes stay on
  the AMI of their creation), and the three add-ons are pinned per version from
  `celestials.eks_versions` — VPC CNI and kube-proxy through pulumi-eks, CoreDNS as an EKS
  managed add-on created here after the nodes (pulumi-eks only makes CoreDNS a managed add-on for
  its default node group or Fargate, so with our own node group the EKS bootstrap Deployment would
  stay self-managed and never upgraded). OVERWRITE on create adopts the bootstrap objects.
- metrics-server, with `metrics_server` (stacks whose request path autoscales): the resource
  metrics API every HorizontalPodAutoscaler reads, which EKS does not install by itself; as the
  EKS community add-on, pinned per EKS version like the others, after the nodes like CoreDNS.
  It runs in kube-system, outside the meshes' namespaces: the kubelet scrape it makes and the
  HPA controller's API calls cross none of the meshes' NetworkPolicies.
- Nodes: one managed node group in the private subnets, from our launch template so that IMDSv2 is
  required with a hop limit of 1: a pod in its own network namespace is one hop further and cannot
  reach IMDS, so it cannot take the node role's credentials (EKS best practices, "Restrict access
  to the instance profile assigned to the worker node"). Nothing here needs IMDS from a pod: every
  AWS-calling pod (App Mesh controller, collector, Envoy/X-Ray sidecars, prodcatalog) has an IRSA
  role and AWS_REGION from its spec or chart values; aws-node and kube-proxy use the host network.
  the root volume is encrypted gp3, and an optional EC2 key pair is installed. EKS refuses a node
  group's `remoteAccess` together with a launch template, so the key goes in the template; nodes
  have no public address and no inbound SSH rule: reach them with SSM Session Manager (the node
  role has AmazonSSMManagedInstanceCore), e.g. `ssh` through `AWS-StartSSHSession`. Burstable
  nodes (t2/t3/t3a/t4g) get the stack's CPU credit specification (`cpu_credits`) in the template,
  never EC2's default (unlimited for T3/T3a/T4g) or the account's.
- The Kubernetes provider is built from the cluster's name, region, endpoint and CA only, with an
  `aws eks get-token` exec credential (no token in the config, nothing that changes per run) and
  `cluster_identifier` set to the cluster name: a changed kubeconfig (e.g. a new pulumi-eks
  version formatting it differently) updates the provider in place instead of replacing it and,
  with it, every Kubernetes object of the stack.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from celestials.eks_versions import SUPPORT_TYPES, addon_version, known_versions
from celestials.settings import BURSTABLE_FAMILIES, CONTROL_PLANE_LOG_TYPES, CPU_CREDITS
from celestials.stacks import PRODUCTION_TAG
from components.log_group_provider import ControlPlaneLogGroup

CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
#: read-only on every object including Secrets (Helm keeps releases in Secrets, so `pulumi refresh`
#: of a release needs them); AmazonEKSViewPolicy leaves Secrets out
CLUSTER_VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
#: EKS-optimized AL2023 AMI per node architecture (celestials:nodeArchitecture).
AMI_TYPES = {"amd64": "AL2023_x86_64_STANDARD", "arm64": "AL2023_ARM_64_STANDARD"}
#: 1: only the node itself (and host-network pods) reach IMDS; pods use IRSA (see the docstring)
IMDS_HOP_LIMIT = 1
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
CLUSTER_POLICY = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
#: what the EKS cluster role needs on the secrets key (encrypt/decrypt data keys, see grants)
KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$")


def access_entry_key(role: str, principal_arn: str) -> str:
    """The map key (and so the resource name) of a principal's access entry: derived from the
    principal itself, so adding, removing or reordering principals touches only their own entry.
    The readable part is the ARN's last path segment; the hash keeps two principals with the same
    name in different accounts or paths apart."""
    tail = re.sub(r"[^a-z0-9]+", "-", principal_arn.rsplit("/", 1)[-1].lower()).strip("-")[:40]
    digest = hashlib.sha256(principal_arn.encode()).hexdigest()[:8]
    return f"{role}-{tail}-{digest}"


def _access_entries(admins: tuple[str, ...], viewers: tuple[str, ...]) -> dict[str, "eks.AccessEntryArgs"]:
    entries = {}
    for role, policy, principals in (("admin", CLUSTER_ADMIN_POLICY, admins), ("view", CLUSTER_VIEW_POLICY, viewers)):
        for arn in principals:
            entries[access_entry_key(role, arn)] = eks.AccessEntryArgs(
                principal_arn=arn, type=eks.AccessEntryType.STANDARD,
                access_policies={role: eks.AccessPolicyAssociationArgs(
                    policy_arn=policy, access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"))})
    return entries


def _assume(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}, sort_keys=True)


def exec_kubeconfig(cluster_name: str, region: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that asks `aws eks get-token` for a fresh token on every connection."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": cluster_name, "preferences": {},
        "clusters": [{"name": cluster_name,
                      "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["--region", region, "eks", "get-token", "--cluster-name", cluster_name,
                     "--output", "json"],
            "interactiveMode": "Never"}}}],
    }, sort_keys=True)


def endpoint_and_ca(kubeconfig: str | dict[str, Any]) -> tuple[str, str]:
    """Server URL and CA data of the (single) cluster in a kubeconfig (JSON text or dict)."""
    doc = json.loads(kubeconfig) if isinstance(kubeconfig, str) else kubeconfig
    try:
        cluster = doc["clusters"][0]["cluster"]
        return cluster["server"], cluster["certificate-authority-data"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("the EKS cluster's kubeconfig has no clusters[0].cluster server and "
                         "certificate-authority-data") from None


@dataclass
class ClusterArgs:
    cluster_name: str
    region: str
    version: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    public_subnet_ids: pulumi.Input[list[str]]
    instance_type: str
    node_count: int
    node_max_count: int
    #: upgradePolicy.supportType (celestials.eks_versions.SUPPORT_TYPES); no default, so the API's
    #: never applies
    support_type: str
    endpoint_public_access: bool = True
    public_access_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    #: networks outside the VPC (a CI runner's, peered or over Transit Gateway/VPN) allowed to the
    #: private endpoint: HTTPS ingress rules on the cluster security group EKS creates
    private_access_cidrs: tuple[str, ...] = ()
    admin_principal_arns: tuple[str, ...] = ()
    #: principals given read-only access entries (CLUSTER_VIEW_POLICY)
    viewer_principal_arns: tuple[str, ...] = ()
    ssh_key_name: str | None = None
    node_disk_gib: int = 30
    architecture: str = "amd64"
    #: CPU credit specification of burstable nodes (celestials.settings.Settings.cpu_credits);
    #: None for a type without credits
    cpu_credits: str | None = None
    log_retention_days: int = 30
    #: control-plane log types (celestials.settings.Settings.log_types); empty: no logging
    log_types: tuple[str, ...] = CONTROL_PLANE_LOG_TYPES
    deletion_protection: bool = False
    #: Let `pulumi destroy`/refresh drop Kubernetes objects from state when the cluster is already
    #: gone. Off by default: a transient network error must not make Pulumi forget resources.
    delete_unreachable: bool = False
    #: install the metrics-server add-on (the resource metrics API HorizontalPodAutoscalers read)
    metrics_server: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _CLUSTER_NAME.match(self.cluster_name):
            raise ValueError(f"cluster name {self.cluster_name!r}: letters, digits, - and _, at most 100")
        if self.version not in known_versions():
            raise ValueError(f"EKS version {self.version!r} is not in celestials/eks_versions.py "
                             f"({', '.join(known_versions())}): its add-ons are not pinned")
        if self.support_type not in SUPPORT_TYPES:
            raise ValueError(f"upgrade policy support type {self.support_type!r}: one of {', '.join(SUPPORT_TYPES)}")
        if not 1 <= self.node_count <= self.node_max_count:
            raise ValueError(f"node group: need 1 <= node_count ({self.node_count}) <= "
                             f"node_max_count ({self.node_max_count})")
        for arn in (*self.admin_principal_arns, *self.viewer_principal_arns):
            if not _PRINCIPAL.match(arn):
                raise ValueError(f"cluster admin or viewer {arn!r} is not an IAM role or user ARN")
        both = set(self.admin_principal_arns) & set(self.viewer_principal_arns)
        if both or len(set(self.admin_principal_arns)) != len(self.admin_principal_arns):
            raise ValueError(f"one access entry per principal: {sorted(both) or self.admin_principal_arns} repeated")
        if self.log_retention_days not in (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                           1096, 1827, 2192, 2557, 2922, 3288, 3653):
            raise ValueError(f"log retention {self.log_retention_days} days is not a CloudWatch Logs value")
        unknown = set(self.log_types) - set(CONTROL_PLANE_LOG_TYPES)
        if unknown:
            raise ValueError(f"control-plane log types {sorted(unknown)} are not among {CONTROL_PLANE_LOG_TYPES}")
        burstable = self.instance_type.split(".", 1)[0] in BURSTABLE_FAMILIES
        if self.cpu_credits is not None and (self.cpu_credits not in CPU_CREDITS or not burstable):
            raise ValueError(f"cpu_credits {self.cpu_credits!r}: one of {', '.join(CPU_CREDITS)}, and only for "
                             f"a burstable type ({', '.join(BURSTABLE_FAMILIES)}), not {self.instance_type}")


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        # --- secrets encryption key and the cluster role allowed to use it ---------------------
        self.secrets_key = aws.kms.Key(
            f"{name}-secrets", description=f"EKS {args.cluster_name}: envelope encryption of Secrets",
            enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=child)
        aws.kms.Alias(f"{name}-secrets", name=f"alias/{args.cluster_name}-secrets",
                      target_key_id=self.secrets_key.key_id, opts=child)
        cluster_role = aws.iam.Role(f"{name}-cluster-role", assume_role_policy=_assume("eks.amazonaws.com"),
                                    description=f"EKS control plane of {args.cluster_name}", tags=tags,
                                    opts=child)
        cluster_grants = [
            aws.iam.RolePolicyAttachment(f"{name}-cluster-policy", role=cluster_role.name,
                                         policy_arn=CLUSTER_POLICY, opts=child),
            aws.iam.RolePolicy(f"{name}-cluster-kms", role=cluster_role.id,
                               policy=self.secrets_key.arn.apply(lambda arn: json.dumps({
                                   "Version": "2012-10-17", "Statement": [{
                                       "Effect": "Allow", "Action": list(KMS_ACTIONS), "Resource": arn}]},
                                   sort_keys=True)),
                               opts=child),
        ]
        # Created (or adopted: EKS recreates it after a destroy) before the cluster, so EKS never
        # makes it with "never expire"; components/log_group_provider.py says why not a LogGroup.
        log_groups = [ControlPlaneLogGroup(
            f"{name}-control-plane", log_group_name=f"/aws/eks/{args.cluster_name}/cluster",
            region=args.region, retention_days=args.log_retention_days, tags=tags, opts=child)] \
            if args.log_types else []

        # --- node role ----------------------------------------------------------------------
        self.node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=_assume("ec2.amazonaws.com"),
                                      description=f"EKS nodes of {args.cluster_name}", tags=tags, opts=child)
        node_grants = [aws.iam.RolePolicyAttachment(f"{name}-node-{arn.rsplit('/', 1)[1]}",
                                                    role=self.node_role.name, policy_arn=arn, opts=child)
                       for arn in NODE_POLICIES]

        # --- control plane -------------------------------------------------------------------
        access_entries = _access_entries(args.admin_principal_arns, args.viewer_principal_arns)
        self.eks = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.version,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.support_type),
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            public_subnet_ids=args.public_subnet_ids,
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=args.endpoint_public_access,
            public_access_cidrs=list(args.public_access_cidrs) if args.endpoint_public_access else None,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries or None,
            create_oidc_provider=True,
            enabled_cluster_log_types=list(args.log_types),
            encryption_config_key_arn=self.secrets_key.arn,
            service_role=cluster_role,
            instance_roles=[self.node_role],
            skip_default_node_group=True,
            skip_default_security_groups=True,
            deletion_protection=args.deletion_protection,
            # The meshes' NetworkPolicies are enforced by the VPC CNI's network policy agent, which is
            # off unless the vpc-cni add-on says `enableNetworkPolicy: "true"` (what this sets).
            vpc_cni_options=eks.VpcCniOptionsArgs(addon_version=addon_version(args.version, "vpc-cni"),
                                                  enable_network_policy=True),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(
                version=addon_version(args.version, "kube-proxy")),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),  # managed below, after the nodes
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*log_groups, *cluster_grants]))

        # --- nodes ---------------------------------------------------------------------------
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"EKS nodes of {args.cluster_name}: IMDSv2 only, encrypted root volume",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="disabled"),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda", ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=args.node_disk_gib, volume_type="gp3", encrypted="true",
                    delete_on_termination="true"))],
            key_name=args.ssh_key_name,
            # Stated, never inherited: EC2 launches T3/T3a/T4g as unlimited (or as the account's
            # default), which bills surplus credits; standard throttles to the baseline instead.
            credit_specification=aws.ec2.LaunchTemplateCreditSpecificationArgs(cpu_credits=args.cpu_credits)
            if args.cpu_credits else None,
            # The instances' tags are part of the template's version, and a new version rolls every
            # node: whether the stack is production is not worth a roll (the template carries it).
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type="instance", tags={**{k: v for k, v in tags.items() if k != PRODUCTION_TAG},
                                                "Name": f"{args.cluster_name}-node"})],
            update_default_version=True,
            tags=tags, opts=child)
        self.node_group = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=self.eks,
            node_role=self.node_role,
            ami_type=AMI_TYPES[args.architecture],
            version=args.version,
            capacity_type="ON_DEMAND",
            instance_types=[args.instance_type],
            subnet_ids=args.private_subnet_ids,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=args.node_count, min_size=args.node_count, max_size=args.node_max_count),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_grants))

        for cidr in args.private_access_cidrs:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{cidr.replace('.', '-').replace('/', '-')}",
                security_group_id=self.eks.cluster_security_group_id, ip_protocol="tcp", from_port=443,
                to_port=443, cidr_ipv4=cidr, description=f"Kubernetes API (private endpoint) from {cidr}",
                opts=child)

        # CoreDNS needs nodes to become ACTIVE, so it waits for the node group.
        self.coredns = aws.eks.Addon(
            f"{name}-coredns", cluster_name=args.cluster_name, addon_name="coredns",
            addon_version=addon_version(args.version, "coredns"),
            resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.eks, self.node_group]))
        self.metrics_server = aws.eks.Addon(
            f"{name}-metrics-server", cluster_name=args.cluster_name, addon_name="metrics-server",
            addon_version=addon_version(args.version, "metrics-server"),
            resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.eks, self.node_group])
        ) if args.metrics_server else None

        # --- the Kubernetes provider -------------------------------------------------------------
        self.cluster_name = pulumi.Output.from_input(args.cluster_name)
        server_ca = self.eks.kubeconfig_json.apply(endpoint_and_ca)
        # The provider needs only the control plane: namespaces, Services (the ingress NLB starts
        # provisioning at once), roles and CRDs go ahead while the nodes come up. Only what runs
        # pods waits for them (`nodes`), and is deleted before them on destroy. Every object is
        # deleted before the cluster, so the ingress Service and its NLB go before the subnets.
        self.kubeconfig = pulumi.Output.secret(server_ca.apply(
            lambda v: exec_kubeconfig(args.cluster_name, args.region, v[0], v[1])))
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, cluster_identifier=args.cluster_name,
            enable_server_side_apply=True, delete_unreachable=args.delete_unreachable, opts=child)
        #: what every object that runs pods waits for (nothing else needs nodes to be created)
        self.nodes: tuple[pulumi.Resource, ...] = (self.node_group,)
        self.oidc_provider_arn = self.eks.oidc_provider_arn
        self.oidc_provider_url = self.eks.oidc_provider_url
        self.node_role_arn = self.node_role.arn
        self.register_outputs({
            "cluster_name": self.cluster_name, "kubeconfig": self.kubeconfig,
            "oidc_provider_arn": self.oidc_provider_arn, "oidc_provider_url": self.oidc_provider_url,
            "node_role_arn": self.node_role_arn,
        })
