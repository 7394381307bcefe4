"""The registry API client against the real registry binary on 127.0.0.1.

Every failure kind is provoked for real and its message checked: it must name
the registry URL and the step, explain the cause, and never carry a password.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.dockyard.registry.plugins.module_utils import registry_api as api
from support.scenarios import (
    closed_port,
    silent_server,
    small_tmpfs,
    tls_material,
    write_htpasswd,
)
from support.token_server import TokenIssuer

pytestmark = pytest.mark.integration

PASSWORD = "Integration-pa55-never-shown"


def image(client: api.RegistryClient, repository: str, tag: str, chunk: int | None = None):
    """Push a small image; return (manifest digest, manifest body, layer, config)."""
    layer = os.urandom(150_000)
    config = json.dumps({"os": "linux", "architecture": "amd64"}).encode()
    layer_digest = client.upload_blob(repository, layer, chunk_size=chunk)
    config_digest = client.upload_blob(repository, config, chunk_size=chunk)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": api.OCI_MANIFEST,
            "config": {"mediaType": api.OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [
                {"mediaType": api.OCI_LAYER_GZIP, "digest": layer_digest, "size": len(layer)}
            ],
        }
    ).encode()
    return client.put_manifest(repository, tag, manifest), manifest, layer, config


def expect_error(kind: str, func, *args, **kwargs) -> api.RegistryError:
    with pytest.raises(api.RegistryError) as info:
        func(*args, **kwargs)
    err = info.value
    assert err.kind == kind, str(err)
    assert PASSWORD not in str(err)
    return err


@pytest.fixture
def tls_registry(registry_factory, tmp_path: Path):
    """A registry with TLS from a private CA and htpasswd users alice and bob."""
    ca, pair = tls_material(tmp_path / "pki")
    htpasswd = write_htpasswd(tmp_path / "htpasswd", {"alice": PASSWORD, "bob": "bob-secret"})
    reg = registry_factory("tls", tls=(pair.cert, pair.key), htpasswd=htpasswd)
    return reg, ca


@pytest.fixture
def token_issuer(tmp_path: Path, request) -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(
        tmp_path / "token",
        users={"alice": PASSWORD, "reader": "reader-secret"},
        key_hint=getattr(request, "param", "x5c"),
        permissions={"reader": {"pull"}},
    )
    try:
        yield issuer.start()
    finally:
        issuer.stop()


def test_plain_http_round_trip_both_upload_methods(registry_factory):
    reg = registry_factory("plain")
    client = api.RegistryClient(reg.url)
    assert client.ping() == {"url": reg.url, "api_version": "registry/2.0", "auth": "none"}
    for tag, chunk in (("mono", None), ("chunked", 40_000)):
        digest, manifest, layer, config = image(client, "team/app", tag, chunk)
        by_tag = client.get_manifest("team/app", tag)
        assert (by_tag.digest, by_tag.body, by_tag.media_type) == (
            digest,
            manifest,
            api.OCI_MANIFEST,
        )
        assert client.get_manifest("team/app", digest).body == manifest
        head = client.head_manifest("team/app", tag)
        assert head is not None and head.digest == digest and head.size == len(manifest)
        for blob in (layer, config):
            blob_digest = api.sha256_digest(blob)
            assert client.blob_size("team/app", blob_digest) == len(blob)
            assert client.get_blob("team/app", blob_digest, len(blob)) == blob
    assert sorted(client.tags("team/app")) == ["chunked", "mono"]
    assert client.head_manifest("team/app", "absent") is None
    assert client.blob_size("team/app", "sha256:" + "0" * 64) is None
    client.delete_manifest("team/app", digest)
    client.delete_blob("team/app", api.sha256_digest(layer))
    assert client.head_manifest("team/app", digest) is None
    assert client.blob_size("team/app", api.sha256_digest(layer)) is None
    assert client.tags("team/app") == ["mono"]


def test_catalog_pagination_against_distribution(registry_factory):
    reg = registry_factory("catalog")
    client = api.RegistryClient(reg.url)
    names = [f"pages/repo-{n}" for n in range(5)]
    for name in names:
        image(client, name, "v1")
    calls: list[str] = []
    original = client.call

    def spy(method, url, step, *args, **kwargs):
        calls.append(url)
        return original(method, url, step, *args, **kwargs)

    client.call = spy  # type: ignore[method-assign]
    assert client.catalog(page_size=2) == sorted(names)
    assert len(calls) == 3, "five repositories in pages of two"
    assert "last=pages%2Frepo-1" in calls[1] or "last=pages/repo-1" in calls[1]


def test_tls_with_htpasswd(tls_registry):
    reg, ca = tls_registry
    client = api.RegistryClient(reg.url, "alice", PASSWORD, ca_path=str(ca.pair.cert))
    assert client.ping()["auth"] == "basic"
    digest, manifest, *_rest = image(client, "secure/app", "v1", chunk=64_000)
    assert client.get_manifest("secure/app", digest).body == manifest
    insecure = api.RegistryClient(reg.url, "alice", PASSWORD, validate_certs=False)
    assert insecure.tags("secure/app") == ["v1"]


def test_wrong_password(tls_registry):
    reg, ca = tls_registry
    client = api.RegistryClient(reg.url, "alice", "not-" + PASSWORD, ca_path=str(ca.pair.cert))
    err = expect_error(api.WRONG_CREDENTIALS, client.ping)
    assert str(err).startswith(f"Registry {reg.url}, step 'ping': ")
    assert "user 'alice'" in str(err) and "Check username and password" in str(err)
    assert "not-" + PASSWORD not in str(err)


def test_missing_credentials(tls_registry):
    reg, ca = tls_registry
    client = api.RegistryClient(reg.url, ca_path=str(ca.pair.cert))
    err = expect_error(api.AUTH_REQUIRED, client.tags, "secure/app")
    assert "Basic" in str(err) and "list tags of secure/app" in str(err)


def test_untrusted_certificate(tls_registry):
    reg, _ca = tls_registry
    client = api.RegistryClient(reg.url, "alice", PASSWORD)
    err = expect_error(api.CERT_UNTRUSTED, client.ping)
    assert reg.url in str(err) and "step 'ping'" in str(err)
    assert "pass ca_path" in str(err) and "trust store" in str(err)


def test_wrong_ca_file(tls_registry, tmp_path):
    reg, _ca = tls_registry
    other, _other_key = tls_material(tmp_path / "other-pki")
    client = api.RegistryClient(reg.url, "alice", PASSWORD, ca_path=str(other.pair.cert))
    err = expect_error(api.CERT_UNTRUSTED, client.ping)
    assert "ca_path does not hold the CA" in str(err)


def test_certificate_name_mismatch(registry_factory, tmp_path):
    ca, pair = tls_material(tmp_path / "pki", sans=["registry.example.test"])
    reg = registry_factory("mismatch", tls=(pair.cert, pair.key))
    client = api.RegistryClient(reg.url, ca_path=str(ca.pair.cert))
    err = expect_error(api.CERT_NAME_MISMATCH, client.ping)
    assert "does not cover the name 127.0.0.1" in str(err)


def test_http_url_for_https_registry(tls_registry):
    reg, ca = tls_registry
    url = reg.url.replace("https://", "http://")
    client = api.RegistryClient(url, "alice", PASSWORD)
    err = expect_error(api.HTTPS_SERVER, client.ping)
    assert f"Registry {url}, step 'ping'" in str(err)
    assert "speaks HTTPS" in str(err) and "Use https://" in str(err)


def test_https_url_for_plain_registry(registry_factory):
    reg = registry_factory("plain")
    url = reg.url.replace("http://", "https://")
    err = expect_error(api.PLAIN_HTTP_SERVER, api.RegistryClient(url).ping)
    assert f"Registry {url}, step 'ping'" in str(err)
    assert "answered in plain HTTP" in str(err) and f"http://{reg.host}" in str(err)


def test_client_certificate_required(registry_factory, tmp_path):
    ca, pair = tls_material(tmp_path / "pki")
    client_pair = ca.issue(tmp_path / "pki", "client", ["dockyard-client"])
    extra = {"http": {"tls": {"clientcas": [str(ca.pair.cert)]}}}
    reg = registry_factory("mtls", tls=(pair.cert, pair.key), extra=extra)
    without = api.RegistryClient(reg.url, ca_path=str(ca.pair.cert))
    err = expect_error(api.TLS_ERROR, without.ping)
    assert "set client_cert and client_key" in str(err)
    with_cert = api.RegistryClient(
        reg.url,
        ca_path=str(ca.pair.cert),
        client_cert=str(client_pair.cert),
        client_key=str(client_pair.key),
    )
    assert with_cert.ping()["api_version"] == "registry/2.0"


def test_connection_refused():
    url = f"http://127.0.0.1:{closed_port()}"
    err = expect_error(api.CONNECTION_REFUSED, api.RegistryClient(url).ping)
    assert f"Registry {url}, step 'ping'" in str(err) and "connection refused" in str(err)


def test_name_not_resolving():
    url = "https://registry.dockyard.invalid:5000"
    err = expect_error(api.NAME_NOT_RESOLVED, api.RegistryClient(url, timeout=5).ping)
    assert "registry.dockyard.invalid does not resolve" in str(err)


def test_timeout():
    with silent_server() as port:
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        err = expect_error(api.TIMEOUT, api.RegistryClient(url, timeout=0.5).ping)
        assert time.monotonic() - started < 5
    assert "did not answer within 0.5 s" in str(err)


def test_read_only_maintenance_mode(registry_factory):
    reg = registry_factory("readonly")
    client = api.RegistryClient(reg.url)
    digest, manifest, *_rest = image(client, "team/app", "v1")
    reg.restart({"storage": {"maintenance": {"readonly": {"enabled": True}}}})
    client = api.RegistryClient(reg.url)
    assert client.get_manifest("team/app", "v1").body == manifest
    err = expect_error(api.READ_ONLY, client.upload_blob, "team/app", b"x", step="upload blob")
    assert err.status == 405
    assert "step 'upload blob'" in str(err) and "POST /v2/team/app/blobs/uploads/" in str(err)
    assert "allows only GET, HEAD" in str(err) and "read-only mode" in str(err)
    err = expect_error(api.READ_ONLY, client.delete_manifest, "team/app", digest)
    assert "DELETE" in str(err)


def test_deletion_disabled(registry_factory):
    reg = registry_factory("nodelete", extra={"storage": {"delete": {"enabled": False}}})
    client = api.RegistryClient(reg.url)
    digest, *_rest = image(client, "team/app", "v1")
    err = expect_error(api.DELETE_DISABLED, client.delete_manifest, "team/app", digest)
    assert err.status == 405 and "storage.delete.enabled: true" in str(err)
    assert "step 'delete manifest'" in str(err)
    assert client.head_manifest("team/app", digest) is not None


def test_storage_full(registry_factory, tmp_path):
    try:
        mount = small_tmpfs(tmp_path / "tiny")
        tiny = mount.__enter__()
    except PermissionError as err:
        pytest.skip(f"cannot mount a small tmpfs here: {err}")
    try:
        data = tiny / "data"
        reg = registry_factory(
            "full", extra={"storage": {"filesystem": {"rootdirectory": str(data)}}}
        )
        client = api.RegistryClient(reg.url)
        err = expect_error(api.STORAGE_FULL, client.upload_blob, "team/app", os.urandom(600_000))
        assert err.status == 500 and "no space left on device" in str(err)
        assert "Free space" in str(err)
        reg.stop()
    finally:
        mount.__exit__(None, None, None)


@pytest.mark.parametrize("token_issuer", ["x5c", "kid"], indirect=True)
def test_bearer_token_flow(registry_factory, token_issuer):
    reg = registry_factory("token", extra=token_issuer.registry_auth())
    client = api.RegistryClient(reg.url, "alice", PASSWORD)
    assert client.ping()["auth"] == "bearer"
    digest, manifest, layer, _config = image(client, "team/app", "v1", chunk=50_000)
    assert client.get_manifest("team/app", digest).body == manifest
    assert client.catalog() == ["team/app"]
    client.delete_manifest("team/app", digest)
    client.delete_blob("team/app", api.sha256_digest(layer))
    scopes = [tuple(r["scopes"]) for r in token_issuer.requests if r["ok"]]
    assert scopes.count(("repository:team/app:pull,push",)) == 1, "push token is cached"
    assert ("registry:catalog:*",) in scopes
    assert ("repository:team/app:delete",) in scopes
    assert all(r["user"] == "alice" for r in token_issuer.requests)


def test_bearer_wrong_password_and_missing_scope(registry_factory, token_issuer):
    reg = registry_factory("token", extra=token_issuer.registry_auth())
    wrong = api.RegistryClient(reg.url, "alice", "bad-" + PASSWORD)
    err = expect_error(api.WRONG_CREDENTIALS, wrong.ping)
    assert token_issuer.realm in str(err) and "bad-" + PASSWORD not in str(err)
    reader = api.RegistryClient(reg.url, "reader", "reader-secret")
    assert reader.ping()["auth"] == "bearer"
    err = expect_error(api.DENIED, reader.upload_blob, "team/app", b"x", step="upload layer blob")
    assert "repository:team/app:pull,push" in str(err) and "user 'reader'" in str(err)
    assert "reader-secret" not in str(err)
    tokens = [token_issuer.token("x", [], "y")]
    assert tokens[0].split(".")[0] not in str(err)


def test_registry_rejects_tokens_of_an_unknown_signer(registry_factory, token_issuer, tmp_path):
    stranger = TokenIssuer(tmp_path / "stranger", users={}, key_hint="kid")
    # Trust another signer than the one issuing the tokens.
    config = token_issuer.registry_auth()
    config["auth"]["token"]["rootcertbundle"] = str(stranger.bundle)
    reg = registry_factory("token", extra=config)
    err = expect_error(api.TOKEN_ERROR, api.RegistryClient(reg.url, "alice", PASSWORD).ping)
    assert "rootcertbundle" in str(err) and token_issuer.realm in str(err)
