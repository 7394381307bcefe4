"""An in-memory stand-in for a registry and its token server, for unit tests.

``FakeRegistry`` has the ``open()`` method of ``ansible.module_utils.urls.Request``
and answers like distribution does (status codes, headers, JSON error bodies),
so the client under test runs its real code paths without any network.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlparse

BASE = "https://registry.test:5000"
REALM = "https://auth.test/token"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _message(headers: dict[str, str]) -> Message:
    msg = Message()
    for name, value in headers.items():
        msg[name] = value
    return msg


class FakeResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = _message(headers)
        self._body = body

    def read(self) -> bytes:
        return self._body

    def getcode(self) -> int:
        return self.status


@dataclass
class Call:
    method: str
    url: str
    headers: dict[str, str]
    data: bytes | None


@dataclass
class FakeRegistry:
    """Registry state plus switches for the failures the tests provoke."""

    auth: str | None = None  # None, "basic" or "bearer"
    users: dict[str, str] = field(default_factory=dict)
    grants: dict[str, set[str]] = field(default_factory=dict)  # user -> allowed actions
    delete_enabled: bool = True
    read_only: bool = False
    storage_full: bool = False
    corrupt_blobs: bool = False
    paginate_tags: bool = True
    delete_action: str = "delete"  # the action DELETE needs, as the registry names it
    calls: list[Call] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, dict[str, tuple[bytes, str]]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    issued: list[tuple[str, str]] = field(default_factory=list)  # (token, scope)
    token_requests: list[str] = field(default_factory=list)

    # The Request.open interface ------------------------------------------------

    def open(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> FakeResponse:
        headers = dict(headers or {})
        self.calls.append(Call(method, url, headers, data))
        parsed = urlparse(url)
        if url.startswith(REALM):
            return self._token(parsed, headers)
        status, out_headers, body = self._route(method, parsed, headers, data or b"")
        out_headers.setdefault("Docker-Distribution-Api-Version", "registry/2.0")
        if status >= 400:
            raise HTTPError(url, status, "error", _message(out_headers), io.BytesIO(body))
        return FakeResponse(status, out_headers, body if method != "HEAD" else b"")

    # Authentication ------------------------------------------------------------

    def _basic_user(self, headers: dict[str, str]) -> str | None:
        value = headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return None
        user, _sep, password = base64.b64decode(value[6:]).decode().partition(":")
        return user if self.users.get(user) == password else None

    def _token(self, parsed: Any, headers: dict[str, str]) -> FakeResponse:
        query = parse_qs(parsed.query)
        scope = " ".join(query.get("scope", []))
        self.token_requests.append(scope)
        if "Authorization" in headers and self._basic_user(headers) is None:
            body = b'{"details":"incorrect username or password"}'
            raise HTTPError(REALM, 401, "Unauthorized", _message({}), io.BytesIO(body))
        user = self._basic_user(headers) or "anonymous"
        token = f"tok-{uuid.uuid4().hex}"
        allowed = self.grants.get(user)
        granted = []
        for item in scope.split():
            kind, _sep, rest = item.partition(":")
            name, _sep, actions = rest.rpartition(":")
            acts = [a for a in actions.split(",") if allowed is None or a in allowed]
            granted.append(f"{kind}:{name}:{','.join(acts)}")
        self.issued.append((token, " ".join(granted)))
        return FakeResponse(200, {}, json.dumps({"token": token, "expires_in": 300}).encode())

    def _needed(self, method: str, path: str) -> str:
        if path == "/v2/_catalog":
            return "registry:catalog:*"
        match = re.match(r"^/v2/(.+?)/(blobs|manifests|tags)/", path)
        if not match:
            return ""
        action = {"GET": "pull", "HEAD": "pull", "DELETE": self.delete_action}.get(
            method, "pull,push"
        )
        return f"repository:{match.group(1)}:{action}"

    def _authorized(self, method: str, path: str, headers: dict[str, str]) -> tuple | None:
        """None when allowed, else the 401 answer."""
        if self.auth is None:
            return None
        value = headers.get("Authorization", "")
        if self.auth == "basic":
            if self._basic_user(headers):
                return None
            return 401, {"WWW-Authenticate": 'Basic realm="fake"'}, self._errors("UNAUTHORIZED")
        needed = self._needed(method, path)
        challenge = f'Bearer realm="{REALM}",service="fake-registry"'
        if needed:
            challenge += f',scope="{needed}"'
        granted = dict(self.issued).get(value[7:]) if value.startswith("Bearer ") else None
        if granted is None:
            if value:
                challenge += ',error="invalid_token"'
            return 401, {"WWW-Authenticate": challenge}, self._errors("UNAUTHORIZED")
        if needed:
            kind, _sep, rest = needed.partition(":")
            name, _sep, actions = rest.rpartition(":")
            have = {
                a
                for g in granted.split()
                if g.rpartition(":")[0] == f"{kind}:{name}"
                for a in g.rpartition(":")[2].split(",")
            }
            if not set(actions.split(",")) <= have:
                challenge += ',error="insufficient_scope"'
                return 401, {"WWW-Authenticate": challenge}, self._errors("DENIED")
        return None

    @staticmethod
    def _errors(code: str, message: str = "", detail: Any = None) -> bytes:
        entry: dict[str, Any] = {"code": code, "message": message or code.lower()}
        if detail is not None:
            entry["detail"] = detail
        return json.dumps({"errors": [entry]}).encode()

    # Routing ---------------------------------------------------------------------

    def _route(self, method: str, parsed: Any, headers: dict[str, str], data: bytes) -> tuple:
        path = parsed.path
        query = parse_qs(parsed.query)
        denied = self._authorized(method, path, headers)
        if denied:
            return denied
        if path == "/v2/":
            return 200, {}, b"{}"
        if self.read_only and method in ("POST", "PUT", "PATCH", "DELETE"):
            return 405, {"Allow": "GET, HEAD", "Content-Type": "text/plain"}, b"Method not allowed"
        if path == "/v2/_catalog":
            names = sorted(set(self.manifests) | set(self.tags))
            return self._page(names, "repositories", path, query, {})
        match = re.match(r"^/v2/(.+?)/(blobs/uploads/?|blobs|manifests|tags)(?:/(.*))?$", path)
        if not match:
            return 404, {}, b"404 page not found"
        repo, what, rest = match.group(1), match.group(2), match.group(3) or ""
        if what == "tags":
            if repo not in self.tags:
                return 404, {}, self._errors("NAME_UNKNOWN", detail={"name": repo})
            names = sorted(self.tags[repo])
            if not self.paginate_tags:
                query = {}
            return self._page(names, "tags", path, query, {"name": repo})
        if what.startswith("blobs/uploads"):
            return self._upload(method, repo, rest, query, headers, data)
        if what == "blobs":
            return self._blob(method, rest)
        return self._manifest(method, repo, rest, headers, data)

    def _page(self, names: list[str], key: str, path: str, query: dict, extra: dict) -> tuple:
        last = query.get("last", [""])[0]
        items = [n for n in names if n > last] if last else names
        out_headers: dict[str, str] = {"Content-Type": "application/json"}
        if "n" in query:
            size = int(query["n"][0])
            if len(items) > size:
                items = items[:size]
                link = path + "?" + urlencode({"last": items[-1], "n": size})
                out_headers["Link"] = f'<{link}>; rel="next"'
        return 200, out_headers, json.dumps(dict(extra, **{key: items})).encode()

    def _upload(self, method: str, repo: str, uid: str, query: dict, headers: dict, data: bytes):
        if method == "POST":
            if self.storage_full:
                detail = (
                    f"write /var/lib/registry/{repo}/_uploads/x/startedat: no space left on device"
                )
                return 500, {}, self._errors("UNKNOWN", "unknown error", detail)
            uid = uuid.uuid4().hex
            self.uploads[uid] = bytearray()
            loc = f"{BASE}/v2/{repo}/blobs/uploads/{uid}?_state=opaque"
            return 202, {"Location": loc, "Range": "0-0", "Docker-Upload-UUID": uid}, b""
        if uid not in self.uploads:
            return 404, {}, self._errors("BLOB_UPLOAD_UNKNOWN")
        buf = self.uploads[uid]
        if method == "PATCH":
            start, _sep, end = headers.get("Content-Range", f"{len(buf)}-").partition("-")
            if int(start) != len(buf):
                return 416, {}, self._errors("BLOB_UPLOAD_INVALID", "range mismatch")
            buf.extend(data)
            loc = f"{BASE}/v2/{repo}/blobs/uploads/{uid}?_state=opaque{len(buf)}"
            return 202, {"Location": loc, "Range": f"0-{len(buf) - 1}"}, b""
        if method == "PUT":
            buf.extend(data)
            digest = query.get("digest", [""])[0]
            if digest_of(bytes(buf)) != digest:
                return 400, {}, self._errors("DIGEST_INVALID", "provided digest did not match")
            self.blobs[digest] = bytes(buf)
            del self.uploads[uid]
            loc = f"{BASE}/v2/{repo}/blobs/{digest}"
            return 201, {"Location": loc, "Docker-Content-Digest": digest}, b""
        return 405, {}, self._errors("UNSUPPORTED")

    def _blob(self, method: str, digest: str) -> tuple:
        if digest not in self.blobs:
            return 404, {}, self._errors("BLOB_UNKNOWN", detail=digest)
        if method == "DELETE":
            if not self.delete_enabled:
                return 405, {}, self._errors("UNSUPPORTED", "The operation is unsupported.")
            del self.blobs[digest]
            return 202, {}, b""
        body = self.blobs[digest]
        if self.corrupt_blobs:
            body = body[:-1] + bytes([body[-1] ^ 1])
        out = {"Content-Length": str(len(body)), "Docker-Content-Digest": digest}
        return 200, out, body

    def _manifest(self, method: str, repo: str, ref: str, headers: dict, data: bytes) -> tuple:
        store = self.manifests.setdefault(repo, {})
        if method == "PUT":
            doc = json.loads(data)
            for blob in [doc["config"], *doc["layers"]]:
                if blob["digest"] not in self.blobs:
                    return 400, {}, self._errors("MANIFEST_BLOB_UNKNOWN", detail=blob["digest"])
            digest = digest_of(data)
            store[digest] = (data, headers.get("Content-Type", ""))
            if not ref.startswith("sha256:"):
                self.tags.setdefault(repo, {})[ref] = digest
            return 201, {"Docker-Content-Digest": digest}, b""
        digest = ref if ref.startswith("sha256:") else self.tags.get(repo, {}).get(ref, "")
        if digest not in store:
            return 404, {}, self._errors("MANIFEST_UNKNOWN", "manifest unknown", {"Tag": ref})
        if method == "DELETE":
            if not self.delete_enabled:
                return 405, {}, self._errors("UNSUPPORTED", "The operation is unsupported.")
            del store[digest]
            tags = self.tags.get(repo, {})
            for tag in [tag for tag, dgst in tags.items() if dgst == digest]:
                del tags[tag]
            return 202, {}, b""
        body, media_type = store[digest]
        out = {
            "Content-Type": media_type,
            "Content-Length": str(len(body)),
            "Docker-Content-Digest": digest,
        }
        return 200, out, body
