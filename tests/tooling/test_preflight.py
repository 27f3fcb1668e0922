"""`make up`'s preflight on the stack itself: a Docker builder for its nodes' platform, and an API
endpoint a deployer outside the cluster's nodes can reach; and the salt fallback every Pulumi
command runs with."""

from __future__ import annotations

import pytest


def test_a_builder_without_the_stacks_platform_stops_up_before_pulumi(tools):
    tools.passphrase_file("dev")  # dev's nodes are arm64 (t4g)
    tools.platforms("linux/amd64, linux/amd64/v2, linux/386")  # an x86 Linux Docker without emulation
    result = tools.make("up")
    assert result.returncode != 0
    assert ("missing: a Docker builder for linux/arm64: the dev stack's nodes are arm64 (celestials:nodeArchitecture)"
            in result.stderr)
    assert "offers only: linux/386, linux/amd64, linux/amd64/v2." in result.stderr
    assert "tonistiigi/binfmt --install arm64" in result.stderr
    assert "Nothing was deployed." in result.stderr
    assert tools.calls("pulumi") == []


@pytest.mark.parametrize("platforms", ["linux/arm64", "linux/amd64*, linux/arm64*", "linux/amd64,linux/arm64/v8, linux/arm64"])
def test_a_builder_with_the_stacks_platform_lets_up_run(tools, platforms):
    tools.passphrase_file("dev")
    tools.platforms(platforms)
    result = tools.make("up")
    assert result.returncode == 0, result.stderr
    assert ["docker", "buildx", "inspect", "--bootstrap"] in [c.split(" | ")[0].split() for c in tools.calls("docker")]


def test_the_platform_asked_for_is_the_stacks_own(tools):
    """prod's nodes are amd64: an arm64-only builder is refused for linux/amd64 (and prod's endpoint,
    private-only with no network let in, is refused too)."""
    tools.passphrase_file("prod")
    tools.platforms("linux/arm64")
    result = tools.make("up", "STACK=prod")
    assert result.returncode != 0
    assert "missing: a Docker builder for linux/amd64: the prod stack's nodes are amd64" in result.stderr
    assert "refused: the prod stack's Kubernetes API endpoint is private-only and open to no network" in result.stderr
    assert tools.calls("pulumi") == []


def test_an_endpoint_no_deployer_can_reach_stops_up(tools):
    tools.passphrase_file("prod")
    result = tools.make("up", "STACK=prod")
    assert result.returncode != 0
    assert "refused: the prod stack's Kubernetes API endpoint is private-only" in result.stderr
    assert "Reaching the API endpoint" in result.stderr
    assert "missing:" not in result.stderr  # everything else is there
    assert tools.calls("pulumi") == []


def test_no_buildx_says_so(tools):
    tools.passphrase_file("dev")
    (tools.bin / "docker").write_text('#!/bin/sh\n[ "$1" = buildx ] && { echo "docker: unknown command: docker buildx" >&2; exit 1; }\nexit 0\n')
    result = tools.make("up")
    assert result.returncode != 0
    assert "missing: docker buildx" in result.stderr and "unknown command" in result.stderr
    assert tools.calls("pulumi") == []


def test_preview_and_destroy_ask_nothing_of_the_stack_or_docker(tools):
    tools.passphrase_file("prod")
    tools.remove("docker")
    assert tools.make("preview", "STACK=prod").returncode == 0
    assert tools.make("destroy", "STACK=prod").returncode == 0


@pytest.mark.parametrize("target,verb", [("up", "deployed"), ("preview", "previewed")])
def test_a_stack_without_its_stack_file_is_refused_before_anything_runs(tools, target, verb):
    """`pulumi stack select --create` would make a stack with an empty config."""
    tools.passphrase_file("prod-eu")
    result = tools.make(target, "STACK=prod-eu")
    assert result.returncode != 0
    assert result.stderr.startswith("refused: no stack file Pulumi.prod-eu.yaml for STACK=prod-eu; stacks with a "
                                    "file: dev, prod. A new stack starts as a file: copy Pulumi.dev.yaml"), result.stderr
    assert "set its celestials:production" in result.stderr
    assert f"Nothing was {verb}." in result.stderr
    assert tools.calls() == []  # not pulumi, not aws, not docker


def test_destroy_needs_no_stack_file(tools):
    """It runs no program, and a stack whose file is gone must still go; `stack select` (no
    --create) refuses one that does not exist."""
    tools.passphrase_file("gone")
    assert tools.make("destroy", "STACK=gone").returncode == 0
    assert [c.split(" | ")[0] for c in tools.calls("pulumi")] == ["pulumi stack select gone", "pulumi destroy --stack gone"]


@pytest.mark.parametrize("target", ["up", "preview", "destroy"])
def test_every_pulumi_command_takes_a_missing_salt_from_the_state(tools, target):
    tools.passphrase_file("dev")
    assert tools.make(target).returncode == 0
    assert tools.env_of("pulumi")["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"


# --- Elastic IPs: one per NAT gateway, 5 per region by default ----------------------------------
def _address(n: int, **tags: str) -> dict:
    return {"AllocationId": f"eipalloc-{n:08x}", "PublicIp": f"198.51.100.{n}", "Domain": "vpc",
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def _others(n: int) -> list[dict]:
    """Addresses of something else in the account (another team's NAT, a bastion)."""
    return [_address(i, Name=f"other-{i}") for i in range(1, n + 1)]


def _ours(stack: str, n: int, first: int = 100) -> list[dict]:
    return [_address(first + i, project="celestials", stack=stack, Name=f"celestials-{stack}-nat-{i}")
            for i in range(n)]


def test_a_region_without_room_for_the_nat_gateways_addresses_stops_up(tools):
    """prod (3 NAT gateways) beside two dev stacks (1 each) fills the default 5; one more address
    in the region (here another team's) leaves no room for prod's third."""
    tools.passphrase_file("prod")
    tools.aws_account(eip_quota=5.0, addresses=[*_ours("dev", 1), *_ours("dev-alice", 1, first=110), *_others(1)])
    result = tools.make("up", "STACK=prod")
    assert result.returncode != 0
    assert ("refused: the prod stack needs 3 Elastic IP addresses in us-west-2 (celestials:natGateways = 3, one per "
            "NAT gateway), but 3 of the account's quota of 5 there are allocated to others: 3 + 3 > 5.") in result.stderr
    assert "--quota-code L-0263D0A3 --desired-value 6 --region us-west-2" in result.stderr
    assert "celestials:natGateways 2" in result.stderr and '"Elastic IP addresses"' in result.stderr
    assert tools.calls("pulumi") == []
    asked = [c.split(" | ")[0] for c in tools.calls("aws")]
    assert "aws service-quotas get-service-quota --service-code ec2 --quota-code L-0263D0A3 --region us-west-2 --output json" in asked
    assert "aws ec2 describe-addresses --region us-west-2 --output json" in asked
    # without the other team's address, prod and two dev stacks fill the quota exactly: that fits
    tools.aws_account(eip_quota=5.0, addresses=[*_ours("dev", 1), *_ours("dev-alice", 1, first=110)])
    assert "Elastic IP" not in tools.make("up", "STACK=prod").stderr


def test_room_for_the_addresses_lets_up_run(tools):
    tools.passphrase_file("dev")  # 1 NAT gateway
    tools.aws_account(eip_quota=5.0, addresses=_others(4))
    result = tools.make("up")
    assert result.returncode == 0, result.stderr
    assert "Elastic IP" not in result.stderr


def test_the_stacks_own_addresses_count_as_held(tools):
    """A second `up` of a deployed stack: its own NAT addresses are in the region already."""
    tools.passphrase_file("dev")
    tools.aws_account(eip_quota=5.0, addresses=[*_ours("dev", 1), *_others(4)])
    assert tools.make("up").returncode == 0
    tools.aws_account(eip_quota=5.0, addresses=[*_ours("prod", 1), *_others(4)])  # another stack's are not
    result = tools.make("up")
    assert result.returncode != 0
    assert "but 5 of the account's quota of 5 there are allocated to others: 5 + 1 > 5" in result.stderr
    assert "no natGateways value fits" in result.stderr


def test_a_raised_quota_is_the_one_counted(tools):
    tools.passphrase_file("dev")
    tools.aws_account(eip_quota=10.0, addresses=_others(9))
    assert tools.make("up").returncode == 0
    tools.aws_account(eip_quota=10.0, addresses=_others(10))
    result = tools.make("up")
    assert result.returncode != 0 and "10 + 1 > 10" in result.stderr


def test_a_quota_the_cli_cannot_read_is_said_not_refused(tools):
    """A deploy role without servicequotas:GetServiceQuota: the check is skipped, visibly."""
    tools.passphrase_file("dev")
    tools.aws_answer("service-quotas get-service-quota",
                     "An error occurred (AccessDeniedException) when calling the GetServiceQuota operation", 254)
    result = tools.make("up")
    assert result.returncode == 0, result.stderr
    assert "note: Elastic IP check skipped: could not read the Elastic IP quota in us-west-2" in result.stderr
    assert "AccessDeniedException" in result.stderr


def test_without_working_aws_credentials_aws_is_not_asked_about_addresses(tools):
    tools.passphrase_file("dev")
    (tools.bin / "aws").write_text('#!/bin/sh\necho "$*" >> "$FAKE_LOG"\nexit 255\n')
    result = tools.make("up")
    assert "missing: AWS credentials" in result.stderr
    assert "Elastic IP" not in result.stderr
    assert not [c for c in tools.calls() if "describe-addresses" in c or "service-quotas" in c]
