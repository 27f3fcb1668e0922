"""A Pulumi dynamic resource that holds the mTLS demo's issued material in the stack state.

Why a dynamic provider: keys are random, so issuing during program evaluation would make every
`pulumi up` produce new certificates (and the program non-deterministic). Here the material is
created once by `create`, kept in state, and only reissued when `diff` finds that the rotation
rules of `celestials.pki` ask for it (settings changed, or a certificate inside the rotation
window). The clock is read only in diff/create/update, which run in the provider process.

Pickling: Pulumi serialises the provider *instance* with dill; this module keeps it free of state
and closures, and dill pickles the class by reference, so the provider process imports this
module (it runs with the project directory as working directory).
Secrets: the outputs `private_keys` and `ca_private_keys` are listed in
`additional_secret_outputs`, so the engine encrypts them in state and marks them secret for every
consumer; the inputs contain no key material at all.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from celestials import pki

#: The type token under the Pulumi engine and its mocks (synth/mocks.py keys its outputs on it).
RESOURCE_TYPE = "pulumi-python:dynamic/celestials:MtlsMaterial"
SECRET_OUTPUTS = ("private_keys", "ca_private_keys")
OUTPUTS = ("certificates", *SECRET_OUTPUTS, "issued", "not_after", "fingerprints", "digest", "rotation_reasons")
_INPUTS = ("plan", "params")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _previous(olds: Mapping[str, Any]) -> pki.Material | None:
    if not olds.get("issued"):
        return None
    return pki.Material.from_files(olds["issued"], olds.get("certificates") or {},
                                   olds.get("private_keys") or {}, olds.get("ca_private_keys") or {})


def _inputs(props: Mapping[str, Any]) -> tuple[pki.PkiPlan, pki.PkiParams]:
    return pki.PkiPlan.from_dict(props["plan"]), pki.PkiParams.from_dict(props["params"])


def material_outputs(material: pki.Material, rotation: pki.Rotation) -> dict[str, Any]:
    return {
        "certificates": material.public_files(),
        "private_keys": material.private_files(),
        "ca_private_keys": material.ca_private_files(),
        "issued": material.record(),
        "not_after": material.not_after(),
        "fingerprints": material.fingerprints(),
        "digest": pki.digest(material),
        "rotation_reasons": list(rotation.reasons),
    }


class MtlsMaterialProvider(ResourceProvider):
    """CRUD for the issued material; `now` is injectable so tests can move the clock."""


    def __init__(self, now: Callable[[], datetime] = _utcnow) -> None:
        super().__init__()
        self._now = now

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        for key in _INPUTS:
            if key not in news:
                failures.append(CheckFailure(key, f"{key} is required"))
        if not failures:
            try:
                _inputs(news)
            except (pki.PkiError, KeyError, TypeError, ValueError) as err:
                failures.append(CheckFailure("plan", str(err)))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        plan, params = _inputs(props)
        now = self._now()
        rotation = pki.plan_rotation(plan, params, None, now)
        material = pki.issue(plan, params, now)
        return CreateResult(id_=f"mtls-material-{pki.digest(material)}",
                            outs={**_echo(props), **material_outputs(material, rotation)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan, params = _inputs(news)
        previous = _previous(olds)
        rotation = pki.plan_rotation(plan, params, previous, self._now())
        return DiffResult(changes=rotation.needed, replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        plan, params = _inputs(news)
        previous = _previous(olds)
        now = self._now()
        rotation = pki.plan_rotation(plan, params, previous, now)
        material = pki.issue(plan, params, now, previous)
        return UpdateResult(outs={**_echo(news), **material_outputs(material, rotation)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing outside the state to remove: the material disappears with the resource."""


def _echo(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: props[k] for k in _INPUTS}


class MtlsMaterial(pulumi.dynamic.Resource, module="celestials", name="MtlsMaterial"):
    """The issued CAs, leaves, chains and bundles for a PKI plan (see `celestials.pki`)."""

    certificates: pulumi.Output[dict[str, str]]
    private_keys: pulumi.Output[dict[str, str]]
    ca_private_keys: pulumi.Output[dict[str, str]]
    issued: pulumi.Output[dict[str, Any]]
    not_after: pulumi.Output[dict[str, str]]
    fingerprints: pulumi.Output[dict[str, str]]
    digest: pulumi.Output[str]
    rotation_reasons: pulumi.Output[list[str]]

    def __init__(self, name: str, plan: pki.PkiPlan, params: pki.PkiParams,
                 opts: pulumi.ResourceOptions | None = None):
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
        props = {"plan": plan.to_dict(), "params": params.to_dict(), **{k: None for k in OUTPUTS}}
        super().__init__(MtlsMaterialProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret_opts))


def placeholder_outputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs for the offline synth (mocks never run providers): the real file names and shape,
    with obviously fake PEM bodies, so consumers see what they will get without any key."""
    plan = pki.PkiPlan.from_dict(inputs["plan"])
    names = (*plan.cas, *(l.name for l in plan.leaves))

    def fake(kind: str, name: str) -> str:
        return f"-----BEGIN {kind}-----\nSYNTH-PLACEHOLDER {name}\n-----END {kind}-----\n"

    certificates = {pki.cert_file(n): fake("CERTIFICATE", n) for n in names}
    certificates.update({pki.chain_file(l.name): fake("CERTIFICATE", l.name) + fake("CERTIFICATE", l.ca)
                         for l in plan.leaves})
    certificates.update({pki.trust_file(b): "".join(fake("CERTIFICATE", ca) for ca in b) for b in plan.bundles})
    return {
        "certificates": dict(sorted(certificates.items())),
        "private_keys": {pki.key_file(l.name): fake("PRIVATE KEY", l.name) for l in plan.leaves},
        "ca_private_keys": {pki.key_file(ca): fake("PRIVATE KEY", ca) for ca in plan.cas},
        "issued": {"plan": plan.to_dict(), "rotation": inputs["params"]["rotation"],
                   "key_algorithm": inputs["params"]["key_algorithm"],
                   "validity_days": inputs["params"]["validity_days"]},
        "not_after": {n: "2099-01-01T00:00:00+00:00" for n in names},
        "fingerprints": {n: "synth-placeholder" for n in names},
        "digest": "synth-placeholder",
        "rotation_reasons": ["first issue"],
    }
