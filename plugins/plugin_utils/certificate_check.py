# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check a provided server certificate before it is installed anywhere.

This is the controller-side logic behind the ``dockyard.registry.certificate_check``
action. Nothing here talks to a host or imports Ansible: :func:`check` takes the
PEM text of the certificate, key, chain and CA files and returns the problems
found, each a sentence that names the file, what is wrong and what to do.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
except ImportError:  # reported by check(), so that the plugin itself still loads
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----", re.DOTALL)


class CertificateCheckError(Exception):
    """A file cannot be read as what it should hold; the message says which and why."""


@dataclass
class Inputs:
    """The files to check, as PEM bytes, with the names used for them in messages."""

    cert: bytes
    key: bytes
    chain: bytes = b""
    ca: bytes = b""
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, which: str) -> str:
        return self.labels.get(which, which)


@dataclass
class Result:
    problems: list[str]
    subject_alt_names: list[str]
    not_after: str


def _certificates(data: bytes, label: str) -> list[x509.Certificate]:
    blocks = _PEM_CERT.findall(data)
    certs = []
    for number, block in enumerate(blocks, start=1):
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except ValueError as exc:
            raise CertificateCheckError(
                f"{label}: PEM certificate number {number} cannot be parsed ({exc})."
            ) from exc
    return certs


def _public_key_der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _describe(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "an empty subject"


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def san_entries(cert: x509.Certificate) -> list[str]:
    """The certificate's subjectAltNames as DNS:name and IP:address strings."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    entries = [f"DNS:{name}" for name in ext.get_values_for_type(x509.DNSName)]
    entries += [f"IP:{addr}" for addr in ext.get_values_for_type(x509.IPAddress)]
    return entries


def covers(entries: Sequence[str], name: str) -> bool:
    """Whether subjectAltName ENTRIES cover NAME as TLS clients match it.

    An IP address needs an IP entry; a DNS name needs an equal DNS entry or a
    wildcard that stands for exactly its first label. The common name is not
    consulted, as current clients ignore it.
    """
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return any(e.startswith("IP:") and ipaddress.ip_address(e[3:]) == address for e in entries)
    wanted = name.rstrip(".").lower()
    for entry in entries:
        if not entry.startswith("DNS:"):
            continue
        pattern = entry[4:].rstrip(".").lower()
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted:
            if wanted.split(".", 1)[1] == pattern[2:]:
                return True
    return False


def _check_chain(full: list[x509.Certificate], cas: list[x509.Certificate], inputs: Inputs):
    """Problems with the order and completeness of FULL (leaf first)."""
    cert_label, chain_label, ca_label = (inputs.label(w) for w in ("cert", "chain", "ca"))
    for position in range(len(full) - 1):
        cert, following = full[position], full[position + 1]
        if _issued_by(cert, following):
            continue
        later = [n for n in range(position + 2, len(full)) if _issued_by(cert, full[n])]
        if later:
            return [
                f"the certificate chain is in the wrong order: certificate {position + 1} "
                f"({_describe(cert)}) is followed by {_describe(following)}, but its issuer "
                f"is certificate {later[0] + 1}. Order {chain_label} so that each certificate "
                f"comes right after the one it signed, starting with the issuer of "
                f"{cert_label}."
            ]
        return [
            f"the certificate chain is broken: certificate {position + 1} "
            f"({_describe(cert)}) was issued by {cert.issuer.rfc4514_string()}, but the next "
            f"one is {_describe(following)}, which did not sign it. Put the intermediate "
            f"certificates in {chain_label}, each one right after the certificate it signed."
        ]
    last = full[-1]
    if _issued_by(last, last):
        return []
    if any(_issued_by(last, ca) for ca in cas):
        return []
    if cas:
        return [
            f"the certificate chain is incomplete: {_describe(last)} was issued by "
            f"{last.issuer.rfc4514_string()}, which is neither in {chain_label} nor in "
            f"{ca_label}. Add the missing intermediate certificate(s) to {chain_label}."
        ]
    return []


def check(inputs: Inputs, names: Sequence[str], renew_days: int, now=None) -> Result:
    """Check INPUTS for serving NAMES; return the problems found (empty when usable)."""
    if not HAS_CRYPTOGRAPHY:
        raise CertificateCheckError(
            "The Python library cryptography is missing on the controller; it comes with"
            " ansible-core: install it in the controller's Python (pip install cryptography)."
        )
    now = now or datetime.datetime.now(datetime.UTC)
    cert_label, key_label = inputs.label("cert"), inputs.label("key")
    problems: list[str] = []

    # Certificate files are installed readable by everyone: a key in one of them would leak.
    for which, data in (("cert", inputs.cert), ("chain", inputs.chain), ("ca", inputs.ca)):
        if b"PRIVATE KEY-----" in data:
            raise CertificateCheckError(
                f"{inputs.label(which)} holds a private key. Keep only certificates there and"
                f" the key alone in {key_label}."
            )
    certs = _certificates(inputs.cert, cert_label)
    if not certs:
        raise CertificateCheckError(f"{cert_label} holds no PEM certificate.")
    chain = _certificates(inputs.chain, inputs.label("chain")) if inputs.chain else []
    if inputs.chain and not chain:
        raise CertificateCheckError(f"{inputs.label('chain')} holds no PEM certificate.")
    cas = _certificates(inputs.ca, inputs.label("ca")) if inputs.ca else []
    if inputs.ca and not cas:
        raise CertificateCheckError(f"{inputs.label('ca')} holds no PEM certificate.")
    leaf, full = certs[0], certs + chain

    try:
        key = serialization.load_pem_private_key(inputs.key, password=None)
    except TypeError as exc:
        raise CertificateCheckError(
            f"{key_label} is encrypted with a passphrase, which the registry cannot use: "
            "provide the key unencrypted (keep it in Ansible Vault instead)."
        ) from exc
    except ValueError as exc:
        raise CertificateCheckError(
            f"{key_label} is not a PEM private key the controller can read ({exc})."
        ) from exc
    if _public_key_der(key.public_key()) != _public_key_der(leaf.public_key()):
        problems.append(
            f"{cert_label} ({_describe(leaf)}) does not match {key_label}: the key "
            "belongs to another certificate. Point both variables at the same pair."
        )

    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if not_after <= now:
        problems.append(
            f"{cert_label} ({_describe(leaf)}) expired on {not_after:%Y-%m-%d %H:%M} UTC: "
            "renew it and point the variable at the new file."
        )
    elif not_after <= now + datetime.timedelta(days=renew_days):
        problems.append(
            f"{cert_label} ({_describe(leaf)}) expires on {not_after:%Y-%m-%d %H:%M} UTC, "
            f"within registry_tls_renew_days ({renew_days} days): renew it now, or lower "
            "registry_tls_renew_days if that is intended."
        )
    if not_before > now:
        problems.append(
            f"{cert_label} ({_describe(leaf)}) is not valid before "
            f"{not_before:%Y-%m-%d %H:%M} UTC: check the clock of the machine that issued it."
        )

    entries = san_entries(leaf)
    missing = [name for name in names if not covers(entries, name)]
    if missing:
        have = ", ".join(entries) if entries else "none (a common name alone does not count)"
        problems.append(
            f"{cert_label} does not cover {', '.join(missing)}: its subjectAltNames are "
            f"{have}. Issue a certificate whose subjectAltNames list every name and address "
            "in registry_name and registry_alt_names."
        )

    problems += _check_chain(full, cas, inputs)
    return Result(problems, entries, f"{not_after:%Y-%m-%dT%H:%M:%SZ}")
