"""istiod's validating webhook, for the Istio kinds the program renders: what the API server would
ask istiod before storing an object, beyond the CRD schema.

Read from istio/istio branch `release-1.31` at a8d7012191ebf42bacd48fa72b32a05828e4c564
(2026-08-20, the 1.31.0 release day; the stored snapshot has no 1.31.1 tag, and the CRDs in
../shared/reference/istio-1.31 come from the same commit): pkg/config/validation/validation.go
(`validateMetadata`, `ValidateSidecar`, `validateTLSOptions`, `ValidateDestinationRule`,
`validateTrafficPolicy`, `validateExportTo`, `validateWorkloadSelector`,
`ValidateAlphaWorkloadSelector`, `validateOneOfSelectorType`, `validatePolicyTargetReference`,
`ValidatePeerAuthentication`, `ValidateAuthorizationPolicy`, `ValidateTelemetry`,
`validateTelemetryTracing`), pkg/config/validation/agent/validation.go (`ValidateTLS`,
`ValidateWildcardDomain`, `ValidatePort`, `ValidateIPAddress`),
pkg/config/validation/envoyfilter/envoyfilter.go (`ValidateEnvoyFilter`),
pkg/config/security/security.go (`CheckEmptyValues`, `CheckServiceAccount`, `ValidatePorts`,
`ValidateIPs`), pkg/config/visibility (`Instance.Validate`), pkg/config/protocol (`Parse`, `IsTLS`)
and pkg/config/labels (`IsDNS1123Label`, `IsWildcardDNS1123Label`).

Not a port of those files: each kind judges the fields listed in `JUDGED` (every field the program
sets, and the ones it might be tempted to set, such as `subjectAltNames` or `credentialName` in a
Sidecar's ingress TLS), each rule cites the Go function it follows and returns istiod's
message (where Go prints a parse error, such as a bad regex's, the text is Python's). An object
that uses any other field is refused as "not judged", so a new field cannot pass unexamined: add
istiod's rules for it here first.

One rule is stricter than istiod: an EnvoyFilter patch value with a field the xDS type lacks is
only a warning for istiod (it unmarshals leniently and drops the field), so a misspelt SAN matcher
would silently not pin anything; here it is an error. Whether the value really is the Envoy type
is proven by Envoy's own parser in tests/mtls/test_istio_client_sans.py.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

Obj = dict[str, Any]

ISTIO_COMMIT = "a8d7012191ebf42bacd48fa72b32a05828e4c564"

_DNS1123_LABEL = re.compile(r"^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$")
_WILDCARD_PREFIX = re.compile(r"^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$")
#: pkg/config/protocol Parse (lower-cased names; anything else is UnsupportedProtocol).
_PROTOCOLS = {"tcp", "udp", "grpc", "grpc-web", "http", "http_proxy", "http2", "https", "tls", "mongo", "redis",
              "mysql"}
_TLS_PROTOCOLS = {"https", "tls"}
#: constants.AlwaysReject, InternalParentNamespace, InternalParentNames.
_ALWAYS_REJECT = "internal.istio.io/webhook-always-reject"
_INTERNAL_ANNOTATIONS = ("internal.istio.io/parent-namespace", "internal.istio.io/parents")
_DRY_RUN = "istio.io/dry-run"
#: warning istiod returns for every EnvoyFilter (ValidateEnvoyFilter).
ENVOY_FILTER_WARNING = ("EnvoyFilter exposes internal implementation details that may change at any time. "
                        "Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.")


@dataclass
class Verdict:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def is_dns1123_label(value: str) -> bool:
    """labels.IsDNS1123Label."""
    return len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def _dns1123_labels(domain: str) -> str | None:
    """agent.ValidateDNS1123Labels."""
    parts = domain.split(".")
    if parts[-1].isdigit():
        return f"domain name {domain!r} invalid (top level domain {parts[-1]!r} cannot be all-numeric)"
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            return None
        if not is_dns1123_label(label):
            return f"domain name {domain!r} invalid (label {label!r} invalid)"
    return None


def wildcard_domain(domain: str) -> str | None:
    """agent.ValidateWildcardDomain (with CheckDNS1123Preconditions)."""
    if len(domain) > 255:
        return f"domain name {domain!r} too long (max 255)"
    if not domain:
        return "empty domain name not allowed"
    first, _, rest = domain.partition(".")
    if not (len(first) <= 63 and _WILDCARD_PREFIX.match(first)):
        return f"domain name {domain!r} invalid (label {first!r} invalid)"
    return _dns1123_labels(rest) if "." in domain else None


def _port(port: Any) -> str | None:
    """agent.ValidatePort."""
    if isinstance(port, int) and 1 <= port <= 65535:
        return None
    return f"port number {port} must be in the range 1..65535"


def _ip(addr: str) -> str | None:
    """agent.ValidateIPAddress."""
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        return f"{addr} is not a valid IP"
    return None


# --- fields each kind judges ---------------------------------------------------------------------
#: spec paths (dots; `[]` a list item, `*` any map key) whose rules this module implements; a
#: path ending in `~` accepts anything below it (judged by its own function).
JUDGED: dict[str, tuple[str, ...]] = {
    "Sidecar": (
        "workloadSelector.labels.*",
        "ingress[].port.number", "ingress[].port.protocol", "ingress[].port.name", "ingress[].port.targetPort",
        "ingress[].bind", "ingress[].defaultEndpoint",
        *(f"ingress[].tls.{f}" for f in ("mode", "serverCertificate", "privateKey", "caCertificates", "caCrl",
                                        "subjectAltNames[]", "httpsRedirect", "credentialName", "credentialNames[]",
                                        "tlsCertificates~")),
    ),
    "DestinationRule": (
        "host", "exportTo[]", "workloadSelector.matchLabels.*",
        *(f"trafficPolicy.tls.{f}" for f in ("mode", "clientCertificate", "privateKey", "caCertificates",
                                            "subjectAltNames[]", "sni", "credentialName", "insecureSkipVerify",
                                            "caCrl")),
    ),
    "PeerAuthentication": ("selector.matchLabels.*", "mtls.mode", "portLevelMtls.*.mode"),
    "AuthorizationPolicy": (
        "selector.matchLabels.*", "action", "provider.name", "targetRef~", "targetRefs~",
        *(f"rules[].from[].source.{f}[]" for f in ("principals", "notPrincipals", "namespaces", "notNamespaces",
                                                  "serviceAccounts", "notServiceAccounts", "requestPrincipals",
                                                  "notRequestPrincipals", "ipBlocks", "notIpBlocks",
                                                  "remoteIpBlocks", "notRemoteIpBlocks")),
        *(f"rules[].to[].operation.{f}[]" for f in ("ports", "notPorts", "methods", "notMethods", "hosts",
                                                   "notHosts")),
    ),
    "Telemetry": ("selector.matchLabels.*", "targetRef~", "targetRefs~", "tracing[].providers[].name",
                  "tracing[].randomSamplingPercentage", "tracing[].disableSpanReporting"),
    "EnvoyFilter": (
        "workloadSelector.labels.*", "priority",
        "configPatches[].applyTo", "configPatches[].match.context", "configPatches[].match.proxy.proxyVersion",
        *(f"configPatches[].match.listener.{f}" for f in (
            "portNumber", "name", "filterChain.transportProtocol", "filterChain.name", "filterChain.sni",
            "filterChain.applicationProtocols", "filterChain.destinationPort", "filterChain.filter.name",
            "filterChain.filter.subFilter.name")),
        "configPatches[].patch.operation", "configPatches[].patch.value~",
    ),
}


def _leaf_paths(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            k = str(k).replace(".", "\u00b7")  # a map key (a label) may hold dots
            yield from _leaf_paths(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list) and value:
        for v in value:
            yield from _leaf_paths(v, f"{path}[]")
    else:
        yield path, value


def _pattern(pattern: str) -> re.Pattern[str]:
    regex = re.escape(pattern.rstrip("~")).replace(r"\*", r"[^.\[\]]*")
    return re.compile(regex + (r"((\.|\[\]).*)?" if pattern.endswith("~") else ""))


def _prefixes(pattern: str) -> list[str]:
    """`a.b[].c` → `a`, `a.b`, `a.b[]`, `a.b[].c`: where an empty map or list may stand."""
    parts = re.split(r"(\.|\[\])", pattern.rstrip("~"))
    return ["".join(parts[:i + 1]) for i in range(len(parts)) if parts[i] not in (".", "")]


def _judged(path: str, patterns: tuple[str, ...], empty: bool) -> bool:
    candidates = [q for p in patterns for q in (_prefixes(p) if empty else [p])]
    return any(_pattern(p).fullmatch(path) for p in candidates) or \
        any(_pattern(p).fullmatch(path) for p in patterns if p.endswith("~"))


def unjudged_fields(obj: Obj) -> list[str]:
    patterns = JUDGED[obj["kind"]]
    return sorted({f"spec.{path}" for path, value in _leaf_paths(obj.get("spec") or {})
                   if path and not _judged(path, patterns, value in ({}, []))})


# --- shared rules --------------------------------------------------------------------------------
def _metadata(obj: Obj, v: Verdict) -> bool:
    """validateMetadata (and checkDryRunAnnotation); False when istiod stops there."""
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    where = f"{meta.get('namespace')}/{meta.get('name')}"
    if _DRY_RUN in annotations:
        if obj["kind"] != "AuthorizationPolicy":
            v.error(f"{where} has unsupported annotation {_DRY_RUN}, please remove the annotation")
            return False
        action = (obj.get("spec") or {}).get("action", "ALLOW")
        if action not in ("ALLOW", "DENY"):
            v.error(f"the annotation {_DRY_RUN} currently only supports action ALLOW/DENY, found action {action} in {where}")
            return False
        if str(annotations[_DRY_RUN]) not in ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false",
                                              "False"):  # strconv.ParseBool
            value = annotations[_DRY_RUN]
            v.error(f'{where} has annotation {_DRY_RUN} with invalid value ({value}): strconv.ParseBool: parsing '
                    f'"{value}": invalid syntax')
            return False
    if _ALWAYS_REJECT in annotations:
        v.error(f'"{_ALWAYS_REJECT}" annotation found, rejecting')
        return False
    for internal in _INTERNAL_ANNOTATIONS:
        if internal in annotations:
            v.error(f'"{internal}" annotation found, this may not be set by users')
            return False
    return True


def _labels_selector(labels: dict | None, v: Verdict, warning: str) -> None:
    """validateWorkloadSelector / ValidateAlphaWorkloadSelector."""
    if labels is None:
        return
    for key, value in labels.items():
        if key == "":
            v.error(f'empty key is not supported in selector: "{key}={value}"')
        if "*" in key or "*" in str(value):
            v.error(f'wildcard is not supported in selector: "{key}={value}"')
    if not labels:
        v.warn(warning)


def _target_refs(spec: Obj, v: Verdict) -> None:
    """validateOneOfSelectorType, validatePolicyTargetReference(s)."""
    refs = ([spec["targetRef"]] if spec.get("targetRef") else []) + list(spec.get("targetRefs") or [])
    if sum(1 for present in (spec.get("selector") is not None, bool(spec.get("targetRef")), bool(spec.get("targetRefs")))
           if present) > 1:
        v.error("only one of targetRefs or workloadSelector can be set")
    allowed = (("core", "Service"), ("networking.istio.io", "ServiceEntry"), ("gateway.networking.k8s.io", "Gateway"),
               ("gateway.networking.k8s.io", "GatewayClass"))  # allowedTargetRefs (istiod prints their GVKs)
    for ref in refs:
        if not ref.get("name"):
            v.error("targetRef name must be set")
        if ref.get("namespace"):
            v.error("targetRef namespace must not be set; cross namespace referencing is not supported")
        if (ref.get("group") or "core", ref.get("kind")) not in allowed:
            v.error(f"targetRef must be to one of [{' '.join('/'.join(a) for a in allowed)}] "
                    f"but was {ref.get('group', '')}/{ref.get('kind')}")


def _server_tls_options(tls: Obj, v: Verdict) -> None:
    """validateTLSOptions (the cipher-suite warnings need `cipherSuites`, which is not judged)."""
    mode = tls.get("mode", "PASSTHROUGH")
    if mode == "ISTIO_MUTUAL":
        for key, what in (("serverCertificate", "server certificate"), ("privateKey", "private key"),
                          ("caCertificates", "CA bundle"), ("tlsCertificates", "tlsCertificates"),
                          ("credentialName", "credentialName"), ("credentialNames", "credentialNames")):
            if tls.get(key):
                v.error(f"ISTIO_MUTUAL TLS cannot have associated {what}")
        return
    if mode in ("PASSTHROUGH", "AUTO_PASSTHROUGH") and any(
            tls.get(k) for k in ("caCrl", "serverCertificate", "privateKey", "caCertificates", "tlsCertificates",
                                 "credentialName", "credentialNames")):
        v.warn(f"{mode} mode does not use certificates, they will be ignored")
    sources = sum(bool(x) for x in (tls.get("serverCertificate") and tls.get("privateKey"), tls.get("credentialName"),
                                    tls.get("credentialNames"), tls.get("tlsCertificates")))
    if sources > 1:
        v.error("only one of credential_name, credential_names, server_certificate/private_key, tls_certificates "
                "should be specified")
    if mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL") and (tls.get("credentialName") or tls.get("credentialNames")):
        return
    if mode in ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"):
        prefix = "SIMPLE TLS"
        if mode in ("MUTUAL", "OPTIONAL_MUTUAL"):
            prefix = "MUTUAL TLS"
            if not tls.get("caCertificates"):
                v.error(f"{prefix} requires a client CA bundle")
        certs = tls.get("tlsCertificates") or [{"serverCertificate": tls.get("serverCertificate"),
                                                 "privateKey": tls.get("privateKey")}]
        if len(tls.get("tlsCertificates") or []) > 2:
            v.warn(f"{prefix} can support up to 2 server certificates")
        for cert in certs:
            if not cert.get("serverCertificate"):
                v.error(f"{prefix} requires a server certificate")
            if not cert.get("privateKey"):
                v.error(f"{prefix} requires a private key")
    if tls.get("caCrl"):
        if tls.get("credentialName"):
            v.error("CRL is not supported with credentialName. CRL has to be specified in the credential")
        if mode == "SIMPLE":
            v.error("CRL is not supported with SIMPLE TLS")


# --- kinds ---------------------------------------------------------------------------------------
def validate_sidecar(obj: Obj, v: Verdict) -> None:
    """ValidateSidecar (ingress listeners, validateSidecarIngressPortAndBind, validateTLSOptions)."""
    spec = obj.get("spec") or {}
    selector = spec.get("workloadSelector")
    before = len(v.errors)
    _labels_selector(None if selector is None else selector.get("labels") or {}, v,
                     "sidecar: workload selector specified without labels, will be applied to all services in namespace")
    if len(v.errors) > before:
        return  # istiod returns the selector's error alone
    if not any(spec.get(k) for k in ("egress", "ingress", "outboundTrafficPolicy", "inboundConnectionPool")):
        v.error("sidecar: empty configuration provided")
        return
    ports: set[int] = set()
    for listener in spec.get("ingress") or []:
        if listener is None:
            v.error("sidecar: ingress may not be null")
            continue
        port = listener.get("port")
        if port is None:
            v.error("sidecar: port is required for ingress listeners")
            continue
        if port.get("targetPort", 0) > 0:
            v.error("targetPort has no impact on Sidecars")
        if port.get("name") and not is_dns1123_label(port["name"]):
            v.error(f"invalid port name: {port['name']}")
        if port.get("protocol") and port["protocol"].lower() not in _PROTOCOLS:
            v.error(f"unsupported protocol: {port['protocol']}")
        if (problem := _port(port.get("number", 0))) is not None:
            v.error(problem)
        if listener.get("bind") and (problem := _ip(listener["bind"])) is not None:
            v.error(problem)
        if port.get("number") in ports:
            v.error("sidecar: ports on IP bound listeners must be unique")
        ports.add(port.get("number"))
        _default_endpoint(listener.get("defaultEndpoint", ""), v)
        tls = listener.get("tls")
        if tls is not None:
            if tls.get("subjectAltNames"):
                v.error("sidecar: subjectAltNames is not supported in ingress tls")
            if tls.get("httpsRedirect"):
                v.error("sidecar: httpsRedirect is not supported")
            if tls.get("credentialName"):
                v.error("sidecar: credentialName is not currently supported")
            if tls.get("credentialNames"):
                v.error("sidecar: credentialNames is not currently supported")
            if tls.get("tlsCertificates"):
                v.error("sidecar: tls_certificates is not currently supported")
            if tls.get("mode") in ("ISTIO_MUTUAL", "AUTO_PASSTHROUGH"):
                v.error(f"configuration is invalid: cannot set mode to {tls['mode']} in sidecar ingress tls")
            if (port.get("protocol") or "").lower() not in _TLS_PROTOCOLS:
                v.error("server cannot have TLS settings for non HTTPS/TLS ports")
            _server_tls_options(tls, v)


def _default_endpoint(endpoint: str, v: Verdict) -> None:
    """ValidateSidecar's defaultEndpoint: 127.0.0.1|0.0.0.0|[::1]|[::]:<port> or unix://."""
    if not endpoint or endpoint.startswith("unix://"):
        if endpoint == "unix://":
            v.error("unix address must not be empty")
        return
    host, sep, port = endpoint.rpartition(":")
    if not sep:
        v.error(f"address {endpoint}: missing port in address")
        return
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host not in ("", "127.0.0.1", "0.0.0.0", "::1", "::"):
        v.error("sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,"
                "unix://filepath or unset")
    if not port.isdigit():
        v.error(f"sidecar: defaultEndpoint port ({port}) is not a number")
    elif (problem := _port(int(port))) is not None:
        v.error(problem)


def _client_tls(tls: Obj | None, namespace: str, v: Verdict) -> None:
    """agent.ValidateTLS (ClientTLSSettings)."""
    if tls is None:
        return
    mode = tls.get("mode", "DISABLE")
    credential = tls.get("credentialName", "")
    if credential.startswith("configmap://"):
        ref = credential[len("configmap://"):]
        ref_ns = ref.split("/", 1)[0] if "/" in ref else namespace
        if ref_ns != namespace or not namespace:
            v.error(f'invalid configmap:// credentialName: namespace must match the configuration namespace "{namespace}"')
    if tls.get("insecureSkipVerify"):
        if mode == "SIMPLE" and (tls.get("caCertificates") or credential or "subjectAltNames" in tls):
            v.error("cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true")
        if mode == "MUTUAL" and (tls.get("caCertificates") or "subjectAltNames" in tls):
            v.error("cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true")
    if mode in ("SIMPLE", "MUTUAL") and credential:
        if any(tls.get(k) for k in ("clientCertificate", "caCertificates", "privateKey", "caCrl")):
            v.error("cannot specify client certificates or CA certificate or CA CRL If credentialName is set")
        return
    if mode == "MUTUAL":
        if not tls.get("clientCertificate"):
            v.error("client certificate required for mutual tls")
        if not tls.get("privateKey"):
            v.error("private key required for mutual tls")


def _export_to(namespace: str, export_to: list[str], with_selector: bool, v: Verdict) -> None:
    """validateExportTo (not a ServiceEntry) with visibility.Instance.Validate."""
    seen: set[str] = set()
    for entry in export_to:
        key = namespace if entry == "." else entry
        if key in seen:
            v.error(f"duplicate entries in exportTo: . and current namespace {namespace}" if key != entry
                    else f"duplicate entries in exportTo for entry {entry}")
            continue
        if key == "~":
            v.error("exportTo ~ (none) is not allowed for Istio configuration objects")
        elif key != "*" and not is_dns1123_label(key):
            v.error("only .,*, or a valid DNS 1123 label is allowed as exportTo entry")
        else:
            seen.add(key)
    if with_selector and seen:
        if namespace in seen:
            if len(seen) > 1:
                v.error("destination rule with workload selector cannot have multiple entries in exportTo")
        else:
            v.error("destination rule with workload selector cannot have exportTo beyond current namespace")
    if "*" in seen and len(export_to) > 1:
        v.error("cannot have both public (*) and non-public exportTo values for a resource")


_TRAFFIC_POLICY_FIELDS = ("outlierDetection", "connectionPool", "loadBalancer", "tls", "portLevelSettings", "tunnel",
                          "proxyProtocol", "retryBudget")


def validate_destination_rule(obj: Obj, v: Verdict) -> None:
    """ValidateDestinationRule (host, trafficPolicy.tls, exportTo, workloadSelector)."""
    spec = obj.get("spec") or {}
    namespace = obj["metadata"].get("namespace", "")
    if (problem := wildcard_domain(spec.get("host", ""))) is not None:
        v.error(problem)
    policy = spec.get("trafficPolicy")
    if policy is not None:
        if not any(policy.get(k) is not None for k in _TRAFFIC_POLICY_FIELDS):
            v.error("traffic policy must have at least one field")
        elif policy.get("tunnel") is not None and policy.get("proxyProtocol") is not None:
            v.error("tunnel and proxyProtocol must not be set together")
        else:
            _client_tls(policy.get("tls"), namespace, v)
    selector = spec.get("workloadSelector")
    _export_to(namespace, spec.get("exportTo") or [], selector is not None, v)
    _labels_selector(None if selector is None else selector.get("matchLabels") or {}, v,
                     "workload selector specified without labels")


def validate_peer_authentication(obj: Obj, v: Verdict) -> None:
    """ValidatePeerAuthentication."""
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    levels = spec.get("portLevelMtls")
    if (selector is None or not selector.get("matchLabels")) and levels:
        v.error("mesh/namespace peer authentication cannot have port level mTLS")
    if levels is not None and not levels:
        v.error("port level mTLS, if defined, must have at least one element")
    for port in levels or {}:
        if not (str(port).isdigit() and 1 <= int(port) <= 65535):
            v.error("port must be in range 1..65535")
    _labels_selector(None if selector is None else selector.get("matchLabels") or {}, v,
                     "workload selector specified without labels")


_SOURCE_FIELDS = ("principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "notPrincipals",
                  "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks", "serviceAccounts",
                  "notServiceAccounts", "trustDomains", "notTrustDomains")
_OPERATION_FIELDS = ("ports", "methods", "paths", "hosts", "notPorts", "notMethods", "notPaths", "notHosts")


def _ips(values: list[str]) -> str | None:
    """security.ValidateIPs."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False) if "/" in value else ipaddress.ip_address(value)
        except ValueError:
            return f"invalid IP address or CIDR range: {value}"
    return None


def _service_accounts(key: str, values: list[str]) -> str | None:
    """security.CheckServiceAccount."""
    if len(values) > 16:
        return "may not have more than 16 values"
    for value in values:
        if value == "":
            return f"empty value not allowed, found in {key}"
        if "*" in value:
            return f"wildcard not allowed, found in {key}"
        if value.count("/") not in (0, 1):
            return f"expected format 'serviceAccount' or 'namespace/serviceAccount', found {value!r} in {key}"
        if len(value) > 320:
            return f"value cannot exceed 320 characters, found {value!r} in {key}"
        namespace, slash, sa = value.partition("/")
        if slash and not namespace:
            return f"expected format 'serviceAccount' or 'namespace/serviceAccount', found empty namespace {value!r} in {key}"
        if slash and not sa:
            return (f"expected format 'serviceAccount' or 'namespace/serviceAccount', found empty serviceAccount "
                    f"{value!r} in {key}")
    return None


def validate_authorization_policy(obj: Obj, v: Verdict) -> None:
    """ValidateAuthorizationPolicy (istiod prefixes each error with `invalid policy <name>.<ns>:`)."""
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    _target_refs(spec, v)
    _labels_selector(None if selector is None else selector.get("matchLabels") or {}, v,
                     "workload selector specified without labels")
    action = spec.get("action", "ALLOW")
    rules = spec.get("rules")
    if action == "CUSTOM":
        if rules is None:
            v.error("CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` "
                    "if you want it be triggered for every request")
        elif not (spec.get("provider") or {}).get("name"):
            v.error("`provider.name` must not be empty")
    if spec.get("provider") is not None and action != "CUSTOM":
        v.error(f"`provider` must not be with non CUSTOM action, found {action}")
    if action == "DENY" and rules is None:
        v.error("DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if "
                "you want it be triggered for every request")
    for i, rule in enumerate(rules or []):
        if rule is None:
            v.error(f"`rule` must not be nil, found at rule {i}")
            continue
        if "from" in rule and not rule["from"]:
            v.error(f"`from` must not be empty, found at rule {i}")
        for frm in rule.get("from") or []:
            if frm is None:
                v.error(f"`from` must not be nil, found at rule {i}")
                continue
            src = frm.get("source")
            if src is None:
                v.error(f"`from.source` must not be nil, found at rule {i}")
                continue
            if (any(src.get(k) for k in ("principals", "notPrincipals", "namespaces", "notNamespaces"))
                    and any(src.get(k) for k in ("serviceAccounts", "notServiceAccounts"))):
                v.error(f"cannot set serviceAccounts with namespaces or principals, found at rule {i}")
            if not any(src.get(k) for k in _SOURCE_FIELDS):
                v.error(f"`from.source` must not be empty, found at rule {i}")
            for key in ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
                if (problem := _ips(src.get(key) or [])) is not None:
                    v.error(problem)
            for key in ("principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "notPrincipals",
                        "notRequestPrincipals", "notNamespaces", "notIpBlocks", "notRemoteIpBlocks"):
                if "" in (src.get(key) or []):
                    v.error(f"empty value not allowed, found in {key[0].upper() + key[1:]}")
            for key in ("serviceAccounts", "notServiceAccounts"):
                if (problem := _service_accounts(key[0].upper() + key[1:], src.get(key) or [])) is not None:
                    v.error(problem)
        if "to" in rule and not rule["to"]:
            v.error(f"`to` must not be empty, found at rule {i}")
        for to in rule.get("to") or []:
            if to is None:
                v.error(f"`to` must not be nil, found at rule {i}")
                continue
            op = to.get("operation")
            if op is None:
                v.error(f"`to.operation` must not be nil, found at rule {i}")
                continue
            if not any(op.get(k) for k in _OPERATION_FIELDS):
                v.error(f"`to.operation` must not be empty, found at rule {i}")
            for key in ("ports", "notPorts"):
                for port in op.get(key) or []:
                    if not (str(port).isdigit() and int(port) <= 65535):
                        v.error(f"bad port ({port})")
            for key in _OPERATION_FIELDS:
                if "" in (op.get(key) or []):
                    v.error(f"empty value not allowed, found in {key[0].upper() + key[1:]}")
    if v.errors:
        name = f"{obj['metadata'].get('name')}.{obj['metadata'].get('namespace')}"
        v.errors[:] = [f"invalid policy {name}: {e}" for e in v.errors]


def validate_telemetry(obj: Obj, v: Verdict) -> None:
    """ValidateTelemetry (selector, targetRefs, validateTelemetryTracing, validateTelemetryProviders)."""
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    _target_refs(spec, v)
    _labels_selector(None if selector is None else selector.get("matchLabels") or {}, v,
                     "workload selector specified without labels")
    tracing = spec.get("tracing") or []
    if len(tracing) > 1:
        v.warn("multiple tracing is not currently supported")
    for t in tracing:
        if t is None:
            continue
        providers = t.get("providers") or []
        if len(providers) > 1:
            v.warn("multiple providers is not currently supported")
        if any(p is None or not p.get("name") for p in providers):
            v.error("providers.name may not be empty")
        percentage = t.get("randomSamplingPercentage", 0)
        if not 0 <= percentage <= 100:
            v.error("randomSamplingPercentage must be in range [0.0, 100.0]")


# EnvoyFilter patch values: the xDS fields of the types the program patches (proto field names;
# protojson also takes their lowerCamel JSON names), each a nested message, a repeated message,
# an enum, or a scalar. Anything else in a value is refused (see the module docstring).
_ENUM = "enum"
_XDS: dict[str, dict[str, Any]] = {
    "envoy.config.listener.v3.FilterChain": {"transport_socket": "envoy.config.core.v3.TransportSocket"},
    "envoy.config.core.v3.TransportSocket": {"name": str, "typed_config": "any"},
    "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext": {
        "common_tls_context": "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext",
        "require_client_certificate": bool},
    "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext": {
        "combined_validation_context":
            "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext"},
    "envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext": {
        "default_validation_context": "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext"},
    "envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext": {
        "match_typed_subject_alt_names": ["envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher"]},
    "envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher": {
        "san_type": (_ENUM, ("SAN_TYPE_UNSPECIFIED", "EMAIL", "DNS", "URI", "IP_ADDRESS", "OTHER_NAME")),
        "matcher": "envoy.type.matcher.v3.StringMatcher"},
    "envoy.type.matcher.v3.StringMatcher": {"exact": str, "prefix": str, "suffix": str, "contains": str,
                                            "ignore_case": bool},
}
#: EnvoyFilter applyTo → the xDS type its patch value is (BuildXDSObjectFromStruct).
_APPLY_TO_TYPES = {"FILTER_CHAIN": "envoy.config.listener.v3.FilterChain"}
_TYPE_URL = "type.googleapis.com/"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def xds_problems(value: Any, type_name: str, path: str = "value") -> list[str]:
    """Does `value` (protojson) parse as `type_name`, on the fields listed in _XDS?"""
    fields = _XDS[type_name]
    if not isinstance(value, dict):
        return [f"{path}: {type_name} must be an object"]
    by_json = {**{f: t for f, t in fields.items()}, **{_camel(f): t for f, t in fields.items()}}
    problems = []
    for key, sub in value.items():
        if key == "@type":
            continue
        if key not in by_json:
            problems.append(f"{path}: unknown field {key!r} in {type_name}")
            continue
        kind = by_json[key]
        where = f"{path}.{key}"
        if kind == "any":
            url = (sub or {}).get("@type", "")
            inner = url[len(_TYPE_URL):] if url.startswith(_TYPE_URL) else ""
            if inner not in _XDS:
                problems.append(f"{where}: referenced type unknown: {url!r}")
            else:
                problems += xds_problems(sub, inner, where)
        elif isinstance(kind, list):
            if not isinstance(sub, list):
                problems.append(f"{where}: must be a list")
            else:
                for i, item in enumerate(sub):
                    problems += xds_problems(item, kind[0], f"{where}[{i}]")
        elif isinstance(kind, tuple):
            if sub not in kind[1]:
                problems.append(f"{where}: invalid value {sub!r} for enum (one of {', '.join(kind[1])})")
        elif isinstance(kind, str):
            problems += xds_problems(sub, kind, where)
        elif not isinstance(sub, kind):
            problems.append(f"{where}: must be a {kind.__name__}")
    return problems


_PATCH_CONTEXTS = ("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY", "WAYPOINT")
_OPERATIONS = ("MERGE", "ADD", "REMOVE", "INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST", "REPLACE")


def validate_envoy_filter(obj: Obj, v: Verdict) -> None:
    """ValidateEnvoyFilter (the listener-class branches; the value check is stricter, see above)."""
    spec = obj.get("spec") or {}
    v.warn(ENVOY_FILTER_WARNING)
    selector = spec.get("workloadSelector")
    before = len(v.errors)
    _labels_selector(None if selector is None else selector.get("labels") or {}, v,
                     "Envoy filter: workload selector specified without labels, will be applied to all services in "
                     "namespace")
    if len(v.errors) > before:
        return
    for cp in spec.get("configPatches") or []:
        if cp is None:
            v.error("Envoy filter: null config patch")
            continue
        match = cp.get("match") or {}
        if match.get("context") == "WAYPOINT":
            continue
        apply_to = cp.get("applyTo", "INVALID")
        patch = cp.get("patch")
        if apply_to == "INVALID":
            v.error("Envoy filter: missing applyTo")
            continue
        if patch is None:
            v.error("Envoy filter: missing patch")
            continue
        operation = patch.get("operation", "INVALID")
        if operation == "INVALID":
            v.error("Envoy filter: missing patch operation")
            continue
        if operation != "REMOVE" and patch.get("value") is None:
            v.error("Envoy filter: missing patch value for non-remove operation")
            continue
        version = (match.get("proxy") or {}).get("proxyVersion", "")
        if version:
            try:
                re.compile(version)
            except re.error as e:  # the bracket holds Python's parse error where istiod has Go's
                v.error(f"Envoy filter: invalid regex for proxy version, [{e}]")
                continue
        listener = match.get("listener")
        if apply_to in ("LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER") and match:
            if listener is None and any(match.get(k) for k in ("routeConfiguration", "cluster")):
                v.error("Envoy filter: applyTo for listener class objects cannot have non listener match")
                continue
            chain_filter = ((listener or {}).get("filterChain") or {}).get("filter")
            if chain_filter is not None:
                if apply_to in ("LISTENER", "FILTER_CHAIN"):
                    v.warn(f"Envoy filter: filter match has no effect when used with {apply_to}")
                if not chain_filter.get("name"):
                    v.error("Envoy filter: filter match has no name to match on")
                    continue
        if apply_to not in _APPLY_TO_TYPES:
            v.error(f"Envoy filter: applyTo {apply_to} is not judged by tests/istio/admission.py")
            continue
        if operation != "REMOVE":
            v.errors.extend(xds_problems(patch["value"], _APPLY_TO_TYPES[apply_to]))


VALIDATORS: dict[str, Callable[[Obj, Verdict], None]] = {
    "Sidecar": validate_sidecar, "DestinationRule": validate_destination_rule,
    "PeerAuthentication": validate_peer_authentication, "AuthorizationPolicy": validate_authorization_policy,
    "Telemetry": validate_telemetry, "EnvoyFilter": validate_envoy_filter,
}
ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")


def admit(obj: Obj) -> Verdict:
    """What istiod's webhook answers for one Istio object (errors reject it)."""
    v = Verdict()
    validator = VALIDATORS.get(obj["kind"])
    if validator is None:
        v.error(f"{obj['kind']} is not judged by tests/istio/admission.py")
        return v
    if not _metadata(obj, v):
        return v
    unjudged = unjudged_fields(obj)
    if unjudged:
        v.error(f"fields not judged by tests/istio/admission.py: {', '.join(unjudged)}")
    validator(obj, v)
    return v


def _is_istio(obj: Obj) -> bool:
    return obj.get("apiVersion", "").split("/")[0] in ISTIO_GROUPS


def _label(obj: Obj) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def admission_problems(objects: Iterable[Obj]) -> list[str]:
    """Every rejection istiod's webhook would give, as `Kind ns/name: message`."""
    return [f"{_label(o)}: {e}" for o in objects if _is_istio(o) for e in admit(o).errors]


def admission_warnings(objects: Iterable[Obj]) -> list[str]:
    return [f"{_label(o)}: {w}" for o in objects if _is_istio(o) for w in admit(o).warnings]
