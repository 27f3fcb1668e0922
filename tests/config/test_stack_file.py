"""A stack file is read the way Pulumi reads it, by every offline tool, and its structure is checked.

What Pulumi hands the program for each value is read off its source (pulumi/pulumi
sdk/go/common/resource/config/object.go `MarshalString`/`unmarshalObject`, workspace/loaders.go
`LoadProjectStackBytes`; gopkg.in/yaml.v3 resolve.go): yaml.v3 resolves a plain scalar (YAML 1.2
booleans, Go's base-prefixed integers, floats), and Pulumi turns the decoded value back into a
string. The rows below are those readings; each is checked against the three offline readers (the
synth's config, the rehearsal's settings, the program's own settings under the Pulumi runtime).
"""

from __future__ import annotations

import pytest

import synth.harness as harness
from celestials.local import stack as stackmod
from celestials.local.stack import SECRET_PLACEHOLDER, StackFileError, load_settings, parse_stack_file
from celestials.settings import SettingsError

HEAD = "secretsprovider: passphrase\nconfig:\n  aws:region: us-west-2\n"
#: what every stack states (celestials.stack_config.REQUIRED_KEYS), after the lines a test writes
TAIL = "  celestials:production: false\n"

#: (written, what the program gets under Pulumi)
READINGS = [
    ("no", "no"), ("yes", "yes"), ("off", "off"), ("on", "on"), ("y", "y"),
    ("true", "true"), ("True", "true"), ("FALSE", "false"),
    ("010", "8"),      # yaml.v3 keeps YAML 1.1's leading-zero octal (strconv.ParseInt base 0)
    ("08", "8"),       # not octal, so yaml.v3's float rule reads it: 8.0, JSON 8
    ("0x32", "50"), ("0o17", "15"), ("0b101", "5"), ("+10", "10"), ("1_000", "1000"),
    ("1.30", "1.3"), ("1.0", "1"), ("1e3", "1000"), (".5", "0.5"), ("1:30", "1:30"),
    ('"010"', "010"), ("'yes'", "yes"), ('"1.30"', "1.30"), ("!!str 010", "010"),
    ("", "null"), ("~", "null"),
    ("2026-01-05", "2026-01-05 00:00:00 +0000 UTC"),
    ("[a, 1, true, 1.50]", '["a",1,true,1.5]'),
    ("{b: 2, a: <x>}", '{"a":"\\u003cx\\u003e","b":2}'),
]


def _project(tmp_path, body: str, stack: str = "t"):
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(HEAD + body + TAIL)
    return tmp_path


@pytest.mark.parametrize("written,pulumi", READINGS)
def test_a_value_reaches_every_offline_tool_as_pulumi_reads_it(tmp_path, monkeypatch, written, pulumi):
    root = _project(tmp_path, f"  aws:profile: {written}\n")
    assert stackmod.read_stack_config(root, "t")["aws:profile"] == pulumi
    monkeypatch.setattr(harness, "ROOT", root)
    assert harness.stack_config("t")["aws:profile"] == pulumi


def _program_settings(config: dict[str, str], stack: str = "t"):
    """The settings the program itself builds from `config` under the Pulumi runtime."""
    from components.stack_settings import load_settings as program_load_settings

    out = []
    harness.evaluate(lambda: out.append(program_load_settings()), stack=stack, config=config)
    return out[0]


@pytest.mark.parametrize("line,key,value", [
    ("endpointPublicAccess: no", "endpointPublicAccess", "no"),
    ("endpointPublicAccess: yes", "endpointPublicAccess", "yes"),
    ("tracing: off", "tracing", "off"),
])
def test_a_yaml_1_1_boolean_is_refused_offline_as_the_program_refuses_it(tmp_path, monkeypatch, line, key, value):
    root = _project(tmp_path, f"  celestials:{line}\n")
    monkeypatch.setattr(harness, "ROOT", root)
    expected = f"invalid stack config celestials:{key} = {value!r}: true or false"
    with pytest.raises(SettingsError) as program:
        _program_settings(harness.stack_config("t"))
    assert str(program.value) == expected
    with pytest.raises(SettingsError) as rehearsal:
        load_settings(root, "t")
    assert str(rehearsal.value) == f"{expected} [Pulumi.t.yaml line 4]"


@pytest.mark.parametrize("written,weight", [("010", 8), ("0x32", 50), ("10", 10), ('"010"', 10)])
def test_a_number_gives_the_same_canary_weight_to_the_program_and_the_rehearsal(tmp_path, monkeypatch, written, weight):
    root = _project(tmp_path, f"  celestials:canaryWeight: {written}\n")
    monkeypatch.setattr(harness, "ROOT", root)
    assert _program_settings(harness.stack_config("t")).canary_weight == weight
    assert load_settings(root, "t").canary_weight == weight


def test_the_rehearsal_shows_the_value_as_written_when_pulumi_reads_it_otherwise(tmp_path):
    root = _project(tmp_path, "  celestials:eksVersion: 1.30\n")
    with pytest.raises(SettingsError) as err:
        load_settings(root, "t")
    message = str(err.value)
    assert message.startswith("invalid stack config celestials:eksVersion = '1.3': one of "), message
    assert message.endswith("[Pulumi.t.yaml line 4 writes 1.30, which Pulumi reads as '1.3' (quote it to keep "
                            "the text)]"), message


def test_a_key_without_namespace_is_ours_as_pulumi_reads_it(tmp_path):
    root = _project(tmp_path, "  canaryWeight: 30\n")
    assert stackmod.read_stack_config(root, "t")["celestials:canaryWeight"] == "30"
    assert load_settings(root, "t").canary_weight == 30
    twice = _project(tmp_path, "  canaryWeight: 30\n  celestials:canaryWeight: 40\n", stack="twice")
    with pytest.raises(StackFileError, match=r"^Pulumi.twice.yaml: key 'celestials:canaryWeight' is written twice "
                                             r"\(lines 4 and 5\); keep one$"):
        load_settings(twice, "twice")


@pytest.mark.parametrize("text,message", [
    ("secretsprovider: passphrase\nconfg:\n  celestials:instanceType: t4g.medium\n",
     "Pulumi.t.yaml line 2: `confg` is not a key of a stack file (did you mean config?); its keys are "
     "secretsprovider, encryptedkey, encryptionsalt, config, environment"),
    ("config:\n  aws:region: us-west-2\ncelestials:canaryWeight: 10\n",
     "Pulumi.t.yaml line 3: `celestials:canaryWeight` is a config key, which belongs under `config:` (indented below it)"),
    ("aws:region: us-west-2\nconfig:\n  celestials:canaryWeight: 10\n",
     "Pulumi.t.yaml line 1: `aws:region` is a config key, which belongs under `config:` (indented below it)"),
    ("config:\n  aws:region: us-west-2\nbackend: file://~\n",
     "Pulumi.t.yaml line 3: `backend` is not a key of a stack file; its keys are "
     "secretsprovider, encryptedkey, encryptionsalt, config, environment"),
    ("config:\n  - aws:region\n",
     "Pulumi.t.yaml line 2: `config:` must be a mapping of keys to values, not a list"),
    ("secretsprovider: passphrse\nconfig: {}\n",
     "Pulumi.t.yaml line 1: `secretsprovider: passphrse` is not a secrets provider Pulumi knows (did you mean "
     "passphrase?); it is one of default, passphrase or a URL awskms://, azurekeyvault://, gcpkms://, hashivault://..."),
    ("secretsprovider:\n  kind: passphrase\nconfig: {}\n",
     "Pulumi.t.yaml line 1: `secretsprovider:` holds a string, not a mapping"),
])
def test_a_structural_mistake_is_refused_naming_its_line(tmp_path, text, message):
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    with pytest.raises(StackFileError) as err:
        load_settings(tmp_path, "t")
    assert str(err.value) == message
    with pytest.raises(StackFileError):
        stackmod.read_stack_config(tmp_path, "t")


def test_every_stack_file_key_pulumi_knows_is_accepted():
    doc = parse_stack_file("secretsprovider: passphrase\nencryptedkey: abc\nencryptionsalt: v1:x\n"
                           "environment:\n  - shared\nconfig:\n  aws:region: us-west-2\n", "Pulumi.t.yaml")
    assert doc.config == {"aws:region": "us-west-2"}
    assert parse_stack_file("", "Pulumi.t.yaml").config == {}
    for provider in ("default", "awskms://alias/celestials?region=us-west-2", "hashivault://celestials"):
        parse_stack_file(f"secretsprovider: {provider}\n", "Pulumi.t.yaml")
    assert parse_stack_file("config:\n", "Pulumi.t.yaml").config == {}


@pytest.mark.parametrize("environment", ["environment:\n  - shared\n", "environment: [a, b]\n"])
def test_a_stack_that_imports_esc_environments_is_refused_by_the_offline_tools(tmp_path, environment):
    (tmp_path / "Pulumi.t.yaml").write_text(HEAD + environment)
    for read in (load_settings, stackmod.read_stack_config):
        with pytest.raises(StackFileError, match=r"^Pulumi.t.yaml line 4: `environment:` imports Pulumi ESC "):
            read(tmp_path, "t")
    assert parse_stack_file(HEAD + environment, "Pulumi.t.yaml").environment_line == 4  # Pulumi reads it


@pytest.mark.parametrize("environment", ["", "environment:\n", "environment: []\n"])
def test_a_stack_without_environments_is_read_offline(tmp_path, environment):
    (tmp_path / "Pulumi.t.yaml").write_text(HEAD + environment)
    assert stackmod.read_stack_config(tmp_path, "t") == {"aws:region": "us-west-2"}


@pytest.mark.parametrize("text,message", [
    ("config:\n  aws:profile: .inf\n", "Pulumi.t.yaml line 2, aws:profile: .inf is an infinite or NaN float"),
    ("config:\n  aws:profile: 2026-01-05T10:00:00Z\n", "Pulumi.t.yaml line 2, aws:profile: 2026-01-05T10:00:00Z "
                                                       "is a YAML timestamp"),
    ("config:\n  aws:profile: !!binary aGk=\n", "Pulumi.t.yaml line 2, aws:profile: the YAML tag "
                                                "tag:yaml.org,2002:binary is not read here"),
])
def test_a_value_pulumi_cannot_hand_over_as_text_is_refused_naming_its_line(text, message):
    with pytest.raises(StackFileError) as err:
        parse_stack_file(text, "Pulumi.t.yaml")
    assert str(err.value).startswith(message), str(err.value)


CIPHERTEXT = "v1:0ZqQ1ccGDWpzEKN4:very-secret-ciphertext"


@pytest.mark.parametrize("line", [
    f"celestials:canaryWeight:\n    secure: {CIPHERTEXT}",
    f"celestials:eksVersion:\n    secure: {CIPHERTEXT}",
    f"celestial:token:\n    secure: {CIPHERTEXT}",
    f"celestials:clusterAdmins:\n    - secure: {CIPHERTEXT}",
])
def test_a_secure_value_never_appears_in_a_message(tmp_path, monkeypatch, line):
    root = _project(tmp_path, f"  {line}\n")
    stack_doc = stackmod.read_stack_file(root, "t")
    key = line.split(":\n")[0]
    assert key in stack_doc.secret_keys
    assert CIPHERTEXT not in repr(stack_doc)
    monkeypatch.setattr(harness, "ROOT", root)
    assert CIPHERTEXT not in repr(harness.stack_config("t"))
    with pytest.raises(SettingsError) as err:
        load_settings(root, "t")
    assert "very-secret" not in str(err.value) and SECRET_PLACEHOLDER not in str(err.value), str(err.value)
    assert "'[secret]'" in str(err.value), str(err.value)


def test_a_secret_keys_plaintext_stays_out_of_the_programs_messages():
    from celestials.stack_config import settings_from_config

    with pytest.raises(SettingsError) as err:
        settings_from_config({"aws:region": "us-west-2", "celestials:production": "false",
                              "celestials:endpointPublicAccessCidrs": '["10.1.2.0/24"]'}, "t",
                             secret_keys={"celestials:endpointPublicAccessCidrs"})
    assert "10.1.2.0" not in str(err.value) and "'[secret]'" in str(err.value), str(err.value)


def test_the_repository_stacks_read_as_their_text():
    """The committed stack files hold only values whose text is what Pulumi hands the program."""
    for stack in harness.STACKS:
        stack_doc = stackmod.read_stack_file(harness.ROOT, stack)
        assert not stack_doc.secret_keys
        for key, value in stack_doc.config.items():
            assert stack_doc.written[key][1] == value, (stack, key)
