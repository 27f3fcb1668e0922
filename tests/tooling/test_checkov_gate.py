"""tools/checkov_gate.py: the pass/fail decision on checkov's JSON against the suppressions file,
on synthetic checkov reports (checkov itself lives in .venv-security, not here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tools.checkov_gate import SuppressionError, judge, parse_suppressions

from .conftest import ROOT

GATEWAY = "Deployment.prodcatalog-ns.ingress-gw"
ISTIO_GATEWAY_FILE = "/build/scan/k8s/dev-istio/manifests/prodcatalog-ns/deployment-ingress-gw.yaml"
APPMESH_GATEWAY_FILE = "/build/scan/k8s/dev-appmesh/manifests/prodcatalog-ns/deployment-ingress-gw.yaml"


def failed(check_id: str, resource: str, path: str) -> dict:
    return {"check_id": check_id, "check_name": f"name of {check_id}", "resource": resource,
            "file_path": path, "file_line_range": [1, 60]}


def report(framework: str, failures: list[dict], passed: int = 10, parsing_errors: int = 0) -> dict:
    return {"check_type": framework,
            "results": {"failed_checks": failures, "parsing_errors": ["bad.yaml"] * parsing_errors},
            "summary": {"passed": passed, "failed": len(failures), "parsing_errors": parsing_errors,
                        "resource_count": 3}}


def suppressions(*entries: dict) -> list:
    return parse_suppressions({"suppressions": list(entries)})


CPU = {"id": "CKV_K8S_11", "where": "all", "reason": "CFS throttling"}
ROFS_APPMESH = {"id": "CKV_K8S_22", "reason": "bootstrap written at start",
                "where": {"resources": [GATEWAY], "paths": ["build/scan/k8s/*-appmesh/*"]}}


def test_a_failure_covered_by_an_entry_passes():
    results = [report("kubernetes", [failed("CKV_K8S_11", "Deployment.mtls.blue", "/build/x.yaml"),
                                     failed("CKV_K8S_22", GATEWAY, APPMESH_GATEWAY_FILE)])]
    verdict = judge(results, suppressions(CPU, ROFS_APPMESH), ["kubernetes"])
    assert verdict.ok, verdict


def test_a_failure_no_entry_covers_fails_naming_check_resource_and_file():
    results = [report("kubernetes", [failed("CKV_K8S_11", "Deployment.mtls.blue", "/build/x.yaml"),
                                     failed("CKV_K8S_40", "Deployment.mtls.blue", "/build/x.yaml")])]
    verdict = judge(results, suppressions(CPU))
    assert not verdict.ok
    assert [(f.check_id, f.resource, f.path) for f in verdict.unsuppressed] == [
        ("CKV_K8S_40", "Deployment.mtls.blue", "build/x.yaml")]
    assert "CKV_K8S_40: name of CKV_K8S_40" in verdict.unsuppressed[0].message()
    assert "Deployment.mtls.blue in build/x.yaml:1-60" in verdict.unsuppressed[0].message()


def test_a_scoped_entry_does_not_cover_the_same_check_elsewhere():
    # Same check and resource on the other backend: the path scope keeps it enforced there.
    results = [report("kubernetes", [failed("CKV_K8S_22", GATEWAY, APPMESH_GATEWAY_FILE),
                                     failed("CKV_K8S_22", GATEWAY, ISTIO_GATEWAY_FILE)])]
    verdict = judge(results, suppressions(ROFS_APPMESH))
    assert [f.path for f in verdict.unsuppressed] == [ISTIO_GATEWAY_FILE.lstrip("/")]
    # ...and on another resource in the covered files.
    other = [report("kubernetes", [failed("CKV_K8S_22", "Deployment.prodcatalog-ns.prodcatalog",
                                          APPMESH_GATEWAY_FILE)])]
    assert not judge(other, suppressions(ROFS_APPMESH)).ok


def test_an_entry_that_covers_no_failure_is_stale():
    results = [report("kubernetes", [failed("CKV_K8S_11", "Deployment.mtls.blue", "/build/x.yaml")])]
    verdict = judge(results, suppressions(CPU, ROFS_APPMESH))
    assert not verdict.ok
    assert not verdict.unsuppressed
    assert [s.check_id for s in verdict.stale] == ["CKV_K8S_22"]


@pytest.mark.parametrize("entry, message", [
    ({"id": "CKV_K8S_11", "where": "all"}, "`reason` is missing"),
    ({"id": "CKV_K8S_11", "where": "all", "reason": "  "}, "`reason` is missing or empty"),
    ({"where": "all", "reason": "r"}, "`id` must name a checkov check"),
    ({"id": "CKV_K8S_11", "reason": "r"}, "`where` must be `all` or a mapping"),
    ({"id": "CKV_K8S_11", "reason": "r", "where": {"resource": ["x"]}}, "`where` must be `all` or a mapping"),
    ({"id": "CKV_K8S_11", "reason": "r", "where": {"paths": "apps/*"}}, "`where.paths` must be a list"),
    ({"id": "CKV_K8S_11", "reason": "r", "where": "all", "until": "2027"}, "unknown key(s) until"),
])
def test_an_entry_without_reason_or_scope_is_refused(entry, message):
    with pytest.raises(SuppressionError, match="suppression #2") as err:
        suppressions(CPU, entry)
    assert message in str(err.value)


def test_parsing_errors_and_a_framework_that_ran_nothing_fail():
    results = [report("kubernetes", [], parsing_errors=1), report("dockerfile", [], passed=0)]
    verdict = judge(results, [], ["kubernetes", "dockerfile", "github_actions"])
    assert not verdict.ok
    assert any("could not parse 1 file(s): bad.yaml" in p for p in verdict.problems)
    assert any(p.startswith("dockerfile: no check ran") for p in verdict.problems)
    assert any(p.startswith("github_actions: no check ran") for p in verdict.problems)


def test_a_list_of_reports_is_read_like_single_reports():
    """Checkov writes a list when one run covers several frameworks."""
    listed = [[report("kubernetes", [failed("CKV_K8S_11", "D.a.b", "/f")]), report("dockerfile", [])]]
    assert judge(listed, suppressions(CPU), ["kubernetes", "dockerfile"]).ok


def test_the_command_exits_non_zero_and_prints_the_finding(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"suppressions": [CPU]}))
    (tmp_path / "k.json").write_text(json.dumps(report("kubernetes", [
        failed("CKV_K8S_11", "D.a.b", "/f.yaml"), failed("CKV_K8S_40", GATEWAY, "/g.yaml")])))
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "checkov_gate.py"), "--suppressions",
                          str(tmp_path / "s.yaml"), "--expect", "kubernetes", str(tmp_path / "k.json")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"CKV_K8S_40: name of CKV_K8S_40\n    kubernetes resource {GATEWAY} in g.yaml:1-60" in run.stdout


def test_the_project_suppressions_file_is_well_formed():
    entries = parse_suppressions(yaml.safe_load((ROOT / "security" / "checkov-suppressions.yaml").read_text()))
    assert entries and all(len(e.reason) > 40 for e in entries)


def test_make_test_runs_both_scanners_offline_and_gates_checkov():
    plan = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed",
                           "-o", ".venv-security/.installed", "test"],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    checkov_runs = [line for line in plan.splitlines() if "/bin/checkov " in line]
    assert {f for line in checkov_runs for f in ("kubernetes", "dockerfile", "github_actions")
            if f"--framework {f}" in line} == {"kubernetes", "dockerfile", "github_actions"}
    assert all("--skip-download" in line and "-u BC_API_KEY" in line for line in checkov_runs)
    assert "-m tools.scan_manifests" in plan
    assert "tools/checkov_gate.py --suppressions security/checkov-suppressions.yaml" in plan
    assert any("/bin/zizmor --offline" in line and ".github/workflows" in line for line in plan.splitlines())
