"""Unit tests for plugins/plugin_utils/htpasswd.py: parsing, planning, validation, self-test."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from collections.abc import Callable

import bcrypt as bcrypt_library
import passlib
import pytest
from ansible_collections.dockyard.registry.plugins.plugin_utils import htpasswd as ht
from passlib.exc import PasslibSecurityWarning
from passlib.hash import apr_md5_crypt, des_crypt, ldap_sha1, md5_crypt, sha256_crypt, sha512_crypt
from passlib.hash import bcrypt as passlib_bcrypt


@pytest.fixture(scope="module")
def hasher() -> ht.BcryptHasher:
    # The real backend at the lowest cost, so that the tests stay fast.
    return ht.load_bcrypt(rounds=4)


def users(**passwords: str) -> list[ht.User]:
    return [ht.User(name=name, password=password) for name, password in passwords.items()]


def entries(content: str) -> dict[str, str]:
    """name -> hash of each entry line in CONTENT."""
    return dict(line.split(":", 1) for line in content.splitlines() if line and line[0] != "#")


def assert_bcrypt_for(hasher: ht.BcryptHasher, hashed: str, password: str) -> None:
    assert hashed.startswith("$2y$"), hashed
    assert hasher.verify(password, hashed)


# -- parsing and scheme detection ------------------------------------------------------------


def test_parse_reads_lines_like_the_registry() -> None:
    text = "# managed\n\n  alice:$2y$04$abc:def  \nno-colon-here\nbob:{SHA}x=\n"
    lines = ht.parse_htpasswd(text)
    assert [line.number for line in lines] == [1, 2, 3, 4, 5]
    assert [line.name for line in lines] == [None, None, "alice", None, "bob"]
    # The name ends at the first colon; the rest, stripped, is the hash.
    assert lines[2].hashed == "$2y$04$abc:def"
    assert lines[2].raw == "  alice:$2y$04$abc:def  "
    assert [line.malformed for line in lines] == [False, False, False, True, False]


def test_parse_empty_text_has_no_lines() -> None:
    assert ht.parse_htpasswd("") == []


@pytest.mark.parametrize(
    ("hashed", "scheme"),
    [
        (passlib_bcrypt.using(ident="2y", rounds=4).hash("pw"), "bcrypt"),
        (passlib_bcrypt.using(ident="2b", rounds=4).hash("pw"), "bcrypt"),
        (passlib_bcrypt.using(ident="2a", rounds=4).hash("pw"), "bcrypt"),
        (apr_md5_crypt.hash("pw"), "apr1/MD5"),
        (ldap_sha1.hash("pw"), "{SHA}"),
        (md5_crypt.hash("pw"), "MD5-crypt"),
        (sha256_crypt.hash("pw"), "SHA-256-crypt"),
        (sha512_crypt.hash("pw"), "SHA-512-crypt"),
        (des_crypt.hash("pw"), "crypt"),
        ("pw", "plain text or unknown"),
    ],
    # Hashes are salted at random: name the cases so parallel workers agree.
    ids=["2y", "2b", "2a", "apr1", "sha1", "md5-crypt", "sha256", "sha512", "des", "plain"],
)
def test_detect_scheme(hashed: str, scheme: str) -> None:
    assert ht.detect_scheme(hashed) == scheme


# -- planning ---------------------------------------------------------------------------------


def test_new_file_lists_users_in_order_with_2y_hashes(hasher: ht.BcryptHasher) -> None:
    plan = ht.plan_htpasswd("", users(zoe="zoe-pw", alice="alice-pw"), False, hasher)
    assert plan.changed
    assert plan.added == ["zoe", "alice"]
    assert plan.users == ["zoe", "alice"]
    assert plan.updated == [] and plan.removed == []
    assert plan.content.endswith("\n")
    found = entries(plan.content)
    assert list(found) == ["zoe", "alice"]
    assert_bcrypt_for(hasher, found["zoe"], "zoe-pw")
    assert_bcrypt_for(hasher, found["alice"], "alice-pw")


def test_second_plan_with_same_users_changes_nothing(hasher: ht.BcryptHasher) -> None:
    wanted = users(alice="alice-pw", bob="bob-pw")
    first = ht.plan_htpasswd("", wanted, False, hasher)
    second = ht.plan_htpasswd(first.content, wanted, False, hasher)
    assert second.content == first.content
    assert not second.changed
    assert (second.added, second.updated, second.removed) == ([], [], [])
    assert second.users == ["alice", "bob"]


def test_unchanged_user_keeps_its_exact_line(hasher: ht.BcryptHasher) -> None:
    # A $2b$ hash made by the bcrypt library itself, with odd spacing: the registry
    # accepts it, so the line is left exactly as it is.
    hashed = bcrypt_library.hashpw(b"alice-pw", bcrypt_library.gensalt(4)).decode()
    existing = f"  alice:{hashed}  \n"
    plan = ht.plan_htpasswd(existing, users(alice="alice-pw"), False, hasher)
    assert plan.content == existing
    assert not plan.changed


def test_changed_password_rewrites_only_that_line(hasher: ht.BcryptHasher) -> None:
    wanted = users(alice="alice-pw", bob="bob-pw", carol="carol-pw")
    before = ht.plan_htpasswd("", wanted, False, hasher).content
    plan = ht.plan_htpasswd(
        before, users(alice="alice-pw", bob="new-bob-pw", carol="carol-pw"), False, hasher
    )
    old_lines, new_lines = before.splitlines(), plan.content.splitlines()
    assert len(new_lines) == 3
    assert new_lines[0] == old_lines[0]
    assert new_lines[2] == old_lines[2]
    assert new_lines[1] != old_lines[1]
    assert new_lines[1].startswith("bob:")
    new_hash = new_lines[1].split(":", 1)[1]
    assert_bcrypt_for(hasher, new_hash, "new-bob-pw")
    assert not hasher.verify("bob-pw", new_hash)
    assert plan.updated == ["bob"]
    assert plan.reasons == {"bob": "password changed"}
    assert (plan.added, plan.removed) == ([], [])


def test_order_keeps_file_order_and_appends_new_users_in_list_order(
    hasher: ht.BcryptHasher,
) -> None:
    before = ht.plan_htpasswd("", users(bob="b", alice="a"), False, hasher).content
    plan = ht.plan_htpasswd(before, users(zed="z", alice="a", bob="b", amy="m"), False, hasher)
    assert list(entries(plan.content)) == ["bob", "alice", "zed", "amy"]
    assert plan.users == ["bob", "alice", "zed", "amy"]
    assert plan.added == ["zed", "amy"]


@pytest.mark.parametrize(
    ("old_hash", "reason"),
    [
        (apr_md5_crypt.hash("same-pw"), "apr1/MD5 hash rewritten as bcrypt"),
        (ldap_sha1.hash("same-pw"), "{SHA} hash rewritten as bcrypt"),
        (des_crypt.hash("same-pw"), "crypt hash rewritten as bcrypt"),
        ("same-pw", "plain text or unknown hash rewritten as bcrypt"),
    ],
    ids=["apr1", "sha1", "des", "plain"],
)
def test_listed_user_in_other_scheme_is_rewritten_with_bcrypt(
    hasher: ht.BcryptHasher, old_hash: str, reason: str
) -> None:
    keep = ht.plan_htpasswd("", users(keep="keep-pw"), False, hasher).content
    existing = f"old:{old_hash}\n{keep}"
    plan = ht.plan_htpasswd(existing, users(old="same-pw", keep="keep-pw"), False, hasher)
    lines = plan.content.splitlines()
    assert lines[1] == keep.rstrip("\n")
    assert lines[0].startswith("old:")
    assert_bcrypt_for(hasher, lines[0].split(":", 1)[1], "same-pw")
    assert plan.updated == ["old"]
    assert plan.reasons["old"] == reason
    assert plan.changed


def test_damaged_bcrypt_hash_is_rewritten(hasher: ht.BcryptHasher) -> None:
    plan = ht.plan_htpasswd("alice:$2y$12$tooshort\n", users(alice="pw"), False, hasher)
    assert plan.updated == ["alice"]
    assert plan.reasons["alice"] == "damaged bcrypt hash rewritten"
    assert_bcrypt_for(hasher, entries(plan.content)["alice"], "pw")


def test_unlisted_users_are_removed(hasher: ht.BcryptHasher) -> None:
    existing = ht.plan_htpasswd("", users(alice="a", bob="b"), False, hasher).content
    existing += f"old:{apr_md5_crypt.hash('x')}\n"
    plan = ht.plan_htpasswd(existing, users(alice="a"), False, hasher)
    assert list(entries(plan.content)) == ["alice"]
    assert plan.removed == ["bob", "old"]
    assert plan.users == ["alice"]
    assert plan.warnings("/h") == []


def test_keep_unlisted_keeps_lines_and_warns_about_unusable_ones(
    hasher: ht.BcryptHasher,
) -> None:
    apr1 = apr_md5_crypt.hash("legacy-pw")
    bob = ht.plan_htpasswd("", users(bob="b"), False, hasher).content
    existing = f"legacy:{apr1}\n{bob}sha:{ldap_sha1.hash('s')}\n"
    plan = ht.plan_htpasswd(existing, users(alice="a"), True, hasher)
    lines = plan.content.splitlines()
    assert lines[:3] == existing.splitlines()
    assert lines[3].startswith("alice:")
    assert plan.removed == []
    assert plan.users == ["legacy", "bob", "sha", "alice"]
    assert plan.unusable == [("legacy", "apr1/MD5"), ("sha", "{SHA}")]
    (warning,) = plan.warnings("/etc/registry/htpasswd")
    assert "legacy (apr1/MD5)" in warning and "sha ({SHA})" in warning
    assert "bob" not in warning
    assert "only bcrypt" in warning and "/etc/registry/htpasswd" in warning
    assert apr1 not in warning and "$" not in warning


def test_comments_are_kept_and_malformed_lines_dropped(hasher: ht.BcryptHasher) -> None:
    alice = ht.plan_htpasswd("", users(alice="a"), False, hasher).content
    existing = f"# registry users\n\n{alice}a line without colon\n"
    plan = ht.plan_htpasswd(existing, users(alice="a"), False, hasher)
    assert plan.content == f"# registry users\n\n{alice}"
    assert plan.changed
    assert plan.dropped_lines == [4]
    (warning,) = plan.warnings("/h")
    assert "line(s) 4" in warning
    assert "without colon" not in warning  # the line itself might hold a secret


def test_repeated_lines_of_a_listed_user_are_merged(hasher: ht.BcryptHasher) -> None:
    one = ht.plan_htpasswd("", users(alice="a"), False, hasher).content
    two = ht.plan_htpasswd("", users(alice="a"), False, hasher).content
    bob = ht.plan_htpasswd("", users(bob="b"), False, hasher).content
    plan = ht.plan_htpasswd(one + bob + two, users(alice="a", bob="b"), False, hasher)
    assert [line.split(":")[0] for line in plan.content.splitlines()] == ["alice", "bob"]
    assert plan.updated == ["alice"]
    assert plan.reasons["alice"] == "2 lines merged into one"


def test_diff_shows_names_only(hasher: ht.BcryptHasher) -> None:
    before = ht.plan_htpasswd("", users(alice="alice-pw", bob="bob-pw"), False, hasher)
    old_apr1 = apr_md5_crypt.hash("legacy-pw")
    existing = before.content + f"legacy:{old_apr1}\n"
    plan = ht.plan_htpasswd(
        existing,
        users(alice="alice-new-pw", carol="carol-pw", legacy="legacy-pw"),
        False,
        hasher,
    )
    diff = plan.diff("/srv/htpasswd")
    assert diff["before"] == "alice\nbob\nlegacy\n"
    assert diff["after"] == "alice\nlegacy\ncarol\n"
    assert diff["before_header"] == diff["after_header"] == "/srv/htpasswd (user names)"
    assert diff["prepared"] == (
        "added: carol\n"
        "updated: alice (password changed)\n"
        "updated: legacy (apr1/MD5 hash rewritten as bcrypt)\n"
        "removed: bob\n"
    )
    dumped = json.dumps(diff)
    assert "$" not in dumped
    for secret in ("alice-pw", "alice-new-pw", "carol-pw", "legacy-pw", "bob-pw"):
        assert secret not in dumped


def test_plan_repr_shows_no_hashes(hasher: ht.BcryptHasher) -> None:
    plan = ht.plan_htpasswd("", users(alice="alice-pw"), False, hasher)
    assert "$2y$" in plan.content
    assert "$2y$" not in repr(plan)
    assert "alice-pw" not in repr(ht.User("alice", "alice-pw"))


# -- validation -------------------------------------------------------------------------------


def test_valid_users_are_returned_in_order() -> None:
    got = ht.validate_users([{"name": "b", "password": "x"}, {"name": "a", "password": "y"}])
    assert got == [ht.User("b", "x"), ht.User("a", "y")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice:pw", "users must be a list of dicts with the keys name and password, got str"),
        ({"name": "a"}, "users must be a list of dicts with the keys name and password, got dict"),
        (["alice"], "users[0] must be a dict with the keys name and password, got str"),
        (
            [{"name": "a", "password": "p"}, {"name": "b", "pasword": "p"}],
            "users[1] has unknown key(s) pasword: only name and password are allowed.",
        ),
        ([{"password": "p"}], "users[0].name is missing: give each user a name."),
        ([{"name": 42, "password": "p"}], "users[0].name must be a string, got int 42"),
        ([{"name": "", "password": "p"}], "users[0].name is empty"),
        ([{"name": "ali:ce", "password": "p"}], "users[0].name 'ali:ce' contains ':'"),
        ([{"name": "ali ce", "password": "p"}], "users[0].name 'ali ce' contains whitespace"),
        ([{"name": "ali\tce", "password": "p"}], "users[0].name 'ali\\tce' contains whitespace"),
        (
            [{"name": "ali\x07ce", "password": "p"}],
            "users[0].name 'ali\\x07ce' contains the control or invisible character U+0007",
        ),
        (
            [{"name": "ali\u200bce", "password": "p"}],
            "contains the control or invisible character U+200B",
        ),
        ([{"name": "#ops", "password": "p"}], "users[0].name '#ops' starts with '#'"),
        (
            [
                {"name": "alice", "password": "p"},
                {"name": "bob", "password": "p"},
                {"name": "alice", "password": "q"},
            ],
            "users[2].name 'alice' repeats users[0].name: list each user once.",
        ),
        (
            [{"name": "alice"}],
            "users[0].password is missing for user 'alice': give every user a password.",
        ),
        ([{"name": "alice", "password": None}], "users[0].password is missing for user 'alice'"),
        (
            [{"name": "alice", "password": 12345}],
            "users[0].password for user 'alice' must be a string, got int: quote the password",
        ),
        (
            [{"name": "alice", "password": ""}],
            "users[0].password for user 'alice' is empty: registry users need a non-empty",
        ),
        (
            [{"name": "alice", "password": "a\x00b"}],
            "users[0].password for user 'alice' contains a NUL character",
        ),
    ],
)
def test_validation_errors(value: object, expected: str) -> None:
    with pytest.raises(ht.HtpasswdValidationError) as caught:
        ht.validate_users(value)
    assert expected in str(caught.value)


def test_validation_reports_every_problem_and_never_a_password() -> None:
    value = [
        {"name": "", "password": "first-secret"},
        {"name": "bob", "password": "x" * 73},
        {"name": "carol", "password": 1234567},
    ]
    with pytest.raises(ht.HtpasswdValidationError) as caught:
        ht.validate_users(value)
    assert [p.split(" ")[0] for p in caught.value.problems] == [
        "users[0].name",
        "users[1].password",
        "users[2].password",
    ]
    message = str(caught.value)
    for secret in ("first-secret", "x" * 20, "1234567"):
        assert secret not in message


@pytest.mark.parametrize(
    ("password", "size"),
    [
        ("a" * 73, 73),
        ("\u20ac" * 25, 75),  # 25 characters, 3 bytes each
        ("\U0001f512" * 19, 76),  # 19 characters, 4 bytes each
        ("\u00e9" * 36 + "a", 73),  # 37 characters, 2 bytes each but the last
    ],
)
def test_password_over_72_bytes_is_refused(password: str, size: int) -> None:
    with pytest.raises(ht.HtpasswdValidationError) as caught:
        ht.validate_users([{"name": "alice", "password": password}])
    message = str(caught.value)
    assert f"users[0].password for user 'alice' is {size} bytes long in UTF-8" in message
    assert "bcrypt uses only the first 72 bytes" in message
    assert "does not truncate" in message
    assert password not in message


@pytest.mark.parametrize("password", ["a" * 72, "\u20ac" * 24, "\U0001f512" * 18])
def test_password_of_72_bytes_is_hashed_whole(hasher: ht.BcryptHasher, password: str) -> None:
    (user,) = ht.validate_users([{"name": "alice", "password": password}])
    hashed = entries(ht.plan_htpasswd("", [user], False, hasher).content)["alice"]
    assert hasher.verify(password, hashed)
    # Every byte counts: changing the last character must fail verification.
    assert not hasher.verify(password[:-1] + "b", hashed)


# -- backend self-test ------------------------------------------------------------------------


def test_self_test_passes_with_the_pinned_versions() -> None:
    loaded = ht.load_bcrypt(rounds=4)
    assert loaded.passlib_version == passlib.__version__
    assert loaded.bcrypt_version == bcrypt_library.__version__
    assert loaded.hash("x").startswith("$2y$04$")


def test_new_hashes_use_cost_10_by_default() -> None:
    # The registry checks the hash on every request; see DEFAULT_ROUNDS for the trade-off.
    assert ht.load_bcrypt().hash("x").startswith("$2y$10$")


def assert_names_versions_and_fix(message: str) -> None:
    assert f"passlib {passlib.__version__}" in message
    assert f"bcrypt {bcrypt_library.__version__}" in message
    assert "pip install 'bcrypt==4.0.1'" in message
    assert "requirements.txt" in message


def test_self_test_fails_when_bcrypt_lacks_about(monkeypatch: pytest.MonkeyPatch) -> None:
    # bcrypt 4.1 removed __about__, which passlib 1.7.4 reads.
    monkeypatch.delattr(bcrypt_library, "__about__")
    with pytest.raises(ht.HtpasswdError) as caught:
        ht.load_bcrypt(rounds=4)
    assert_names_versions_and_fix(str(caught.value))
    assert "__about__" in str(caught.value)


def test_self_test_fails_when_the_backend_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    # bcrypt 5 raises on passwords over 72 bytes, which passlib probes with.
    def refuse(password: bytes, salt: bytes) -> bytes:
        raise ValueError("password cannot be longer than 72 bytes")

    monkeypatch.setattr(bcrypt_library, "hashpw", refuse)
    with pytest.raises(ht.HtpasswdError) as caught:
        ht.load_bcrypt(rounds=4)
    message = str(caught.value)
    assert_names_versions_and_fix(message)
    assert "ValueError: password cannot be longer than 72 bytes" in message


def test_self_test_fails_when_hashes_do_not_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    real = bcrypt_library.hashpw
    calls = []

    def forgetful(password: bytes, salt: bytes) -> bytes:
        # Hash a different password on every call, so nothing ever verifies.
        calls.append(password)
        return real(password + str(len(calls)).encode(), salt)

    monkeypatch.setattr(bcrypt_library, "hashpw", forgetful)
    with pytest.raises(ht.HtpasswdError) as caught:
        ht.load_bcrypt(rounds=4)
    assert "a fresh hash does not verify against its password" in str(caught.value)
    assert_names_versions_and_fix(str(caught.value))


def _log_passlib_warning() -> None:
    logging.getLogger("passlib.handlers.bcrypt").warning("(trapped) error reading bcrypt version")


def _warn_passlib_security() -> None:
    warnings.warn("bcrypt backend is vulnerable", PasslibSecurityWarning, stacklevel=1)


@pytest.mark.parametrize(
    ("complain", "expected"),
    [
        (_log_passlib_warning, "(trapped) error reading bcrypt version"),
        (_warn_passlib_security, "bcrypt backend is vulnerable"),
    ],
)
def test_self_test_fails_when_passlib_complains(
    monkeypatch: pytest.MonkeyPatch, complain: Callable[[], None], expected: str
) -> None:
    # passlib reports a mismatch it survives as a log record or a warning, not an error.
    real = bcrypt_library.hashpw

    def complaining(password: bytes, salt: bytes) -> bytes:
        complain()
        return real(password, salt)

    monkeypatch.setattr(bcrypt_library, "hashpw", complaining)
    with pytest.raises(ht.HtpasswdError) as caught:
        ht.load_bcrypt(rounds=4)
    assert expected in str(caught.value)
    assert_names_versions_and_fix(str(caught.value))


def test_missing_passlib_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "passlib", None)
    monkeypatch.setitem(sys.modules, "passlib.hash", None)
    with pytest.raises(ht.HtpasswdError) as caught:
        ht.load_bcrypt()
    message = str(caught.value)
    assert "needs the Python package passlib" in message
    assert "pip install 'passlib==1.7.4' 'bcrypt==4.0.1'" in message


def test_missing_bcrypt_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bcrypt", None)
    with pytest.raises(ht.HtpasswdError) as caught:
        ht.load_bcrypt()
    message = str(caught.value)
    assert "needs the Python package bcrypt" in message
    assert "pip install 'bcrypt==4.0.1'" in message
