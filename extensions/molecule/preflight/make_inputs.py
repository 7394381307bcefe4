"""Write the certificates and htpasswd files the preflight scenario feeds the roles.

Usage: make_inputs.py DIRECTORY HOSTNAME ADDRESS. The good certificates cover both;
everything is throw-away test material.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from passlib.hash import apr_md5_crypt, bcrypt

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))

from support.pki import make_ca  # noqa: E402


def main(directory: Path, name: str, address: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    root = make_ca(directory, "root", "preflight root CA")
    inter = root.issue_ca(directory, "inter", "preflight intermediate CA")
    inter2 = inter.issue_ca(directory, "inter2", "preflight second intermediate CA")
    inter.issue(directory, "good", [name, address], days=90)
    inter.issue(directory, "other", [name, address], days=90)
    inter.issue(directory, "expired", [name], days=10, not_before=_days_ago(20))
    inter.issue(directory, "expiring", [name], days=10)
    inter.issue(directory, "wrong-name", ["somewhere-else.example"], days=90)
    inter.issue(directory, "cn-only", [name], days=90, san=False)
    inter2.issue(directory, "deep", [name], days=90)
    # Intermediates in the wrong order: the leaf's issuer (inter2) must come first.
    wrong = (directory / "inter.crt").read_bytes() + (directory / "inter2.crt").read_bytes()
    (directory / "chain-wrong-order.crt").write_bytes(wrong)
    (directory / "good.htpasswd").write_text(
        f"alice:{bcrypt.using(rounds=4).hash('preflight-alice-password')}\n"
    )
    (directory / "not-bcrypt.htpasswd").write_text(
        f"alice:{bcrypt.using(rounds=4).hash('preflight-alice-password')}\n"
        f"bob:{apr_md5_crypt.hash('preflight-bob-password')}\n"
    )


def _days_ago(days: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
