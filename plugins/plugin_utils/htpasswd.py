# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan the registry's htpasswd file: parse, validate, hash with bcrypt.

This is the controller-side logic behind the ``dockyard.registry.htpasswd``
action. Nothing here talks to a host or imports Ansible: the action reads the
current file, hands its text to :func:`plan_htpasswd` and writes
:attr:`Plan.content` back.

The registry (CNCF distribution) reads an htpasswd file the way this module
does: every line is stripped, blank lines and lines starting with ``#`` are
skipped, the name ends at the first ``:``, a repeated name takes the hash of
its last line, and a line without ``:`` stops the registry from starting.
Only bcrypt hashes can ever match a password; entries in any other scheme are
kept by the registry but nobody can log in with them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: bcrypt hashes only the first 72 bytes of a password.
BCRYPT_MAX_PASSWORD_BYTES = 72

#: bcrypt cost of new hashes. The registry checks the hash on every authenticated
#: request, with no cache: cost 12 (passlib's default) made each request take about
#: 0.3 s of CPU on a small machine, cost 10 about 0.09 s, Apache's default of 5 under
#: 0.01 s. 10 keeps pushes of many layers quick and offline guessing expensive.
DEFAULT_ROUNDS = 10

#: The pins in requirements.txt that are known to work together.
PASSLIB_PIN = "passlib==1.7.4"
BCRYPT_PIN = "bcrypt==4.0.1"

_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
_DES_CRYPT = re.compile(r"^[./0-9A-Za-z]{13}$")
_SELF_TEST_PASSWORD = "dockyard-self-test \u00e9"
_SELF_TEST_ROUNDS = 4


class HtpasswdError(Exception):
    """A problem the user has to fix; the message says what and how."""


class HtpasswdValidationError(HtpasswdError):
    """The users option is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


class Hasher(Protocol):
    """What :func:`plan_htpasswd` needs from a bcrypt implementation."""

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hashed: str) -> bool: ...


@dataclass(frozen=True)
class User:
    """One wanted registry user."""

    name: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Line:
    """One line of an htpasswd file, without its line break.

    ``name`` and ``hashed`` are None for blank and comment lines and for
    malformed lines (``malformed`` is then true).
    """

    number: int
    raw: str
    name: str | None = None
    hashed: str | None = field(default=None, repr=False)
    malformed: bool = False

    @property
    def is_entry(self) -> bool:
        return self.name is not None


@dataclass
class Plan:
    """The file to write and what differs from the current one."""

    content: str = field(repr=False)
    before_users: list[str]
    users: list[str]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Why each updated user's line changes, by name.
    reasons: dict[str, str] = field(default_factory=dict)
    #: Kept (keep_unlisted) entries that are not bcrypt: (name, scheme).
    unusable: list[tuple[str, str]] = field(default_factory=list)
    #: Line numbers of malformed lines that were dropped.
    dropped_lines: list[int] = field(default_factory=list)
    original: str = field(default="", repr=False)

    @property
    def changed(self) -> bool:
        return self.content != self.original

    def warnings(self, path: str) -> list[str]:
        """Warnings for the user: names and line numbers only, never hashes."""
        out = []
        if self.unusable:
            listed = ", ".join(f"{name} ({scheme})" for name, scheme in self.unusable)
            out.append(
                f"{path}: the entries for {listed} are kept because keep_unlisted is true, "
                "but the registry accepts only bcrypt hashes, so these users cannot log in. "
                "List them in users to rewrite them with bcrypt, or set keep_unlisted to "
                "false to remove them."
            )
        if self.dropped_lines:
            numbers = ", ".join(str(n) for n in self.dropped_lines)
            out.append(
                f"{path}: removed line(s) {numbers}, which are not NAME:HASH entries; "
                "the registry refuses to start with such lines in its htpasswd file."
            )
        return out

    def diff(self, path: str) -> dict[str, str]:
        """An Ansible diff that shows user names, never hashes or passwords."""
        header = f"{path} (user names)"
        summary = []
        if self.added:
            summary.append(f"added: {', '.join(self.added)}")
        for name in self.updated:
            summary.append(f"updated: {name} ({self.reasons.get(name, 'rewritten')})")
        if self.removed:
            summary.append(f"removed: {', '.join(self.removed)}")
        if self.dropped_lines:
            summary.append(f"dropped malformed lines: {', '.join(map(str, self.dropped_lines))}")
        diff = {
            "before_header": header,
            "after_header": header,
            "before": "".join(f"{name}\n" for name in self.before_users),
            "after": "".join(f"{name}\n" for name in self.users),
        }
        if summary:
            diff["prepared"] = "\n".join(summary) + "\n"
        return diff


def parse_htpasswd(text: str) -> list[Line]:
    """Split htpasswd TEXT into lines, reading each the way the registry does."""
    if not text:
        return []
    raw_lines = text.split("\n")
    if raw_lines[-1] == "":
        raw_lines.pop()
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            lines.append(Line(number=number, raw=raw))
        elif ":" not in stripped:
            lines.append(Line(number=number, raw=raw, malformed=True))
        else:
            name, hashed = stripped.split(":", 1)
            lines.append(Line(number=number, raw=raw, name=name, hashed=hashed))
    return lines


def detect_scheme(hashed: str) -> str:
    """Name the scheme of an htpasswd hash: ``bcrypt`` is the only usable one."""
    if hashed.startswith(_BCRYPT_PREFIXES):
        return "bcrypt"
    if hashed.startswith("$apr1$"):
        return "apr1/MD5"
    if hashed.startswith("{SHA}"):
        return "{SHA}"
    if hashed.startswith("$1$"):
        return "MD5-crypt"
    if hashed.startswith("$5$"):
        return "SHA-256-crypt"
    if hashed.startswith("$6$"):
        return "SHA-512-crypt"
    if _DES_CRYPT.match(hashed):
        return "crypt"
    return "plain text or unknown"


def _control_character(text: str) -> str | None:
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return f"U+{ord(char):04X}"
    return None


def _type_name(value: Any) -> str:
    """The builtin type of VALUE (Ansible wraps values in subclasses of the builtins)."""
    for base in type(value).__mro__:
        if base.__module__ == "builtins" and base is not object:
            return base.__name__
    return type(value).__name__


def validate_users(users: Any) -> list[User]:
    """Check the users option; raise HtpasswdValidationError naming every problem.

    Messages name the option path and the user name, never the password.
    """
    if not isinstance(users, list):
        raise HtpasswdValidationError(
            [
                f"users must be a list of dicts with the keys name and password, "
                f"got {_type_name(users)}: write it as a YAML list, one item per user."
            ]
        )
    problems: list[str] = []
    valid: list[User] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(users):
        where = f"users[{index}]"
        if not isinstance(entry, dict):
            problems.append(
                f"{where} must be a dict with the keys name and password, got {_type_name(entry)}."
            )
            continue
        unknown = sorted(str(key) for key in entry if key not in ("name", "password"))
        if unknown:
            problems.append(
                f"{where} has unknown key(s) {', '.join(unknown)}: "
                "only name and password are allowed."
            )
        name_problem = _name_problem(where, entry.get("name"))
        if name_problem:
            problems.append(name_problem)
            name = None
        else:
            name = entry["name"]
            if name in first_index:
                problems.append(
                    f"{where}.name {name!r} repeats users[{first_index[name]}].name: "
                    "list each user once."
                )
            else:
                first_index[name] = index
        label = f" for user {name!r}" if name is not None else ""
        password_problem = _password_problem(where, label, entry)
        if password_problem:
            problems.append(password_problem)
        if not name_problem and not password_problem and not unknown:
            valid.append(User(name=name, password=entry["password"]))
    if problems:
        raise HtpasswdValidationError(problems)
    return valid


def _name_problem(where: str, name: Any) -> str | None:
    option = f"{where}.name"
    if name is None:
        return f"{option} is missing: give each user a name."
    if not isinstance(name, str):
        return f"{option} must be a string, got {_type_name(name)} {name!r}: quote it in YAML."
    if not name:
        return f"{option} is empty: give each user a non-empty name."
    if ":" in name:
        return (
            f"{option} {name!r} contains ':', which separates the name from the hash "
            "in htpasswd files: choose a name without ':'."
        )
    if any(char.isspace() for char in name):
        return (
            f"{option} {name!r} contains whitespace, which the registry strips from "
            "htpasswd lines: choose a name without spaces or tabs."
        )
    control = _control_character(name)
    if control:
        return (
            f"{option} {name!r} contains the control or invisible character {control}: "
            "choose a name of printable characters."
        )
    if name.startswith("#"):
        return (
            f"{option} {name!r} starts with '#', which makes the registry read the line "
            "as a comment: choose a name that does not start with '#'."
        )
    return None


def _password_problem(where: str, label: str, entry: dict[str, Any]) -> str | None:
    option = f"{where}.password"
    if "password" not in entry or entry["password"] is None:
        return f"{option} is missing{label}: give every user a password."
    password = entry["password"]
    if not isinstance(password, str):
        return (
            f"{option}{label} must be a string, got {_type_name(password)}: "
            "quote the password in YAML."
        )
    if not password:
        return f"{option}{label} is empty: registry users need a non-empty password."
    if "\x00" in password:
        return f"{option}{label} contains a NUL character, which bcrypt cannot hash: remove it."
    size = len(password.encode("utf-8"))
    if size > BCRYPT_MAX_PASSWORD_BYTES:
        return (
            f"{option}{label} is {size} bytes long in UTF-8, but bcrypt uses only the first "
            f"{BCRYPT_MAX_PASSWORD_BYTES} bytes and this module does not truncate passwords: "
            f"use a password of at most {BCRYPT_MAX_PASSWORD_BYTES} bytes (characters outside "
            "ASCII take 2 to 4 bytes each)."
        )
    return None


def _rewrite_reason(hasher: Hasher, password: str, hashed: str) -> str | None:
    """Why an existing entry must be rewritten for PASSWORD, or None to keep it."""
    scheme = detect_scheme(hashed)
    if scheme != "bcrypt":
        return f"{scheme} hash rewritten as bcrypt"
    try:
        matches = hasher.verify(password, hashed)
    except ValueError:
        return "damaged bcrypt hash rewritten"
    return None if matches else "password changed"


def plan_htpasswd(
    existing: str, users: Sequence[User], keep_unlisted: bool, hasher: Hasher
) -> Plan:
    """Work out the new htpasswd content from the EXISTING text and the wanted USERS.

    Existing lines keep their place. A listed user whose bcrypt hash still
    matches keeps its exact line; otherwise the line is rewritten in place.
    New users are appended in list order. Unlisted users are removed unless
    KEEP_UNLISTED. Comments and blank lines are kept; malformed lines are
    dropped because the registry would not start with them.
    """
    wanted = {user.name: user for user in users}
    lines = parse_htpasswd(existing)
    count: dict[str, int] = {}
    effective: dict[str, str] = {}  # the registry uses the last line of a name
    for line in lines:
        if line.is_entry:
            count[line.name] = count.get(line.name, 0) + 1
            effective[line.name] = line.hashed

    plan = Plan(content="", before_users=list(effective), users=[], original=existing)
    out: list[str] = []
    seen: set[str] = set()
    for line in lines:
        if line.malformed:
            plan.dropped_lines.append(line.number)
            continue
        if not line.is_entry:
            out.append(line.raw)
            continue
        name = line.name
        first = name not in seen
        seen.add(name)
        user = wanted.get(name)
        if user is None:
            if keep_unlisted:
                out.append(line.raw)
                scheme = detect_scheme(effective[name])
                if first and scheme != "bcrypt":
                    plan.unusable.append((name, scheme))
            elif first:
                plan.removed.append(name)
            continue
        if not first:
            continue  # a repeated line of a listed user, merged into its first line
        if count[name] > 1:
            reason: str | None = f"{count[name]} lines merged into one"
        else:
            reason = _rewrite_reason(hasher, user.password, line.hashed)
        if reason is None:
            out.append(line.raw)
            continue
        out.append(f"{name}:{hasher.hash(user.password)}")
        plan.updated.append(name)
        plan.reasons[name] = reason
    for user in users:
        if user.name not in seen:
            out.append(f"{user.name}:{hasher.hash(user.password)}")
            plan.added.append(user.name)
    plan.users = [name for name in effective if name in wanted or keep_unlisted] + plan.added
    plan.content = "".join(f"{line}\n" for line in out)
    return plan


@dataclass(frozen=True)
class BcryptHasher:
    """bcrypt through passlib, producing ``$2y$`` hashes as Apache's htpasswd does."""

    handler: Any = field(repr=False)
    passlib_version: str
    bcrypt_version: str

    def hash(self, password: str) -> str:
        return self.handler.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        return bool(self.handler.verify(password, hashed))


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_bcrypt(rounds: int | None = None) -> BcryptHasher:
    """Import passlib and bcrypt, prove they hash and verify, return a hasher.

    New hashes get cost ROUNDS, by default DEFAULT_ROUNDS.

    Raise HtpasswdError naming both versions and the fix when they do not
    work together (passlib 1.7.4 predates bcrypt 4.1's removal of
    ``__about__`` and bcrypt 5's refusal of passwords over 72 bytes).
    """
    try:
        import passlib
        from passlib.hash import bcrypt as passlib_bcrypt
    except ImportError as exc:
        raise HtpasswdError(
            "dockyard.registry.htpasswd hashes passwords on the controller and needs the "
            f"Python package passlib there ({exc}): install it into the Python that runs "
            f"ansible-playbook, for example pip install '{PASSLIB_PIN}' '{BCRYPT_PIN}' "
            "(both pinned in requirements.txt)."
        ) from exc
    try:
        import bcrypt as bcrypt_library
    except ImportError as exc:
        raise HtpasswdError(
            "dockyard.registry.htpasswd needs the Python package bcrypt on the controller "
            f"({exc}): install it into the Python that runs ansible-playbook, for example "
            f"pip install '{BCRYPT_PIN}' (pinned in requirements.txt)."
        ) from exc

    passlib_version = str(getattr(passlib, "__version__", "unknown"))
    bcrypt_version = str(getattr(bcrypt_library, "__version__", "unknown"))
    problems = []
    if passlib_version.startswith("1.7.") and not hasattr(bcrypt_library, "__about__"):
        problems.append(
            "bcrypt no longer has the __about__ attribute that this passlib reads to detect it"
        )

    collect = _Collect()
    passlib_log = logging.getLogger("passlib")
    passlib_log.addHandler(collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            handler = passlib_bcrypt.using(
                ident="2y", rounds=rounds or DEFAULT_ROUNDS, truncate_error=True
            )
            handler.set_backend("bcrypt")
            # The probe proves the backend, not the cost: hash it at the lowest one.
            probe = handler.using(rounds=_SELF_TEST_ROUNDS)
            hashed = probe.hash(_SELF_TEST_PASSWORD)
            if not hashed.startswith("$2y$"):
                problems.append(f"a new hash starts with {hashed[:4]!r} instead of '$2y$'")
            if not probe.verify(_SELF_TEST_PASSWORD, hashed):
                problems.append("a fresh hash does not verify against its password")
            if probe.verify(_SELF_TEST_PASSWORD + "x", hashed):
                problems.append("a fresh hash verifies against a wrong password")
    except Exception as exc:  # any failure of the backend is reported the same way
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        passlib_log.removeHandler(collect)
    problems.extend(
        str(warning.message) for warning in caught if "passlib" in warning.category.__module__
    )
    problems.extend(message for message in collect.messages if "bcrypt" in message)
    if problems:
        raise HtpasswdError(
            f"passlib {passlib_version} and bcrypt {bcrypt_version} on the controller do not "
            f"work together ({'; '.join(problems)}). Install the pinned versions into the "
            f"Python that runs ansible-playbook: pip install '{BCRYPT_PIN}' '{PASSLIB_PIN}' "
            "(as pinned in requirements.txt)."
        )
    return BcryptHasher(
        handler=handler, passlib_version=passlib_version, bcrypt_version=bcrypt_version
    )
