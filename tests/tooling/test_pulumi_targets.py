"""`make up`, `make preview`, `make destroy`: what they run, what they ask, what they refuse."""

from __future__ import annotations


def test_up_shows_the_preview_and_asks(tools):
    passphrase = tools.passphrase_file("dev")
    result = tools.make("up")
    assert result.returncode == 0, result.stderr
    assert [c.split(" | ")[0] for c in tools.calls("pulumi")] == [
        "pulumi stack select --create dev --secrets-provider passphrase", "pulumi up --stack dev --policy-pack policy"]
    # never an exported empty passphrase: Pulumi reads the stack's own passphrase file
    assert tools.calls("pulumi")[-1].endswith(f"| PASSPHRASE=<unset> FILE={passphrase}")


def test_up_skips_the_question_only_when_told(tools):
    # dev: the committed prod stack is refused by the preflight (no way in to its API endpoint)
    tools.passphrase_file("dev")
    assert tools.make("up", "STACK=dev", "YES=1").returncode == 0
    assert tools.make("up", "STACK=dev", CI="true").returncode == 0
    assert tools.make("up", "STACK=dev", "YES=0").returncode == 0
    ups = [c.split(" | ")[0] for c in tools.calls("pulumi") if c.startswith("pulumi up")]
    assert ups == ["pulumi up --stack dev --policy-pack policy --yes"] * 2 + ["pulumi up --stack dev --policy-pack policy"]


def test_destroy_asks_and_needs_no_docker(tools):
    tools.passphrase_file("dev")
    tools.remove("docker")
    result = tools.make("destroy")
    assert result.returncode == 0, result.stderr
    assert [c.split(" | ")[0] for c in tools.calls("pulumi")] == [
        "pulumi stack select dev", "pulumi destroy --stack dev"]


def test_preview_needs_no_docker(tools):
    tools.passphrase_file("dev")
    tools.remove("docker")
    result = tools.make("preview")
    assert result.returncode == 0, result.stderr
    # the policy pack runs in every preview: a violation stops it, naming the resource and the rule
    assert tools.calls("pulumi")[-1].startswith("pulumi preview --stack dev --diff --policy-pack policy |")


def test_up_without_docker_stops_before_pulumi(tools):
    tools.passphrase_file("dev")
    tools.remove("docker")
    result = tools.make("up")
    assert result.returncode != 0
    assert "missing: a running Docker engine" in result.stderr
    assert "Nothing was deployed." in result.stderr
    assert tools.calls("pulumi") == []


def test_a_failed_destroy_preflight_does_not_claim_nothing_was_deployed(tools):
    tools.remove("aws")
    result = tools.make("destroy")
    assert result.returncode != 0
    assert "missing: the AWS CLI" in result.stderr
    assert "missing: the stack's passphrase file" in result.stderr
    assert "Nothing was destroyed." in result.stderr and "deployed" not in result.stderr
    assert "Docker" not in result.stderr
    assert tools.calls("pulumi") == []


def test_an_empty_passphrase_is_refused(tools):
    tools.passphrase_file("dev")
    result = tools.make("up", PULUMI_CONFIG_PASSPHRASE="")
    assert result.returncode != 0
    assert "refused: PULUMI_CONFIG_PASSPHRASE is set but empty" in result.stderr
    assert tools.calls("pulumi") == []


def test_a_missing_passphrase_file_says_how_to_make_one(tools):
    result = tools.make("up")
    assert result.returncode != 0
    expected = tools.home / ".pulumi-celestials" / "passphrases" / "dev"
    assert f"missing: the stack's passphrase file {expected}" in result.stderr
    assert "umask 077" in result.stderr
    assert tools.calls("pulumi") == []


def test_a_passphrase_given_by_the_caller_is_used_as_is(tools):
    result = tools.make("up", PULUMI_CONFIG_PASSPHRASE="s3cret")
    assert result.returncode == 0, result.stderr
    assert tools.calls("pulumi")[-1].endswith("| PASSPHRASE=s3cret FILE=<unset>")
