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


@pytest.mark.parametrize("target", ["up", "preview", "destroy"])
def test_every_pulumi_command_takes_a_missing_salt_from_the_state(tools, target):
    tools.passphrase_file("dev")
    assert tools.make(target).returncode == 0
    assert tools.env_of("pulumi")["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"
