"""The CI workflows' security and delivery properties (actionlint checks syntax; these check intent)."""

from __future__ import annotations

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
    assert jobs["prod-preview"]["needs"] == "dev" and "environment" not in jobs["prod-preview"]
    assert jobs["prod"]["needs"] == "prod-preview" and jobs["prod"]["environment"] == "prod"
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


def test_prod_jobs_can_run_where_a_private_prod_endpoint_is_reachable():
    """The committed prod stack has a private-only API (issue 13.3): its jobs take their runner
    from PROD_RUNNER_LABELS, defaulting to GitHub-hosted; dev stays GitHub-hosted."""
    deploy = _load("deploy.yml")["jobs"]
    for job in ("prod-preview", "prod"):
        assert "vars.PROD_RUNNER_LABELS" in deploy[job]["runs-on"], job
    assert deploy["dev"]["runs-on"] == "ubuntu-24.04"
    preview = _load("preview.yml")["jobs"]["preview"]["runs-on"]
    assert "matrix.stack == 'prod'" in preview and "vars.PROD_RUNNER_LABELS" in preview


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
