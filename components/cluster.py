"""The EKS cluster, its managed node group, and the Kubernetes provider every object uses.

Why these choices:
- Access: API authentication mode with access entries (no aws-auth ConfigMap to drift); the
  principal that creates the cluster is admin (EKS bootstrap), `admin_principal_arns` add others.
- Secrets in etcd are envelope-encrypted with our KMS key (rotation on); the cluster role gets a
  policy for exactly that key. Control-plane logs (all five types) go to a log group we create
  first, so its retention is ours instead of "never expire".
- `upgrade_policy` STANDARD: the cluster never slides into paid extended support silently.
- Nodes: one managed node group in the private subnets, from our launch template so that IMDSv2 is
  required (hop limit 2: pods behind the node's network namespace still reach IMDS, tokens only),
  the root volume is encrypted gp3, and an optional EC2 key pair is installed. EKS refuses a node
  group's `remoteAccess` together with a launch template, so the key goes in the template; nodes
  have no public address and no inbound SSH rule: reach them with SSM Session Manager (the node
  role has AmazonSSMManagedInstanceCore), e.g. `ssh` through `AWS-StartSSHSession`.
- The Kubernetes provider is built from the cluster's name, region, endpoint and CA only, with an
  `aws eks get-token` exec credential (no token in the config, nothing that changes per run) and
  `cluster_identifier` set to the cluster name: a changed kubeconfig (e.g. a new pulumi-eks
  version formatting it differently) updates the provider in place instead of replacing it and,
  with it, every Kubernetes object of the stack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from celestials.settings import SUPPORTED_EKS_VERSIONS

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
#: EKS-optimized AL2023 AMI per node architecture (celestials:nodeArchitecture).
AMI_TYPES = {"amd64": "AL2023_x86_64_STANDARD", "arm64": "AL2023_ARM_64_STANDARD"}
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


def endpoint_and_ca(kubeconfig: str | dict) -> tuple[str, str]:
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
    private_subnet_ids: pulumi.Input[list]
    public_subnet_ids: pulumi.Input[list]
    instance_type: str
    node_count: int
    node_max_count: int
    endpoint_public_access: bool = True
    public_access_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    admin_principal_arns: tuple[str, ...] = ()
    ssh_key_name: str | None = None
    node_disk_gib: int = 30
    architecture: str = "amd64"
    log_retention_days: int = 30
    deletion_protection: bool = False
    #: Let `pulumi destroy`/refresh drop Kubernetes objects from state when the cluster is already
    #: gone. Off by default: a transient network error must not make Pulumi forget resources.
    delete_unreachable: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _CLUSTER_NAME.match(self.cluster_name):
            raise ValueError(f"cluster name {self.cluster_name!r}: letters, digits, - and _, at most 100")
        if self.version not in SUPPORTED_EKS_VERSIONS:
            raise ValueError(f"EKS version {self.version!r} is not in standard support "
                             f"({', '.join(SUPPORTED_EKS_VERSIONS)})")
        if not 1 <= self.node_count <= self.node_max_count:
            raise ValueError(f"node group: need 1 <= node_count ({self.node_count}) <= "
                             f"node_max_count ({self.node_max_count})")
        for arn in self.admin_principal_arns:
            if not _PRINCIPAL.match(arn):
                raise ValueError(f"cluster admin {arn!r} is not an IAM role or user ARN")
        if self.log_retention_days not in (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                                           1096, 1827, 2192, 2557, 2922, 3288, 3653):
            raise ValueError(f"log retention {self.log_retention_days} days is not a CloudWatch Logs value")


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
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane", name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days, tags=tags, opts=child)

        # --- node role ----------------------------------------------------------------------
        self.node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=_assume("ec2.amazonaws.com"),
                                      description=f"EKS nodes of {args.cluster_name}", tags=tags, opts=child)
        node_grants = [aws.iam.RolePolicyAttachment(f"{name}-node-{arn.rsplit('/', 1)[1]}",
                                                    role=self.node_role.name, policy_arn=arn, opts=child)
                       for arn in NODE_POLICIES]

        # --- control plane -------------------------------------------------------------------
        access_entries = {
            f"admin-{i}": eks.AccessEntryArgs(
                principal_arn=arn, type=eks.AccessEntryType.STANDARD,
                access_policies={"cluster-admin": eks.AccessPolicyAssociationArgs(
                    policy_arn=CLUSTER_ADMIN_POLICY,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"))})
            for i, arn in enumerate(args.admin_principal_arns)}
        self.eks = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.version,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
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
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            encryption_config_key_arn=self.secrets_key.arn,
            service_role=cluster_role,
            instance_roles=[self.node_role],
            skip_default_node_group=True,
            skip_default_security_groups=True,
            deletion_protection=args.deletion_protection,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *cluster_grants]))

        # --- nodes ---------------------------------------------------------------------------
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"EKS nodes of {args.cluster_name}: IMDSv2 only, encrypted root volume",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=2,
                instance_metadata_tags="disabled"),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda", ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=args.node_disk_gib, volume_type="gp3", encrypted="true",
                    delete_on_termination="true"))],
            key_name=args.ssh_key_name,
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type="instance", tags={**tags, "Name": f"{args.cluster_name}-node"})],
            update_default_version=True,
            tags=tags, opts=child)
        self.node_group = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=self.eks,
            node_role=self.node_role,
            ami_type=AMI_TYPES[args.architecture],
            capacity_type="ON_DEMAND",
            instance_types=[args.instance_type],
            subnet_ids=args.private_subnet_ids,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=args.node_count, min_size=args.node_count, max_size=args.node_max_count),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(str)),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_grants))

        # --- the Kubernetes provider -------------------------------------------------------------
        self.cluster_name = pulumi.Output.from_input(args.cluster_name)
        server_ca = self.eks.kubeconfig_json.apply(endpoint_and_ca)
        # Through the node group's URN (always known, so previews stay quiet) every Kubernetes
        # object waits for nodes on create, and is deleted before them on destroy (the ingress
        # Service and its NLB go before the subnets they live in).
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(server_ca, self.node_group.urn).apply(
            lambda v: exec_kubeconfig(args.cluster_name, args.region, v[0][0], v[0][1])))
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, cluster_identifier=args.cluster_name,
            enable_server_side_apply=True, delete_unreachable=args.delete_unreachable, opts=child)
        self.oidc_provider_arn = self.eks.oidc_provider_arn
        self.oidc_provider_url = self.eks.oidc_provider_url
        self.node_role_arn = self.node_role.arn
        self.register_outputs({
            "cluster_name": self.cluster_name, "kubeconfig": self.kubeconfig,
            "oidc_provider_arn": self.oidc_provider_arn, "oidc_provider_url": self.oidc_provider_url,
            "node_role_arn": self.node_role_arn,
        })
