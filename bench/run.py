"""Benchmarks for dockyard.registry, run against the real registry binary on 127.0.0.1.

  .venv/bin/python bench/run.py [--quick]

Measures:
  - registry_verify's push/pull round trip (monolithic and chunked uploads) at several
    layer sizes, reporting upload and download MB/s over loopback with TLS and htpasswd;
  - the htpasswd plan for N users: the first run (hash every user) and the second run
    (verify every unchanged user), which is what a repeated deployment pays.

Every loop is bounded; the registry process is started and stopped by this script.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".cache" / "collections"), str(ROOT / "tests")]

from support.collection import link_collection  # noqa: E402

link_collection()
from ansible_collections.dockyard.registry.plugins.module_utils.registry_api import (  # noqa: E402
    client_from_params,
)
from ansible_collections.dockyard.registry.plugins.modules.registry_verify import (  # noqa: E402
    RegistryVerifier,
)
from ansible_collections.dockyard.registry.plugins.plugin_utils.htpasswd import (  # noqa: E402
    load_bcrypt,
    plan_htpasswd,
    validate_users,
)
from support.pki import make_ca  # noqa: E402
from support.registry import start_registry  # noqa: E402

MIB = 1024 * 1024


def bench_round_trip(work: Path, sizes: list[int], repeats: int) -> None:
    ca = make_ca(work / "pki")
    server = ca.issue(work / "pki", "server", ["127.0.0.1", "localhost"])
    hasher = load_bcrypt()
    users = validate_users([{"name": "bench", "password": "bench-password"}])
    htpasswd = work / "htpasswd"
    htpasswd.write_text(plan_htpasswd("", users, False, hasher).content)
    reg = start_registry(work / "registry", tls=(server.cert, server.key), htpasswd=htpasswd)
    try:
        print(f"registry_verify round trip against {reg.url} (TLS, htpasswd), median of {repeats}")
        header = ("layer", "method", "upload MB/s", "download MB/s", "total s")
        print("{:>8} {:>10} {:>12} {:>14} {:>8}".format(*header))
        for size in sizes:
            for method in ("monolithic", "chunked"):
                ups, downs, totals = [], [], []
                for _ in range(repeats):
                    params = {
                        "registry_url": reg.url,
                        "username": "bench",
                        "password": "bench-password",
                        "ca_path": str(ca.pair.cert),
                        "client_cert": None,
                        "client_key": None,
                        "validate_certs": True,
                        "timeout": 60.0,
                        "repository": "bench/round-trip",
                        "tag": None,
                        "layer_size": size,
                        "upload_method": method,
                        "chunk_size": 4 * MIB,
                        "delete": False,
                    }
                    result = RegistryVerifier(client_from_params(params), params, False).run()
                    ups.append(result["timings"]["upload_mb_per_s"])
                    downs.append(result["timings"]["download_mb_per_s"])
                    totals.append(result["timings"]["total_seconds"])
                print(
                    f"{size // MIB:>6}Mi {method:>10} {statistics.median(ups):>12.1f}"
                    f" {statistics.median(downs):>14.1f} {statistics.median(totals):>8.2f}"
                )
    finally:
        reg.stop()


def bench_htpasswd(counts: list[int]) -> None:
    hasher = load_bcrypt()
    print("\nhtpasswd plan (bcrypt on the controller)")
    print(f"{'users':>6} {'first run s':>12} {'second run s':>13} {'per user ms':>12}")
    for count in counts:
        users = validate_users(
            [{"name": f"user{i}", "password": f"password-{i}"} for i in range(count)]
        )
        start = time.monotonic()
        first = plan_htpasswd("", users, False, hasher)
        first_s = time.monotonic() - start
        start = time.monotonic()
        second = plan_htpasswd(first.content, users, False, hasher)
        second_s = time.monotonic() - start
        assert not second.changed, "a second run must keep every line"
        print(f"{count:>6} {first_s:>12.2f} {second_s:>13.2f} {1000 * second_s / count:>12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    sizes = [1 * MIB, 8 * MIB] if args.quick else [1 * MIB, 16 * MIB, 64 * MIB]
    counts = [5, 20] if args.quick else [10, 50, 100]
    repeats = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as tmp:
        bench_round_trip(Path(tmp), sizes, repeats)
    bench_htpasswd(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
