"""The AWS components under Pulumi's mock runtime: what they register, with which inputs, and the
dependency edges that matter (images never wait for the cluster; Kubernetes objects use the
explicit provider; secrets stay secret)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pulumi
import pytest

from celestials import images as registry
from components.catalog_table import TABLE_ACTIONS, CatalogTable, CatalogTableArgs
from components.cluster import Cluster, ClusterArgs, access_entry_key, endpoint_and_ca
from components.images import Images, ImagesArgs
from components.irsa import IrsaRole, IrsaRoleArgs
from components.network import ELB_TAG, INTERNAL_ELB_TAG, Network, NetworkArgs, subnet_cidrs
from synth.harness import SECRET, evaluate, quiet

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "arn:aws:iam::123456789012:role/platform-admins"


@pytest.fixture(scope="module")
def apps_root(tmp_path_factory) -> Path:
    """Stand-in app directories, so these tests do not depend on the apps being written."""
    root = tmp_path_factory.mktemp("root")
    for spec in registry.IMAGES.values():
        dockerfile = root / spec.context / spec.dockerfile
        dockerfile.parent.mkdir(parents=True, exist_ok=True)
        dockerfile.write_text(f"FROM scratch\nLABEL app={spec.app_dir}\n")
    return root


def _program(apps_root: Path, azs: int = 2, nats: int = 1, ssh_key: str | None = "ops-key"):
    def program():
        net = Network("net", NetworkArgs(vpc_cidr="10.0.0.0/16", availability_zones=azs, nat_gateways=nats,
                                         name_prefix="celestials-dev", cluster_name="celestials-dev"))
        cluster = Cluster("cluster", ClusterArgs(
            cluster_name="celestials-dev", region="us-west-2", version="1.35", vpc_id=net.vpc_id,
            private_subnet_ids=net.private_subnet_ids, public_subnet_ids=net.public_subnet_ids,
            instance_type="m6i.xlarge", node_count=1, node_max_count=2, support_type="STANDARD",
            ssh_key_name=ssh_key,
            admin_principal_arns=(ADMIN,)))
        imgs = Images("images", ImagesArgs(keys=tuple(registry.IMAGES), repository_prefix="celestials/dev",
                                           root=apps_root))
        table = CatalogTable("catalog", CatalogTableArgs(
            oidc_provider_arn=cluster.oidc_provider_arn, oidc_provider_url=cluster.oidc_provider_url,
            namespace="prodcatalog-ns", extra_policy_arns=("arn:aws:iam::123456789012:policy/envoy",)))
        pulumi.export("refs", imgs.refs)
        pulumi.export("refV1", imgs.image_refs["proddetail-v1"])
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("tableName", table.table_name)
        pulumi.export("prodcatalogRole", table.role_arn)
    return program


def _run(program):
    with quiet():
        return evaluate(program, stack="dev", config={"aws:region": "us-west-2"})


@pytest.fixture(scope="module")
def result(apps_root):
    return _run(_program(apps_root))


def _component(result, typ: str) -> str:
    (comp,) = result.by_type(typ)
    return comp["urn"]


def _members(result, component_urn: str) -> set[str]:
    return {r["urn"] for r in result.resources
            if r["urn"] == component_urn or component_urn in result.ancestors(r["urn"])}


# --- network -----------------------------------------------------------------------------------
def test_subnet_cidrs_split_the_vpc():
    private, public = subnet_cidrs("10.0.0.0/16", 3)
    assert private == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert public == ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]
    nets = [ipaddress.IPv4Network(c) for c in private + public]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    with pytest.raises(ValueError, match="between 2 and 6"):
        subnet_cidrs("10.0.0.0/16", 7)


def test_network_tags_subnets_for_load_balancers(result):
    subnets = {r["name"]: r["inputs"] for r in result.by_type("aws:ec2/subnet:Subnet")}
    assert sorted(subnets) == ["net-private-0", "net-private-1", "net-public-0", "net-public-1"]
    for name, inputs in subnets.items():
        role = INTERNAL_ELB_TAG if "private" in name else ELB_TAG
        assert inputs["tags"][role] == "1"
        assert (ELB_TAG if "private" in name else INTERNAL_ELB_TAG) not in inputs["tags"]
        assert inputs["tags"]["kubernetes.io/cluster/celestials-dev"] == "shared"
        assert inputs.get("mapPublicIpOnLaunch", False) is False
    assert {subnets[f"net-private-{i}"]["availabilityZone"] for i in range(2)} == {"us-west-2a", "us-west-2b"}


def test_private_subnets_route_through_nat(result):
    (nat,) = result.by_type("aws:ec2/natGateway:NatGateway")
    assert result.get("aws:ec2/subnet:Subnet", "net-public-0")["urn"] in nat["dependencies"]
    for i in range(2):
        rt = result.get("aws:ec2/routeTable:RouteTable", f"net-private-{i}")
        (route,) = rt["inputs"]["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0" and route["natGatewayId"].startswith("nat-")
        assert nat["urn"] in rt["dependencies"]


def test_one_nat_per_az_when_asked(apps_root):
    r = _run(_program(apps_root, azs=3, nats=3))
    nats = r.by_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    for i in range(3):
        rt = r.get("aws:ec2/routeTable:RouteTable", f"net-private-{i}")
        assert r.get("aws:ec2/natGateway:NatGateway", f"net-nat-{i}")["urn"] in rt["dependencies"]


def test_network_args_are_checked():
    with pytest.raises(ValueError, match="NAT gateways: 3"):
        NetworkArgs(vpc_cidr="10.0.0.0/16", availability_zones=2, nat_gateways=3, name_prefix="x")


# --- cluster -----------------------------------------------------------------------------------
def test_cluster_inputs(result):
    eks = result.get("eks:index:Cluster", "cluster-eks")["inputs"]
    assert eks["authenticationMode"] == "API"
    assert eks["createOidcProvider"] is True
    assert eks["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert eks["encryptionConfigKeyArn"].startswith("arn:aws:kms:")
    assert eks["skipDefaultNodeGroup"] is True and eks["nodeAssociatePublicIpAddress"] is False
    assert eks["version"] == "1.35" and eks["upgradePolicy"] == {"supportType": "STANDARD"}
    assert eks["vpcId"].startswith("vpc-") and len(eks["privateSubnetIds"]) == 2
    entry = eks["accessEntries"][access_entry_key("admin", ADMIN)]
    assert entry["principalArn"] == ADMIN
    assert entry["accessPolicies"]["admin"]["accessScope"] == {"type": "cluster"}
    assert entry["accessPolicies"]["admin"]["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    (key,) = result.by_type("aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    kms = json.loads(result.get("aws:iam/rolePolicy:RolePolicy", "cluster-cluster-kms")["inputs"]["policy"])
    assert kms["Statement"][0]["Resource"] == eks["encryptionConfigKeyArn"]


def test_control_plane_waits_for_its_log_group_and_role_grants(result):
    eks = result.get("eks:index:Cluster", "cluster-eks")
    log = result.get("pulumi-python:dynamic/celestials:ControlPlaneLogGroup", "cluster-control-plane")
    assert log["inputs"]["name"] == "/aws/eks/celestials-dev/cluster"
    assert result.depends_on(eks["urn"], log["urn"])
    assert result.depends_on(eks["urn"], result.get("aws:iam/rolePolicy:RolePolicy", "cluster-cluster-kms")["urn"])


def test_nodes_require_imdsv2_and_sit_in_private_subnets(result):
    lt = result.get("aws:ec2/launchTemplate:LaunchTemplate", "cluster-nodes")["inputs"]
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["metadataOptions"]["httpPutResponseHopLimit"] == 1  # pods cannot reach the node role
    assert lt["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    assert lt["keyName"] == "ops-key"
    ng = result.get("eks:index:ManagedNodeGroup", "cluster-nodes")["inputs"]
    eks = result.get("eks:index:Cluster", "cluster-eks")["inputs"]
    assert ng["subnetIds"] == eks["privateSubnetIds"]
    assert ng["scalingConfig"] == {"desiredSize": 1, "minSize": 1, "maxSize": 2}
    assert ng["instanceTypes"] == ["m6i.xlarge"] and ng["amiType"] == "AL2023_x86_64_STANDARD"
    assert ng["launchTemplate"]["version"] == "1"
    assert "remoteAccess" not in ng  # EKS rejects remoteAccess together with a launch template


def test_no_key_pair_unless_configured(apps_root):
    r = _run(_program(apps_root, ssh_key=None))
    assert "keyName" not in r.get("aws:ec2/launchTemplate:LaunchTemplate", "cluster-nodes")["inputs"]


def test_kubernetes_provider_is_stable_and_secret(result):
    provider = result.get("pulumi:providers:kubernetes", "cluster-k8s")
    assert result.get("eks:index:Cluster", "cluster-eks")["urn"] in provider["dependencies"]
    # only what runs pods waits for the nodes (tests/platform/test_critical_path.py)
    assert result.get("eks:index:ManagedNodeGroup", "cluster-nodes")["urn"] not in provider["dependencies"]
    assert provider["inputs"]["kubeconfig"] == SECRET
    assert provider["inputs"]["clusterIdentifier"] == "celestials-dev"
    assert result.outputs["kubeconfig"] == SECRET


def test_kubeconfig_uses_aws_eks_get_token_and_no_token():
    from components.cluster import exec_kubeconfig
    doc = json.loads(exec_kubeconfig("c1", "eu-west-1", "https://x.example", "Q0E="))
    (user,) = doc["users"]
    assert "token" not in user["user"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "c1",
                                            "--output", "json"]
    assert exec_kubeconfig("c1", "eu-west-1", "https://x.example", "Q0E=") == json.dumps(doc, sort_keys=True)
    assert endpoint_and_ca(doc) == ("https://x.example", "Q0E=")
    with pytest.raises(ValueError, match="no clusters"):
        endpoint_and_ca({"clusters": []})


def test_cluster_args_are_checked():
    base = dict(cluster_name="c", region="us-west-2", version="1.35", vpc_id="v", private_subnet_ids=[],
                public_subnet_ids=[], instance_type="m6i.xlarge", node_count=1, node_max_count=1,
                support_type="STANDARD")
    with pytest.raises(ValueError, match="not in celestials/eks_versions.py"):
        ClusterArgs(**{**base, "version": "1.29"})
    with pytest.raises(ValueError, match="support type 'standard': one of STANDARD, EXTENDED"):
        ClusterArgs(**{**base, "support_type": "standard"})
    with pytest.raises(ValueError, match="not an IAM role or user ARN"):
        ClusterArgs(**base, admin_principal_arns=("root",))
    with pytest.raises(ValueError, match="node_count"):
        ClusterArgs(**{**base, "node_count": 3})


def _access_entries(apps_root, admins=(), viewers=()):
    def program():
        Cluster("cluster", ClusterArgs(
            cluster_name="celestials-dev", region="us-west-2", version="1.35", vpc_id="vpc-1",
            private_subnet_ids=["a", "b"], public_subnet_ids=["c", "d"], instance_type="m6i.xlarge",
            node_count=1, node_max_count=2, support_type="STANDARD", admin_principal_arns=admins,
            viewer_principal_arns=viewers))
    return _run(program).get("eks:index:Cluster", "cluster-eks")["inputs"].get("accessEntries") or {}


PREVIEW = "arn:aws:iam::123456789012:role/github-preview"
DEPLOY = "arn:aws:iam::123456789012:role/github-deploy-dev"


def test_viewers_get_the_admin_view_policy_and_admins_cluster_admin(apps_root):
    entries = _access_entries(apps_root, admins=(ADMIN, DEPLOY), viewers=(PREVIEW,))
    policies = {e["principalArn"]: [p["policyArn"].rsplit("/", 1)[1] for p in e["accessPolicies"].values()]
                for e in entries.values()}
    assert policies == {ADMIN: ["AmazonEKSClusterAdminPolicy"], DEPLOY: ["AmazonEKSClusterAdminPolicy"],
                        PREVIEW: ["AmazonEKSAdminViewPolicy"]}


def test_access_entries_are_keyed_by_principal_not_position(apps_root):
    """Removing or reordering one principal must not replace the others' entries (their key is
    the pulumi-eks resource name)."""
    before = _access_entries(apps_root, admins=(ADMIN, DEPLOY))
    after = _access_entries(apps_root, admins=(DEPLOY,))
    assert {k: v["principalArn"] for k, v in after.items()} == {
        k: v["principalArn"] for k, v in before.items() if v["principalArn"] == DEPLOY}
    other_account = "arn:aws:iam::210987654321:role/github-deploy-dev"
    assert access_entry_key("admin", DEPLOY) != access_entry_key("admin", other_account)
    assert access_entry_key("admin", DEPLOY).startswith("admin-github-deploy-dev-")


def test_a_principal_is_admin_or_viewer_not_both():
    base = dict(cluster_name="c", region="us-west-2", version="1.35", vpc_id="v", private_subnet_ids=[],
                public_subnet_ids=[], instance_type="m6i.xlarge", node_count=1, node_max_count=1,
                support_type="STANDARD")
    with pytest.raises(ValueError, match="one access entry per principal"):
        ClusterArgs(**base, admin_principal_arns=(ADMIN,), viewer_principal_arns=(ADMIN,))


# --- images ------------------------------------------------------------------------------------
def test_repositories_are_immutable_scanned_and_expire_old_images(result):
    repos = {r["inputs"]["name"]: r["inputs"] for r in result.by_type("aws:ecr/repository:Repository")}
    assert sorted(repos) == sorted(f"celestials/dev/{n}" for n in registry.repositories(registry.IMAGES))
    for inputs in repos.values():
        assert inputs["imageTagMutability"] == "IMMUTABLE"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    for lp in result.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        (rule,) = json.loads(lp["inputs"]["policy"])["rules"]
        assert rule["selection"]["tagStatus"] == "tagged" and rule["action"] == {"type": "expire"}


def test_images_build_from_apps_with_content_tags(result, apps_root):
    built = {r["name"]: r["inputs"] for r in result.by_type("docker-build:index:Image")}
    assert sorted(built) == sorted(f"images-{k}" for k in registry.IMAGES)
    v2 = built["images-proddetail-v2"]
    spec = registry.image_spec("proddetail-v2")
    assert v2["context"] == {"location": "apps"}
    assert v2["dockerfile"] == {"location": "apps/proddetail/Dockerfile"}
    assert v2["buildArgs"] == {"APP_VERSION": "2"}
    assert v2["platforms"] == ["linux/amd64"] and v2["push"] is True
    (tag,) = v2["tags"]
    assert tag.endswith("/celestials/dev/catalog_detail:" + registry.content_tag(spec, apps_root))
    assert v2["registries"][0]["password"] == SECRET
    assert set(result.outputs["refs"]) == set(registry.IMAGES)
    assert result.outputs["refV1"] == result.outputs["refs"]["proddetail-v1"]
    for key, ref in result.outputs["refs"].items():
        assert "@sha256:" in ref and ref.split("@")[0].endswith(registry.image_spec(key).repository)


#: the Image inputs that decide its bytes (each in the content tag: celestials.images.build_digest),
#: the ones held at one value for every image (docker-build's default build network), and the
#: others, which say where the result goes or when it is built
BYTES_INPUTS = {"context", "dockerfile", "buildArgs", "platforms"}
FIXED_INPUTS = {"network": "default"}
PLACEMENT_INPUTS = {"tags", "push", "registries", "buildOnPreview"}


def test_every_image_input_that_decides_its_bytes_is_in_its_tag(result, apps_root):
    """A new input (a build target, a secret, labels) must be put in one of the two sets, and if
    it decides the bytes, in the tag, or a change to it would push an existing immutable tag."""
    for image in result.by_type("docker-build:index:Image"):
        inputs = image["inputs"]
        known = BYTES_INPUTS | set(FIXED_INPUTS) | PLACEMENT_INPUTS
        assert set(inputs) <= known, sorted(set(inputs) - known)
        assert {k: inputs.get(k) for k in FIXED_INPUTS} == FIXED_INPUTS
        spec = registry.image_spec(image["name"].removeprefix("images-"))
        assert (inputs["context"], inputs["dockerfile"]) == (
            {"location": spec.context}, {"location": f"{spec.context}/{spec.dockerfile}"})
        assert inputs.get("buildArgs", {}) == dict(spec.build_args)
        assert inputs["platforms"] == [registry.PLATFORMS["amd64"]]
        (tag,) = inputs["tags"]
        assert tag.rsplit(":", 1)[1] == registry.content_tag(spec, apps_root, "amd64")


def test_images_do_not_depend_on_the_cluster(result):
    cluster = _members(result, _component(result, "celestials:cluster:Cluster"))
    network = _members(result, _component(result, "celestials:network:Network"))
    for urn in _members(result, _component(result, "celestials:images:Images")):
        for target in cluster | network:
            assert not result.depends_on(urn, target), f"{urn} waits for {target}"


# --- IRSA and the catalog table ------------------------------------------------------------------
def test_catalog_table_schema(result):
    (table,) = result.by_type("aws:dynamodb/table:Table")
    t = table["inputs"]
    assert t["hashKey"] == "id" and t["attributes"] == [{"name": "id", "type": "N"}]
    assert "rangeKey" not in t
    assert t["billingMode"] == "PAY_PER_REQUEST"
    assert t["pointInTimeRecovery"] == {"enabled": True}
    assert t["serverSideEncryption"] == {"enabled": True}


def test_prodcatalog_role_trusts_only_its_service_account_and_touches_only_its_table(result):
    role = result.get("aws:iam/role:Role", "catalog-irsa-role")["inputs"]
    (stmt,) = json.loads(role["assumeRolePolicy"])["Statement"]
    issuer = "oidc.eks.us-west-2.amazonaws.com/id/"
    assert stmt["Principal"]["Federated"].startswith("arn:aws:iam::123456789012:oidc-provider/" + issuer)
    cond = stmt["Condition"]["StringEquals"]
    assert {k.rsplit(":", 1)[1]: v for k, v in cond.items()} == {
        "sub": "system:serviceaccount:prodcatalog-ns:prodcatalog", "aud": "sts.amazonaws.com"}
    assert all(k.startswith(issuer) for k in cond)
    (table,) = result.by_type("aws:dynamodb/table:Table")
    policy = json.loads(result.get("aws:iam/rolePolicy:RolePolicy", "catalog-irsa-policy")["inputs"]["policy"])
    (grant,) = policy["Statement"]
    assert grant["Resource"] == f"arn:aws:dynamodb:us-west-2:123456789012:table/{table['name']}"
    assert sorted(grant["Action"]) == sorted(TABLE_ACTIONS)
    envoy = result.get("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "catalog-irsa-managed-0")
    assert envoy["inputs"]["policyArn"] == "arn:aws:iam::123456789012:policy/envoy"


def test_role_arn_is_handed_out_after_its_permissions():
    """Whatever is annotated with role_arn (the ServiceAccount) waits for the policy too."""
    import pulumi_aws as aws

    def program():
        role = IrsaRole("r", IrsaRoleArgs(oidc_provider_arn="arn:aws:iam::1:oidc-provider/x",
                                          oidc_provider_url="oidc.example/id/A", namespace="ns",
                                          service_account="sa", policy={"Statement": []},
                                          managed_policy_arns=("arn:aws:iam::aws:policy/P",)))
        aws.ssm.Parameter("consumer", type="String", value=role.role_arn)
    r = _run(program)
    consumer = r.get("aws:ssm/parameter:Parameter", "consumer")
    assert r.get("aws:iam/rolePolicy:RolePolicy", "r-policy")["urn"] in consumer["dependencies"]
    assert r.get("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "r-managed-0")["urn"] in consumer["dependencies"]


def test_table_actions_cover_exactly_the_calls_the_app_makes():
    source = ROOT / "apps" / "prodcatalog" / "prodcatalog" / "storage" / "dynamodb.py"
    import re
    text = source.read_text()
    calls = set(re.findall(r"_client\.(\w+)\(", text)) | set(re.findall(r'get_paginator\("(\w+)"\)', text))
    calls.discard("get_paginator")
    calls.discard("close")
    api = {"".join(p.capitalize() for p in c.split("_")) for c in calls}
    assert {f"dynamodb:{a}" for a in api} == set(TABLE_ACTIONS)
    assert re.search(r'"id":\s*\{"N"', text), "the app no longer keys items by a Number `id`"


def test_irsa_args_refuse_a_role_without_permissions_or_a_bad_name():
    with pytest.raises(ValueError, match="give it a policy"):
        IrsaRoleArgs(oidc_provider_arn="a", oidc_provider_url="u", namespace="ns", service_account="sa")
    with pytest.raises(ValueError, match="not a Kubernetes name"):
        IrsaRoleArgs(oidc_provider_arn="a", oidc_provider_url="u", namespace="Bad_NS", service_account="sa",
                     policy={})


def test_irsa_issuer_is_stripped_of_its_scheme():
    def program():
        IrsaRole("r", IrsaRoleArgs(oidc_provider_arn="arn:aws:iam::1:oidc-provider/x",
                                   oidc_provider_url="https://oidc.example/id/ABC/", namespace="ns",
                                   service_account="sa", managed_policy_arns=("arn:aws:iam::aws:policy/P",)))
    r = _run(program)
    (stmt,) = json.loads(r.get("aws:iam/role:Role", "r-role")["inputs"]["assumeRolePolicy"])["Statement"]
    assert set(stmt["Condition"]["StringEquals"]) == {"oidc.example/id/ABC:sub", "oidc.example/id/ABC:aud"}


# --- whole-set properties --------------------------------------------------------------------------
def test_children_are_parented_and_named_from_their_component(result):
    by_urn = result.urns
    for r in result.resources:
        if r["type"].startswith("celestials:") and r["parent"] and "Stack" in r["parent"]:
            continue
        parent = by_urn.get(r["parent"])
        assert parent is not None, f"{r['urn']} has no component parent"
        assert r["name"].startswith(parent["name"] + "-"), f"{r['name']} not named from {parent['name']}"


def test_evaluation_is_deterministic(apps_root, result):
    again = _run(_program(apps_root))
    key = lambda r: r["urn"]  # noqa: E731
    assert sorted(again.resources, key=key) == sorted(result.resources, key=key)
    assert again.outputs == result.outputs
