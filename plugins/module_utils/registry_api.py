# Copyright (c) dockyard.registry maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small client for the registry HTTP API (OCI distribution specification).

It runs on the managed host inside a module, so it uses only the standard
library and ``ansible.module_utils.urls`` and must keep working on Python 3.9.

Every failure surfaces as one exception type, ``RegistryError``, whose ``kind``
tells a caller what went wrong and whose message names the registry, the step
and what to change. Passwords and tokens never appear in those messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import ssl
import typing as t
from dataclasses import dataclass, field
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urljoin, urlparse

from ansible.module_utils.urls import Request

try:
    from ansible.module_utils.urls import make_context
except ImportError:  # older ansible-core: build the context with the ssl module alone
    make_context = None

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))

# The kinds of RegistryError, one per cause a user can act on.
INVALID_OPTION = "invalid_option"
AUTH_REQUIRED = "auth_required"
WRONG_CREDENTIALS = "wrong_credentials"
DENIED = "denied"
TOKEN_ERROR = "token_error"
CERT_UNTRUSTED = "cert_untrusted"
CERT_NAME_MISMATCH = "cert_name_mismatch"
CERT_INVALID = "cert_invalid"
TLS_ERROR = "tls_error"
PLAIN_HTTP_SERVER = "plain_http_server"
HTTPS_SERVER = "https_server"
CONNECTION_REFUSED = "connection_refused"
NAME_NOT_RESOLVED = "name_not_resolved"
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection_error"
NOT_A_REGISTRY = "not_a_registry"
NOT_FOUND = "not_found"
DIGEST_MISMATCH = "digest_mismatch"
UPLOAD_ERROR = "upload_error"
STORAGE_FULL = "storage_full"
READ_ONLY = "read_only"
DELETE_DISABLED = "delete_disabled"
INVALID_REQUEST = "invalid_request"
TOO_MANY_REQUESTS = "too_many_requests"
SERVER_ERROR = "server_error"
PROTOCOL_ERROR = "protocol_error"

ERROR_KINDS = (
    INVALID_OPTION,
    AUTH_REQUIRED,
    WRONG_CREDENTIALS,
    DENIED,
    TOKEN_ERROR,
    CERT_UNTRUSTED,
    CERT_NAME_MISMATCH,
    CERT_INVALID,
    TLS_ERROR,
    PLAIN_HTTP_SERVER,
    HTTPS_SERVER,
    CONNECTION_REFUSED,
    NAME_NOT_RESOLVED,
    TIMEOUT,
    CONNECTION_ERROR,
    NOT_A_REGISTRY,
    NOT_FOUND,
    DIGEST_MISMATCH,
    UPLOAD_ERROR,
    STORAGE_FULL,
    READ_ONLY,
    DELETE_DISABLED,
    INVALID_REQUEST,
    TOO_MANY_REQUESTS,
    SERVER_ERROR,
    PROTOCOL_ERROR,
)

_REPOSITORY_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPOSITORY_RE = re.compile(rf"^{_REPOSITORY_COMPONENT}(?:/{_REPOSITORY_COMPONENT})*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")

# Answers of a plain HTTP server to a TLS handshake, as OpenSSL words them.
_PLAIN_HTTP_MARKERS = (
    "wrong version number",
    "wrong_version_number",
    "packet length too long",
    "unknown protocol",
    "http request",
    "record layer failure",
)
# Answers of a TLS server to a plain HTTP request (Go, nginx).
_HTTPS_SERVER_MARKERS = (
    "client sent an http request to an https server",
    "plain http request was sent to https port",
)
_NO_SPACE_MARKERS = ("no space left on device", "disk quota exceeded", "quota exceeded")
_READ_ONLY_MARKERS = ("read-only file system", "read-only mode", "readonly mode", "read only mode")
_LINK_NEXT_RE = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_DETAIL = 300
_MAX_PAGES = 10000


class RegistryError(Exception):
    """A failed step, classified by ``kind`` (one of ERROR_KINDS)."""

    def __init__(
        self,
        kind: str,
        registry_url: str,
        step: str,
        explanation: str,
        status: int | None = None,
    ) -> None:
        self.kind = kind
        self.registry_url = registry_url
        self.step = step
        self.explanation = explanation
        self.status = status
        super().__init__(f"Registry {registry_url}, step '{step}': {explanation}")

    @property
    def message(self) -> str:
        return str(self)

    def as_dict(self) -> dict[str, t.Any]:
        """The fields a module returns next to ``msg`` when it fails."""
        return {"kind": self.kind, "step": self.step, "status": self.status}


@dataclass
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    """A finished HTTP exchange: status, headers with lower-case names, body."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class ManifestInfo:
    """A manifest as the registry serves it."""

    digest: str
    media_type: str
    size: int
    body: bytes = b""

    def parsed(self) -> dict[str, t.Any]:
        return json.loads(self.body.decode("utf-8"))


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def valid_repository(name: str) -> bool:
    return len(name) <= 255 and REPOSITORY_RE.match(name) is not None


def valid_tag(tag: str) -> bool:
    return TAG_RE.match(tag) is not None


def parse_challenges(header: str | None) -> list[Challenge]:
    """Split a ``WWW-Authenticate`` value into its challenges.

    ``Bearer realm="https://auth.example/token",service="registry",scope="a:b:pull"``
    yields one challenge with scheme ``bearer`` and three parameters.
    """
    challenges: list[Challenge] = []
    if not header:
        return challenges
    pos = 0
    size = len(header)
    current: Challenge | None = None
    while pos < size:
        while pos < size and header[pos] in " \t,":
            pos += 1
        match = _TOKEN_RE.match(header, pos)
        if match is None:
            pos += 1
            continue
        token = match.group(0)
        pos = match.end()
        probe = pos
        while probe < size and header[probe] in " \t":
            probe += 1
        if probe < size and header[probe] == "=" and current is not None:
            pos = probe + 1
            while pos < size and header[pos] in " \t":
                pos += 1
            value, pos = _read_param_value(header, pos)
            current.params[token.lower()] = value
        else:
            current = Challenge(scheme=token.lower())
            challenges.append(current)
    return challenges


def _read_param_value(header: str, pos: int) -> tuple[str, int]:
    size = len(header)
    if pos < size and header[pos] == '"':
        pos += 1
        chars: list[str] = []
        while pos < size and header[pos] != '"':
            if header[pos] == "\\" and pos + 1 < size:
                pos += 1
            chars.append(header[pos])
            pos += 1
        return "".join(chars), pos + 1
    end = pos
    while end < size and header[end] not in ", \t":
        end += 1
    return header[pos:end], end


def next_link(header: str | None) -> str | None:
    """The target of ``rel="next"`` in a ``Link`` header, if any."""
    if not header:
        return None
    match = _LINK_NEXT_RE.search(header)
    return match.group(1) if match else None


def normalize_registry_url(url: str) -> str:
    """Reduce URL to ``scheme://host[:port]``; raise RegistryError if it is unusable."""
    text = (url or "").strip()
    parsed = urlparse(text)
    shown = text
    if parsed.username is not None or parsed.password is not None:
        shown = f"{parsed.scheme}://{parsed.hostname or ''}"
        if parsed.port:
            shown += f":{parsed.port}"
        raise RegistryError(
            INVALID_OPTION,
            shown,
            "check options",
            "registry_url must not carry credentials; pass them as username and password.",
        )
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise RegistryError(
            INVALID_OPTION,
            shown,
            "check options",
            "registry_url must look like https://HOST[:PORT] (or http://HOST[:PORT] for a "
            "registry without TLS).",
        )
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise RegistryError(
            INVALID_OPTION, shown, "check options", "registry_url has an invalid port."
        )
    if parsed.path.rstrip("/") not in ("", "/v2") or parsed.query or parsed.fragment:
        raise RegistryError(
            INVALID_OPTION,
            shown,
            "check options",
            "registry_url must not have a path, query or fragment: the registry API lives at "
            "/v2/ on the server root.",
        )
    return f"{parsed.scheme}://{parsed.netloc}"


def _headers_dict(headers: t.Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if headers is None:
        return out
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _error_entries(body: bytes) -> list[dict[str, t.Any]]:
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return []
    return [entry for entry in data["errors"] if isinstance(entry, dict)]


def _describe_entries(entries: list[dict[str, t.Any]], body: bytes) -> str:
    parts = []
    for entry in entries:
        text = str(entry.get("code") or "")
        if entry.get("message"):
            text += f" ({entry['message']})" if text else str(entry["message"])
        if entry.get("detail"):
            detail = entry["detail"]
            detail = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True)
            text += f": {detail}"
        parts.append(text)
    text = "; ".join(parts) if parts else body.decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return text[:_MAX_DETAIL] + ("..." if len(text) > _MAX_DETAIL else "")


def _path_of(url: str) -> str:
    return urlparse(url).path or "/"


def _with_query(url: str, **params: str) -> str:
    joiner = "&" if urlparse(url).query else "?"
    return url + joiner + urlencode(params)


class RegistryClient:
    """Talk to one registry; learns and caches its authentication on the way.

    ``request`` is an ``ansible.module_utils.urls.Request`` (or anything with
    the same ``open`` method, which the unit tests use).
    """

    def __init__(
        self,
        registry_url: str,
        username: str | None = None,
        password: str | None = None,
        ca_path: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        validate_certs: bool = True,
        timeout: float = 30,
        http_agent: str = "ansible-dockyard.registry",
        request: t.Any = None,
    ) -> None:
        self.base_url = normalize_registry_url(registry_url)
        self.username = username or None
        self._password = password or ""
        self.timeout = timeout
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.validate_certs = validate_certs
        self._secrets: list[str] = []
        if self._password:
            self._secrets.append(self._password)
        self._basic_header: str | None = None
        if self.username is not None:
            pair = f"{self.username}:{self._password}".encode()
            self._basic_header = "Basic " + base64.b64encode(pair).decode("ascii")
            self._secrets.append(self._basic_header[6:])
        self._scheme: str | None = None
        self._realm: str | None = None
        self._service: str | None = None
        self._tokens: dict[str, str] = {}
        if request is None:
            try:
                context = ssl_context(ca_path, validate_certs, client_cert, client_key)
            except (ssl.SSLError, OSError, ValueError) as err:
                files = ", ".join(
                    f"{name} {path}"
                    for name, path in (
                        ("ca_path", ca_path),
                        ("client_cert", client_cert),
                        ("client_key", client_key),
                    )
                    if path
                )
                raise self._error(
                    INVALID_OPTION,
                    "check options",
                    f"cannot load the TLS files ({files or 'system trust store'}): {err}. "
                    "They must be PEM files; client_key must belong to client_cert.",
                ) from None
            request = Request(
                timeout=timeout,
                http_agent=http_agent,
                use_netrc=False,
                follow_redirects="urllib2",
                context=context,
            )
        self._request = request

    # Authentication ---------------------------------------------------------

    @property
    def auth_scheme(self) -> str:
        """``none``, ``basic`` or ``bearer``: what the registry asked for so far."""
        return self._scheme or "none"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "********")
        return text

    def _error(self, kind: str, step: str, text: str, status: int | None = None) -> RegistryError:
        return RegistryError(kind, self.base_url, step, self._scrub(text), status)

    def _who(self) -> str:
        return f"user '{self.username}'" if self.username else "anonymous access"

    def _authorization(self, scope: str, step: str) -> str | None:
        if self._scheme == "basic":
            return self._basic_header
        if self._scheme == "bearer":
            token = self._tokens.get(scope)
            if token is None and self._realm:
                token = self._fetch_token(self._realm, self._service, scope, step)
                self._tokens[scope] = token
            return f"Bearer {token}" if token else None
        return None

    def _answer_challenge(
        self, challenges: list[Challenge], scope: str, sent: str | None, step: str
    ) -> bool:
        """Prepare credentials for another try; False when trying again is pointless."""
        schemes = {c.scheme: c for c in challenges}
        bearer = schemes.get("bearer")
        if bearer is not None and bearer.params.get("realm"):
            wanted = bearer.params.get("scope", scope)
            if sent and sent.startswith("Bearer "):
                if bearer.params.get("error") == "insufficient_scope" and wanted in self._tokens:
                    return False
                # An expired or revoked token: forget it and fetch a fresh one.
                self._tokens.pop(scope, None)
                self._tokens.pop(wanted, None)
            self._scheme = "bearer"
            self._realm = bearer.params["realm"]
            self._service = bearer.params.get("service")
            if wanted != scope:
                token = self._fetch_token(self._realm, self._service, wanted, step)
                self._tokens[wanted] = token
                self._tokens[scope] = token
            return True
        if "basic" in schemes:
            if self.username is None or (sent and sent.startswith("Basic ")):
                return False
            self._scheme = "basic"
            return True
        return False

    def _fetch_token(self, realm: str, service: str | None, scope: str, step: str) -> str:
        params: list[tuple[str, str]] = []
        if service:
            params.append(("service", service))
        for item in scope.split():
            params.append(("scope", item))
        if self.username:
            params.append(("account", self.username))
        url = realm + (
            ("&" if urlparse(realm).query else "?") + urlencode(params) if params else ""
        )
        headers = {"Accept": "application/json"}
        if self._basic_header:
            headers["Authorization"] = self._basic_header
        try:
            resp = self._request.open(
                "GET", url, headers=headers, unredirected_headers=["Authorization"]
            )
            body = resp.read()
        except HTTPError as err:
            status = err.code
            if status == 401:
                if self.username:
                    text = (
                        f"the token server {realm} rejected the credentials of {self._who()} "
                        "(HTTP 401). Check username and password."
                    )
                    raise self._error(WRONG_CREDENTIALS, step, text, status) from None
                text = (
                    f"the token server {realm} requires credentials (HTTP 401). "
                    "Set username and password."
                )
                raise self._error(AUTH_REQUIRED, step, text, status) from None
            if status == 403:
                text = f"the token server {realm} refused {self._who()} the scope '{scope}'."
                raise self._error(DENIED, step, text, status) from None
            text = f"the token server {realm} answered HTTP {status} {err.reason}."
            raise self._error(TOKEN_ERROR, step, text, status) from None
        except (URLError, OSError, HTTPException, ValueError) as err:
            failure = self._transport_error(err, step, realm)
            text = f"fetching a token from {realm} failed: {failure.explanation}"
            raise self._error(failure.kind, step, text, failure.status) from None
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            data = None
        token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            text = f"the token server {realm} answered without a token (no JSON 'token' field)."
            raise self._error(TOKEN_ERROR, step, text)
        self._secrets.append(token)
        return token

    # Transport --------------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        step: str,
        scope: str = "",
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request, answering authentication challenges; raise RegistryError."""
        if not url.startswith(("http://", "https://")):
            url = self.base_url + url
        for attempt in range(3):
            request_headers = dict(headers or {})
            sent = self._authorization(scope, step)
            if sent:
                request_headers["Authorization"] = sent
            try:
                resp = self._request.open(
                    method,
                    url,
                    data=data,
                    headers=request_headers,
                    unredirected_headers=["Authorization"],
                )
                body = resp.read()
                status = getattr(resp, "status", None) or resp.getcode()
                return Response(status, _headers_dict(resp.headers), body, url)
            except HTTPError as err:
                err_headers = _headers_dict(err.headers)
                err_body = _read_error_body(err)
                if err.code == 401 and attempt < 2:
                    challenges = parse_challenges(err_headers.get("www-authenticate"))
                    if self._answer_challenge(challenges, scope, sent, step):
                        continue
                raise self._http_error(
                    method, url, step, scope, err.code, err_headers, err_body, sent
                ) from None
            except (URLError, OSError, HTTPException, ValueError) as err:
                raise self._transport_error(err, step, url) from None
        raise self._error(PROTOCOL_ERROR, step, "authentication did not settle after 3 tries.")

    def _http_error(
        self,
        method: str,
        url: str,
        step: str,
        scope: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        sent: str | None,
    ) -> RegistryError:
        entries = _error_entries(body)
        codes = {str(entry.get("code", "")).upper() for entry in entries}
        detail = _describe_entries(entries, body)
        lowered = (detail + " " + body.decode("utf-8", "replace")).lower()
        where = f"{method} {_path_of(url)}"
        if status == 400 and any(marker in lowered for marker in _HTTPS_SERVER_MARKERS):
            text = (
                f"the server at {urlparse(url).netloc} speaks HTTPS, but registry_url uses "
                "http://. Use https:// in registry_url (with ca_path if a private CA signed the "
                "registry's certificate)."
            )
            return self._error(HTTPS_SERVER, step, text, status)
        if status == 401:
            challenges = parse_challenges(headers.get("www-authenticate"))
            bearer = next((c for c in challenges if c.scheme == "bearer"), None)
            if bearer is not None and sent and sent.startswith("Bearer "):
                error = bearer.params.get("error", "")
                if error == "insufficient_scope":
                    text = (
                        f"the token issued to {self._who()} does not grant "
                        f"'{bearer.params.get('scope', scope)}' ({where}, HTTP 401). "
                        "Grant that access on the token server."
                    )
                    return self._error(DENIED, step, text, status)
                text = (
                    f"the registry rejected the token from {self._realm} ({where}, HTTP 401"
                    f"{', ' + error if error else ''}). Check that the token server signs with a "
                    "certificate in the registry's auth.token.rootcertbundle and that issuer and "
                    "service match auth.token.issuer and auth.token.service."
                )
                return self._error(TOKEN_ERROR, step, text, status)
            if sent and sent.startswith("Basic "):
                text = (
                    f"the registry rejected the credentials of {self._who()} ({where}, HTTP 401). "
                    "Check username and password."
                )
                return self._error(WRONG_CREDENTIALS, step, text, status)
            scheme = challenges[0].scheme.capitalize() if challenges else "an unknown scheme"
            text = (
                f"the registry requires authentication ({scheme}) for {where} (HTTP 401). "
                "Set username and password."
            )
            return self._error(AUTH_REQUIRED, step, text, status)
        if status == 403:
            text = f"the registry denies {self._who()} {where} (HTTP 403): {detail}"
            return self._error(DENIED, step, text, status)
        if status == 404:
            if _path_of(url).rstrip("/") == "/v2":
                text = (
                    f"{where} answered HTTP 404: the server at {urlparse(url).netloc} is not a "
                    "registry speaking the v2 API."
                )
                return self._error(NOT_A_REGISTRY, step, text, status)
            text = f"{where} answered HTTP 404: {detail or 'not found'}"
            return self._error(NOT_FOUND, step, text, status)
        if status == 405:
            allow = headers.get("allow", "")
            if "UNSUPPORTED" in codes and method == "DELETE":
                text = (
                    f"the registry does not allow deletion ({where} answered 405 UNSUPPORTED). "
                    "Set storage.delete.enabled: true in the registry configuration to allow it."
                )
                return self._error(DELETE_DISABLED, step, text, status)
            if not entries and method in ("POST", "PUT", "PATCH", "DELETE"):
                allowed = f" and allows only {allow}" if allow else ""
                text = (
                    f"the registry refused {where} with 405 Method Not Allowed{allowed}: its "
                    "storage is in read-only mode (storage.maintenance.readonly.enabled, usually "
                    "set during garbage collection). Retry once maintenance is over."
                )
                return self._error(READ_ONLY, step, text, status)
            text = f"the registry does not support {where} (HTTP 405): {detail}"
            return self._error(INVALID_REQUEST, step, text, status)
        if status == 416:
            text = f"the registry rejected the uploaded range ({where}, HTTP 416): {detail}"
            return self._error(UPLOAD_ERROR, step, text, status)
        if status == 429:
            text = f"the registry throttles requests ({where}, HTTP 429). Retry later."
            return self._error(TOO_MANY_REQUESTS, step, text, status)
        if codes & {"DIGEST_INVALID", "SIZE_INVALID"}:
            text = (
                f"the registry found that the uploaded content does not match its digest or "
                f"size ({where}, HTTP {status}): {detail}"
            )
            return self._error(DIGEST_MISMATCH, step, text, status)
        if status == 507 or any(marker in lowered for marker in _NO_SPACE_MARKERS):
            text = (
                f"the registry's storage is full ({where}, HTTP {status}): {detail}. Free space "
                "on the registry's storage (delete images and run garbage collection) or grow it."
            )
            return self._error(STORAGE_FULL, step, text, status)
        if any(marker in lowered for marker in _READ_ONLY_MARKERS):
            text = (
                f"the registry's storage is read-only ({where}, HTTP {status}): {detail}. Make "
                "the storage writable or end the read-only maintenance mode."
            )
            return self._error(READ_ONLY, step, text, status)
        if status >= 500:
            text = f"the registry failed on {where} (HTTP {status}): {detail or 'no detail'}"
            return self._error(SERVER_ERROR, step, text, status)
        text = f"the registry rejected {where} (HTTP {status}): {detail or 'no detail'}"
        return self._error(INVALID_REQUEST, step, text, status)

    def _transport_error(self, err: BaseException, step: str, url: str) -> RegistryError:
        reason: t.Any = err.reason if isinstance(err, URLError) else err
        parsed = urlparse(url)
        host = parsed.hostname or ""
        netloc = parsed.netloc
        text_reason = self._scrub(str(reason))
        if isinstance(reason, ssl.SSLCertVerificationError):
            verify = (getattr(reason, "verify_message", "") or text_reason).strip()
            code = getattr(reason, "verify_code", None)
            if code == 62 or "mismatch" in verify.lower():
                text = (
                    f"the certificate of {netloc} does not cover the name {host} ({verify}). "
                    "Use a registry_url whose host is among the certificate's subject "
                    "alternative names, or issue a certificate that covers it."
                )
                return self._error(CERT_NAME_MISMATCH, step, text)
            if code in (2, 7, 18, 19, 20, 21) or "issuer" in verify or "self-signed" in verify:
                hint = (
                    "ca_path does not hold the CA that signed it"
                    if self.ca_path
                    else "pass ca_path with the CA certificate that signed it"
                )
                text = (
                    f"the certificate of {netloc} is not trusted ({verify}): {hint}, or install "
                    "that CA in the trust store of the host running this module."
                )
                return self._error(CERT_UNTRUSTED, step, text)
            text = f"the certificate of {netloc} is not valid: {verify}."
            return self._error(CERT_INVALID, step, text)
        if isinstance(reason, ssl.SSLError):
            lowered = text_reason.lower()
            if any(marker in lowered for marker in _PLAIN_HTTP_MARKERS):
                text = (
                    f"the server at {netloc} answered in plain HTTP, but registry_url uses "
                    f"https:// ({text_reason}). Use http://{netloc} if this registry really runs "
                    "without TLS, or enable TLS on it."
                )
                return self._error(PLAIN_HTTP_SERVER, step, text)
            if "certificate required" in lowered or "bad certificate" in lowered:
                hint = (
                    "check that client_cert is signed by a CA the registry trusts"
                    if self.client_cert
                    else "the registry wants a client certificate: set client_cert and client_key"
                )
                text = f"TLS handshake with {netloc} failed ({text_reason}): {hint}."
                return self._error(TLS_ERROR, step, text)
            text = f"TLS with {netloc} failed: {text_reason}."
            return self._error(TLS_ERROR, step, text)
        if isinstance(reason, socket.gaierror):
            text = (
                f"the host name {host} does not resolve ({text_reason}). Check the name in "
                "registry_url and the DNS or /etc/hosts of the host running this module."
            )
            return self._error(NAME_NOT_RESOLVED, step, text)
        if isinstance(reason, ConnectionRefusedError):
            text = (
                f"nothing accepts connections on {netloc} (connection refused). Check that the "
                "registry runs and listens on that address and port, and that no firewall "
                "rejects the connection."
            )
            return self._error(CONNECTION_REFUSED, step, text)
        if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in text_reason:
            text = (
                f"{netloc} did not answer within {self.timeout:g} s. Check that the registry is "
                "healthy and reachable (firewall dropping packets?) or raise timeout."
            )
            return self._error(TIMEOUT, step, text)
        if isinstance(reason, FileNotFoundError):
            text = f"a file given in the options does not exist: {text_reason}."
            return self._error(INVALID_OPTION, step, text)
        if isinstance(reason, (ConnectionError, HTTPException)):
            text = (
                f"the connection to {netloc} broke ({type(reason).__name__}: {text_reason}). "
                "If this is an HTTPS server, use https:// in registry_url; otherwise check "
                "proxies and load balancers between this host and the registry."
            )
            return self._error(CONNECTION_ERROR, step, text)
        text = f"cannot talk to {netloc}: {type(reason).__name__}: {text_reason}"
        return self._error(CONNECTION_ERROR, step, text)

    # API --------------------------------------------------------------------

    def ping(self, step: str = "ping") -> dict[str, t.Any]:
        """GET /v2/ (authenticating if asked) and describe what answered."""
        resp = self.call("GET", "/v2/", step)
        return {
            "url": self.base_url,
            "api_version": resp.header("docker-distribution-api-version"),
            "auth": self.auth_scheme,
        }

    def _paginate(self, path: str, key: str, step: str, scope: str, page_size: int) -> list[str]:
        url: str | None = _with_query(self.base_url + path, n=str(page_size))
        seen: set[str] = set()
        items: list[str] = []
        while url:
            if url in seen or len(seen) >= _MAX_PAGES:
                raise self._error(
                    PROTOCOL_ERROR, step, f"pagination of {path} loops at {_path_of(url)}."
                )
            seen.add(url)
            resp = self.call("GET", url, step, scope)
            try:
                data = json.loads(resp.body.decode("utf-8"))
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise self._error(
                    PROTOCOL_ERROR, step, f"GET {path} did not answer with a JSON object."
                )
            items.extend(data.get(key) or [])
            link = next_link(resp.header("link"))
            url = urljoin(resp.url, link) if link else None
        return items

    def catalog(self, page_size: int = 100, step: str = "list repositories") -> list[str]:
        return self._paginate("/v2/_catalog", "repositories", step, "registry:catalog:*", page_size)

    def tags(self, repository: str, page_size: int = 100, step: str | None = None) -> list[str]:
        return self._paginate(
            f"/v2/{repository}/tags/list",
            "tags",
            step or f"list tags of {repository}",
            f"repository:{repository}:pull",
            page_size,
        )

    def blob_size(self, repository: str, digest: str, step: str = "check blob") -> int | None:
        """Size of a blob, or None when the repository does not hold it."""
        try:
            resp = self.call(
                "HEAD", f"/v2/{repository}/blobs/{digest}", step, f"repository:{repository}:pull"
            )
        except RegistryError as err:
            if err.kind == NOT_FOUND:
                return None
            raise
        length = resp.header("content-length")
        return int(length) if length and length.isdigit() else None

    def get_blob(
        self, repository: str, digest: str, size: int | None = None, step: str = "pull blob"
    ) -> bytes:
        """Download a blob and check it against DIGEST (and SIZE when given)."""
        resp = self.call(
            "GET", f"/v2/{repository}/blobs/{digest}", step, f"repository:{repository}:pull"
        )
        got = sha256_digest(resp.body)
        if got != digest:
            raise self._error(
                DIGEST_MISMATCH,
                step,
                f"blob {digest} of {repository} came back with digest {got}.",
            )
        if size is not None and len(resp.body) != size:
            raise self._error(
                DIGEST_MISMATCH,
                step,
                f"blob {digest} of {repository} came back with {len(resp.body)} bytes, not {size}.",
            )
        return resp.body

    def _start_upload(self, repository: str, step: str) -> str:
        resp = self.call(
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            step,
            f"repository:{repository}:pull,push",
            data=b"",
        )
        location = resp.header("location")
        if resp.status != 202 or not location:
            raise self._error(
                UPLOAD_ERROR,
                step,
                f"starting an upload to {repository} answered HTTP {resp.status} without a "
                "Location header.",
            )
        return urljoin(resp.url, location)

    def _finish_upload(
        self, repository: str, location: str, digest: str, data: bytes, step: str
    ) -> None:
        headers = {"Content-Type": "application/octet-stream"}
        resp = self.call(
            "PUT",
            _with_query(location, digest=digest),
            step,
            f"repository:{repository}:pull,push",
            data=data,
            headers=headers,
        )
        answered = resp.header("docker-content-digest")
        if answered and answered != digest:
            raise self._error(
                DIGEST_MISMATCH,
                step,
                f"the registry stored the blob as {answered}, not {digest}.",
                resp.status,
            )

    def upload_blob(
        self,
        repository: str,
        data: bytes,
        chunk_size: int | None = None,
        step: str = "upload blob",
    ) -> str:
        """Upload DATA in one PUT, or in PATCH chunks of CHUNK_SIZE; return its digest."""
        digest = sha256_digest(data)
        scope = f"repository:{repository}:pull,push"
        location = self._start_upload(repository, step)
        if not chunk_size:
            self._finish_upload(repository, location, digest, data, step)
            return digest
        for offset in range(0, len(data), chunk_size):
            chunk = data[offset : offset + chunk_size]
            end = offset + len(chunk) - 1
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{end}",
            }
            resp = self.call("PATCH", location, step, scope, data=chunk, headers=headers)
            if resp.header("location"):
                location = urljoin(resp.url, resp.header("location") or "")
            answered = resp.header("range")
            if answered and answered.strip() != f"0-{end}":
                raise self._error(
                    UPLOAD_ERROR,
                    step,
                    f"after {end + 1} bytes the registry reports the range {answered}, "
                    f"not 0-{end}.",
                    resp.status,
                )
        self._finish_upload(repository, location, digest, b"", step)
        return digest

    def delete_blob(self, repository: str, digest: str, step: str = "delete blob") -> None:
        self.call(
            "DELETE", f"/v2/{repository}/blobs/{digest}", step, f"repository:{repository}:delete"
        )

    def put_manifest(
        self,
        repository: str,
        reference: str,
        body: bytes,
        media_type: str = OCI_MANIFEST,
        step: str = "push manifest",
    ) -> str:
        """Store a manifest under REFERENCE (tag or digest); return its digest."""
        digest = sha256_digest(body)
        resp = self.call(
            "PUT",
            f"/v2/{repository}/manifests/{quote(reference, safe=':')}",
            step,
            f"repository:{repository}:pull,push",
            data=body,
            headers={"Content-Type": media_type},
        )
        answered = resp.header("docker-content-digest")
        if answered and answered != digest:
            raise self._error(
                DIGEST_MISMATCH,
                step,
                f"the registry stored the manifest of {repository}:{reference} as {answered}, "
                f"not {digest}.",
                resp.status,
            )
        return digest

    def get_manifest(
        self, repository: str, reference: str, step: str = "pull manifest"
    ) -> ManifestInfo:
        """GET a manifest by tag or digest and check the digest the registry names."""
        resp = self.call(
            "GET",
            f"/v2/{repository}/manifests/{quote(reference, safe=':')}",
            step,
            f"repository:{repository}:pull",
            headers={"Accept": MANIFEST_ACCEPT},
        )
        digest = sha256_digest(resp.body)
        answered = resp.header("docker-content-digest")
        expected = reference if DIGEST_RE.match(reference) else answered
        if expected and expected != digest:
            raise self._error(
                DIGEST_MISMATCH,
                step,
                f"the manifest {repository}@{expected} came back with digest {digest}.",
            )
        media_type = (resp.header("content-type") or "").split(";")[0].strip()
        try:
            media_type = json.loads(resp.body.decode("utf-8")).get("mediaType") or media_type
        except (ValueError, AttributeError):
            pass
        return ManifestInfo(digest, media_type, len(resp.body), resp.body)

    def head_manifest(
        self, repository: str, reference: str, step: str = "check manifest"
    ) -> ManifestInfo | None:
        """Digest, media type and size of a manifest, or None if it does not exist."""
        try:
            resp = self.call(
                "HEAD",
                f"/v2/{repository}/manifests/{quote(reference, safe=':')}",
                step,
                f"repository:{repository}:pull",
                headers={"Accept": MANIFEST_ACCEPT},
            )
        except RegistryError as err:
            if err.kind == NOT_FOUND:
                return None
            raise
        length = resp.header("content-length") or "0"
        return ManifestInfo(
            resp.header("docker-content-digest") or "",
            (resp.header("content-type") or "").split(";")[0].strip(),
            int(length) if length.isdigit() else 0,
        )

    def delete_manifest(self, repository: str, digest: str, step: str = "delete manifest") -> None:
        self.call(
            "DELETE",
            f"/v2/{repository}/manifests/{digest}",
            step,
            f"repository:{repository}:delete",
        )


def _read_error_body(err: HTTPError) -> bytes:
    try:
        return err.read() or b""
    except (OSError, HTTPException, ValueError, AttributeError):
        return b""


def ssl_context(
    ca_path: str | None = None,
    validate_certs: bool = True,
    client_cert: str | None = None,
    client_key: str | None = None,
) -> ssl.SSLContext:
    """The TLS settings of every request of a client, built once.

    Without a prepared context, each request would load the system trust store again.
    """
    if make_context is not None:
        return make_context(
            cafile=ca_path,
            validate_certs=validate_certs,
            client_cert=client_cert,
            client_key=client_key,
        )
    context = ssl.create_default_context(cafile=ca_path)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        context.load_cert_chain(client_cert, keyfile=client_key)
    return context


def connection_argument_spec() -> dict[str, t.Any]:
    """Options every module of this collection that talks to a registry takes."""
    return {
        "registry_url": {"type": "str", "required": True},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "ca_path": {"type": "path"},
        "client_cert": {"type": "path"},
        "client_key": {"type": "path"},
        "validate_certs": {"type": "bool", "default": True},
        "timeout": {"type": "float", "default": 30},
    }


def client_from_params(params: dict[str, t.Any]) -> RegistryClient:
    """Build a client from module parameters; raises RegistryError for bad options."""
    url = normalize_registry_url(params["registry_url"])
    for option in ("ca_path", "client_cert", "client_key"):
        path = params.get(option)
        if path:
            try:
                with open(path, "rb"):
                    pass
            except OSError as err:
                raise RegistryError(
                    INVALID_OPTION,
                    url,
                    "check options",
                    f"{option} {path} cannot be read: {err.strerror or err}.",
                ) from None
    if params.get("client_key") and not params.get("client_cert"):
        raise RegistryError(
            INVALID_OPTION, url, "check options", "client_key needs client_cert as well."
        )
    if params.get("password") and not params.get("username"):
        raise RegistryError(
            INVALID_OPTION, url, "check options", "password needs username as well."
        )
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise RegistryError(
            INVALID_OPTION, url, "check options", "timeout must be greater than 0 seconds."
        )
    return RegistryClient(
        url,
        username=params.get("username"),
        password=params.get("password"),
        ca_path=params.get("ca_path"),
        client_cert=params.get("client_cert"),
        client_key=params.get("client_key"),
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("timeout") or 30,
    )
