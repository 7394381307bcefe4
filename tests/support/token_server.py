"""A test token issuer for the registry's ``auth.token`` (Bearer) mode, on 127.0.0.1.

It checks Basic credentials against a dict, grants the requested scopes (or the
subset a user's ``permissions`` allow) and returns ES256 JWTs the registry
verifies against ``auth.token.rootcertbundle``. The signing key is named either
by an ``x5c`` certificate chain or by a ``kid`` (the libtrust key id of the
signing key), the two ways distribution 2.8 finds a token's key.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key id distribution derives from a public key (libtrust's format).

    SHA-256 of the DER SubjectPublicKeyInfo, first 30 bytes, base32 without
    padding, in groups of four joined by colons.
    """
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def _self_signed(key: ec.EllipticCurvePrivateKey, name: str) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


@dataclass
class TokenIssuer:
    """Issue registry tokens over HTTP on 127.0.0.1; call ``stop()`` when done."""

    directory: Path
    users: dict[str, str]
    key_hint: str = "x5c"
    issuer: str = "dockyard-test-issuer"
    service: str = "dockyard-test-registry"
    permissions: dict[str, set[str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.key_hint not in ("x5c", "kid"):
            raise ValueError("key_hint must be x5c or kid")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._cert = _self_signed(self._key, "dockyard test token signer")
        self.bundle = self.directory / "token-signer.crt"
        self.bundle.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def realm(self) -> str:
        assert self._server is not None, "start() the issuer first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def registry_auth(self) -> dict[str, Any]:
        """The ``auth`` section of a registry configuration trusting this issuer."""
        return {
            "auth": {
                "token": {
                    "realm": self.realm,
                    "service": self.service,
                    "issuer": self.issuer,
                    "rootcertbundle": str(self.bundle),
                }
            }
        }

    def start(self) -> TokenIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
                return

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                issuer._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _user(self, header: str | None) -> tuple[bool, str | None]:
        """(credentials valid or absent, user name)."""
        if not header:
            return True, None
        if not header.startswith("Basic "):
            return False, None
        try:
            user, _sep, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False, None
        if self.users.get(user) != password or not password:
            return False, user
        return True, user

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        query = parse_qs(url.query)
        ok, user = self._user(handler.headers.get("Authorization"))
        scopes = [s for value in query.get("scope", []) for s in value.split()]
        self.requests.append({"user": user, "ok": ok, "scopes": scopes})
        if url.path != "/token":
            self._answer(handler, 404, {"details": "not found"})
            return
        if not ok or user is None:
            self._answer(handler, 401, {"details": "authentication required"}, basic=True)
            return
        access = []
        for scope in scopes:
            kind, _sep, rest = scope.partition(":")
            name, _sep, actions = rest.rpartition(":")
            allowed = self.permissions.get(user)
            granted = [a for a in actions.split(",") if allowed is None or a in allowed]
            access.append({"type": kind, "name": name, "actions": granted})
        token = self.token(user, access, query.get("service", [""])[0])
        self._answer(handler, 200, {"token": token, "access_token": token, "expires_in": 300})

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        basic: bool = False,
    ) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        if basic:
            handler.send_header("WWW-Authenticate", 'Basic realm="dockyard-test-token"')
        handler.end_headers()
        handler.wfile.write(body)

    def token(self, subject: str, access: list[dict[str, Any]], audience: str) -> str:
        """A signed JWT for SUBJECT granting ACCESS."""
        header: dict[str, Any] = {"typ": "JWT", "alg": "ES256"}
        if self.key_hint == "x5c":
            der = self._cert.public_bytes(serialization.Encoding.DER)
            header["x5c"] = [base64.b64encode(der).decode("ascii")]
        else:
            header["kid"] = libtrust_key_id(self._key.public_key())
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience or self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        der_sig = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der_sig)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + _b64url(signature)
