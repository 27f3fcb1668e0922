"""Certificate issuing for the mTLS demo: CAs, leaves, chains and trust bundles as PEM strings.

Why a pure function: the Pulumi resource (components/mtls_provider.py) and the local rehearsal
must hold the same material for the same plan, and the rotation rules must be testable without
either. Keys are random, so the *material* differs between issues; its *structure* (names,
issuers, SANs, usages, file names) is fully decided by the plan. The clock is an argument: the
caller decides what "now" is (the provider's diff/create, a test, the local runner), never the
program evaluation.

Rotation rules (`plan_rotation`), the only way material already issued is replaced:
- a CA is reissued when it is new in the plan, when it is inside the rotation window of its
  expiry, or when `rotation` changes while `rotate_cas` is true; its leaves follow;
- a leaf is reissued when it is new, when its CA or SANs changed, when its CA was reissued, when
  it is inside the rotation window, or when `rotation`, `key_algorithm` or `validity_days` changed;
- nothing else (a new rotation window, or `rotate_cas` without a `rotation` bump) reissues anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_ALGORITHMS = ("rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256")
#: A CA outlives the leaves it signs: several leaf rotations happen under one CA.
CA_VALIDITY_FACTOR = 3
#: Leaves and CAs start slightly in the past so a peer whose clock lags still accepts them.
BACKDATE = timedelta(minutes=5)
ORGANIZATION = "celestials"
RECORD_FILE = "material.json"

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$")


class PkiError(ValueError):
    """A plan, parameter or material that cannot be issued or used; the message says which."""


# --- file names: the one place both renderers, the Secrets and the rehearsal read them from ----
def key_file(name: str) -> str:
    return f"{name}_key.pem"


def cert_file(name: str) -> str:
    return f"{name}_cert.pem"


def chain_file(name: str) -> str:
    """The leaf followed by its CA: what a TLS peer presents."""
    return f"{name}_cert_chain.pem"


def trust_file(cas: Iterable[str]) -> str:
    """The file holding the CA certificates trusted together: one CA's cert or a bundle."""
    cas = tuple(cas)
    if not cas:
        raise PkiError("a trust needs at least one CA")
    return cert_file(cas[0]) if len(cas) == 1 else "_".join(cas) + "_bundle.pem"


def leaf_paths(name: str, directory: str) -> tuple[str, str]:
    """(certificate chain, private key) of a leaf as seen under `directory` (a mount path)."""
    return posixpath.join(directory, chain_file(name)), posixpath.join(directory, key_file(name))


def trust_path(cas: Iterable[str], directory: str) -> str:
    return posixpath.join(directory, trust_file(cas))


# --- what to issue ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PkiParams:
    """The stack settings that shape issuing (`tls*` keys), with the documented safe defaults."""

    key_algorithm: str = "rsa-2048"
    validity_days: int = 365
    rotation_window_days: int = 30
    rotation: int = 0
    rotate_cas: bool = False

    def __post_init__(self) -> None:
        if self.key_algorithm not in KEY_ALGORITHMS:
            raise PkiError(f"key algorithm {self.key_algorithm!r}: one of {', '.join(KEY_ALGORITHMS)}")
        for label, value in (("validity_days", self.validity_days),
                             ("rotation_window_days", self.rotation_window_days), ("rotation", self.rotation)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PkiError(f"{label} {value!r}: a non-negative integer")
        if self.validity_days < 2:
            raise PkiError(f"validity_days {self.validity_days}: at least 2")
        if not 1 <= self.rotation_window_days < self.validity_days:
            raise PkiError(f"rotation_window_days {self.rotation_window_days}: from 1 to fewer than "
                           f"validity_days ({self.validity_days})")

    @classmethod
    def from_settings(cls, settings: Any) -> "PkiParams":
        return cls(key_algorithm=settings.tls_key_algorithm, validity_days=settings.tls_validity_days,
                   rotation_window_days=settings.tls_rotation_window_days,
                   rotation=settings.tls_rotation, rotate_cas=settings.tls_rotate_cas)

    def to_dict(self) -> dict[str, Any]:
        return {"key_algorithm": self.key_algorithm, "validity_days": self.validity_days,
                "rotation_window_days": self.rotation_window_days, "rotation": self.rotation,
                "rotate_cas": self.rotate_cas}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "PkiParams":
        return cls(key_algorithm=raw["key_algorithm"], validity_days=int(raw["validity_days"]),
                   rotation_window_days=int(raw["rotation_window_days"]), rotation=int(raw["rotation"]),
                   rotate_cas=bool(raw["rotate_cas"]))


@dataclass(frozen=True)
class LeafSpec:
    """A leaf certificate: its file stem, the CA that signs it and its DNS SANs (first is the CN)."""

    name: str
    ca: str
    sans: tuple[str, ...]


@dataclass(frozen=True)
class PkiPlan:
    """The whole structure to issue: CAs, leaves, and the CA bundles that are trusted together."""

    cas: tuple[str, ...]
    leaves: tuple[LeafSpec, ...]
    bundles: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        names = list(self.cas) + [leaf.name for leaf in self.leaves]
        for name in names:
            if not isinstance(name, str) or not _NAME.match(name):
                raise PkiError(f"name {name!r}: lower-case letters, digits and '-' (a file stem)")
        if len(set(names)) != len(names):
            raise PkiError(f"names must be unique across CAs and leaves: {names}")
        if not self.cas:
            raise PkiError("a plan needs at least one CA")
        for leaf in self.leaves:
            if leaf.ca not in self.cas:
                raise PkiError(f"leaf {leaf.name}: CA {leaf.ca!r} is not in the plan ({', '.join(self.cas)})")
            if not leaf.sans:
                raise PkiError(f"leaf {leaf.name}: needs at least one DNS SAN")
            for san in leaf.sans:
                if not isinstance(san, str) or not _DNS.match(san) or len(san) > 64:
                    raise PkiError(f"leaf {leaf.name}: SAN {san!r} is not a lower-case DNS name of at most 64 characters")
        for bundle in self.bundles:
            if len(bundle) < 2 or len(set(bundle)) != len(bundle):
                raise PkiError(f"bundle {bundle!r}: two or more distinct CAs")
            for ca in bundle:
                if ca not in self.cas:
                    raise PkiError(f"bundle {bundle!r}: CA {ca!r} is not in the plan")

    def leaf(self, name: str) -> LeafSpec:
        for leaf in self.leaves:
            if leaf.name == name:
                return leaf
        raise PkiError(f"no leaf named {name!r} in the plan")

    def to_dict(self) -> dict[str, Any]:
        return {"cas": list(self.cas),
                "leaves": [{"name": l.name, "ca": l.ca, "sans": list(l.sans)} for l in self.leaves],
                "bundles": [list(b) for b in self.bundles]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "PkiPlan":
        return cls(cas=tuple(raw["cas"]),
                   leaves=tuple(LeafSpec(l["name"], l["ca"], tuple(l["sans"])) for l in raw["leaves"]),
                   bundles=tuple(tuple(b) for b in raw.get("bundles") or ()))


# --- what was issued --------------------------------------------------------------------------
@dataclass(frozen=True)
class Issued:
    """One certificate with its private key (PEM)."""

    name: str
    cert_pem: str
    key_pem: str = field(repr=False)

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem.encode())

    @property
    def not_after(self) -> datetime:
        return self.cert.not_valid_after_utc

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class Material:
    """Everything issued for a plan, and the parameters the leaves were issued with."""

    plan: PkiPlan
    cas: tuple[Issued, ...]
    leaves: tuple[Issued, ...]
    rotation: int
    key_algorithm: str
    validity_days: int

    def ca(self, name: str) -> Issued:
        return _by_name(self.cas, name, "CA")

    def leaf(self, name: str) -> Issued:
        return _by_name(self.leaves, name, "leaf")

    def chain_pem(self, leaf: str) -> str:
        return self.leaf(leaf).cert_pem + self.ca(self.plan.leaf(leaf).ca).cert_pem

    def trust_pem(self, cas: Iterable[str]) -> str:
        return "".join(self.ca(ca).cert_pem for ca in cas)

    def public_files(self) -> dict[str, str]:
        """CA certs, leaf certs, chains and bundles, by file name (safe to show)."""
        files = {cert_file(ca.name): ca.cert_pem for ca in self.cas}
        for leaf in self.leaves:
            files[cert_file(leaf.name)] = leaf.cert_pem
            files[chain_file(leaf.name)] = self.chain_pem(leaf.name)
        for bundle in self.plan.bundles:
            files[trust_file(bundle)] = self.trust_pem(bundle)
        return dict(sorted(files.items()))

    def private_files(self) -> dict[str, str]:
        """Leaf private keys by file name: what the proxies need, never the CA keys."""
        return {key_file(leaf.name): leaf.key_pem for leaf in self.leaves}

    def ca_private_files(self) -> dict[str, str]:
        """CA private keys by file name: only kept to sign future leaves."""
        return {key_file(ca.name): ca.key_pem for ca in self.cas}

    def not_after(self) -> dict[str, str]:
        return {c.name: c.not_after.isoformat() for c in (*self.cas, *self.leaves)}

    def fingerprints(self) -> dict[str, str]:
        return {c.name: c.fingerprint for c in (*self.cas, *self.leaves)}

    def record(self) -> dict[str, Any]:
        """What the material was issued for (no secrets): the input to later rotation decisions."""
        return {"plan": self.plan.to_dict(), "rotation": self.rotation,
                "key_algorithm": self.key_algorithm, "validity_days": self.validity_days}

    @classmethod
    def from_files(cls, record: Mapping[str, Any], public: Mapping[str, str],
                   private: Mapping[str, str], ca_private: Mapping[str, str]) -> "Material":
        """Rebuild material from its record and files (provider state, a rehearsal directory)."""
        plan = PkiPlan.from_dict(record["plan"])
        try:
            cas = tuple(Issued(ca, public[cert_file(ca)], ca_private[key_file(ca)]) for ca in plan.cas)
            leaves = tuple(Issued(l.name, public[cert_file(l.name)], private[key_file(l.name)])
                           for l in plan.leaves)
        except KeyError as missing:
            raise PkiError(f"stored material lacks file {missing.args[0]}") from None
        return cls(plan=plan, cas=cas, leaves=leaves, rotation=int(record["rotation"]),
                   key_algorithm=record["key_algorithm"], validity_days=int(record["validity_days"]))


def _by_name(items: Iterable[Issued], name: str, kind: str) -> Issued:
    for item in items:
        if item.name == name:
            return item
    raise PkiError(f"no {kind} named {name!r} in the material")


# --- rotation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rotation:
    """What an issue would (re)create, and why; `needed` is what the provider's diff reports."""

    cas: tuple[str, ...]
    leaves: tuple[str, ...]
    reasons: tuple[str, ...]

    @property
    def needed(self) -> bool:
        return bool(self.reasons)


def _aware(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise PkiError(f"now must be a timezone-aware datetime, got {now!r}")
    return now.astimezone(timezone.utc)


def plan_rotation(plan: PkiPlan, params: PkiParams, previous: Material | None, now: datetime) -> Rotation:
    now = _aware(now)
    if previous is None:
        return Rotation(cas=plan.cas, leaves=tuple(l.name for l in plan.leaves), reasons=("first issue",))
    window = timedelta(days=params.rotation_window_days)
    reasons: list[str] = []
    cas: list[str] = []
    old_cas = {c.name: c for c in previous.cas}
    rotation_bumped = params.rotation != previous.rotation
    for ca in plan.cas:
        if ca not in old_cas:
            cas.append(ca)
            reasons.append(f"{ca}: new CA")
        elif rotation_bumped and params.rotate_cas:
            cas.append(ca)
            reasons.append(f"{ca}: tlsRotation {previous.rotation} -> {params.rotation} with tlsRotateCas")
        elif old_cas[ca].not_after - now < window:
            cas.append(ca)
            reasons.append(f"{ca}: expires {old_cas[ca].not_after.isoformat()}, inside the "
                           f"{params.rotation_window_days}-day rotation window")
    old_leaves = {l.name: l for l in previous.leaves}
    leaves: list[str] = []
    for spec in plan.leaves:
        why = None
        if spec.name not in old_leaves:
            why = "new leaf"
        elif previous.plan.leaf(spec.name) != spec:
            why = "CA or SANs changed"
        elif spec.ca in cas:
            why = f"its CA {spec.ca} is reissued"
        elif rotation_bumped:
            why = f"tlsRotation {previous.rotation} -> {params.rotation}"
        elif params.key_algorithm != previous.key_algorithm:
            why = f"key algorithm {previous.key_algorithm} -> {params.key_algorithm}"
        elif params.validity_days != previous.validity_days:
            why = f"validity {previous.validity_days} -> {params.validity_days} days"
        elif old_leaves[spec.name].not_after - now < window:
            why = (f"expires {old_leaves[spec.name].not_after.isoformat()}, inside the "
                   f"{params.rotation_window_days}-day rotation window")
        if why:
            leaves.append(spec.name)
            reasons.append(f"{spec.name}: {why}")
    dropped = sorted(({c.name for c in previous.cas} - set(plan.cas))
                     | ({l.name for l in previous.leaves} - {l.name for l in plan.leaves}))
    if dropped:
        reasons.append("no longer in the plan: " + ", ".join(dropped))
    if tuple(previous.plan.bundles) != tuple(plan.bundles):
        reasons.append("bundles changed")
    if rotation_bumped and not leaves and not cas:
        reasons.append(f"tlsRotation {previous.rotation} -> {params.rotation}")
    return Rotation(cas=tuple(cas), leaves=tuple(leaves), reasons=tuple(reasons))


# --- issuing ----------------------------------------------------------------------------------
def _new_key(algorithm: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if algorithm.startswith("rsa-"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm.split("-")[1]))
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise PkiError(f"key algorithm {algorithm!r}: one of {', '.join(KEY_ALGORITHMS)}")


def _key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _issue_ca(name: str, params: PkiParams, now: datetime) -> Issued:
    key = _new_key(params.key_algorithm)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{ORGANIZATION} {name}")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + timedelta(days=params.validity_days * CA_VALIDITY_FACTOR))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(name, _cert_pem(cert), _key_pem(key))


def _issue_leaf(spec: LeafSpec, ca: Issued, params: PkiParams, now: datetime) -> Issued:
    key = _new_key(params.key_algorithm)
    ca_cert = ca.cert
    ca_key = serialization.load_pem_private_key(ca.key_pem.encode(), password=None)
    if not isinstance(ca_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise PkiError(f"CA {ca.name}: its key is neither RSA nor ECDSA")
    not_after = min(now + timedelta(days=params.validity_days), ca_cert.not_valid_after_utc)
    not_before = max(now - BACKDATE, ca_cert.not_valid_before_utc)
    is_rsa = params.key_algorithm.startswith("rsa-")
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                                     x509.NameAttribute(NameOID.COMMON_NAME, spec.sans[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=is_rsa, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in spec.sans]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return Issued(spec.name, _cert_pem(cert), _key_pem(key))


def issue(plan: PkiPlan, params: PkiParams, now: datetime, previous: Material | None = None) -> Material:
    """Issue what `plan_rotation` asks for and keep everything else from `previous`."""
    now = _aware(now)
    rotation = plan_rotation(plan, params, previous, now)
    old_cas = {c.name: c for c in previous.cas} if previous else {}
    old_leaves = {l.name: l for l in previous.leaves} if previous else {}
    cas = {ca: _issue_ca(ca, params, now) if ca in rotation.cas else old_cas[ca] for ca in plan.cas}
    leaves = tuple(_issue_leaf(spec, cas[spec.ca], params, now) if spec.name in rotation.leaves
                   else old_leaves[spec.name] for spec in plan.leaves)
    material = Material(plan=plan, cas=tuple(cas[ca] for ca in plan.cas), leaves=leaves,
                        rotation=params.rotation, key_algorithm=params.key_algorithm,
                        validity_days=params.validity_days)
    for spec in plan.leaves:  # the issued chain must verify like a TLS peer would, or we stop here
        for purpose in ("client", "server"):
            verify_leaf(material.leaf(spec.name).cert_pem, material.trust_pem([spec.ca]), purpose=purpose,
                        dns_name=spec.sans[0], now=now)
    return material


# --- verification -----------------------------------------------------------------------------
def verify_leaf(cert_pem: str, trust_pem: str, *, purpose: str, dns_name: str | None = None,
                now: datetime | None = None, intermediates_pem: str = "") -> tuple[str, ...]:
    """Verify a leaf against trusted CA certificates as a TLS peer would (path building, validity,
    key and extended key usage, SAN); return the leaf's DNS SANs. Raises PkiError."""
    try:
        store = verification.Store(x509.load_pem_x509_certificates(trust_pem.encode()))
        leaf = x509.load_pem_x509_certificate(cert_pem.encode())
        extra = x509.load_pem_x509_certificates(intermediates_pem.encode()) if intermediates_pem else []
    except ValueError as err:
        raise PkiError(f"unreadable PEM: {err}") from None
    builder = verification.PolicyBuilder().store(store)
    if now is not None:
        builder = builder.time(_aware(now))
    sans = tuple(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                 .value.get_values_for_type(x509.DNSName))
    try:
        if purpose == "server":
            if dns_name is None:
                raise PkiError("a server verification needs the DNS name the client expects")
            builder.build_server_verifier(x509.DNSName(dns_name)).verify(leaf, extra)
        elif purpose == "client":
            builder.build_client_verifier().verify(leaf, extra)
            if dns_name is not None and dns_name not in sans:
                raise PkiError(f"client certificate SANs {list(sans)} do not include {dns_name}")
        else:
            raise PkiError(f"purpose {purpose!r}: client or server")
    except verification.VerificationError as err:
        raise PkiError(f"certificate {leaf.subject.rfc4514_string()} does not verify: {err}") from None
    return sans


# --- files for the local rehearsal ------------------------------------------------------------
def write_material(material: Material, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write every file (keys 0600) plus the record; return file name → path. Replaces atomically
    per file so a running proxy never reads a half-written key."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    written: dict[str, Path] = {}
    secret = {**material.private_files(), **material.ca_private_files()}
    files = {**material.public_files(), **secret,
             RECORD_FILE: json.dumps(material.record(), indent=2, sort_keys=True) + "\n"}
    for name, text in files.items():
        path = directory / name
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name in secret else 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
        written[name] = path
    return written


def read_material(directory: str | os.PathLike[str]) -> Material | None:
    """The material a previous `write_material` left in `directory`, or None if there is none."""
    directory = Path(directory)
    record_path = directory / RECORD_FILE
    if not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text())
        plan = PkiPlan.from_dict(record["plan"])
    except (ValueError, KeyError, TypeError) as err:
        raise PkiError(f"{record_path}: not a material record ({err})") from None

    def read(names: Iterable[str]) -> dict[str, str]:
        return {n: (directory / n).read_text() for n in names if (directory / n).exists()}

    return Material.from_files(record, read(cert_file(n) for n in (*plan.cas, *(l.name for l in plan.leaves))),
                               read(key_file(l.name) for l in plan.leaves), read(key_file(c) for c in plan.cas))


def ensure_material(plan: PkiPlan, params: PkiParams, directory: str | os.PathLike[str],
                    now: datetime | None = None) -> tuple[Material, dict[str, Path]]:
    """The rehearsal's counterpart of the Pulumi resource: keep what `directory` holds unless the
    rotation rules say otherwise, then write the result."""
    now = datetime.now(timezone.utc) if now is None else _aware(now)
    previous = read_material(directory)
    if previous is not None and not plan_rotation(plan, params, previous, now).needed:
        return previous, write_material(previous, directory)
    material = issue(plan, params, now, previous)
    return material, write_material(material, directory)


def digest(material: Material) -> str:
    """A short fingerprint of all public material: changes exactly when something was reissued."""
    return hashlib.sha256(json.dumps(material.fingerprints(), sort_keys=True).encode()).hexdigest()[:16]
