"""Write the catalogue's pins (celestials/artifacts.py) into README.md and docs/*.md.

Prose names a pinned version only inside a marker, `<!-- pin:NAME -->value<!-- /pin -->`, and
the artifact table lives between `<!-- artifacts:table -->` and `<!-- /artifacts:table -->`; this
tool rewrites both from the catalogue (`make docs-pins`), and tests/platform/test_docs_pins.py
fails when a file is stale or names a version outside a marker.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from celestials import artifacts, eks_versions

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/istio.md", "docs/appmesh.md", "docs/platform.md", "docs/mtls.md", "docs/local.md")
PIN = re.compile(r"<!-- pin:(?P<name>[a-z-]+) -->(?P<value>.*?)<!-- /pin -->")
TABLE = re.compile(r"(<!-- artifacts:table -->\n)(?P<body>.*?)(<!-- /artifacts:table -->)", re.S)


def pins() -> dict[str, str]:
    """Marker name → the value it shows."""
    return {
        "istio": artifacts.ISTIO.version,
        "istio-minor": artifacts.ISTIO.minor,
        "istio-charts": artifacts.ISTIO.chart_repository,
        "istio-images": artifacts.ISTIO.image_hub,
        "gateway-api": artifacts.GATEWAY_API.tag,
        "gateway-api-istio": artifacts.ISTIO.built_against_gateway_api,
        "collector-chart": artifacts.OTEL_COLLECTOR_CHART.version,
        "collector-image": artifacts.OTEL_COLLECTOR_IMAGE.tag,
        "appmesh-chart": artifacts.APPMESH_CONTROLLER_CHART.version,
        "node-image": artifacts.NODE.image.ref,
        "python-image": artifacts.PYTHON.image.ref,
        "node": artifacts.NODE.version,
        "python-minor": artifacts.PYTHON.minor,
    }


def _yes(confirmed: bool) -> str:
    return "yes" if confirmed else "**no**: confirm before a first deploy"


def table() -> str:
    rows = ["| what | artifact | pin | fetched from | source | confirmed |", "| --- | --- | --- | --- | --- | --- |"]
    for c in artifacts.helm_charts():
        rows.append(f"| Helm chart | `{c.chart}` | {c.version} | {c.repository} | {c.source} | {_yes(c.confirmed)} |")
    for i in artifacts.images():
        rows.append(f"| image | `{i.repository}` | {i.tag} | {i.repository.split('/')[0]} | {i.source} | {_yes(i.confirmed)} |")
    g = artifacts.GATEWAY_API
    rows.append(f"| Kubernetes manifests | Gateway API {g.channel} channel ({len(g.files)} files, sha256 each in "
                f"`celestials/artifacts.py`) | {g.tag} | raw.githubusercontent.com/kubernetes-sigs/gateway-api | "
                f"tag {g.tag} (commit {g.commit[:8]}) | yes |")
    for i in artifacts.BASE_IMAGES:
        rows.append(f"| base image | `{i.repository}` | {i.tag} | Docker Hub | {i.source} | {_yes(i.confirmed)} |")
    for name in artifacts.NODE_BINARY_PACKAGES:
        rows.append(f"| tests' Node (npm package) | `{name}` | {artifacts.NODE.version} | registry.npmjs.org | "
                    "the base image's Node, by integrity in tools/node/package-lock.json | yes |")
    rows.append(f"| tests' npm (npm package) | `npm` | {artifacts.NPM} | registry.npmjs.org | "
                "the newest npm 11 (Node 26's), by integrity in tools/node/package-lock.json | yes |")
    for a in artifacts.GITHUB_ACTIONS:
        rows.append(f"| GitHub Action | `{a.name}` | {a.tag} (`{a.sha[:12]}`) | github.com | pinned by commit SHA | yes |")
    rows.append(f"| CLI | Pulumi CLI (workflows' `pulumi-version`) | {artifacts.PULUMI_CLI} | get.pulumi.com | "
                "the SDK floor in requirements.txt | yes |")
    for r in eks_versions.RELEASES:
        for name, version in r.addons.items():
            rows.append(f"| EKS add-on for {r.version} | `{name}` | {version} | EKS API | "
                        f"celestials/eks_versions.py (sources there) | {_yes(name in r.confirmed)} |")
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    values = pins()

    def pin(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in values:
            raise KeyError(f"unknown pin marker {name!r} (known: {', '.join(values)})")
        return f"<!-- pin:{name} -->{values[name]}<!-- /pin -->"

    text = PIN.sub(pin, text)
    return TABLE.sub(lambda m: m.group(1) + table() + m.group(3), text)


def rewrite_docs(render_doc: Callable[[str], str], description: str, argv: list[str] | None = None) -> int:
    """The generators' command line: rewrite every doc with `render_doc`, or with --check only say
    which are stale (exit 1)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name in DOCS:
        path = ROOT / name
        text = path.read_text()
        new = render_doc(text)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    if stale:
        print(("stale: " if args.check else "updated: ") + ", ".join(stale), file=sys.stderr)
    return 1 if stale and args.check else 0


def main(argv: list[str] | None = None) -> int:
    return rewrite_docs(render, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
