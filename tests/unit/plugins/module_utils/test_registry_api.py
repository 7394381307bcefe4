"""Unit tests of the registry API client against faked HTTP answers."""

from __future__ import annotations

import io
import json
import socket
import ssl
from email.message import Message
from urllib.error import HTTPError, URLError

import pytest
from ansible_collections.dockyard.registry.plugins.module_utils import registry_api as api
from support.fake_registry import BASE, REALM, FakeRegistry, digest_of

PASSWORD = "pa55-w0rd-do-not-print"


def client(fake: FakeRegistry, username: str | None = None, password: str | None = None):
    return api.RegistryClient(BASE, username=username, password=password, request=fake)


class Scripted:
    """A transport that raises or answers from a list, one entry per request."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, dict]] = []

    def open(self, method, url, data=None, headers=None, **_):
        self.calls.append((method, url, dict(headers or {})))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def http_error(status: int, body: bytes = b"", **headers: str) -> HTTPError:
    msg = Message()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return HTTPError(BASE + "/v2/", status, "error", msg, io.BytesIO(body))


def raise_kind(transport: object, func=lambda c: c.ping(), **kwargs) -> api.RegistryError:
    c = api.RegistryClient(BASE, request=transport, **kwargs)
    with pytest.raises(api.RegistryError) as info:
        func(c)
    assert info.value.registry_url == BASE
    return info.value


# WWW-Authenticate and Link parsing ----------------------------------------------


def test_parse_bearer_challenge_with_quoted_commas():
    header = (
        'Bearer realm="https://auth.test/token",service="registry.test",'
        'scope="repository:team/app:pull,push",error="insufficient_scope"'
    )
    (challenge,) = api.parse_challenges(header)
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.test/token",
        "service": "registry.test",
        "scope": "repository:team/app:pull,push",
        "error": "insufficient_scope",
    }


def test_parse_several_challenges_and_unquoted_values():
    challenges = api.parse_challenges('Basic realm="x y", Bearer realm=https://a/t, service=s')
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].params == {"realm": "x y"}
    assert challenges[1].params == {"realm": "https://a/t", "service": "s"}


def test_parse_escaped_quote_and_empty_header():
    (challenge,) = api.parse_challenges(r'Basic realm="say \"hi\""')
    assert challenge.params["realm"] == 'say "hi"'
    assert api.parse_challenges("") == []
    assert api.parse_challenges(None) == []


def test_next_link():
    assert api.next_link('</v2/_catalog?last=b&n=2>; rel="next"') == "/v2/_catalog?last=b&n=2"
    assert api.next_link("<https://r/v2/x/tags/list?n=1&last=a>;rel=next") == (
        "https://r/v2/x/tags/list?n=1&last=a"
    )
    assert api.next_link('</v2/other>; rel="prev"') is None
    assert api.next_link(None) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://registry.test:5000", "https://registry.test:5000"),
        ("https://registry.test:5000/", "https://registry.test:5000"),
        ("http://10.0.0.5:5000/v2/", "http://10.0.0.5:5000"),
        (" https://registry.test ", "https://registry.test"),
    ],
)
def test_normalize_registry_url(url, expected):
    assert api.normalize_registry_url(url) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("registry.test:5000", "https://HOST"),
        ("ftp://registry.test", "https://HOST"),
        ("https://registry.test:5000/some/path", "must not have a path"),
        ("https://registry.test:99999", "invalid port"),
    ],
)
def test_normalize_registry_url_rejects(url, words):
    with pytest.raises(api.RegistryError) as info:
        api.normalize_registry_url(url)
    assert info.value.kind == api.INVALID_OPTION
    assert words in str(info.value)


def test_credentials_in_url_are_rejected_without_echoing_them():
    with pytest.raises(api.RegistryError) as info:
        api.normalize_registry_url(f"https://alice:{PASSWORD}@registry.test:5000")
    assert PASSWORD not in str(info.value)
    assert "alice" not in str(info.value)
    assert "https://registry.test:5000" in str(info.value)


# Authentication -----------------------------------------------------------------


def test_anonymous_registry_sends_no_authorization():
    fake = FakeRegistry()
    info = client(fake).ping()
    assert info == {"url": BASE, "api_version": "registry/2.0", "auth": "none"}
    assert all("Authorization" not in call.headers for call in fake.calls)


def test_basic_challenge_is_answered_and_then_sent_up_front():
    fake = FakeRegistry(auth="basic", users={"alice": PASSWORD})
    c = client(fake, "alice", PASSWORD)
    assert c.ping()["auth"] == "basic"
    assert [call.headers.get("Authorization", "")[:6] for call in fake.calls] == ["", "Basic "]
    c.catalog()
    assert fake.calls[-1].headers["Authorization"].startswith("Basic ")
    assert len(fake.calls) == 3, "credentials go along without a second challenge"


def test_wrong_basic_password_is_named_but_not_shown():
    fake = FakeRegistry(auth="basic", users={"alice": "right"})
    with pytest.raises(api.RegistryError) as info:
        client(fake, "alice", PASSWORD).ping()
    err = info.value
    assert err.kind == api.WRONG_CREDENTIALS
    assert err.step == "ping"
    assert "user 'alice'" in str(err) and BASE in str(err)
    assert "Check username and password" in str(err)
    assert PASSWORD not in str(err) and PASSWORD not in repr(err.args)


def test_missing_credentials_asks_for_them():
    fake = FakeRegistry(auth="basic", users={"alice": PASSWORD})
    with pytest.raises(api.RegistryError) as info:
        client(fake).ping()
    assert info.value.kind == api.AUTH_REQUIRED
    assert "Set username and password" in str(info.value)


def test_bearer_flow_fetches_one_token_per_scope_and_reuses_it():
    fake = FakeRegistry(auth="bearer", users={"alice": PASSWORD})
    c = client(fake, "alice", PASSWORD)
    assert c.ping()["auth"] == "bearer"
    c.upload_blob("team/app", b"layer")
    c.upload_blob("team/app", b"config")
    c.catalog()
    c.catalog()
    assert fake.token_requests == ["", "repository:team/app:pull,push", "registry:catalog:*"]
    token_call = next(call for call in fake.calls if call.url.startswith(REALM))
    assert token_call.headers["Authorization"].startswith("Basic ")
    assert "service=fake-registry" in token_call.url and "account=alice" in token_call.url


def test_bearer_follows_the_scope_the_registry_asks_for():
    # The client asks for "delete" up front; this registry wants "*" for DELETE.
    fake = FakeRegistry(auth="bearer", users={"alice": PASSWORD}, delete_action="*")
    c = client(fake, "alice", PASSWORD)
    digest = c.upload_blob("team/app", b"x")
    c.delete_blob("team/app", digest)
    assert fake.token_requests[-2:] == ["repository:team/app:delete", "repository:team/app:*"]
    assert digest not in fake.blobs
    other = c.upload_blob("team/app", b"y")
    c.delete_blob("team/app", other)
    assert fake.token_requests.count("repository:team/app:*") == 1, "the token is cached"


def test_expired_token_is_replaced():
    fake = FakeRegistry(auth="bearer", users={"alice": PASSWORD})
    c = client(fake, "alice", PASSWORD)
    c.catalog()
    fake.issued.clear()  # the registry no longer accepts earlier tokens
    assert c.catalog() == []
    assert fake.token_requests.count("registry:catalog:*") == 2


def test_insufficient_scope_is_denied_with_the_scope_named():
    fake = FakeRegistry(auth="bearer", users={"bob": PASSWORD}, grants={"bob": {"pull"}})
    with pytest.raises(api.RegistryError) as info:
        client(fake, "bob", PASSWORD).upload_blob("team/app", b"x", step="upload layer blob")
    err = info.value
    assert err.kind == api.DENIED
    assert err.step == "upload layer blob"
    assert "'repository:team/app:pull,push'" in str(err) and "user 'bob'" in str(err)


def test_token_server_rejecting_password():
    fake = FakeRegistry(auth="bearer", users={"alice": "other"})
    with pytest.raises(api.RegistryError) as info:
        client(fake, "alice", PASSWORD).ping()
    assert info.value.kind == api.WRONG_CREDENTIALS
    assert REALM in str(info.value)
    assert PASSWORD not in str(info.value)


def test_tokens_never_appear_in_messages():
    fake = FakeRegistry(auth="bearer", users={"alice": PASSWORD}, read_only=True)
    c = client(fake, "alice", PASSWORD)
    with pytest.raises(api.RegistryError) as info:
        c.upload_blob("team/app", b"x")
    tokens = [token for token, _scope in fake.issued]
    assert tokens
    for token in tokens:
        assert token not in str(info.value)


def test_scrub_masks_secrets_that_a_server_echoes():
    body = json.dumps({"errors": [{"code": "DENIED", "detail": f"bad password {PASSWORD}"}]})
    transport = Scripted(http_error(403, body.encode()))
    err = raise_kind(transport, username="alice", password=PASSWORD)
    assert err.kind == api.DENIED
    assert PASSWORD not in str(err) and "********" in str(err)


def test_token_answer_without_token():
    transport = Scripted(
        http_error(401, WWW_Authenticate=f'Bearer realm="{REALM}",service="s"'),
        _Answer(200, b'{"nothing": 1}'),
    )
    err = raise_kind(transport, username="alice", password=PASSWORD)
    assert err.kind == api.TOKEN_ERROR and "without a token" in str(err)


def test_token_rejected_by_registry_points_at_rootcertbundle():
    challenge = f'Bearer realm="{REALM}",service="s"'
    transport = Scripted(
        http_error(401, WWW_Authenticate=challenge),
        _Answer(200, b'{"token": "t1"}'),
        http_error(401, WWW_Authenticate=challenge + ',error="invalid_token"'),
        _Answer(200, b'{"token": "t2"}'),
        http_error(401, WWW_Authenticate=challenge + ',error="invalid_token"'),
    )
    err = raise_kind(transport, username="alice", password=PASSWORD)
    assert err.kind == api.TOKEN_ERROR
    assert "rootcertbundle" in str(err)
    assert "t1" not in str(err) and "t2" not in str(err)


class _Answer:
    def __init__(self, status: int, body: bytes, **headers: str) -> None:
        self.status = status
        self.headers = Message()
        for name, value in headers.items():
            self.headers[name.replace("_", "-")] = value
        self._body = body

    def read(self) -> bytes:
        return self._body

    def getcode(self) -> int:
        return self.status


# Pagination ---------------------------------------------------------------------


def test_catalog_follows_link_headers():
    fake = FakeRegistry()
    c = client(fake)
    for name in ("a/one", "b/two", "c/three", "d/four", "e/five"):
        c.upload_blob(name, b"{}")
        doc = {"schemaVersion": 2, "config": {"digest": digest_of(b"{}")}, "layers": []}
        c.put_manifest(name, "latest", json.dumps(doc).encode())
    assert c.catalog(page_size=2) == ["a/one", "b/two", "c/three", "d/four", "e/five"]
    pages = [call.url for call in fake.calls if "_catalog" in call.url]
    assert len(pages) == 3
    assert pages[1].endswith("/v2/_catalog?last=b%2Ftwo&n=2")


def test_tags_follow_link_headers():
    fake = FakeRegistry()
    c = client(fake)
    c.upload_blob("app", b"{}")
    doc = json.dumps({"schemaVersion": 2, "config": {"digest": digest_of(b"{}")}, "layers": []})
    for tag in ("v1", "v2", "v3"):
        c.put_manifest("app", tag, doc.encode())
    assert c.tags("app", page_size=1) == ["v1", "v2", "v3"]
    assert sum("/tags/list" in call.url for call in fake.calls) == 3


def test_pagination_loop_is_detected():
    page = _Answer(200, b'{"repositories": ["a"]}', Link='</v2/_catalog?n=1>; rel="next"')
    loop = _Answer(200, b'{"repositories": ["b"]}', Link='</v2/_catalog?n=1>; rel="next"')
    err = raise_kind(Scripted(page, loop, loop), func=lambda c: c.catalog(page_size=1))
    assert err.kind == api.PROTOCOL_ERROR and "loops" in str(err)


# Uploads, manifests, digests ------------------------------------------------------


def test_chunked_upload_sends_ranges_in_order():
    fake = FakeRegistry()
    data = bytes(range(256)) * 10
    digest = client(fake).upload_blob("app", data, chunk_size=1000)
    assert digest == digest_of(data)
    assert fake.blobs[digest] == data
    patches = [call for call in fake.calls if call.method == "PATCH"]
    assert [c.headers["Content-Range"] for c in patches] == ["0-999", "1000-1999", "2000-2559"]
    put = [call for call in fake.calls if call.method == "PUT"][-1]
    assert put.data == b"" and f"digest={digest.replace(':', '%3A')}" in put.url
    assert "_state=opaque2560" in put.url, "the last Location is used"


def test_monolithic_upload_is_one_put():
    fake = FakeRegistry()
    digest = client(fake).upload_blob("app", b"hello")
    assert [call.method for call in fake.calls] == ["POST", "PUT"]
    assert fake.calls[1].data == b"hello" and fake.blobs[digest] == b"hello"


def test_range_mismatch_after_patch_is_reported():
    transport = Scripted(
        _Answer(202, b"", Location="/v2/app/blobs/uploads/u1"),
        _Answer(202, b"", Location="/v2/app/blobs/uploads/u1", Range="0-3"),
    )
    err = raise_kind(transport, func=lambda c: c.upload_blob("app", b"0123456789", chunk_size=8))
    assert err.kind == api.UPLOAD_ERROR and "0-3" in str(err) and "0-7" in str(err)


def test_digest_invalid_from_registry():
    body = b'{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match"}]}'
    transport = Scripted(
        _Answer(202, b"", Location="/v2/app/blobs/uploads/u1"), http_error(400, body)
    )
    err = raise_kind(transport, func=lambda c: c.upload_blob("app", b"x", step="upload layer blob"))
    assert err.kind == api.DIGEST_MISMATCH and err.step == "upload layer blob"
    assert "DIGEST_INVALID" in str(err)


def test_corrupted_blob_download_is_caught():
    fake = FakeRegistry()
    c = client(fake)
    digest = c.upload_blob("app", b"payload")
    fake.corrupt_blobs = True
    with pytest.raises(api.RegistryError) as info:
        c.get_blob("app", digest, step="pull layer blob")
    assert info.value.kind == api.DIGEST_MISMATCH
    assert digest in str(info.value) and "pull layer blob" in str(info.value)


def test_manifest_digest_checked_against_reference():
    body = b'{"schemaVersion":2}'
    wrong = "sha256:" + "0" * 64
    transport = Scripted(_Answer(200, body, Content_Type=api.OCI_MANIFEST))
    err = raise_kind(transport, func=lambda c: c.get_manifest("app", wrong))
    assert err.kind == api.DIGEST_MISMATCH and wrong in str(err)


def test_manifest_round_trip_and_head():
    fake = FakeRegistry()
    c = client(fake)
    config = c.upload_blob("app", b"{}")
    doc = {
        "schemaVersion": 2,
        "mediaType": api.OCI_MANIFEST,
        "config": {"mediaType": api.OCI_CONFIG, "digest": config, "size": 2},
        "layers": [],
    }
    body = json.dumps(doc).encode()
    digest = c.put_manifest("app", "v1", body)
    assert digest == digest_of(body)
    by_tag = c.get_manifest("app", "v1")
    assert (by_tag.digest, by_tag.media_type, by_tag.size) == (digest, api.OCI_MANIFEST, len(body))
    assert c.get_manifest("app", digest).body == body
    head = c.head_manifest("app", "v1")
    assert head is not None and head.digest == digest and head.size == len(body)
    assert c.head_manifest("app", "missing") is None
    accept = [call.headers.get("Accept", "") for call in fake.calls if call.method == "GET"]
    assert all(api.OCI_MANIFEST in value for value in accept)
    c.delete_manifest("app", digest)
    assert c.head_manifest("app", digest) is None


# Error classification -------------------------------------------------------------


def test_read_only_registry():
    fake = FakeRegistry(read_only=True)
    with pytest.raises(api.RegistryError) as info:
        client(fake).upload_blob("app", b"x", step="upload layer blob")
    err = info.value
    assert err.kind == api.READ_ONLY and err.status == 405
    assert "read-only mode" in str(err) and "GET, HEAD" in str(err)
    assert "upload layer blob" in str(err)


def test_delete_disabled():
    fake = FakeRegistry(delete_enabled=False)
    c = client(fake)
    digest = c.upload_blob("app", b"x")
    with pytest.raises(api.RegistryError) as info:
        c.delete_blob("app", digest)
    assert info.value.kind == api.DELETE_DISABLED
    assert "storage.delete.enabled" in str(info.value)


def test_storage_full():
    fake = FakeRegistry(storage_full=True)
    with pytest.raises(api.RegistryError) as info:
        client(fake).upload_blob("app", b"x")
    assert info.value.kind == api.STORAGE_FULL
    assert "no space left on device" in str(info.value)


def test_read_only_filesystem_detail():
    body = (
        b'{"errors":[{"code":"UNKNOWN","detail":"mkdir /var/lib/registry: read-only file system"}]}'
    )
    err = raise_kind(Scripted(http_error(500, body)))
    assert err.kind == api.READ_ONLY


def test_http_request_to_https_server():
    body = b"Client sent an HTTP request to an HTTPS server.\n"
    transport = Scripted(http_error(400, body))
    c = api.RegistryClient("http://registry.test:5000", request=transport)
    with pytest.raises(api.RegistryError) as info:
        c.ping()
    assert info.value.kind == api.HTTPS_SERVER
    assert "use https://" in str(info.value).lower()


def test_not_a_registry():
    err = raise_kind(Scripted(http_error(404, b"404 page not found")))
    assert err.kind == api.NOT_A_REGISTRY


def test_server_error_detail_is_shortened():
    body = json.dumps({"errors": [{"code": "UNKNOWN", "detail": "x" * 2000}]}).encode()
    err = raise_kind(Scripted(http_error(500, body)))
    assert err.kind == api.SERVER_ERROR and len(str(err)) < 600


def _cert_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    err.verify_code = code
    err.verify_message = message
    return err


@pytest.mark.parametrize(
    ("reason", "kind", "words"),
    [
        (_cert_error(20, "unable to get local issuer certificate"), api.CERT_UNTRUSTED, "ca_path"),
        (_cert_error(19, "self-signed certificate in chain"), api.CERT_UNTRUSTED, "trust store"),
        (
            _cert_error(62, "Hostname mismatch, certificate is not valid for 'r.test'."),
            api.CERT_NAME_MISMATCH,
            "subject alternative names",
        ),
        (_cert_error(10, "certificate has expired"), api.CERT_INVALID, "expired"),
        (
            ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"),
            api.PLAIN_HTTP_SERVER,
            "http://registry.test:5000",
        ),
        (
            ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] certificate required"),
            api.TLS_ERROR,
            "client_cert",
        ),
        (ConnectionRefusedError(111, "Connection refused"), api.CONNECTION_REFUSED, "listens"),
        (
            socket.gaierror(-2, "Name or service not known"),
            api.NAME_NOT_RESOLVED,
            "registry.test does not resolve",
        ),
        (TimeoutError("timed out"), api.TIMEOUT, "within 30 s"),
        (ConnectionResetError(104, "Connection reset by peer"), api.CONNECTION_ERROR, "broke"),
    ],
)
def test_transport_errors_are_classified(reason, kind, words):
    err = raise_kind(Scripted(URLError(reason)))
    assert err.kind == kind
    assert words in str(err)
    assert str(err).startswith(f"Registry {BASE}, step 'ping': ")


def test_timeout_while_reading_the_body():
    class SlowBody(_Answer):
        def read(self) -> bytes:
            raise TimeoutError("The read operation timed out")

    err = raise_kind(Scripted(SlowBody(200, b"")), timeout=2.5)
    assert err.kind == api.TIMEOUT and "2.5 s" in str(err)


def test_ca_path_hint_changes_when_ca_path_is_set(tmp_path):
    reason = _cert_error(20, "unable to get local issuer certificate")
    err = raise_kind(Scripted(URLError(reason)), ca_path=str(tmp_path / "ca.crt"))
    assert "ca_path does not hold the CA" in str(err)


def test_authorization_is_not_forwarded_on_redirects():
    fake = FakeRegistry(auth="basic", users={"alice": PASSWORD})
    seen = []
    original = fake.open

    def spy(method, url, data=None, headers=None, **kwargs):
        seen.append(kwargs.get("unredirected_headers"))
        return original(method, url, data=data, headers=headers, **kwargs)

    fake.open = spy  # type: ignore[method-assign]
    client(fake, "alice", PASSWORD).ping()
    assert seen and all(value == ["Authorization"] for value in seen)


# Options ------------------------------------------------------------------------------


def test_client_from_params_checks_files(tmp_path):
    params = {"registry_url": BASE, "ca_path": str(tmp_path / "missing.crt")}
    with pytest.raises(api.RegistryError) as info:
        api.client_from_params(params)
    assert info.value.kind == api.INVALID_OPTION and "missing.crt" in str(info.value)


def test_client_from_params_needs_username_with_password():
    with pytest.raises(api.RegistryError) as info:
        api.client_from_params({"registry_url": BASE, "password": PASSWORD})
    assert "password needs username" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_argument_spec_hides_password():
    spec = api.connection_argument_spec()
    assert spec["password"]["no_log"] is True
    assert spec["registry_url"]["required"] is True


def test_unreachable_token_server_is_named():
    realm = "https://auth.test:8443/token"
    transport = Scripted(
        http_error(401, WWW_Authenticate=f'Bearer realm="{realm}",service="s"'),
        URLError(ConnectionRefusedError(111, "Connection refused")),
    )
    err = raise_kind(transport, username="alice", password=PASSWORD)
    assert err.kind == api.CONNECTION_REFUSED and err.step == "ping"
    assert f"fetching a token from {realm} failed" in str(err)
    assert "auth.test:8443" in str(err)
