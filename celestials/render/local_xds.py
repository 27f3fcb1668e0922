"""One rendered Envoy as the files it runs from: a bootstrap that never changes with the settings,
and the routes, listeners and clusters as xDS files Envoy watches.

Envoy reloads a `path_config_source` file when a new file is *moved* onto it, and applies the
change in place, as a control plane's push would: a new canary weight is a new route configuration
(RDS; connections and listeners stay), a new trust is a new cluster TLS context (CDS; the cluster
is replaced, requests in flight finish on the old one). So `make local-reconfigure` rewrites files
instead of restarting Envoys, and is as hitless as the cluster is. Only what no setting changes
stays in the bootstrap: admin, runtime, and the clusters to the Envoy's own app and the trace sink
(static, so the tracer's cluster exists before any listener asks for it).

Pure: the full configuration from `local_envoy` and the plan in, file path → JSON document out.
Every document carries `version_info` = a digest of its resources, which Envoy reports back in
`/config_dump`, so the runner can tell when a file has been applied.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .local_envoy import LOCAL_APP_CLUSTER, TRACE_SINK_CLUSTER
from .local_plan import LocalPlan

LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ROUTE_CONFIGURATION = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
_HCM_FILTER = "envoy.filters.network.http_connection_manager"
#: Clusters that depend on no setting but tracing (which changes the bootstrap anyway).
_STATIC_CLUSTERS = (LOCAL_APP_CLUSTER, TRACE_SINK_CLUSTER)


@dataclass(frozen=True)
class EnvoyFiles:
    """What the runner writes for one Envoy. `xds` is in a safe write order: clusters first (routes
    may name a new cluster), then route configurations, then listeners (which name the routes)."""

    bootstrap: dict[str, Any]
    xds: dict[str, dict[str, Any]]


def envoy_files(process: str, config: dict[str, Any], plan: LocalPlan) -> EnvoyFiles:
    static = config["static_resources"]
    clusters = [c for c in static["clusters"] if c["name"] not in _STATIC_CLUSTERS]
    listeners = copy.deepcopy(static["listeners"])
    routes: dict[str, dict[str, Any]] = {}
    for listener in listeners:
        for chain in listener["filter_chains"]:
            for network_filter in chain["filters"]:
                if network_filter["name"] == _HCM_FILTER:
                    hcm = network_filter["typed_config"]
                    route_config = hcm.pop("route_config")
                    name = route_config["name"]
                    path = plan.xds_file(process, f"rds-{name}")
                    if path in routes and routes[path] != route_config:
                        raise ValueError(f"{process}: two different route configurations are named {name!r}")
                    routes[path] = route_config
                    hcm["rds"] = {"route_config_name": name, "config_source": _file_source(path)}
    xds = {plan.xds_file(process, "cds"): _discovery(CLUSTER, clusters)}
    xds.update({path: _discovery(ROUTE_CONFIGURATION, [rc]) for path, rc in sorted(routes.items())})
    xds[plan.xds_file(process, "lds")] = _discovery(LISTENER, listeners)
    bootstrap = {k: v for k, v in config.items() if k != "static_resources"}
    bootstrap["static_resources"] = {"clusters": [c for c in static["clusters"] if c["name"] in _STATIC_CLUSTERS]}
    bootstrap["dynamic_resources"] = {"cds_config": _file_source(plan.xds_file(process, "cds")),
                                      "lds_config": _file_source(plan.xds_file(process, "lds"))}
    return EnvoyFiles(bootstrap, xds)


def _file_source(path: str) -> dict[str, Any]:
    # No watched_directory: Envoy then watches this path itself for moves, so renaming one file
    # onto it reloads that file alone.
    return {"path_config_source": {"path": path}, "resource_api_version": "V3"}


def _discovery(type_url: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    typed = [{"@type": type_url, **r} for r in resources]
    version = hashlib.sha256(json.dumps(typed, sort_keys=True).encode()).hexdigest()[:16]
    return {"version_info": version, "resources": typed}
