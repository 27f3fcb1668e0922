"""The containers each mesh injects into our pods, by name: our own containers must not take these
names (the renderers refuse it), and the guardrails except them from the container rules, because
the mesh renders them at admission from its own settings. Standard library only: the policy pack
imports it."""

from __future__ import annotations

#: Istio's injector: the sidecar, the traffic-redirection init container, Istio CNI's validation.
ISTIO = ("istio-proxy", "istio-init", "istio-validation")
#: App Mesh's injector: the proxy, the X-Ray daemon, the traffic-redirection init container.
APP_MESH = ("envoy", "xray-daemon", "proxyinit")
