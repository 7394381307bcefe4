"""Unit tests of registry_info against the in-memory fake registry."""

from __future__ import annotations

import json

from ansible_collections.dockyard.registry.plugins.module_utils import registry_api as api
from ansible_collections.dockyard.registry.plugins.modules import registry_info
from support.fake_registry import BASE, digest_of
from support.module_runner import ModuleHarness

ARGS = {"registry_url": BASE}


def push(fake, repository: str, tags: list[str], layers: int = 1) -> str:
    client = api.RegistryClient(BASE, request=fake)
    config = client.upload_blob(repository, b'{"os":"linux"}')
    layer_digests = [client.upload_blob(repository, bytes([n]) * 100) for n in range(layers)]
    doc = {
        "schemaVersion": 2,
        "mediaType": api.OCI_MANIFEST,
        "config": {"mediaType": api.OCI_CONFIG, "digest": config, "size": 14},
        "layers": [
            {"mediaType": api.OCI_LAYER_GZIP, "digest": d, "size": 100} for d in layer_digests
        ],
    }
    body = json.dumps(doc).encode()
    for tag in tags:
        client.put_manifest(repository, tag, body)
    fake.calls.clear()
    return digest_of(body)


def test_lists_repositories_across_pages(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    for name in ("app/a", "app/b", "app/c"):
        push(harness.fake, name, ["v1"])
    out = harness.run(registry_info.main, dict(ARGS, page_size=2))
    assert not out.failed, out.result.get("msg")
    assert out.result["changed"] is False
    assert out.result["repositories"] == ["app/a", "app/b", "app/c"]
    assert out.result["registry"] == {"url": BASE, "api_version": "registry/2.0", "auth": "none"}
    assert sum("_catalog" in call.url for call in harness.fake.calls) == 2
    assert "tags" not in out.result and "manifest" not in out.result


def test_lists_tags_and_describes_a_tag(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    digest = push(harness.fake, "shop/frontend", ["stable", "1.0.0"], layers=2)
    out = harness.run(registry_info.main, dict(ARGS, repository="shop/frontend", tag="stable"))
    assert not out.failed, out.result.get("msg")
    assert out.result["repository_exists"] is True
    assert out.result["tags"] == ["1.0.0", "stable"]
    assert out.result["manifest"] == {
        "exists": True,
        "digest": digest,
        "media_type": api.OCI_MANIFEST,
        "size": len(harness.fake.manifests["shop/frontend"][digest][0]),
        "image_size": 214,
        "layers": 2,
    }
    assert "repositories" not in out.result
    assert {call.method for call in harness.fake.calls} == {"GET"}


def test_missing_repository_and_tag_are_facts_not_failures(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_info.main, dict(ARGS, repository="nothing/here", tag="x"))
    assert not out.failed
    assert out.result["repository_exists"] is False and out.result["tags"] == []
    assert out.result["manifest"]["exists"] is False and out.result["manifest"]["digest"] is None


def test_check_mode_returns_the_same_facts(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    push(harness.fake, "app", ["v1"])
    real = harness.run(registry_info.main, dict(ARGS, repository="app", tag="v1"))
    check = harness.run(registry_info.main, dict(ARGS, repository="app", tag="v1"), check_mode=True)
    assert check.result == real.result


def test_bearer_registry_with_catalog_denied(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    harness.fake.auth = "bearer"
    harness.fake.users = {"reader": "pw-reader"}
    harness.fake.grants = {"reader": {"pull"}}
    out = harness.run(
        registry_info.main, dict(ARGS, username="reader", password="pw-reader", repository="x")
    )
    assert not out.failed and out.result["registry"]["auth"] == "bearer"
    out = harness.run(registry_info.main, dict(ARGS, username="reader", password="pw-reader"))
    assert out.failed
    assert out.result["kind"] == "denied" and out.result["step"] == "list repositories"
    assert "registry:catalog:*" in out.result["msg"]
    assert "pw-reader" not in json.dumps(out.result)


def test_tag_needs_repository(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_info.main, dict(ARGS, tag="v1"))
    assert out.failed and "repository" in out.result["msg"]
    assert harness.fake.calls == []


def test_page_size_bounds(monkeypatch):
    harness = ModuleHarness(monkeypatch)
    out = harness.run(registry_info.main, dict(ARGS, page_size=0))
    assert out.failed and "page_size must be between 1 and 1000" in out.result["msg"]
