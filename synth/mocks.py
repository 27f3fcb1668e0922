"""Deterministic stand-ins for AWS, EKS and the image builder under Pulumi's mock runtime.

Why: the offline synth and the tests must evaluate the real program with no cloud, no CLI and no
network, and two evaluations must give identical inputs. Every value here is derived from the
resource's name and inputs only (no clock, no randomness). Components that need realistic outputs
from a resource type register a function in `OUTPUTS`; invokes in `CALLS`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

import pulumi

ACCOUNT_ID = "123456789012"
REGION = "us-west-2"
_UNKNOWN_REGION_TYPES = ()

OutputsFn = Callable[[pulumi.runtime.MockResourceArgs], dict]
CallFn = Callable[[pulumi.runtime.MockCallArgs], dict]

#: resource type token → extra outputs (merged over the inputs)
OUTPUTS: dict[str, OutputsFn] = {}
#: invoke token → result
CALLS: dict[str, CallFn] = {}


def outputs_for(*types: str) -> Callable[[OutputsFn], OutputsFn]:
    def register(fn: OutputsFn) -> OutputsFn:
        for t in types:
            OUTPUTS[t] = fn
        return fn
    return register


def call_for(*tokens: str) -> Callable[[CallFn], CallFn]:
    def register(fn: CallFn) -> CallFn:
        for t in tokens:
            CALLS[t] = fn
        return fn
    return register


def stable_hash(*parts: Any, length: int = 64) -> str:
    """A hash of JSON-able parts: the mock's stand-in for anything AWS would generate."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def _region() -> str:
    return pulumi.runtime.get_config("aws:region") or REGION


def _aws_service(typ: str) -> str:
    # "aws:ec2/vpc:Vpc" → "ec2"
    return typ.split(":")[1].split("/")[0]


class CelestialsMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ.startswith("aws:"):
            outputs.setdefault(
                "arn", f"arn:aws:{_aws_service(args.typ)}:{_region()}:{ACCOUNT_ID}:{args.name}")
        fn = OUTPUTS.get(args.typ)
        if fn is not None:
            outputs.update(fn(args))
        resource_id = outputs.pop("__id", None) or f"{args.name}-id"
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        fn = CALLS.get(args.token)
        if fn is None:
            return {}
        return fn(args)


# --- AWS invokes ---------------------------------------------------------------------------
def zone_id_prefix(region: str) -> str:
    """us-west-2 → usw2, ca-central-1 → cac1, ap-southeast-2 → apse2 (AWS's zone ID scheme)."""
    area, direction, number = region.split("-")[0], region.split("-")[-2], region.split("-")[-1]
    short = {"southeast": "se", "northeast": "ne", "southwest": "sw", "northwest": "nw"}.get(direction, direction[0])
    return f"{area}{short}{number}"


@call_for("aws:index/getAvailabilityZones:getAvailabilityZones")
def _azs(args):
    """Four zones, a–d, with zone IDs az1–az4 in order (real accounts shuffle the mapping)."""
    names = [f"{_region()}{s}" for s in "abcd"]
    return {"names": names, "zoneIds": [f"{zone_id_prefix(_region())}-az{i}" for i in range(1, 5)], "id": _region()}


@call_for("aws:index/getCallerIdentity:getCallerIdentity")
def _caller(args):
    return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/synth",
            "userId": "AIDASYNTH", "id": ACCOUNT_ID}


@call_for("aws:index/getRegion:getRegion")
def _region_call(args):
    return {"name": _region(), "region": _region(), "id": _region(),
            "endpoint": f"ec2.{_region()}.amazonaws.com", "description": "mock"}


@call_for("aws:index/getPartition:getPartition")
def _partition(args):
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
            "reverseDnsPrefix": "com.amazonaws"}


@call_for("aws:ecr/getAuthorizationToken:getAuthorizationToken")
def _ecr_token(args):
    return {"userName": "AWS", "password": "mock-ecr-password",
            "authorizationToken": "bW9jaw==", "id": _region(),
            "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{_region()}.amazonaws.com",
            "expiresAt": "2099-01-01T00:00:00Z"}


@call_for("aws:ecr/getImages:getImages")
def _ecr_images(args):
    """An empty repository: the offline synth shows a first deploy (every image pushed)."""
    return {"imageIds": [], "repositoryName": args.args.get("repositoryName"), "id": "images"}


# --- AWS resources -------------------------------------------------------------------------
@outputs_for("aws:iam/role:Role")
def _role(args):
    return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{args.inputs.get('name', args.name)}",
            "uniqueId": "AROA" + stable_hash(args.name, length=16).upper()}


@outputs_for("aws:iam/policy:Policy")
def _policy(args):
    return {"arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/{args.inputs.get('name', args.name)}"}


@outputs_for("aws:ecr/repository:Repository")
def _repository(args):
    name = args.inputs.get("name", args.name)
    return {"repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{_region()}.amazonaws.com/{name}",
            "registryId": ACCOUNT_ID, "name": name}


@outputs_for("aws:kms/key:Key")
def _kms(args):
    key_id = stable_hash(args.name, length=32)
    return {"keyId": key_id, "arn": f"arn:aws:kms:{_region()}:{ACCOUNT_ID}:key/{key_id}"}


@outputs_for("aws:dynamodb/table:Table")
def _table(args):
    name = args.inputs.get("name", args.name)
    return {"name": name, "arn": f"arn:aws:dynamodb:{_region()}:{ACCOUNT_ID}:table/{name}"}


@outputs_for("pulumi:pulumi:StackReference")
def _stack_reference(args):
    """A stack with no previous outputs (a first deploy)."""
    return {"outputs": {}, "secretOutputNames": []}


# --- images --------------------------------------------------------------------------------
@outputs_for("docker-build:index:Image")
def _image(args):
    digest = "sha256:" + stable_hash(args.inputs.get("context"), args.inputs.get("buildArgs"),
                                     args.inputs.get("tags"))
    tags = args.inputs.get("tags") or []
    repo = tags[0].rsplit(":", 1)[0] if tags else args.name
    return {"digest": digest, "ref": f"{repo}@{digest}"}


# --- Kubernetes ----------------------------------------------------------------------------
@outputs_for("kubernetes:core/v1:Service")
def _service(args):
    spec = args.inputs.get("spec") or {}
    if spec.get("type") == "LoadBalancer":
        name = (args.inputs.get("metadata") or {}).get("name", args.name)
        host = f"{name}-{stable_hash(args.name, length=10)}.elb.{_region()}.amazonaws.com"
        return {"status": {"loadBalancer": {"ingress": [{"hostname": host}]}}}
    return {}


@outputs_for("kubernetes:helm.sh/v3:Release")
def _release(args):
    return {"status": {"status": "deployed", "version": 1,
                       "namespace": args.inputs.get("namespace", "default"),
                       "name": args.inputs.get("name", args.name)}}


# --- mTLS material (a dynamic provider: mocks never run it) ---------------------------------
@outputs_for("pulumi-python:dynamic/celestials:MtlsMaterial")
def _mtls_material(args):
    """The real file names and shape with fake PEM bodies (components/mtls_provider.py)."""
    from components.mtls_provider import placeholder_outputs
    return placeholder_outputs(args.inputs)


# --- EKS and the VPC (platform components: components/cluster.py, network.py) --------------
@outputs_for("eks:index:Cluster")
def _eks_cluster(args):
    """pulumi-eks is a multi-language component: under mocks it is one resource, so the outputs
    the program reads from it are made up here, in the shapes pulumi-eks returns."""
    name = args.inputs.get("name") or args.name
    oidc_id = stable_hash(name, length=32).upper()
    endpoint = f"https://{oidc_id}.gr7.{_region()}.eks.amazonaws.com"
    ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm1vY2sKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "aws",
        "clusters": [{"name": "kubernetes", "cluster": {"server": endpoint, "certificate-authority-data": ca}}],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "users": [{"name": "aws", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["--region", _region(), "eks", "get-token", "--cluster-name", name, "--output", "json"]}}}],
    }
    issuer = f"oidc.eks.{_region()}.amazonaws.com/id/{oidc_id}"
    return {**_no_resource_refs(args),
            "kubeconfig": kubeconfig, "kubeconfigJson": json.dumps(kubeconfig),
            "oidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
            "oidcProviderUrl": issuer, "oidcIssuer": issuer,
            "clusterSecurityGroupId": f"sg-{stable_hash(name, 'cluster-sg', length=17)}"}


@outputs_for("eks:index:ManagedNodeGroup")
def _eks_node_group(args):
    return _no_resource_refs(args)


def _no_resource_refs(args) -> dict:
    """Drop resource references echoed from the inputs (roles, the cluster): the engine's
    outputs of these components do not carry them, and deserialising them back would look
    the resources up again."""
    return {k: None for k, v in args.inputs.items()
            if isinstance(v, pulumi.Resource)
            or (isinstance(v, list) and any(isinstance(x, pulumi.Resource) for x in v))}


@outputs_for("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway",
             "aws:ec2/internetGateway:InternetGateway", "aws:ec2/routeTable:RouteTable",
             "aws:ec2/eip:Eip", "aws:ec2/launchTemplate:LaunchTemplate")
def _ec2_id(args):
    prefix = {"Vpc": "vpc", "Subnet": "subnet", "NatGateway": "nat", "InternetGateway": "igw",
              "RouteTable": "rtb", "Eip": "eipalloc", "LaunchTemplate": "lt"}[args.typ.rsplit(":", 1)[1]]
    extra = {"latestVersion": 1, "defaultVersion": 1} if prefix == "lt" else {}
    return {"__id": f"{prefix}-{stable_hash(args.typ, args.name, length=17)}", **extra}


@outputs_for("aws:cloudwatch/logGroup:LogGroup", "pulumi-python:dynamic/celestials:ControlPlaneLogGroup")
def _log_group(args):
    name = args.inputs.get("name", args.name)
    return {"arn": f"arn:aws:logs:{_region()}:{ACCOUNT_ID}:log-group:{name}", "adopted": False}
