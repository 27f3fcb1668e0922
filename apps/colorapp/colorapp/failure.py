"""Why a call to the color service failed, in words, from what the mesh answered.

In the mesh front never sees the TLS handshake: its sidecar does it, and on failure answers front a
503 whose body names the cause (Envoy's local reply, e.g. `upstream connect error or
disconnect/reset before headers. reset reason: connection failure, transport failure reason:
TLS_error: ... CERTIFICATE_VERIFY_FAILED ...`). A user reading front's error wants the cause, not
the proxy's wording: `reason_for` maps the known causes, most specific first.
"""

from __future__ import annotations

#: (all of these substrings in the upstream body, the reason), first match wins.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("CERTIFICATE_VERIFY_FAILED", "SAN"),
     "the color service's certificate does not carry the name front expects (SAN mismatch)"),
    (("CERTIFICATE_VERIFY_FAILED", "expired"), "the color service's certificate has expired"),
    (("CERTIFICATE_VERIFY_FAILED",), "the color service's certificate is not trusted by front"),
    (("WRONG_VERSION_NUMBER",), "the color service does not speak TLS, and front's client policy requires it"),
    (("HTTP_REQUEST",), "the color service does not speak TLS, and front's client policy requires it"),
    (("ALERT_UNKNOWN_CA",), "the color service does not trust front's certificate"),
    (("ALERT_BAD_CERTIFICATE",), "the color service refused front's certificate"),
    (("ALERT_CERTIFICATE_UNKNOWN",), "the color service refused front's certificate"),
    (("CERTIFICATE_REQUIRED",), "the color service requires a client certificate front did not present"),
    (("TLS_error",), "the TLS handshake with the color service failed"),
    (("TLS error",), "the TLS handshake with the color service failed"),
    (("delayed connect error: 111",), "the color service refused the connection"),
    (("Connection refused",), "the color service refused the connection"),
    (("no healthy upstream",), "no instance of the color service is available"),
    (("upstream request timeout",), "the color service did not answer in time"),
    (("connection failure",), "front's sidecar could not connect to the color service"),
    (("connection termination",), "the color service closed the connection before answering"),
)


def reason_for(status: int, body: str) -> str:
    """The cause of a failed answer (status >= 500 or unexpected), in a sentence."""
    for needles, reason in _REASONS:
        if all(needle in body for needle in needles):
            return reason
    return f"the color service answered HTTP {status}"
