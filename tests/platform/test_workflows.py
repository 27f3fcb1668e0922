"""The CI workflows' security and delivery properties (actionlint checks syntax; these check intent)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _on(wf: dict) -> dict:
    return wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as True


def _steps(wf: dict):
    for job_name, job in wf["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def test_every_action_is_pinned_by_commit_with_a_version_comment():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            m = re.match(r"\s*-?\s*uses:\s*(\S+)(.*)$", line)
            if m:
                assert PIN.match(m.group(1)), f"{path.name}: {m.group(1)} is not pinned to a commit"
                assert re.search(r"#\s*v\d", m.group(2)), f"{path.name}: {m.group(1)} has no version comment"


def test_workflows_default_to_read_only_tokens():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        assert _load(path.name)["permissions"] == {"contents": "read"}, path.name


def test_pull_requests_preview_every_stack_with_a_comment_via_oidc():
    wf = _load("preview.yml")
    assert set(_on(wf)) == {"pull_request"}
    job = wf["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert job["permissions"]["id-token"] == "write"
    assert "head.repo.full_name == github.repository" in job["if"]
    steps = [s for _, _, s in _steps(wf)]
    aws = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert "role-to-assume" in aws["with"] and not {"aws-access-key-id", "aws-secret-access-key"} & set(aws["with"])
    pulumi = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True


def test_offline_diff_runs_without_credentials_and_comments_from_a_trusted_workflow():
    diff = _load("synth-diff.yml")
    assert set(_on(diff)) == {"pull_request"}  # never pull_request_target: PR code gets no write token
    text = (WORKFLOWS / "synth-diff.yml").read_text()
    assert "secrets." not in text and "id-token" not in text and "configure-aws-credentials" not in text
    assert "make -C \"$tree\" synth STACK=\"$stack\"" in text
    refs = [s["with"].get("ref") for _, _, s in _steps(diff) if s.get("uses", "").startswith("actions/checkout@")]
    assert "${{ github.event.pull_request.base.sha }}" in refs
    comment = _load("synth-diff-comment.yml")
    assert _on(comment) == {"workflow_run": {"workflows": ["synth-diff"], "types": ["completed"]}}
    job = comment["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any(s.get("uses", "").startswith("actions/checkout@") for _, _, s in _steps(comment))
    script = next(s["run"] for _, _, s in _steps(comment) if "run" in s)
    assert "${{" not in script, "untrusted data must reach the script through env, not interpolation"
    assert "^[0-9]+$" in script and "RUN_HEAD_SHA" in script


def test_main_deploys_dev_checks_convergence_then_prod_behind_approval():
    wf = _load("deploy.yml")
    assert _on(wf)["push"] == {"branches": ["main"]}
    jobs = wf["jobs"]
    assert jobs["dev"]["environment"] == "dev"
    dev = [s["with"] for s in jobs["dev"]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert [(w["command"], w["stack-name"]) for w in dev] == [("up", "dev"), ("preview", "dev")]
    assert dev[1]["expect-no-changes"] is True
    # the prod preview is in the run before anyone approves: its environment has no reviewers
    assert "dev" in jobs["prod-preview"]["needs"] and jobs["prod-preview"]["environment"] == "prod-preview"
    assert "prod-preview" in jobs["prod"]["needs"] and jobs["prod"]["environment"] == "prod"
    prod = [s["with"] for s in jobs["prod"]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert prod[0]["command"] == "up" and prod[0]["stack-name"] == "prod"
    assert wf["concurrency"]["cancel-in-progress"] is False  # never cancel a half-done `pulumi up`


def test_actionlint_is_clean():
    actionlint = shutil.which("actionlint", path=str(ROOT / ".venv" / "bin")) or shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint not installed (make install)")
    run = subprocess.run([actionlint, "-no-color", *sorted(str(p) for p in WORKFLOWS.glob("*.yml"))],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


# --- 13.9: the offline diff comment cannot be broken out of its code fence ------------------------
def _run_comment_script(tmp_path: Path, diff_text: str) -> str:
    """Run synth-diff-comment.yml's script as GitHub would, with a stub `gh` that answers the PR
    lookup and records the posted comment body."""
    script = next(s["run"] for _, _, s in _steps(_load("synth-diff-comment.yml")) if "run" in s)
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "pr-number").write_text("7\n")
    (tmp_path / "synth" / "synth.diff").write_text(diff_text)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text('#!/usr/bin/env bash\n'
                  'case "$*" in\n'
                  '  *"pulls/7"*) echo "$RUN_HEAD_SHA" ;;\n'
                  '  *"--method POST"*) cp body.md posted.md ;;\n'
                  '  *) : ;;\n'
                  'esac\n')
    gh.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "GH_TOKEN": "x", "REPO": "o/r", "RUN_HEAD_SHA": "abc"}
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return (tmp_path / "posted.md").read_text()


@pytest.mark.parametrize("backticks", [3, 4, 7])
def test_diff_with_backticks_stays_inside_its_code_block(tmp_path, backticks):
    fence_in_diff = "`" * backticks
    # a context line starts with one space: CommonMark lets a closing fence be indented by up to 3
    diff = ("--- base/x.yaml\n+++ head/x.yaml\n@@ -1,2 +1,3 @@\n-a: 1\n"
            f" {fence_in_diff}\n+# a heading that must not render\n")
    body = _run_comment_script(tmp_path, diff).splitlines()
    opening = next(i for i, line in enumerate(body) if re.fullmatch(r"`{3,}diff", line))
    fence = body[opening][:-len("diff")]
    # CommonMark: the block ends at the first line of at least as many backticks and nothing else
    closing = next(i for i in range(opening + 1, len(body))
                   if re.fullmatch(rf" {{0,3}}`{{{len(fence)},}}\s*", body[i]))
    inside = body[opening + 1:closing]
    assert inside[:len(diff.splitlines())] == diff.splitlines(), "a diff line closed the fence early"
    assert not any(line.strip() for line in inside[len(diff.splitlines()):])
    assert len(fence) > backticks


# --- 13.9: pinned CLI, documented session length ---------------------------------------------
def test_pulumi_cli_is_pinned_to_the_sdk_floor_of_requirements():
    floor = re.search(r"^pulumi>=([0-9.]+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    floor = floor if floor.count(".") == 2 else floor + ".0"
    steps = [(p.name, s) for p in sorted(WORKFLOWS.glob("*.yml"))
             for _, _, s in _steps(_load(p.name)) if s.get("uses", "").startswith("pulumi/actions@")]
    assert steps
    for name, step in steps:
        assert str(step["with"].get("pulumi-version")) == floor, f"{name}: the Pulumi CLI floats or differs"


def test_long_sessions_come_with_the_documented_role_setting():
    docs = (ROOT / "docs" / "platform.md").read_text()
    documented = [int(n) for n in re.findall(r"--max-session-duration (\d+)", docs)]
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for _, _, step in _steps(_load(path.name)):
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                asked = int(step["with"].get("role-duration-seconds", 3600))
                if asked > 3600:  # STS refuses more than the role's MaxSessionDuration (default 1 h)
                    assert documented and min(documented) >= asked, f"{path.name} asks {asked}s, undocumented"


# --- each stack on a runner of its nodes' architecture that reaches its API endpoint -------------
PLAN_EXPR = re.compile(r"^\$\{\{ fromJSON\(needs\.plan\.outputs\.stacks\)(?:\.([\w-]+)|\[matrix\.stack\])\.(\w+) \}\}$")
#: GitHub's standard hosted Linux runners and their architecture (GitHub's runner reference): the
#: oracle the computed runner is held to
HOSTED_ARCH = {"ubuntu-24.04": "amd64", "ubuntu-22.04": "amd64", "ubuntu-24.04-arm": "arm64", "ubuntu-22.04-arm": "arm64"}


def _stack_jobs():
    """(workflow, job name, job, stack) for every job running Pulumi, once per stack it runs."""
    for path in sorted(WORKFLOWS.glob("*.yml")):
        wf = _load(path.name)
        for name, job in wf["jobs"].items():
            pulumi = [s for s in job.get("steps", []) if s.get("uses", "").startswith("pulumi/actions@")]
            if not pulumi:
                continue
            named = {str(s["with"]["stack-name"]) for s in pulumi}
            assert len(named) == 1, f"{path.name}/{name}: one stack per job"
            stack = named.pop()
            if stack == "${{ matrix.stack }}":
                for value in job["strategy"]["matrix"]["stack"]:
                    yield path.name, name, job, value
            else:
                yield path.name, name, job, stack


def _plan_ref(expr: str, stack: str) -> str:
    """The field of the plan job's output that `expr` reads for `stack` (asserting it is that stack's)."""
    m = PLAN_EXPR.match(str(expr))
    assert m, f"{expr!r} does not read the plan job's output"
    assert m.group(1) in (None, stack), f"{expr!r} reads another stack's plan than {stack}'s"
    return m.group(2)


def _environment(job: dict, stack: str) -> str | None:
    env = job.get("environment")
    env = env.get("name") if isinstance(env, dict) else env
    return None if env is None else str(env).replace("${{ matrix.stack }}", stack)


def _run_plan_step(workflow: str, tmp_path: Path, env: dict[str, str] | None = None) -> dict:
    """Run the workflow's own plan step (its `run:` text, as the runner would) and read its output."""
    step = next(s for s in _load(workflow)["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    out = tmp_path / f"{workflow}.output"
    out.unlink(missing_ok=True)
    run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "GITHUB_OUTPUT": str(out),
                              "PYTHONPATH": str(ROOT), **(env or {})})
    assert run.returncode == 0, run.stderr
    (line,) = out.read_text().splitlines()
    key, _, value = line.partition("=")
    assert key == "stacks"
    return json.loads(value)


def test_every_stack_file_is_planned_and_every_stack_job_reads_its_own_plan():
    from synth.harness import STACKS
    from tools.stack_runner import labels_variable

    for name in ("deploy.yml", "preview.yml"):
        plan = _load(name)["jobs"]["plan"]
        step = next(s for s in plan["steps"] if s.get("id") == "plan")
        assert step["run"].split() == ["python", "-m", "tools.stack_runner", "github", "--output",
                                       '"$GITHUB_OUTPUT"', *STACKS], name
        assert step["env"] == {labels_variable(s): f"${{{{ vars.{labels_variable(s)} }}}}" for s in STACKS}, name
        assert plan["outputs"] == {"stacks": "${{ steps.plan.outputs.stacks }}"}
        assert "permissions" not in plan and "environment" not in plan  # no token, no secret
        assert "secrets." not in json.dumps(plan)
    assert _load("preview.yml")["jobs"]["preview"]["strategy"]["matrix"]["stack"] == list(STACKS)
    assert {s for _, _, _, s in _stack_jobs()} == set(STACKS)
    for wf, name, job, stack in _stack_jobs():
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        assert "plan" in needs, f"{wf}/{name}"
        assert _plan_ref(job["runs-on"], stack) == "runs_on", f"{wf}/{name}"


def test_each_stack_first_checks_its_runner_before_anything_else():
    guards = set()
    for wf, name, job, stack in _stack_jobs():
        first = job["steps"][0]
        assert "uses" not in first, f"{wf}/{name}: the runner check comes before checkout and credentials"
        assert {k: _plan_ref(v, stack) for k, v in first["env"].items()} == {"REFUSAL": "refusal", "WANT_ARCH": "runner_arch"}
        guards.add(first["run"])
    assert len(guards) == 1, "one runner check, the same in every job"


@pytest.mark.parametrize("refusal, runner_arch, want_arch, fails_with", [
    ("", "ARM64", "ARM64", None),
    ("", "X64", "X64", None),
    ("", "X64", "ARM64", "this runner is X64 and the stack's nodes are ARM64"),
    ("prod's endpoint is private-only", "X64", "X64", "::error::prod's endpoint is private-only"),
])
def test_the_runner_check_stops_a_refused_stack_or_a_foreign_architecture(refusal, runner_arch, want_arch, fails_with):
    _, _, job, _ = next(_stack_jobs())
    run = subprocess.run(["bash", "-e", "-c", job["steps"][0]["run"]], capture_output=True, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", "REFUSAL": refusal, "WANT_ARCH": want_arch,
                              "RUNNER_ARCH": runner_arch})
    if fails_with is None:
        assert run.returncode == 0, run.stdout + run.stderr
    else:
        assert run.returncode != 0 and fails_with in run.stdout


def test_each_stack_builds_on_a_runner_of_its_nodes_architecture(tmp_path):
    """The workflows' plan step, run on the committed stack files: each stack job's runner is the
    GitHub-hosted one of the architecture the settings parser reads from its stack file."""
    from celestials.local.stack import load_settings

    plans = {wf: _run_plan_step(wf, tmp_path) for wf in ("deploy.yml", "preview.yml")}
    for wf, name, _, stack in _stack_jobs():
        planned = plans[wf][stack]
        arch = load_settings(ROOT, stack).node_architecture
        (label,) = planned["runs_on"]
        assert HOSTED_ARCH[label] == arch, f"{wf}/{name}: {stack}'s nodes are {arch}, its runner {label}"
        assert planned["runner_arch"] == {"amd64": "X64", "arm64": "ARM64"}[arch]
        assert planned["platform"] == f"linux/{arch}"


@pytest.mark.parametrize("labels", ["", '["self-hosted", "celestials-prod"]'])
def test_the_committed_prod_stack_stops_in_ci_with_the_reason(tmp_path, labels):
    """Its endpoint is private-only with no network let in: no runner outside its nodes reaches it,
    so its jobs fail first (a runner of its own does not change that); dev is not held up."""
    for wf in ("deploy.yml", "preview.yml"):
        planned = _run_plan_step(wf, tmp_path, {"PROD_RUNNER_LABELS": labels})
        assert "private-only and open to no network outside its VPC" in planned["prod"]["refusal"]
        assert planned["prod"]["runs_on"] == ["ubuntu-24.04"]  # a runner that exists, to say why at once
        assert planned["dev"]["refusal"] == ""


# --- each stack's passphrase: its own, in environments, handed only to the Pulumi steps ----------
PASSPHRASE = "secrets.PULUMI_CONFIG_PASSPHRASE"


def test_the_passphrase_reaches_only_pulumi_steps_of_jobs_in_an_environment():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        wf = _load(path.name)
        assert "secrets." not in json.dumps(wf.get("env", {})), f"{path.name}: a secret in the workflow's env"
        handed = 0
        for name, job in wf["jobs"].items():
            assert PASSPHRASE not in json.dumps(job.get("env", {})), f"{path.name}/{name}: the passphrase in the job's env"
            for step in job.get("steps", []):
                if PASSPHRASE not in json.dumps(step):
                    continue
                assert step.get("uses", "").startswith("pulumi/actions@"), f"{path.name}/{name}: {step.get('name')}"
                assert step["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
                assert job.get("environment"), f"{path.name}/{name}: the passphrase outside an environment"
                handed += 1
        # nowhere else in the file either (an expression in a name, a run script, another input)
        assert path.read_text().count(PASSPHRASE) == handed, path.name


def test_every_job_of_a_stack_runs_in_that_stacks_own_environment():
    """prod's passphrase lives only in prod's environments: every job that runs Pulumi on prod runs
    in one, no other stack's job runs in one, and pull-request previews never run in a deploy
    environment (whose OIDC subject the deploy roles trust)."""
    environments: dict[str, set[str]] = {}
    deploy_environments, preview_environments = set(), set()
    for wf, name, job, stack in _stack_jobs():
        env = _environment(job, stack)
        assert env in (stack, f"{stack}-preview"), f"{wf}/{name}: {stack} runs in {env!r}"
        environments.setdefault(env, set()).add(stack)
        commands = {s["with"]["command"] for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")}
        (deploy_environments if "up" in commands else preview_environments).add(env)
    assert all(len(stacks) == 1 for stacks in environments.values()), environments
    assert {e for e, s in environments.items() if "prod" in s} == {"prod", "prod-preview"}
    assert not deploy_environments & preview_environments
    for name, job in _load("preview.yml")["jobs"].items():
        assert _environment(job, "prod") != "prod", name


def test_pulumi_takes_a_missing_salt_from_the_state_wherever_it_runs():
    """A stack file without `encryptionsalt` makes Pulumi mint a new one on every runner unless it
    falls back to the secrets manager in the stack's state."""
    for wf, name, job, _ in _stack_jobs():
        workflow_env = _load(wf).get("env", {})
        for step in job["steps"]:
            if step.get("uses", "").startswith("pulumi/actions@"):
                env = {**workflow_env, **job.get("env", {}), **step.get("env", {})}
                assert env.get("PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER") == "true", f"{wf}/{name}"
