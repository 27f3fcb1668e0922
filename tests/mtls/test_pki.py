"""Certificate issuing (celestials/pki.py): structure from the model, usages, validity, files,
chains that verify (ours and `openssl verify`), and the rotation rules."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from celestials import pki
from celestials.topology import colorapp

DEFAULT = pki.PkiParams()


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def sans(c: x509.Certificate) -> list[str]:
    return c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


# --- structure from the model -------------------------------------------------------------------
def test_plan_derives_sans_from_the_models_service_names_in_namespace_mtls(plan, mesh_for):
    mesh = mesh_for()
    assert mesh.namespace == "mtls"
    assert plan.cas == ("ca1", "ca2")
    assert {l.name: (l.ca, l.sans) for l in plan.leaves} == {
        "front": ("ca1", ("front.mtls.svc.cluster.local",)),
        "colorapp-blue": ("ca1", ("color-blue.mtls.svc.cluster.local",)),
        "colorapp-green": ("ca2", ("color-green.mtls.svc.cluster.local",)),
    }
    # every SAN is the DNS name of a host of this mesh: what the proxies check against
    hosts = {mesh.dns(h) for h in mesh.hosts()}
    assert all(s in hosts for l in plan.leaves for s in l.sans)
    assert plan.bundles == (("ca1", "ca2"),)


def test_a_certificate_without_a_ca_is_refused(mesh_for):
    from dataclasses import replace

    from celestials.topology.model import TopologyError
    mesh = mesh_for()
    red = replace(mesh.workload("red"), server_tls=replace(mesh.workload("blue").server_tls, certificate="colorapp-red"))
    broken = replace(mesh, workloads=tuple(red if w.name == "red" else w for w in mesh.workloads))
    with pytest.raises(TopologyError, match="colorapp-red"):
        colorapp.pki_plan(broken)


def test_red_has_no_certificate(mesh_for):
    red = mesh_for().workload("red")
    assert red.server_tls is None and red.client_tls is None
    assert colorapp.tls_secret_for(red) is None


def test_the_trust_switch_does_not_change_what_is_issued(mesh_for):
    assert colorapp.pki_plan(mesh_for(mtlsTrust="ca1")) == colorapp.pki_plan(mesh_for(mtlsTrust="ca1+ca2"))


@pytest.mark.parametrize("build, message", [
    (lambda: pki.PkiPlan(cas=(), leaves=()), "at least one CA"),
    (lambda: pki.PkiPlan(cas=("ca1",), leaves=(pki.LeafSpec("a", "ca9", ("a.mtls.svc.cluster.local",)),)), "ca9"),
    (lambda: pki.PkiPlan(cas=("ca1",), leaves=(pki.LeafSpec("a", "ca1", ()),)), "at least one DNS SAN"),
    (lambda: pki.PkiPlan(cas=("ca1",), leaves=(pki.LeafSpec("a", "ca1", ("Not_A_Name",)),)), "SAN"),
    (lambda: pki.PkiPlan(cas=("ca1",), leaves=(pki.LeafSpec("ca1", "ca1", ("a.b.c",)),)), "unique"),
    (lambda: pki.PkiPlan(cas=("ca1",), leaves=(), bundles=(("ca1", "ca2"),)), "ca2"),
    (lambda: pki.PkiPlan(cas=("CA 1",), leaves=()), "file stem"),
    (lambda: pki.PkiParams(key_algorithm="dsa-1024"), "key algorithm"),
    (lambda: pki.PkiParams(validity_days=30, rotation_window_days=30), "rotation_window_days"),
    (lambda: pki.PkiParams(rotation=-1), "rotation"),
])
def test_bad_plans_and_params_are_refused_with_the_reason(build, message):
    with pytest.raises(pki.PkiError, match=message):
        build()


def test_params_come_from_the_stack_settings(mesh_for):
    from celestials.settings import parse_settings
    s = parse_settings({"tlsKeyAlgorithm": "ecdsa-p256", "tlsValidityDays": 90, "tlsRotationWindowDays": 10,
                        "tlsRotation": 3, "tlsRotateCas": True}, "dev")
    assert pki.PkiParams.from_settings(s) == pki.PkiParams("ecdsa-p256", 90, 10, 3, True)
    assert pki.PkiParams.from_settings(parse_settings({}, "dev")) == DEFAULT


def test_naive_clock_is_refused(plan):
    from datetime import datetime
    with pytest.raises(pki.PkiError, match="timezone-aware"):
        pki.issue(plan, DEFAULT, datetime(2026, 11, 29))


# --- what a certificate holds -------------------------------------------------------------------
def test_leaves_are_signed_by_their_ca_with_san_cn_and_both_usages(material, plan):
    for spec in plan.leaves:
        leaf, ca = cert(material.leaf(spec.name).cert_pem), cert(material.ca(spec.ca).cert_pem)
        assert leaf.issuer == ca.subject
        assert sans(leaf) == list(spec.sans)
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == spec.sans[0]
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
        basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
        assert basic.critical and not basic.value.ca
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        assert ku.digital_signature and not ku.key_cert_sign
        leaf.verify_directly_issued_by(ca)  # raises if the signature or issuer is wrong


def test_cas_are_self_signed_path_length_zero_cas(material):
    for issued in material.cas:
        c = cert(issued.cert_pem)
        assert c.issuer == c.subject
        basic = c.extensions.get_extension_for_class(x509.BasicConstraints)
        assert basic.critical and basic.value.ca and basic.value.path_length == 0
        assert c.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert cert(material.ca("ca1").cert_pem).subject != cert(material.ca("ca2").cert_pem).subject


def test_validity_follows_the_settings(plan, fixed_now):
    m = pki.issue(plan, pki.PkiParams(key_algorithm="ecdsa-p256", validity_days=90, rotation_window_days=10),
                  fixed_now)
    leaf, ca = cert(m.leaf("front").cert_pem), cert(m.ca("ca1").cert_pem)
    assert leaf.not_valid_after_utc == fixed_now + timedelta(days=90)
    assert ca.not_valid_after_utc == fixed_now + timedelta(days=90 * pki.CA_VALIDITY_FACTOR)
    assert leaf.not_valid_before_utc == fixed_now - pki.BACKDATE


@pytest.mark.parametrize("algorithm, key_type, size", [
    ("rsa-2048", rsa.RSAPublicKey, 2048), ("rsa-3072", rsa.RSAPublicKey, 3072),
    ("rsa-4096", rsa.RSAPublicKey, 4096), ("ecdsa-p256", ec.EllipticCurvePublicKey, 256),
])
def test_key_algorithm_follows_the_settings(algorithm, key_type, size, fixed_now):
    small = pki.PkiPlan(cas=("ca1",), leaves=(pki.LeafSpec("front", "ca1", ("front.mtls.svc.cluster.local",)),))
    m = pki.issue(small, pki.PkiParams(key_algorithm=algorithm), fixed_now)
    for pem in (m.leaf("front").cert_pem, m.ca("ca1").cert_pem):
        key = cert(pem).public_key()
        assert isinstance(key, key_type) and key.key_size == size


# --- files --------------------------------------------------------------------------------------
def test_files_are_the_ones_the_secrets_and_mesh_objects_name(material):
    public, private = material.public_files(), material.private_files()
    assert set(public) == {"ca1_cert.pem", "ca2_cert.pem", "ca1_ca2_bundle.pem",
                           "front_cert.pem", "front_cert_chain.pem", "colorapp-blue_cert.pem",
                           "colorapp-blue_cert_chain.pem", "colorapp-green_cert.pem", "colorapp-green_cert_chain.pem"}
    assert set(private) == {"front_key.pem", "colorapp-blue_key.pem", "colorapp-green_key.pem"}
    assert set(material.ca_private_files()) == {"ca1_key.pem", "ca2_key.pem"}
    assert not any("PRIVATE KEY" in text for text in public.values())
    assert all(text.startswith("-----BEGIN PRIVATE KEY-----") for text in private.values())
    for secret in colorapp.TLS_SECRETS:
        key, chain, trust = secret.files
        assert key in private and chain in public and trust in public


def test_chain_is_leaf_then_ca_and_bundle_is_both_cas(material):
    chain = x509.load_pem_x509_certificates(material.public_files()["colorapp-green_cert_chain.pem"].encode())
    assert [c.subject for c in chain] == [cert(material.leaf("colorapp-green").cert_pem).subject,
                                          cert(material.ca("ca2").cert_pem).subject]
    bundle = x509.load_pem_x509_certificates(material.public_files()["ca1_ca2_bundle.pem"].encode())
    assert bundle == [cert(material.ca("ca1").cert_pem), cert(material.ca("ca2").cert_pem)]


def test_written_files_keep_keys_private_and_read_back_identically(material, pki_dir):
    for name in (*material.private_files(), *material.ca_private_files()):
        assert stat.S_IMODE(os.stat(pki_dir / name).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(pki_dir).st_mode) == 0o700
    assert pki.read_material(pki_dir) == material
    assert not list(pki_dir.glob(".*.tmp"))


# --- chains verify, like a TLS peer and like `openssl verify` -----------------------------------
@pytest.mark.parametrize("leaf, trust, ok", [
    ("front", ("ca1",), True), ("colorapp-blue", ("ca1",), True), ("colorapp-green", ("ca2",), True),
    ("colorapp-green", ("ca1",), False), ("colorapp-green", ("ca1", "ca2"), True), ("front", ("ca2",), False),
])
def test_chains_verify_against_the_right_trust_only(material, plan, leaf, trust, ok):
    san = plan.leaf(leaf).sans[0]
    for purpose in ("client", "server"):
        if ok:
            assert pki.verify_leaf(material.leaf(leaf).cert_pem, material.trust_pem(trust),
                                   purpose=purpose, dns_name=san) == (san,)
        else:
            with pytest.raises(pki.PkiError, match="does not verify"):
                pki.verify_leaf(material.leaf(leaf).cert_pem, material.trust_pem(trust), purpose=purpose, dns_name=san)


def test_wrong_san_does_not_verify(material):
    with pytest.raises(pki.PkiError):
        pki.verify_leaf(material.leaf("colorapp-blue").cert_pem, material.trust_pem(["ca1"]), purpose="server",
                        dns_name="front.mtls.svc.cluster.local")
    with pytest.raises(pki.PkiError, match="do not include"):
        pki.verify_leaf(material.leaf("colorapp-blue").cert_pem, material.trust_pem(["ca1"]), purpose="client",
                        dns_name="front.mtls.svc.cluster.local")


OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
@pytest.mark.parametrize("leaf_file, trust_file, ok", [
    ("front_cert.pem", "ca1_cert.pem", True),
    ("colorapp-blue_cert.pem", "ca1_cert.pem", True),
    ("colorapp-green_cert.pem", "ca2_cert.pem", True),
    ("colorapp-green_cert.pem", "ca1_cert.pem", False),
    ("colorapp-green_cert.pem", "ca1_ca2_bundle.pem", True),
    ("front_cert.pem", "ca2_cert.pem", False),
])
def test_openssl_verify_agrees(pki_dir, plan, leaf_file, trust_file, ok):
    san = plan.leaf(leaf_file.removesuffix("_cert.pem")).sans[0]
    for purpose in ("sslclient", "sslserver"):
        result = subprocess.run([OPENSSL, "verify", "-x509_strict", "-purpose", purpose, "-verify_hostname", san,
                                 "-CAfile", str(pki_dir / trust_file), str(pki_dir / leaf_file)],
                                capture_output=True, text=True, timeout=30)
        assert (result.returncode == 0) == ok, result.stdout + result.stderr
        if ok:
            assert result.stdout.strip().endswith(": OK")


# --- rotation rules -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def issued(plan, fixed_now) -> pki.Material:
    return pki.issue(plan, DEFAULT, fixed_now)


def leaves(m: pki.Material) -> dict[str, str]:
    return {l.name: l.cert_pem for l in m.leaves}


def cas(m: pki.Material) -> dict[str, tuple[str, str]]:
    return {c.name: (c.cert_pem, c.key_pem) for c in m.cas}


def test_same_settings_rotate_nothing_until_the_window(issued, plan, fixed_now):
    for later in (timedelta(0), timedelta(days=334)):
        rotation = pki.plan_rotation(plan, DEFAULT, issued, fixed_now + later)
        assert not rotation.needed, rotation.reasons
        assert pki.issue(plan, DEFAULT, fixed_now + later, issued) == issued


def test_leaves_inside_the_window_are_reissued_and_cas_kept(issued, plan, fixed_now):
    later = fixed_now + timedelta(days=336)  # 29 days before the leaves expire, window 30
    rotation = pki.plan_rotation(plan, DEFAULT, issued, later)
    assert rotation.cas == () and set(rotation.leaves) == {"front", "colorapp-blue", "colorapp-green"}
    assert all("rotation window" in r for r in rotation.reasons)
    renewed = pki.issue(plan, DEFAULT, later, issued)
    assert cas(renewed) == cas(issued)
    assert all(leaves(renewed)[n] != leaves(issued)[n] for n in leaves(issued))
    assert renewed.leaf("front").not_after == later + timedelta(days=365)


@pytest.mark.parametrize("change, rotated_cas", [
    ({"rotation": 1}, False),
    ({"rotation": 1, "rotate_cas": True}, True),
    ({"key_algorithm": "ecdsa-p256"}, False),
    ({"validity_days": 200}, False),
])
def test_settings_changes_reissue_leaves_and_cas_only_when_asked(issued, plan, fixed_now, change, rotated_cas):
    params = pki.PkiParams(**{**DEFAULT.to_dict(), **change})
    renewed = pki.issue(plan, params, fixed_now, issued)
    assert all(leaves(renewed)[n] != leaves(issued)[n] for n in leaves(issued))
    assert (cas(renewed) != cas(issued)) == rotated_cas
    if rotated_cas:
        assert all(cas(renewed)[n] != cas(issued)[n] for n in cas(issued))
    assert not pki.plan_rotation(plan, params, renewed, fixed_now).needed  # settled


@pytest.mark.parametrize("change", [{"rotation_window_days": 60}, {"rotate_cas": True}])
def test_changes_that_ask_for_no_rotation_reissue_nothing(issued, plan, fixed_now, change):
    params = pki.PkiParams(**{**DEFAULT.to_dict(), **change})
    assert not pki.plan_rotation(plan, params, issued, fixed_now).needed


def test_a_ca_near_expiry_is_reissued_with_its_leaves_only(plan, fixed_now):
    short = pki.PkiParams(key_algorithm="ecdsa-p256", validity_days=10, rotation_window_days=2)
    m = pki.issue(plan, short, fixed_now)  # CAs live 30 days
    later = fixed_now + timedelta(days=23)
    m2 = pki.issue(plan, short, later, m)  # leaves renewed at day 23 (expired), clamped to the CAs' end
    assert cas(m2) == cas(m)
    assert m2.leaf("front").not_after == m.ca("ca1").not_after  # a leaf never outlives its CA
    rotation = pki.plan_rotation(plan, short, m2, fixed_now + timedelta(days=29))
    assert set(rotation.cas) == {"ca1", "ca2"}
    assert set(rotation.leaves) == {"front", "colorapp-blue", "colorapp-green"}


def test_a_changed_san_reissues_that_leaf_only(issued, plan, fixed_now):
    changed = pki.PkiPlan(cas=plan.cas, bundles=plan.bundles, leaves=tuple(
        pki.LeafSpec(l.name, l.ca, ("front.mtls2.svc.cluster.local",)) if l.name == "front" else l
        for l in plan.leaves))
    rotation = pki.plan_rotation(changed, DEFAULT, issued, fixed_now)
    assert rotation.leaves == ("front",) and rotation.cas == ()
    renewed = pki.issue(changed, DEFAULT, fixed_now, issued)
    assert sans(cert(renewed.leaf("front").cert_pem)) == ["front.mtls2.svc.cluster.local"]
    assert renewed.leaf("colorapp-blue") == issued.leaf("colorapp-blue")


def test_ensure_material_keeps_what_is_there_and_rotates_on_a_bump(plan, tmp_path, fixed_now):
    params = pki.PkiParams(key_algorithm="ecdsa-p256")
    first, paths = pki.ensure_material(plan, params, tmp_path, fixed_now)
    assert set(paths) >= {"front_key.pem", "ca1_ca2_bundle.pem", pki.RECORD_FILE}
    again, _ = pki.ensure_material(plan, params, tmp_path, fixed_now + timedelta(days=1))
    assert again == first
    bumped, _ = pki.ensure_material(plan, pki.PkiParams(key_algorithm="ecdsa-p256", rotation=1), tmp_path, fixed_now)
    assert cas(bumped) == cas(first) and leaves(bumped) != leaves(first)
    assert pki.read_material(tmp_path) == bumped
