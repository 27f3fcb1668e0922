"""The cost model over a hand-built resources.json: one case per priced type, free types with a
reason, and anything it cannot price reported as unpriced (never a silent zero).

The price book here is a test book with round figures, so each expected total is plain
arithmetic independent of the real prices.yaml."""

from __future__ import annotations

import datetime
import json

import pytest

from celestials.cost import CostError, parse_price_book, price_resources, render_table

H = 730
SEEN = datetime.date(2026, 11, 30)
#: the day priced as of, where it does not matter: 1.35 is in standard support
ON = datetime.date(2026, 12, 7)
BOOK = parse_price_book({
    "currency": "USD", "hours_per_month": H,
    "assumptions": {
        "nat_gateway_gb_processed": {"value": 100, "unit": "GB", "why": "test"},
        "nlb_nlcu": {"value": 2, "unit": "NLCU", "why": "test"},
        "dynamodb_write_request_units": {"value": 4_000_000, "unit": "WRU", "why": "test"},
        "dynamodb_read_request_units": {"value": 8_000_000, "unit": "RRU", "why": "test"},
        "dynamodb_storage_gb": {"value": 10, "unit": "GB", "why": "test"},
        "ecr_storage_gb_per_repository": {"value": 3, "unit": "GB", "why": "test"},
        "cloudwatch_log_ingestion_gb": {"value": 20, "unit": "GB", "why": "test"},
        "cloudwatch_log_storage_gb": {"value": 40, "unit": "GB", "why": "test"},
    },
    "regions": {"test-region-1": {
        **{key: {"usd": usd, "unit": "u", "date": SEEN, "source": "test", "region": "all", "confirmed": True}
           for key, usd in {
               "eks_cluster_hour": 0.1, "eks_cluster_extended_support_hour": 0.6, "nat_gateway_hour": 0.05, "nat_gateway_gb": 0.01,
               "public_ipv4_hour": 0.005, "nlb_hour": 0.02, "nlb_nlcu_hour": 0.01, "kms_key_month": 1.0,
               "dynamodb_write_request_unit_million": 1.0, "dynamodb_read_request_unit_million": 0.5,
               "dynamodb_storage_gb_month": 0.2, "dynamodb_pitr_gb_month": 0.1, "ecr_storage_gb_month": 0.1,
               "cloudwatch_logs_ingestion_gb": 0.5, "cloudwatch_logs_storage_gb_month": 0.03,
               "ebs_gp3_gb_month": 0.08}.items()},
        "ec2_instance_hour": {"m6i.xlarge": {"usd": 0.2, "date": SEEN, "source": "test",
                                             "region": "test-region-1", "confirmed": True},
                              "t4g.medium": {"usd": 0.03, "date": SEEN, "source": "test",
                                             "region": "test-region-1", "confirmed": True}},
    }},
})


def rec(typ, name, inputs=None, dependencies=()):
    return {"urn": f"urn:pulumi:t::p::{typ}::{name}", "type": typ, "name": name, "parent": None,
            "provider": None, "dependencies": list(dependencies), "inputs": inputs or {}}


TEMPLATE = rec("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "volumeType": "gp3"}}]})
PUBLIC_SUBNETS = [rec("aws:ec2/subnet:Subnet", f"pub-{i}", {"tags": {"kubernetes.io/role/elb": "1"}})
                  for i in range(3)]
NLB_ANNOTATIONS = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}


def priced(records, tmp_path, today=ON):
    """Through a resources.json file, as `make synth` writes it."""
    path = tmp_path / "resources.json"
    path.write_text(json.dumps({"stack": "t", "resources": records, "outputs": {}}))
    return price_resources(json.loads(path.read_text())["resources"], "test-region-1", BOOK, today=today)


def monthly_of(report, name):
    (r,) = [r for r in report.resources if r.name == name]
    assert r.status == "priced", r.note
    return r.monthly


CASES = {
    "eks control plane": ([rec("eks:index:Cluster", "eks")], "eks", 0.1 * H),
    "node group: instances by type and count + root volumes from the launch template": (
        [TEMPLATE, rec("eks:index:ManagedNodeGroup", "ng", {
            "instanceTypes": ["m6i.xlarge"], "capacityType": "ON_DEMAND",
            "scalingConfig": {"desiredSize": 3, "minSize": 3, "maxSize": 6}}, [TEMPLATE["urn"]])],
        "ng", 3 * 0.2 * H + 3 * 50 * 0.08),
    "nat gateway: hourly + processed GB": (
        [rec("aws:ec2/natGateway:NatGateway", "nat", {"connectivityType": "public"})], "nat", 0.05 * H + 100 * 0.01),
    "elastic ip: one public IPv4": ([rec("aws:ec2/eip:Eip", "eip", {"domain": "vpc"})], "eip", 0.005 * H),
    "internet-facing NLB: hourly + NLCUs + one IPv4 per public subnet": (
        [*PUBLIC_SUBNETS, rec("kubernetes:core/v1:Service", "nlb", {
            "metadata": {"annotations": NLB_ANNOTATIONS}, "spec": {"type": "LoadBalancer"}})],
        "nlb", 0.02 * H + 2 * 0.01 * H + 3 * 0.005 * H),
    "internal NLB: no public IPv4": (
        [*PUBLIC_SUBNETS, rec("kubernetes:core/v1:Service", "nlb", {
            "metadata": {"annotations": {**NLB_ANNOTATIONS,
                                         "service.beta.kubernetes.io/aws-load-balancer-internal": "true"}},
            "spec": {"type": "LoadBalancer"}})],
        "nlb", 0.02 * H + 2 * 0.01 * H),
    "load balancer controller NLB: internal unless internet-facing": (
        [*PUBLIC_SUBNETS, rec("kubernetes:core/v1:Service", "nlb", {
            "metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "external"}},
            "spec": {"type": "LoadBalancer"}})],
        "nlb", 0.02 * H + 2 * 0.01 * H),
    "kms key": ([rec("aws:kms/key:Key", "key", {"enableKeyRotation": True})], "key", 1.0),
    "dynamodb on-demand with PITR": (
        [rec("aws:dynamodb/table:Table", "table", {"billingMode": "PAY_PER_REQUEST",
                                                   "pointInTimeRecovery": {"enabled": True}})],
        "table", 4 * 1.0 + 8 * 0.5 + 10 * 0.2 + 10 * 0.1),
    "dynamodb on-demand without PITR": (
        [rec("aws:dynamodb/table:Table", "table", {"billingMode": "PAY_PER_REQUEST"})],
        "table", 4 * 1.0 + 8 * 0.5 + 10 * 0.2),
    "ecr repository storage": ([rec("aws:ecr/repository:Repository", "repo")], "repo", 3 * 0.1),
    "cloudwatch log group: ingestion + storage": (
        [rec("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 30})], "logs", 20 * 0.5 + 40 * 0.03),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_priced_type(case, tmp_path):
    records, name, expected = CASES[case]
    report = priced(records, tmp_path)
    assert monthly_of(report, name) == pytest.approx(expected)
    assert report.total == pytest.approx(expected)  # subnets, templates: free, not counted
    assert not report.unpriced


def test_a_cluster_ip_service_and_infrastructure_without_charge_are_free_with_a_reason(tmp_path):
    report = priced([rec("kubernetes:core/v1:Service", "svc", {"spec": {"type": "ClusterIP"}}),
                     rec("aws:ec2/vpc:Vpc", "vpc"), rec("celestials:network:Network", "net"), TEMPLATE], tmp_path)
    assert [r.status for r in report.resources] == ["free"] * 4
    assert all(r.note for r in report.resources)
    assert report.total == 0


def test_an_unknown_type_is_unpriced_not_zero(tmp_path):
    report = priced([rec("eks:index:Cluster", "eks"), rec("aws:rds/instance:Instance", "db")], tmp_path)
    (unpriced,) = report.unpriced
    assert unpriced.name == "db" and "not known to the cost model" in unpriced.note
    assert report.total == pytest.approx(0.1 * H)
    text = render_table(report, "t")
    assert "Unpriced (NOT in the total)" in text and "aws:rds/instance:Instance  db" in text


@pytest.mark.parametrize("records, why", [
    ([TEMPLATE, rec("eks:index:ManagedNodeGroup", "ng", {
        "instanceTypes": ["x9z.huge"], "scalingConfig": {"desiredSize": 1}}, [TEMPLATE["urn"]])], "no on-demand price for x9z.huge"),
    ([rec("eks:index:ManagedNodeGroup", "ng", {
        "instanceTypes": ["m6i.xlarge"], "scalingConfig": {"desiredSize": 1}})], "no launch template"),
    ([TEMPLATE, rec("eks:index:ManagedNodeGroup", "ng", {"instanceTypes": ["m6i.xlarge"]}, [TEMPLATE["urn"]])],
     "the node count is unknown"),
    ([TEMPLATE, rec("eks:index:ManagedNodeGroup", "ng", {
        "instanceTypes": ["m6i.xlarge"], "capacityType": "SPOT", "scalingConfig": {"desiredSize": 1}},
        [TEMPLATE["urn"]])], "only on-demand"),
    ([rec("kubernetes:core/v1:Service", "clb", {"spec": {"type": "LoadBalancer"}})], "Classic Load Balancer"),
    ([rec("aws:dynamodb/table:Table", "t", {"billingMode": "PROVISIONED"})], "only on-demand"),
])
def test_a_known_type_the_data_cannot_price_is_unpriced_with_the_reason(records, why, tmp_path):
    report = priced(records, tmp_path)
    (unpriced,) = report.unpriced
    assert why in unpriced.note
    assert report.total == 0


@pytest.mark.parametrize("itype, credits, left_out", [
    ("t4g.medium", {"cpuCredits": "unlimited"}, "unlimited CPU credits: surplus credits"),
    ("t4g.medium", None, "no credit specification: EC2 launches t4g.medium as unlimited"),
    ("t4g.medium", {"cpuCredits": "standard"}, ""),
    ("m6i.xlarge", None, ""),
])
def test_surplus_cpu_credits_are_said_to_be_left_out(itype, credits, left_out, tmp_path):
    template = rec("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
        **TEMPLATE["inputs"], **({"creditSpecification": credits} if credits else {})})
    report = priced([template, rec("eks:index:ManagedNodeGroup", "ng", {
        "instanceTypes": [itype], "scalingConfig": {"desiredSize": 2}}, [template["urn"]])], tmp_path)
    per_node = {"t4g.medium": 0.03, "m6i.xlarge": 0.2}[itype]
    assert monthly_of(report, "ng") == pytest.approx(2 * per_node * H + 2 * 50 * 0.08)  # the figure is unchanged
    (ng,) = [r for r in report.resources if r.name == "ng"]
    text = render_table(report, "t")
    if left_out:
        assert left_out in ng.note and "not estimated" in ng.note
        assert f"not included: {ng.note}" in text
    else:
        assert ng.note == "" and "not included" not in text


def test_a_region_without_price_data_is_refused():
    with pytest.raises(CostError, match=r"no price data for region 'eu-north-1'.*test-region-1"):
        price_resources([rec("eks:index:Cluster", "eks")], "eu-north-1", BOOK, today=ON)


def test_the_real_data_prices_every_type_the_stacks_register():
    """dev and prod (Istio) and App Mesh as written by the synth: nothing unpriced."""
    from synth.diff import synth_here

    for stack, overrides in (("dev", {}), ("prod", {}),
                             ("dev", {"meshBackend": "appmesh", "appMeshEndOfSupportAcknowledged": "true"})):
        report = price_resources(synth_here(stack, overrides), "us-west-2", today=ON)
        assert not report.unpriced, [(r.type, r.name, r.note) for r in report.unpriced]
        assert report.total > 0


def test_vpc_endpoints_gateway_free_interface_unpriced():
    from celestials.cost.model import price_resources

    def endpoint(kind):
        return {"urn": f"urn:x::{kind}", "type": "aws:ec2/vpcEndpoint:VpcEndpoint", "name": kind, "parent": None,
                "provider": None, "dependencies": [], "custom": True,
                "inputs": {"vpcEndpointType": kind, "serviceName": f"com.amazonaws.us-west-2.{kind.lower()}"}}

    report = price_resources([endpoint("Gateway"), endpoint("Interface")], "us-west-2", today=ON)
    by_name = {r.name: r for r in report.resources}
    assert by_name["Gateway"].status == "free" and "no AWS charge" in by_name["Gateway"].note
    assert by_name["Interface"].status == "unpriced"
