"""certificate_check finds each problem a provided certificate can have, and only those."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from ansible_collections.dockyard.registry.plugins.plugin_utils.certificate_check import (
    CertificateCheckError,
    Inputs,
    check,
    covers,
)
from support.pki import make_ca

NOW = datetime.datetime.now(datetime.UTC)


def _inputs(cert: Path, key: Path, chain: bytes = b"", ca: bytes = b"") -> Inputs:
    return Inputs(cert.read_bytes(), key.read_bytes(), chain, ca)


@pytest.fixture()
def pki(tmp_path: Path):
    root = make_ca(tmp_path / "root", common_name="test root")
    inter = root.issue_ca(tmp_path / "inter", "inter", "test intermediate")
    return tmp_path, root, inter


def test_a_good_certificate_passes(pki) -> None:
    tmp, root, inter = pki
    leaf = inter.issue(tmp, "leaf", ["registry.example.net", "10.0.0.5"], days=90)
    found = check(
        _inputs(leaf.cert, leaf.key, inter.pair.cert.read_bytes(), root.pair.cert.read_bytes()),
        ["registry.example.net", "10.0.0.5"],
        30,
    )
    assert found.problems == []
    assert found.subject_alt_names == ["DNS:registry.example.net", "IP:10.0.0.5"]


def test_a_key_of_another_certificate_is_refused(pki) -> None:
    tmp, root, _intermediate = pki
    leaf = root.issue(tmp, "leaf", ["registry.example.net"], days=90)
    other = root.issue(tmp, "other", ["registry.example.net"], days=90)
    found = check(_inputs(leaf.cert, other.key), ["registry.example.net"], 30)
    assert any("does not match" in p for p in found.problems)


def test_expired_and_soon_expiring_certificates_are_refused(pki) -> None:
    tmp, root, _intermediate = pki
    old = root.issue(
        tmp, "old", ["r.example"], days=10, not_before=NOW - datetime.timedelta(days=20)
    )
    soon = root.issue(tmp, "soon", ["r.example"], days=10)
    assert any(
        "expired on" in p for p in check(_inputs(old.cert, old.key), ["r.example"], 30).problems
    )
    problems = check(_inputs(soon.cert, soon.key), ["r.example"], 30).problems
    assert any("within registry_tls_renew_days (30 days)" in p for p in problems)
    assert check(_inputs(soon.cert, soon.key), ["r.example"], 5).problems == []


def test_names_must_be_in_the_subject_alt_names(pki) -> None:
    tmp, root, _intermediate = pki
    leaf = root.issue(tmp, "leaf", ["other.example"], days=90)
    problems = check(_inputs(leaf.cert, leaf.key), ["r.example", "other.example"], 30).problems
    assert problems == [
        "cert does not cover r.example: its subjectAltNames are DNS:other.example. "
        "Issue a certificate whose subjectAltNames list every name and address in "
        "registry_name and registry_alt_names."
    ]


def test_a_common_name_alone_does_not_count(pki) -> None:
    tmp, root, _intermediate = pki
    leaf = root.issue(tmp, "leaf", ["r.example"], days=90, san=False)
    problems = check(_inputs(leaf.cert, leaf.key), ["r.example"], 30).problems
    assert any("a common name alone does not count" in p for p in problems)


@pytest.mark.parametrize(
    ("entries", "name", "expected"),
    [
        (["DNS:*.example.net"], "r.example.net", True),
        (["DNS:*.example.net"], "a.r.example.net", False),
        (["DNS:*.example.net"], "example.net", False),
        (["DNS:R.Example.NET"], "r.example.net", True),
        (["DNS:10.0.0.5"], "10.0.0.5", False),
        (["IP:10.0.0.5"], "10.0.0.5", True),
        (["IP:2001:db8::1"], "2001:db8:0::1", True),
    ],
)
def test_covers(entries: list[str], name: str, expected: bool) -> None:
    assert covers(entries, name) is expected


def test_a_missing_intermediate_is_reported(pki) -> None:
    tmp, root, inter = pki
    leaf = inter.issue(tmp, "leaf", ["r.example"], days=90)
    problems = check(
        _inputs(leaf.cert, leaf.key, ca=root.pair.cert.read_bytes()), ["r.example"], 30
    ).problems
    assert len(problems) == 1 and "chain is incomplete" in problems[0]


def test_a_chain_in_the_wrong_order_is_reported(pki) -> None:
    tmp, root, inter = pki
    inter2 = inter.issue_ca(tmp / "inter2", "inter2", "test intermediate 2")
    leaf = inter2.issue(tmp, "leaf", ["r.example"], days=90)
    ca = root.pair.cert.read_bytes()
    right = inter2.pair.cert.read_bytes() + inter.pair.cert.read_bytes()
    wrong = inter.pair.cert.read_bytes() + inter2.pair.cert.read_bytes()
    assert check(_inputs(leaf.cert, leaf.key, right, ca), ["r.example"], 30).problems == []
    problems = check(_inputs(leaf.cert, leaf.key, wrong, ca), ["r.example"], 30).problems
    assert len(problems) == 1 and "wrong order" in problems[0]


def test_unreadable_files_raise(tmp_path: Path) -> None:
    (tmp_path / "c").write_text("not a certificate")
    with pytest.raises(CertificateCheckError, match="holds no PEM certificate"):
        check(Inputs(b"nothing", b""), ["r.example"], 30)


@pytest.mark.parametrize("where", ["cert", "chain", "ca"])
def test_a_private_key_outside_the_key_file_is_refused(pki, where: str) -> None:
    tmp, root, _intermediate = pki
    leaf = root.issue(tmp, "leaf", ["registry.example.net"], days=90)
    key = leaf.key.read_bytes()
    cert = leaf.cert.read_bytes()
    files = {"cert": cert, "chain": b"", "ca": b""}
    files[where] = (cert + key) if where == "cert" else key
    inputs = Inputs(files["cert"], key, files["chain"], files["ca"])
    with pytest.raises(CertificateCheckError, match="holds a private key") as err:
        check(inputs, ["registry.example.net"], 30)
    assert "BEGIN" not in str(err.value)


def test_a_chain_file_without_certificates_is_refused(pki) -> None:
    tmp, root, _intermediate = pki
    leaf = root.issue(tmp, "leaf", ["registry.example.net"], days=90)
    inputs = Inputs(leaf.cert.read_bytes(), leaf.key.read_bytes(), b"not a certificate\n")
    with pytest.raises(CertificateCheckError, match="holds no PEM certificate"):
        check(inputs, ["registry.example.net"], 30)
