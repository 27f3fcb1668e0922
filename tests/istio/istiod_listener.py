"""What istiod makes of the demo's server-side TLS objects, for the one inbound filter chain they
concern, so that a real Envoy can run it (tests/mtls/test_istio_client_sans.py).

Read from istio/istio release-1.31 (tests/istio/admission.py: ISTIO_COMMIT):
* pilot/pkg/networking/core/listener_inbound.go `buildInboundChainConfigs` /
  `buildInboundListeners`: a Sidecar ingress listener with `tls` (ENABLE_TLS_ON_SIDECAR_INGRESS)
  on a port whose PeerAuthentication mode is DISABLE becomes one filter chain on the virtual
  inbound listener, matched by destination port and `transport_protocol: tls`
  (filterchain_options.go `getTLSFilterChainMatchOptions`), with the HTTP filters after TLS
  termination (HTTPS → HTTP, `AfterTLSTermination`).
* listener.go `BuildListenerTLSContext` + pilot/pkg/security/model/authentication.go
  `ApplyToCommonTLSContext`: a DownstreamTlsContext with `require_client_certificate` (MUTUAL),
  ALPN h2/http1.1, the certificate as the SDS secret `file-cert:<chain>~<key>` and a
  `combined_validation_context` whose default part carries the Sidecar's `subjectAltNames` (which
  the webhook refuses, so none) and whose dynamic part is the SDS secret `file-root:<ca>`; the
  socket is named `envoy.transport_sockets.tls` (`buildDownstreamTLSTransportSocket`).
* istio-agent (security/pkg/nodeagent/sds/sdsservice.go `toEnvoySecret`) serves those secrets from
  the mounted files: the root as a validation context holding only `trusted_ca`.
* pilot/pkg/networking/core/envoyfilter/listener_patch.go `filterChainMatch` and
  `mergeTransportSocketListener`: an EnvoyFilter FILTER_CHAIN MERGE whose transport socket has
  the chain's socket name is merged into the chain's DownstreamTlsContext (`MergeAnyWithAny`, then
  proto merge: messages field by field, repeated fields appended, scalars replaced).

Here the SDS server is replaced by files Envoy watches (`path_config_source`) with the same
secrets; everything else is the structure above.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

Obj = dict[str, Any]

DOWNSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
TLS_SOCKET = "envoy.transport_sockets.tls"


def _sds(name: str, secrets_dir: Path, secret: Obj) -> Obj:
    """An SdsSecretConfig for `name`, served from its own watched file (Envoy wants one secret per
    SDS subscription)."""
    path = secrets_dir / f"{len(list(secrets_dir.glob('*.json')))}.json"
    path.write_text(json.dumps({"resources": [{"@type": SECRET, "name": name, **secret}]}))
    return {"name": name, "sds_config": {"path_config_source": {"path": str(path)}, "resource_api_version": "V3"}}


def sidecar_tls_chain(sidecar: Obj, port: int, files: Path, secrets_dir: Path, tls_dir: str, body: str) -> Obj:
    """The inbound filter chain istiod builds from `sidecar`'s ingress listener on `port`, with
    the files of `tls_dir` read from `files`, answering every request with `body`."""
    [listener] = [i for i in sidecar["spec"]["ingress"] if i["port"]["number"] == port]
    tls = listener["tls"]

    def local(path: str) -> str:
        assert path.startswith(tls_dir + "/"), path
        return str(files / path[len(tls_dir) + 1:])

    cert = _sds(f"file-cert:{tls['serverCertificate']}~{tls['privateKey']}", secrets_dir, {"tls_certificate": {
        "certificate_chain": {"filename": local(tls["serverCertificate"])},
        "private_key": {"filename": local(tls["privateKey"])}}})
    root = _sds(f"file-root:{tls['caCertificates']}", secrets_dir, {"validation_context": {
        "trusted_ca": {"filename": local(tls["caCertificates"])}}})
    default_validation: Obj = {}
    if tls.get("subjectAltNames"):
        default_validation["match_subject_alt_names"] = [{"exact": s} for s in tls["subjectAltNames"]]
    context = {"@type": DOWNSTREAM_TLS,
               "require_client_certificate": tls["mode"] == "MUTUAL",
               "common_tls_context": {
                   "alpn_protocols": ["h2", "http/1.1"],
                   "tls_certificate_sds_secret_configs": [cert],
                   "combined_validation_context": {"default_validation_context": default_validation,
                                                   "validation_context_sds_secret_config": root}}}
    hcm = {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": HCM, "stat_prefix": f"inbound_{port}", "http_filters": [{"name": "envoy.filters.http.router",
                                                                         "typed_config": {"@type": ROUTER}}],
        "route_config": {"name": f"inbound|{port}", "virtual_hosts": [{"name": "inbound", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": body}}}]}]}}}
    return {"name": f"0.0.0.0_{port}", "filter_chain_match": {"destination_port": port, "transport_protocol": "tls"},
            "filters": [hcm], "transport_socket": {"name": TLS_SOCKET, "typed_config": context}}


def patch_applies(config_patch: Obj, chain: Obj) -> bool:
    """`filterChainMatch` for a SIDECAR_INBOUND FILTER_CHAIN patch on the virtual inbound listener."""
    match = config_patch.get("match") or {}
    if config_patch["applyTo"] != "FILTER_CHAIN" or match.get("context") not in ("SIDECAR_INBOUND", "ANY", None):
        return False
    listener = match.get("listener") or {}
    fcm = chain.get("filter_chain_match") or {}
    if listener.get("portNumber") and fcm.get("destination_port") != listener["portNumber"]:
        return False
    wanted = listener.get("filterChain") or {}
    if wanted.get("name") and wanted["name"] != chain.get("name"):
        return False
    if wanted.get("transportProtocol") and fcm.get("transport_protocol") != wanted["transportProtocol"]:
        return False
    return True


def proto_merge(dst: Any, src: Any) -> Any:
    """Protobuf merge on protojson values: messages field by field, lists appended, scalars
    replaced; an Any merges only into an Any of the same type (MergeAnyWithAny)."""
    if isinstance(dst, dict) and isinstance(src, dict):
        if "@type" in dst or "@type" in src:
            if dst.get("@type") != src.get("@type"):
                raise ValueError(f"cannot merge {src.get('@type')} into {dst.get('@type')}")
        out = dict(dst)
        for key, value in src.items():
            out[key] = proto_merge(dst[key], value) if key in dst else copy.deepcopy(value)
        return out
    if isinstance(dst, list) and isinstance(src, list):
        return dst + copy.deepcopy(src)
    return copy.deepcopy(src)


def apply_envoy_filter(chain: Obj, envoy_filter: Obj) -> Obj:
    """The chain after every MERGE patch of `envoy_filter` that matches it (mergeTransportSocketListener)."""
    out = copy.deepcopy(chain)
    for cp in envoy_filter["spec"]["configPatches"]:
        if not patch_applies(cp, out) or cp["patch"]["operation"] != "MERGE":
            continue
        socket = cp["patch"]["value"]["transport_socket"]
        if socket["name"] != out["transport_socket"]["name"]:
            raise ValueError(f"patch socket {socket['name']} is not the chain's {out['transport_socket']['name']}: "
                             "istiod would replace the whole socket")
        out["transport_socket"]["typed_config"] = proto_merge(out["transport_socket"]["typed_config"],
                                                              socket["typed_config"])
    return out
