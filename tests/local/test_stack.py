"""The rehearsal reads a stack's Pulumi.<stack>.yaml and command-line overrides like the program would."""

from __future__ import annotations

import pytest

from celestials.local.stack import StackFileError, load_settings, parse_overrides
from celestials.settings import SettingsError

STACK_FILE = """\
config:
  aws:region: eu-west-1
  aws:profile: sandbox
  celestials:canaryWeight: 20
  celestials:mtlsTrust: ca1
  celestials:production: false
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Pulumi.test.yaml").write_text(STACK_FILE)
    return tmp_path


def test_the_stack_file_and_overrides_make_the_settings(project):
    settings = load_settings(project, "test")
    assert (settings.canary_weight, settings.mtls_trust, settings.region) == (20, "ca1", "eu-west-1")
    overridden = load_settings(project, "test", parse_overrides(["canaryWeight=100", "celestials:mtlsTrust=ca1+ca2"]))
    assert (overridden.canary_weight, overridden.mtls_trust) == (100, "ca1+ca2")


def test_an_override_wins_whichever_key_form_it_uses(project):
    assert load_settings(project, "test", {"canaryWeight": 0}).canary_weight == 0
    assert load_settings(project, "test", {"celestials:canaryWeight": "75"}).canary_weight == 75
    assert load_settings(project, "test", {"tracing": False}).tracing is False


def test_a_bad_override_is_refused_naming_key_and_value(project):
    with pytest.raises(SettingsError, match=r"celestials:canaryWeight = '150': an integer from 0 to 100"):
        load_settings(project, "test", parse_overrides(["canaryWeight=150"]))
    with pytest.raises(SettingsError, match=r"celestials:mtlsTrust = 'ca2': one of ca1, ca1\+ca2"):
        load_settings(project, "test", parse_overrides(["mtlsTrust=ca2"]))
    with pytest.raises(ValueError, match="expected key=value"):
        parse_overrides(["canaryWeight"])


def test_a_missing_stack_file_names_the_stacks_that_exist(project):
    with pytest.raises(StackFileError, match=r"no stack file Pulumi.prdo.yaml for STACK=prdo; stacks with a file: test"):
        load_settings(project, "prdo")


def test_a_stack_file_that_is_not_a_mapping_is_refused(project):
    (project / "Pulumi.odd.yaml").write_text("- just\n- a list\n")
    with pytest.raises(StackFileError, match=r"^Pulumi.odd.yaml: a stack file is a mapping \(secretsprovider:, config:, ...\), "
                                             r"not a list \(line 1\)$"):
        load_settings(project, "odd")


def test_the_repository_dev_stack_loads():
    from celestials.local.rehearsal import PROJECT_ROOT
    assert load_settings(PROJECT_ROOT, "dev").stack == "dev"


@pytest.mark.parametrize("line,message", [
    ("celestial:canaryWeight: 10", "invalid stack config celestial:canaryWeight = '10': unknown namespace 'celestial' "
                                   "(did you mean celestials:canaryWeight?)"),
    ("aws:regoin: eu-west-1", "invalid stack config aws:regoin = 'eu-west-1': not a config key of the aws provider "
                              "(did you mean aws:region?)"),
    ("kubernetes:context: kind", "invalid stack config kubernetes:context = 'kind': unknown namespace 'kubernetes'"),
])
def test_a_typo_outside_our_namespace_is_refused(project, line, message):
    (project / "Pulumi.typo.yaml").write_text(STACK_FILE + f"  {line}\n")
    with pytest.raises(SettingsError) as err:
        load_settings(project, "typo")
    assert str(err.value).startswith(message), str(err.value)


def test_an_unknown_region_is_refused_under_aws_region(project):
    (project / "Pulumi.nowhere.yaml").write_text("config:\n  aws:region: xx-nowhere-9\n  celestials:production: false\n")
    with pytest.raises(SettingsError) as err:
        load_settings(project, "nowhere")
    assert str(err.value).startswith("invalid stack config aws:region = 'xx-nowhere-9': an AWS region")
    with pytest.raises(SettingsError, match=r"^invalid stack config aws:region = 'mars-1'"):
        load_settings(project, "test", parse_overrides(["aws:region=mars-1"]))


def test_a_key_written_twice_is_refused(project):
    (project / "Pulumi.twice.yaml").write_text(STACK_FILE + "  celestials:canaryWeight: 90\n")
    with pytest.raises(StackFileError, match=r"^Pulumi.twice.yaml: key 'celestials:canaryWeight' is written twice \(lines 4 and 7\); keep one$"):
        load_settings(project, "twice")
