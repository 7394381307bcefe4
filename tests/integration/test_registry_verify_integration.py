"""registry_verify (and registry_info) against the real registry binary on 127.0.0.1.

Most tests call the module's main() in-process with real HTTP; one runs both
modules through ansible-playbook, so the module packaging is proven as well.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.dockyard.registry.plugins.module_utils import registry_api as api
from ansible_collections.dockyard.registry.plugins.modules import registry_verify
from support.module_runner import ModuleHarness
from support.scenarios import (
    ansible_env,
    closed_port,
    target_python,
    tls_material,
    venv_bin,
    write_htpasswd,
)

pytestmark = pytest.mark.integration

PASSWORD = "Verify-integration-pa55"


@pytest.fixture
def tls_registry(registry_factory, tmp_path: Path):
    ca, pair = tls_material(tmp_path / "pki")
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"alice": PASSWORD})
    reg = registry_factory("tls", tls=(pair.cert, pair.key), htpasswd=htpasswd)
    return reg, ca


def assert_failure(out, kind: str, url: str, step: str) -> None:
    assert out.failed, f"expected {kind}, the module succeeded"
    assert out.result["kind"] == kind, out.result["msg"]
    assert out.result["step"] == step
    assert out.result["msg"].startswith(f"Registry {url}, step '{step}': ")
    assert PASSWORD not in json.dumps(out.result)


def test_check_real_repeated_and_delete(monkeypatch, registry_factory):
    reg = registry_factory("plain")
    harness = ModuleHarness(monkeypatch, fake=False)
    args = {"registry_url": reg.url, "tag": "stable", "layer_size": 300_000}
    client = api.RegistryClient(reg.url)

    check = harness.run(registry_verify.main, args, check_mode=True)
    assert not check.failed, check.result["msg"]
    assert check.result["changed"] is True and check.result["repository_exists"] is False
    assert "digests" not in check.result
    assert client.catalog() == [], "check mode pushed nothing"

    first = harness.run(registry_verify.main, args)
    assert not first.failed, first.result["msg"]
    assert first.result["changed"] is True
    digests = first.result["digests"]
    assert client.head_manifest("dockyard/verify", "stable").digest == digests["manifest"]
    assert client.blob_size("dockyard/verify", digests["layer"]) == first.result["sizes"]["layer"]
    assert first.result["sizes"]["layer"] > 300_000
    assert first.result["image"] == f"{reg.host}/dockyard/verify:stable"
    assert first.result["registry"] == {
        "url": reg.url,
        "api_version": "registry/2.0",
        "auth": "none",
    }

    again = harness.run(registry_verify.main, args)
    assert not again.failed and again.result["changed"] is True
    assert again.result["digests"]["manifest"] != digests["manifest"], "a fresh image each run"
    assert (
        client.head_manifest("dockyard/verify", "stable").digest
        == (again.result["digests"]["manifest"])
    )

    check_again = harness.run(registry_verify.main, args, check_mode=True)
    assert check_again.result["changed"] is True
    assert check_again.result["repository_exists"] is True

    chunked = harness.run(
        registry_verify.main,
        {
            "registry_url": reg.url,
            "upload_method": "chunked",
            "chunk_size": 65536,
            "layer_size": 200_000,
            "delete": True,
        },
    )
    assert not chunked.failed, chunked.result["msg"]
    assert chunked.result["deleted"] is True and chunked.result["delete_reason"] is None
    gone = chunked.result["digests"]
    assert client.head_manifest("dockyard/verify", gone["manifest"]) is None
    assert client.blob_size("dockyard/verify", gone["layer"]) is None
    assert chunked.result["tag"] not in client.tags("dockyard/verify")
    assert client.tags("dockyard/verify") == ["stable"]


def test_tls_basic_auth_and_its_failures(monkeypatch, tls_registry, tmp_path):
    reg, ca = tls_registry
    harness = ModuleHarness(monkeypatch, fake=False)
    good = {
        "registry_url": reg.url,
        "username": "alice",
        "password": PASSWORD,
        "ca_path": str(ca.pair.cert),
        "upload_method": "chunked",
        "chunk_size": 100_000,
    }
    out = harness.run(registry_verify.main, good)
    assert not out.failed, out.result["msg"]
    assert out.result["registry"]["auth"] == "basic"
    assert out.result["timings"]["upload_mb_per_s"] > 0

    wrong = dict(good, password="wrong-" + PASSWORD)
    out = harness.run(registry_verify.main, wrong)
    assert_failure(out, "wrong_credentials", reg.url, "ping")
    assert "wrong-" + PASSWORD not in json.dumps(out.result)

    out = harness.run(registry_verify.main, dict(good, ca_path=None))
    assert_failure(out, "cert_untrusted", reg.url, "ping")
    assert "ca_path" in out.result["msg"]

    http_url = reg.url.replace("https://", "http://")
    out = harness.run(registry_verify.main, dict(good, registry_url=http_url))
    assert_failure(out, "https_server", http_url, "ping")

    anonymous = {"registry_url": reg.url, "ca_path": str(ca.pair.cert)}
    out = harness.run(registry_verify.main, anonymous, check_mode=True)
    assert_failure(out, "auth_required", reg.url, "ping")


def test_unreachable_registries(monkeypatch, registry_factory):
    harness = ModuleHarness(monkeypatch, fake=False)
    plain = registry_factory("plain")
    https_url = plain.url.replace("http://", "https://")
    out = harness.run(registry_verify.main, {"registry_url": https_url})
    assert_failure(out, "plain_http_server", https_url, "ping")

    refused = f"http://127.0.0.1:{closed_port()}"
    out = harness.run(registry_verify.main, {"registry_url": refused}, check_mode=True)
    assert_failure(out, "connection_refused", refused, "ping")

    unknown = "https://registry.dockyard.invalid"
    out = harness.run(registry_verify.main, {"registry_url": unknown, "timeout": 5})
    assert_failure(out, "name_not_resolved", unknown, "ping")


def test_read_only_registry(monkeypatch, registry_factory):
    reg = registry_factory(
        "readonly", extra={"storage": {"maintenance": {"readonly": {"enabled": True}}}}
    )
    harness = ModuleHarness(monkeypatch, fake=False)
    check = harness.run(registry_verify.main, {"registry_url": reg.url}, check_mode=True)
    assert not check.failed, "reads still work in read-only mode"
    out = harness.run(registry_verify.main, {"registry_url": reg.url})
    assert_failure(out, "read_only", reg.url, "upload layer blob")
    assert "read-only mode" in out.result["msg"] and out.result["status"] == 405
    assert [step["name"] for step in out.result["steps"]] == [
        "ping",
        "read tags of dockyard/verify",
    ]


def test_deletion_disabled_is_reported_not_failed(monkeypatch, registry_factory):
    reg = registry_factory("nodelete", extra={"storage": {"delete": {"enabled": False}}})
    harness = ModuleHarness(monkeypatch, fake=False)
    out = harness.run(registry_verify.main, {"registry_url": reg.url, "delete": True})
    assert not out.failed, out.result["msg"]
    assert out.result["deleted"] is False
    assert "does not allow deletion" in out.result["delete_reason"]
    client = api.RegistryClient(reg.url)
    assert client.head_manifest("dockyard/verify", out.result["digests"]["manifest"]) is not None


PLAYBOOK = """\
---
- name: Exercise the registry modules the way a playbook does
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    dockyard.registry.registry_verify: &registry
      registry_url: "{{ registry_url }}"
      username: alice
      password: "{{ registry_password }}"
      ca_path: "{{ registry_ca }}"
    dockyard.registry.registry_info: *registry
  tasks:
    - name: Read the Python version modules run with
      ansible.builtin.setup:
        gather_subset: [min]

    - name: Verify the registry in check mode
      dockyard.registry.registry_verify:
        tag: ci
      check_mode: true

    - name: Verify the registry
      dockyard.registry.registry_verify:
        tag: ci
        layer_size: 100000

    - name: Verify the registry again
      dockyard.registry.registry_verify:
        tag: ci
        layer_size: 100000

    - name: Verify with chunks and delete the test image
      dockyard.registry.registry_verify:
        upload_method: chunked
        chunk_size: 32768
        layer_size: 100000
        delete: true

    - name: Read the test tag in check mode
      dockyard.registry.registry_info:
        repository: dockyard/verify
        tag: ci
      check_mode: true

    - name: Read the repositories
      dockyard.registry.registry_info:

    - name: Verify with a wrong password
      dockyard.registry.registry_verify:
        password: "wrong-{{ registry_password }}"
      ignore_errors: true
"""


def test_modules_through_ansible_playbook(tls_registry, tmp_path):
    reg, ca = tls_registry
    playbook = tmp_path / "verify.yml"
    playbook.write_text(PLAYBOOK)
    extra = tmp_path / "vars.json"
    python = target_python()
    extra.write_text(
        json.dumps(
            {
                "registry_url": reg.url,
                "registry_password": PASSWORD,
                "registry_ca": str(ca.pair.cert),
                "ansible_python_interpreter": python,
            }
        )
    )
    done = subprocess.run(
        [venv_bin("ansible-playbook"), "-i", "localhost,", str(playbook), "-e", f"@{extra}"],
        cwd=tmp_path,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert PASSWORD not in done.stdout and PASSWORD not in done.stderr
    tasks = json.loads(done.stdout)["plays"][0]["tasks"]
    results = {task["task"]["name"]: task["hosts"]["localhost"] for task in tasks}

    facts = results["Read the Python version modules run with"]["ansible_facts"]
    if python != sys.executable:
        assert facts["ansible_python_version"].startswith("3.9."), "modules ran on Python 3.9"

    check = results["Verify the registry in check mode"]
    assert check["changed"] is True and "digests" not in check
    real = results["Verify the registry"]
    again = results["Verify the registry again"]
    assert real["changed"] is True and again["changed"] is True
    assert real["registry"]["auth"] == "basic"
    assert real["digests"]["manifest"] != again["digests"]["manifest"]
    assert real["invocation"]["module_args"]["password"] != PASSWORD
    deleted = results["Verify with chunks and delete the test image"]
    assert deleted["deleted"] is True and deleted["upload_method"] == "chunked"
    info = results["Read the test tag in check mode"]
    assert info["changed"] is False
    assert info["manifest"]["digest"] == again["digests"]["manifest"]
    assert info["tags"] == ["ci"]
    assert results["Read the repositories"]["repositories"] == ["dockyard/verify"]
    wrong = results["Verify with a wrong password"]
    assert wrong["failed"] is True and wrong["kind"] == "wrong_credentials"
    assert wrong["msg"].startswith(f"Registry {reg.url}, step 'ping': ")
