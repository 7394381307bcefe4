#!/usr/bin/env bash
# Prepare this checkout as an Ansible controller: a virtualenv in .venv with
# requirements.txt, and the collection made visible as dockyard.registry.
# Safe to run again; it only installs what is missing.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup-controller: $python is older than Python 3.11; set PYTHON to a newer one" >&2
    exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        else
            echo "setup-controller: $python cannot create virtualenvs;" \
                "install python3-venv (apt-get install python3-venv)" >&2
            exit 2
        fi
    fi
    "$python" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
    echo "$want" >"$stamp"
fi

# Ansible finds the collection through .cache/collections (see ansible.cfg).
link="$here/.cache/collections/ansible_collections/dockyard/registry"
mkdir -p "$(dirname "$link")"
ln -sfn "$here" "$link"
