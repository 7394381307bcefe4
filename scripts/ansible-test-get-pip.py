"""Stand-in for the pip bootstrap script ansible-test downloads.

ansible-test creates each sanity test's virtualenv without pip and runs a
get-pip script it fetches from its own file server, which the test machines
cannot reach. This script does the same job from what is reachable: it puts
the Python's bundled pip into the virtualenv with ensurepip, points that pip
at the system's CA bundle (ansible-test runs pip with a reduced environment,
without PIP_CERT), then installs the pip version ansible-test asks for from
the package index. scripts/sanity.sh copies it to
~/.ansible/test/cache/get_pip_<version>.py.
"""

import ensurepip
import os
import subprocess
import sys

BUNDLES = (os.environ.get("PIP_CERT", ""), "/etc/ssl/certs/ca-certificates.crt")

ensurepip.bootstrap(upgrade=True)
bundle = next((path for path in BUNDLES if path and os.path.exists(path)), None)
if bundle:
    with open(os.path.join(sys.prefix, "pip.conf"), "w", encoding="utf-8") as conf:
        conf.write(f"[global]\ncert = {bundle}\n")
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
cert = ["--cert", bundle] if bundle else []
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *cert, *args])
