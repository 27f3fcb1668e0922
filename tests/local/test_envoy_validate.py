"""Every Envoy config the rehearsal can generate passes `envoy --mode validate` (Envoy's own parser,
the files it references included: certificates, trust bundles, access-log paths). Validate mode
does not read xDS files, so each Envoy's whole configuration is checked as one static bootstrap,
and the bootstrap it really starts from (pointing at its xDS files) is checked as well."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from celestials.local.rehearsal import Rehearsal, find_tools

SETTINGS = [{"canaryWeight": w, "mtlsTrust": t, "tracing": tr}
            for w, t, tr in [(0, "ca1", True), (50, "ca1", True), (100, "ca1+ca2", True), (50, "ca1+ca2", False)]]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Distinct configs over the settings that change them, written with their PKI files."""
    configs: dict[str, tuple[str, str]] = {}
    for i, overrides in enumerate(SETTINGS):
        rehearsal = Rehearsal(overrides=overrides, root=tmp_path_factory.mktemp(f"render{i}"), net=79)
        rendered = rehearsal.render()
        rehearsal.write_files(rendered)
        for name, config in rendered.configs.items():
            text = json.dumps(config, sort_keys=True)
            whole = Path(rendered.plan.path("envoy", f"{name}.whole.json"))
            whole.write_text(text)
            configs.setdefault(text, (f"{name} {overrides}", str(whole)))
            bootstrap = Path(rendered.plan.envoy_config(name)).read_text()
            configs.setdefault(bootstrap, (f"{name} bootstrap {overrides}", rendered.plan.envoy_config(name)))
    return sorted(configs.values())


def test_every_generated_config_passes_envoy_validate(generated):
    envoy = find_tools().envoy
    assert len(generated) >= 19  # 9 Envoys, plus the variants weights, trust and tracing make, + bootstraps
    failures = []
    for label, path in generated:
        result = subprocess.run([envoy, "--mode", "validate", "-c", path, "--log-level", "error"],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0 or "OK" not in result.stdout:
            failures.append(f"{label}: {result.stdout.strip()} {result.stderr.strip()[-500:]}")
    assert not failures, "\n".join(failures)


def test_validate_rejects_a_broken_config(generated, tmp_path):
    """The check above can fail: a weighted route to a cluster that does not exist is refused."""
    _, path = next(g for g in generated if g[0].startswith("prodcatalog-envoy {"))
    config = json.loads(Path(path).read_text())
    listener = next(x for x in config["static_resources"]["listeners"] if x["name"] == "outbound-proddetail")
    route = listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]["routes"][0]
    route["route"]["weighted_clusters"]["clusters"][0]["name"] = "proddetail-v9"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(config))
    result = subprocess.run([find_tools().envoy, "--mode", "validate", "-c", str(broken), "--log-level", "error"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "proddetail-v9" in result.stdout + result.stderr
