"""registry_info against the real registry binary on 127.0.0.1, called in-process.

(The ansible-playbook run in test_registry_verify_integration.py covers it too.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.dockyard.registry.plugins.module_utils import registry_api as api
from ansible_collections.dockyard.registry.plugins.modules import registry_info, registry_verify
from support.module_runner import ModuleHarness
from support.token_server import TokenIssuer

pytestmark = pytest.mark.integration


def test_registry_info_in_process(monkeypatch, registry_factory):
    reg = registry_factory("info")
    harness = ModuleHarness(monkeypatch, fake=False)
    for repository in ("apps/one", "apps/two", "apps/three"):
        pushed = harness.run(
            registry_verify.main,
            {"registry_url": reg.url, "repository": repository, "tag": "v1", "layer_size": 1000},
        )
        assert not pushed.failed, pushed.result["msg"]
    out = harness.run(registry_info.main, {"registry_url": reg.url, "page_size": 1})
    assert out.result["repositories"] == ["apps/one", "apps/three", "apps/two"]
    args = {"registry_url": reg.url, "repository": "apps/three", "tag": "v1"}
    real = harness.run(registry_info.main, args)
    check = harness.run(registry_info.main, args, check_mode=True)
    assert real.result == check.result and real.result["changed"] is False
    manifest = real.result["manifest"]
    assert manifest["digest"] == pushed.result["digests"]["manifest"]
    assert manifest["media_type"] == api.OCI_MANIFEST
    assert manifest["size"] == pushed.result["sizes"]["manifest"]
    assert (
        manifest["image_size"]
        == pushed.result["sizes"]["layer"] + (pushed.result["sizes"]["config"])
    )
    missing = harness.run(registry_info.main, dict(args, tag="v2"))
    assert missing.result["manifest"]["exists"] is False and missing.result["tags"] == ["v1"]


@pytest.fixture
def token_issuer(tmp_path: Path) -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(
        tmp_path / "token",
        users={"pusher": "pusher-pw", "reader": "reader-pw"},
        permissions={"reader": {"pull"}},
    )
    try:
        yield issuer.start()
    finally:
        issuer.stop()


def test_registry_info_with_a_token_server(monkeypatch, registry_factory, token_issuer):
    reg = registry_factory("token", extra=token_issuer.registry_auth())
    harness = ModuleHarness(monkeypatch, fake=False)
    pusher = {"registry_url": reg.url, "username": "pusher", "password": "pusher-pw"}
    pushed = harness.run(registry_verify.main, dict(pusher, tag="v1", layer_size=1000))
    assert not pushed.failed, pushed.result["msg"]
    assert pushed.result["registry"]["auth"] == "bearer"

    reader = {"registry_url": reg.url, "username": "reader", "password": "reader-pw"}
    args = dict(reader, repository="dockyard/verify", tag="v1")
    out = harness.run(registry_info.main, args, check_mode=True)
    assert not out.failed, out.result["msg"]
    assert out.result["tags"] == ["v1"]
    assert out.result["manifest"]["digest"] == pushed.result["digests"]["manifest"]

    # The reader's token for the catalog carries no actions: the registry refuses it.
    out = harness.run(registry_info.main, reader)
    assert out.failed and out.result["kind"] == "denied"
    assert out.result["step"] == "list repositories"
    assert "registry:catalog:*" in out.result["msg"] and "user 'reader'" in out.result["msg"]
    assert "reader-pw" not in json.dumps(out.result)

    out = harness.run(registry_info.main, pusher)
    assert out.result["repositories"] == ["dockyard/verify"]
