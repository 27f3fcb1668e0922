"""The VPC: public and private subnets in N availability zones, NAT gateways, route tables.

Why these choices:
- Nodes live in private subnets; only load balancers (and NAT gateways) get public addresses.
  The subnet role tags let EKS's load-balancer controllers find them:
  `kubernetes.io/role/elb` on public subnets (internet-facing NLB of the ingress gateway),
  `kubernetes.io/role/internal-elb` on private ones.
- Private subnets are large (the VPC CNI gives every pod a VPC address): the VPC is cut in eight,
  one eighth per AZ for private subnets (up to six AZs); the last eighth is cut in eight again
  for the public subnets. For a /16: private /19 (8 190 addresses), public /22 (1 022).
- With `cluster_name`, subnets also carry `kubernetes.io/cluster/<name>=shared`: recent EKS
  load-balancer code accepts subnets without it, older controllers only take tagged ones.
- `nat_gateways` NAT gateways in the first AZs' public subnets; private subnet i routes through
  NAT i mod n. One is cheap (dev) but a single-AZ dependency; one per AZ (prod) is not.
- DynamoDB: a *gateway* endpoint on the private route tables (no charge) carries prodcatalog's
  table calls, so the catalog reaches its table without a NAT gateway (whose zone may be the one
  lost) and without paying NAT data processing. Its policy lets only this account's principals
  through (`dynamodb_endpoint_policy`): DynamoDB has no resource policies, so this is the one place
  that stops credentials of another account from using the VPC to reach their own tables.
- Image pulls: ECR serves image layers from S3, so an S3 *gateway* endpoint on the private route
  tables (no charge) takes layer downloads off the NAT gateways (billed per GB processed). ECR's own
  API and registry calls (small) still go through NAT unless `ecr_endpoints`: two *interface*
  endpoints (ecr.api, ecr.dkr) per AZ, billed per hour and per GB, which pay for themselves only
  with heavy pull traffic (docs/platform.md, "Network", has the arithmetic).
- Zones: the first ones by name among those EKS supports (documented unsupported zone IDs are
  skipped, celestials/zones.py), or exactly the zone IDs the stack names.
Deterministic: CIDRs come from the VPC CIDR and the AZ index, AZ names from the region's list.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from celestials.zones import choose_zones

ELB_TAG = "kubernetes.io/role/elb"
INTERNAL_ELB_TAG = "kubernetes.io/role/internal-elb"
MAX_AZS = 6
#: what a node needs to pull from ECR privately (besides the S3 gateway endpoint for the layers)
ECR_INTERFACE_SERVICES = ("ecr.api", "ecr.dkr")


def dynamodb_endpoint_policy(account_id: str) -> dict[str, Any]:
    """Every DynamoDB call through the endpoint, by this account's principals only.

    Why not the table alone: every DynamoDB call from the private subnets takes the endpoint's
    route, so a table-only policy would silently refuse any other workload's table, and adds
    nothing for prodcatalog, whose role may touch its table only. Why not `aws:ResourceAccount`
    too (our principals, only our tables): a condition on a key a request does not carry refuses
    it, and that key's presence in DynamoDB requests is not confirmed in the documentation read;
    `aws:PrincipalAccount` is in every signed request (IAM User Guide, global condition keys)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ThisAccountsPrincipalsOnly", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*",
        "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}}}]}


def subnet_cidrs(vpc_cidr: str, azs: int) -> tuple[list[str], list[str]]:
    """(private CIDRs, public CIDRs), one of each per AZ."""
    if not 2 <= azs <= MAX_AZS:
        raise ValueError(f"availability zones: {azs} is not between 2 and {MAX_AZS}")
    vpc = ipaddress.IPv4Network(vpc_cidr)
    eighths = list(vpc.subnets(prefixlen_diff=3))
    private = [str(n) for n in eighths[:azs]]
    public = [str(n) for n in list(eighths[-1].subnets(prefixlen_diff=3))[:azs]]
    return private, public


@dataclass
class NetworkArgs:
    vpc_cidr: str
    availability_zones: int
    nat_gateways: int
    name_prefix: str
    #: the EKS cluster's name (components.cluster.ClusterArgs.cluster_name), for the subnet tag
    cluster_name: str | None = None
    #: the region, for VPC endpoint service names (com.amazonaws.<region>.s3, …)
    region: str = "us-west-2"
    #: interface endpoints for ECR (api + dkr) in the private subnets
    ecr_endpoints: bool = False
    #: explicit zone IDs (e.g. ("usw2-az1", "usw2-az2")); default: the first zones EKS supports
    availability_zone_ids: tuple[str, ...] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.nat_gateways <= self.availability_zones:
            raise ValueError(f"NAT gateways: {self.nat_gateways} must be from 1 to the number of AZs "
                             f"({self.availability_zones})")
        subnet_cidrs(self.vpc_cidr, self.availability_zones)
        if self.availability_zone_ids and len(self.availability_zone_ids) != self.availability_zones:
            raise ValueError(f"availability zone IDs {self.availability_zone_ids}: need exactly "
                             f"{self.availability_zones}")


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        subnet_tags = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"} if args.cluster_name else {}

        def named(suffix: str, extra: dict[str, str] | None = None) -> dict[str, str]:
            return {**tags, "Name": f"{args.name_prefix}-{suffix}", **(extra or {})}

        zones = aws.get_availability_zones_output(
            state="available", filters=[aws.GetAvailabilityZonesFilterArgs(
                name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOutputOptions(parent=self))
        self.zone_names = pulumi.Output.all(zones.names, zones.zone_ids).apply(
            lambda v: choose_zones(v[0], v[1], args.availability_zones, args.availability_zone_ids))
        private_cidrs, public_cidrs = subnet_cidrs(args.vpc_cidr, args.availability_zones)

        self.vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_hostnames=True,
                               enable_dns_support=True, tags=named("vpc"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=named("igw"), opts=child)
        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=self.vpc.id, tags=named("public"),
                                       routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0",
                                                                           gateway_id=igw.id)],
                                       opts=child)
        self.public_subnets, self.private_subnets, nats, private_rts = [], [], [], []
        for i in range(args.availability_zones):
            az = self.zone_names[i]
            subnet = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=self.vpc.id, cidr_block=public_cidrs[i],
                                    availability_zone=az, map_public_ip_on_launch=False,
                                    tags=named(f"public-{i}", {ELB_TAG: "1", **subnet_tags}), opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=subnet.id,
                                          route_table_id=public_rt.id, opts=child)
            self.public_subnets.append(subnet)
        for i in range(args.nat_gateways):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=named(f"nat-{i}"), opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=self.public_subnets[i].id,
                connectivity_type="public", tags=named(f"nat-{i}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        for i in range(args.availability_zones):
            subnet = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=self.vpc.id, cidr_block=private_cidrs[i],
                                    availability_zone=self.zone_names[i],
                                    tags=named(f"private-{i}", {INTERNAL_ELB_TAG: "1", **subnet_tags}),
                                    opts=child)
            rt = aws.ec2.RouteTable(f"{name}-private-{i}", vpc_id=self.vpc.id, tags=named(f"private-{i}"),
                                    routes=[aws.ec2.RouteTableRouteArgs(
                                        cidr_block="0.0.0.0/0", nat_gateway_id=nats[i % len(nats)].id)],
                                    opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=rt.id,
                                          opts=child)
            self.private_subnets.append(subnet)
            private_rts.append(rt)

        aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=self.vpc.id, service_name=f"com.amazonaws.{args.region}.s3",
                            vpc_endpoint_type="Gateway", route_table_ids=[rt.id for rt in private_rts],
                            tags=named("s3"), opts=child)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        aws.ec2.VpcEndpoint(f"{name}-dynamodb", vpc_id=self.vpc.id,
                            service_name=f"com.amazonaws.{args.region}.dynamodb", vpc_endpoint_type="Gateway",
                            route_table_ids=[rt.id for rt in private_rts],
                            policy=account.apply(lambda a: json.dumps(dynamodb_endpoint_policy(a), sort_keys=True)),
                            tags=named("dynamodb"), opts=child)
        if args.ecr_endpoints:
            endpoint_sg = aws.ec2.SecurityGroup(
                f"{name}-endpoints", vpc_id=self.vpc.id, description="HTTPS from the VPC to its interface endpoints",
                ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443,
                                                          cidr_blocks=[args.vpc_cidr])],
                tags=named("endpoints"), opts=child)
            for service in ECR_INTERFACE_SERVICES:
                aws.ec2.VpcEndpoint(
                    f"{name}-{service.replace('.', '-')}", vpc_id=self.vpc.id,
                    service_name=f"com.amazonaws.{args.region}.{service}", vpc_endpoint_type="Interface",
                    private_dns_enabled=True, subnet_ids=[sn.id for sn in self.private_subnets],
                    security_group_ids=[endpoint_sg.id], tags=named(service), opts=child)

        self.vpc_id = self.vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])
        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
                               "public_subnet_ids": self.public_subnet_ids,
                               "availability_zones": self.zone_names})
