"""The program itself checks the stack file's structure under Pulumi, whose decoder drops what it
does not know: a misspelt `config:`, a config key outside it, an unknown top-level key each stop
the real __main__.py before any resource, naming the line, as the offline tools do."""

from __future__ import annotations

import runpy

import pytest

from celestials.local.stack import StackFileError, parse_stack_file, read_stack_file
from synth.harness import ROOT, evaluate, quiet

DEV = (ROOT / "Pulumi.dev.yaml").read_text()


def _run_program(stack: str, config: dict[str, str]):
    """The real __main__.py under the mocks, as Pulumi runs it: in the project's directory, with the
    config Pulumi's own reading of the stack file hands it."""
    with quiet():
        return evaluate(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                        stack=stack, config=config)


def _line(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


#: (a mistake made in dev's stack file, what Pulumi still hands the program, the refusal)
MISTAKES = {
    "confg": (DEV.replace("\nconfig:\n", "\nconfg:\n"), {},
              "`confg` is not a key of a stack file (did you mean config?)"),
    "outside": (DEV.replace("  celestials:instanceType: t4g.medium\n", "") + "celestials:instanceType: t4g.medium\n",
                {k: v for k, v in read_stack_file(ROOT, "dev").config.items() if k != "celestials:instanceType"},
                "`celestials:instanceType` is a config key, which belongs under `config:`"),
    "unknown": (DEV + "backend: s3://state\n", read_stack_file(ROOT, "dev").config,
                "`backend` is not a key of a stack file"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_structural_mistake_stops_the_program_before_any_resource(tmp_path, monkeypatch, mistake):
    text, pulumi_config, refusal = MISTAKES[mistake]
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StackFileError) as err:
        _run_program("t", pulumi_config)
    line = _line(text, {"confg": "confg:", "outside": "celestials:instanceType", "unknown": "backend:"}[mistake])
    assert str(err.value).startswith(f"Pulumi.t.yaml line {line}: {refusal}"), str(err.value)
    assert err.value.synth_registrations == []


def test_the_same_file_without_the_mistake_runs(tmp_path, monkeypatch):
    (tmp_path / "Pulumi.t.yaml").write_text(DEV)
    monkeypatch.chdir(tmp_path)
    result = _run_program("t", parse_stack_file(DEV, "Pulumi.t.yaml").config)
    assert result.by_type("aws:ec2/vpc:Vpc")


def test_a_stack_without_a_file_has_nothing_to_check(tmp_path, monkeypatch):
    """Its config lives elsewhere (the service, `--config-file`): the program reads what Pulumi hands it."""
    monkeypatch.chdir(tmp_path)
    result = _run_program("t", read_stack_file(ROOT, "dev").config)
    assert result.by_type("aws:ec2/vpc:Vpc")


@pytest.mark.parametrize("key", ["aws:region", "celestials:production"])
def test_a_stack_file_without_a_key_every_stack_states_stops_the_program_before_any_resource(tmp_path, monkeypatch,
                                                                                           key):
    """Without `aws:region` the program would assume one region while the AWS provider took another
    from the environment; without `celestials:production` a production stack would get dev's rules."""
    from celestials.stack_config import MissingConfigError

    text = "".join(line for line in DEV.splitlines(keepends=True) if not line.startswith(f"  {key}:"))
    (tmp_path / "Pulumi.t.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingConfigError) as err:
        _run_program("t", parse_stack_file(text, "Pulumi.t.yaml").config)
    assert err.value.key == key and str(err.value).startswith(f"missing stack config {key}: every stack states")
    assert err.value.synth_registrations == []
