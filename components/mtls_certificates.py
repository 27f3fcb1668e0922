"""The mTLS demo's certificates in the cluster: issued once into the stack state, then published
as the contract's Kubernetes Secrets (`front-ca1-tls`, `front-ca1-ca2-tls`, `colorapp-blue-tls`,
`colorapp-green-tls`), each holding a leaf's key and chain and one trust file, under the file
names the mesh objects reference (`celestials.topology.colorapp`).

Why a component: the material's lifecycle (kept across `pulumi up`, reissued only by the rotation
rules) and the Secrets that carry it belong together; the mesh renderers only see file paths.
Private keys travel as Pulumi secrets from the dynamic resource to the Secrets' `data`; nothing
here exports them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials import pki
from celestials.settings import Settings
from celestials.topology import colorapp
from celestials.topology.model import Mesh

from .mtls_provider import MtlsMaterial


@dataclass
class MtlsCertificatesArgs:
    """`plan` from `colorapp.pki_plan(mesh)`, `params` from `pki.PkiParams.from_settings`;
    `namespace` should be the Namespace resource's name output so the Secrets wait for it."""

    plan: pki.PkiPlan
    params: pki.PkiParams
    namespace: pulumi.Input[str]
    k8s_provider: k8s.Provider
    secrets: tuple[colorapp.TlsSecret, ...] = colorapp.TLS_SECRETS

    @classmethod
    def for_mesh(cls, mesh: Mesh, settings: Settings, namespace: pulumi.Input[str],
                 k8s_provider: k8s.Provider) -> "MtlsCertificatesArgs":
        return cls(plan=colorapp.pki_plan(mesh), params=pki.PkiParams.from_settings(settings),
                   namespace=namespace, k8s_provider=k8s_provider)


def _secret_files(secret: colorapp.TlsSecret, certificates: Mapping[str, str],
                  private_keys: Mapping[str, str]) -> dict[str, str]:
    key, chain, trust = secret.files
    missing = [f for f, src in ((key, private_keys), (chain, certificates), (trust, certificates)) if f not in src]
    if missing:
        raise pki.PkiError(f"Secret {secret.name}: the issued material has no {', '.join(missing)}")
    return {key: private_keys[key], chain: certificates[chain], trust: certificates[trust]}


def _b64(files: dict[str, str]) -> dict[str, str]:
    return {name: base64.b64encode(text.encode()).decode() for name, text in sorted(files.items())}


def _public_digest(secrets: Sequence[colorapp.TlsSecret], certificates: Mapping[str, str]) -> str:
    """Changes exactly when the chain or a trust file of the Secrets (one, or a workload's mount of
    Secrets of the same leaf) changes (a new chain means a new key): a pod-template annotation with
    it rolls the pods that mount them."""
    _, chain, _ = secrets[0].files
    trusts = dict.fromkeys(s.files[2] for s in secrets)
    blob = "".join(certificates.get(f, "") for f in (chain, *trusts)).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class MtlsCertificates(pulumi.ComponentResource):
    """The issued material (dynamic resource) and the TLS Secrets of the `mtls` namespace."""

    def __init__(self, name: str, args: MtlsCertificatesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:mtls:MtlsCertificates", name, None, opts)
        for secret in args.secrets:
            for ca in secret.trust:
                if ca not in args.plan.cas:
                    raise pki.PkiError(f"Secret {secret.name}: trusts {ca}, which the plan does not issue")
            args.plan.leaf(secret.leaf)
            if len(secret.trust) > 1 and tuple(secret.trust) not in args.plan.bundles:
                raise pki.PkiError(f"Secret {secret.name}: needs the bundle {'+'.join(secret.trust)}")

        self.material = MtlsMaterial(f"{name}-material", args.plan, args.params,
                                     opts=pulumi.ResourceOptions(parent=self))
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        self.secrets: dict[str, k8s.core.v1.Secret] = {}
        digests: dict[str, pulumi.Output[str]] = {}
        for secret in args.secrets:
            data: pulumi.Output[dict[str, str]]
            data = pulumi.Output.secret(pulumi.Output.all(self.material.certificates, self.material.private_keys)
                                        .apply(lambda pair, s=secret: _b64(_secret_files(s, *pair))))  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
            self.secrets[secret.name] = k8s.core.v1.Secret(
                f"{name}-{secret.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=secret.name, namespace=args.namespace,
                    labels={"app.kubernetes.io/part-of": "celestials", "app.kubernetes.io/component": "mtls",
                            "celestials.io/leaf": secret.leaf, "celestials.io/trust": "-".join(secret.trust)}),
                type="Opaque", data=data, opts=k8s_opts)
            digests[secret.name] = self.mount_digest((secret,))

        self.secret_names = pulumi.Output.from_input([s.name for s in args.secrets])
        #: Secret name → digest of its public material, for a pod annotation that restarts on rotation.
        self.secret_digests = pulumi.Output.all(**digests)
        self.not_after = self.material.not_after
        self.rotation_reasons = self.material.rotation_reasons
        #: The CA certificates (public): what an operator needs to check a chain by hand.
        self.ca_certificates = self.material.certificates.apply(
            lambda c, cas=args.plan.cas: {pki.cert_file(ca): c[pki.cert_file(ca)] for ca in cas})  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
        self.register_outputs({
            "secretNames": self.secret_names, "secretDigests": self.secret_digests,
            "notAfter": self.not_after, "rotationReasons": self.rotation_reasons,
            "caCertificates": self.ca_certificates,
        })

    def mount_digest(self, secrets: Sequence[colorapp.TlsSecret]) -> pulumi.Output[str]:
        """The digest of the public material of `secrets` (a workload's TLS mount), for the pod
        annotation that rolls exactly the pods mounting them when a certificate is reissued."""
        mount = tuple(secrets)
        return self.material.certificates.apply(lambda c: _public_digest(mount, c))
