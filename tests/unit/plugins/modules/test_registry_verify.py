"""Unit tests of registry_verify against the in-memory fake registry."""

from __future__ import annotations

import gzip
import io
import json
import ssl
import tarfile

import pytest
from ansible_collections.dockyard.registry.plugins.modules import registry_verify
from support.fake_registry import BASE, digest_of
from support.module_runner import ModuleHarness
from support.scenarios import tls_material

PASSWORD = "verify-pa55word"
ARGS = {"registry_url": BASE}


def test_round_trip_pushes_pulls_and_checks(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_verify.main, dict(ARGS, layer_size=4096))
    assert not out.failed, out.result["msg"]
    result = out.result
    assert result["changed"] is True
    assert result["repository"] == "dockyard/verify"
    assert result["tag"].startswith("verify-")
    assert result["image"] == f"registry.test:5000/dockyard/verify:{result['tag']}"
    digests = result["digests"]
    assert harness.fake.tags["dockyard/verify"][result["tag"]] == digests["manifest"]
    layer = harness.fake.blobs[digests["layer"]]
    config = json.loads(harness.fake.blobs[digests["config"]])
    assert result["sizes"]["layer"] == len(layer)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as archive:
        member = archive.getmember("dockyard-verify/random.bin")
        assert member.size == 4096
    assert config["rootfs"]["diff_ids"] == [digest_of(gzip.decompress(layer))]
    names = [step["name"] for step in result["steps"]]
    assert names[:5] == [
        "ping",
        "read tags of dockyard/verify",
        "upload layer blob",
        "upload config blob",
        f"push manifest dockyard/verify:{result['tag']}",
    ]
    assert f"pull manifest dockyard/verify@{digests['manifest']}" in names
    assert names[-2:] == ["pull config blob", "pull layer blob"]
    assert result["deleted"] is False and result["delete_reason"] == "delete is false"
    timings = result["timings"]
    assert timings["upload_mb_per_s"] > 0 and timings["download_mb_per_s"] > 0
    assert "POST" in [call.method for call in harness.fake.calls]
    assert not any(call.method == "PATCH" for call in harness.fake.calls)


def test_chunked_upload_uses_patch(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    args = dict(ARGS, layer_size=5000, upload_method="chunked", chunk_size=1024, tag="chunks")
    out = harness.run(registry_verify.main, args)
    assert not out.failed, out.result["msg"]
    patches = [call for call in harness.fake.calls if call.method == "PATCH"]
    layer_size = out.result["sizes"]["layer"]
    config_size = out.result["sizes"]["config"]
    expected = -(-layer_size // 1024) + -(-config_size // 1024)
    assert len(patches) == expected
    assert out.result["tag"] == "chunks"


def test_check_mode_only_reads(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_verify.main, dict(ARGS, tag="t1"), check_mode=True)
    assert not out.failed
    assert out.result["changed"] is True
    assert {call.method for call in harness.fake.calls} == {"GET"}
    assert [s["name"] for s in out.result["steps"]] == ["ping", "read tags of dockyard/verify"]
    assert "digests" not in out.result
    assert harness.fake.blobs == {} and harness.fake.manifests == {}


def test_check_mode_reports_an_existing_repository(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    harness.run(registry_verify.main, dict(ARGS, tag="first"))
    out = harness.run(registry_verify.main, ARGS, check_mode=True)
    assert out.result["repository_exists"] is True


def test_delete_removes_what_was_pushed(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_verify.main, dict(ARGS, delete=True))
    assert not out.failed, out.result["msg"]
    assert out.result["deleted"] is True and out.result["delete_reason"] is None
    assert harness.fake.blobs == {}
    assert harness.fake.tags["dockyard/verify"] == {}
    assert out.result["steps"][-1]["name"] == "confirm deletion"


def test_delete_disabled_is_not_a_failure(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    harness.fake.delete_enabled = False
    out = harness.run(registry_verify.main, dict(ARGS, delete=True))
    assert not out.failed
    assert out.result["deleted"] is False
    assert "does not allow deletion" in out.result["delete_reason"]
    assert out.result["digests"]["manifest"] in harness.fake.manifests["dockyard/verify"]


def test_failure_names_registry_step_and_keeps_password_out(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    harness.fake.auth = "basic"
    harness.fake.users = {"alice": "other"}
    args = dict(ARGS, username="alice", password=PASSWORD)
    out = harness.run(registry_verify.main, args)
    assert out.failed
    assert out.result["kind"] == "wrong_credentials"
    assert out.result["step"] == "ping"
    assert out.result["msg"].startswith(f"Registry {BASE}, step 'ping': ")
    assert PASSWORD not in json.dumps(out.result)


def test_read_only_registry_fails_at_upload(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    harness.fake.read_only = True
    out = harness.run(registry_verify.main, ARGS)
    assert out.failed
    assert out.result["kind"] == "read_only" and out.result["step"] == "upload layer blob"
    assert out.result["changed"] is False, "nothing was written"
    assert [s["name"] for s in out.result["steps"]] == ["ping", "read tags of dockyard/verify"]


def test_corrupted_download_fails_with_digest_mismatch(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    harness.fake.corrupt_blobs = True
    out = harness.run(registry_verify.main, ARGS)
    assert out.failed
    assert out.result["kind"] == "digest_mismatch"
    assert out.result["step"] == "pull config blob"


def test_connection_options_reach_the_transport(monkeypatch, tmp_path):
    harness = ModuleHarness(monkeypatch)
    ca, _server = tls_material(tmp_path)
    args = dict(ARGS, ca_path=str(ca.pair.cert), timeout=7.5)
    out = harness.run(registry_verify.main, args, check_mode=True)
    assert not out.failed, out.result["msg"]
    settings = harness.request_settings[-1]
    assert settings["timeout"] == 7.5
    assert settings["use_netrc"] is False
    context = settings["context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    names = [cert["subject"] for cert in context.get_ca_certs()]
    assert names == [((("commonName", "dockyard test CA"),),)], "only the given CA is trusted"
    out = harness.run(registry_verify.main, dict(ARGS, validate_certs=False), check_mode=True)
    context = harness.request_settings[-1]["context"]
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


def test_unreadable_tls_files_are_option_errors(monkeypatch, tmp_path):
    harness = ModuleHarness(monkeypatch)
    bogus = tmp_path / "ca.crt"
    bogus.write_text("this is not PEM")
    out = harness.run(registry_verify.main, dict(ARGS, ca_path=str(bogus)))
    assert out.failed and out.result["kind"] == "invalid_option"
    assert f"ca_path {bogus}" in out.result["msg"] and "PEM" in out.result["msg"]
    out = harness.run(registry_verify.main, dict(ARGS, client_cert=str(tmp_path / "none.pem")))
    assert out.failed and "client_cert" in out.result["msg"]
    assert harness.fake.calls == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"repository": "Not/Valid"}, "not a valid repository name"),
        ({"tag": "-bad"}, "not a valid tag"),
        ({"layer_size": 0}, "layer_size must be between 1"),
        ({"layer_size": 268435457}, "layer_size must be between 1"),
        ({"chunk_size": 10}, "chunk_size must be between 1024"),
        ({"registry_url": "registry.test:5000"}, "https://HOST"),
        ({"timeout": 0}, "timeout must be greater than 0"),
    ],
)
def test_invalid_options_fail_before_any_request(monkeypatch, args, words):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_verify.main, dict(ARGS, **args))
    assert out.failed
    assert words in out.result["msg"]
    assert harness.fake.calls == []
