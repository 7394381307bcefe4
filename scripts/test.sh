#!/usr/bin/env bash
# Run the whole test suite: unit tests, integration tests against the real
# registry binary, and the molecule scenarios on systemd target containers.
#
# On a bare Debian machine (as root) it first installs what the tests need:
# Docker engine, debootstrap, Debian's docker-registry package and the
# clients, the Python virtualenv, and the test images. A Docker engine that
# is not running is started in the background and stopped again at the end.
# Extra arguments go to pytest, for example: scripts/test.sh -m "not molecule"
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

packages=(docker.io debootstrap docker-registry skopeo curl openssl apache2-utils python3-venv)
dockerd_pid=""

log() { printf '==> %s\n' "$*"; }

stop_dockerd() {
    if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
        log "stopping the Docker engine this run started (pid $dockerd_pid)"
        kill "$dockerd_pid"
        for _ in $(seq 1 30); do
            kill -0 "$dockerd_pid" 2>/dev/null || break
            sleep 1
        done
    fi
}
trap stop_dockerd EXIT

install_packages() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages ${missing[*]}: run as root or install them first" >&2
        exit 2
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_dockerd() {
    if docker info >/dev/null 2>&1; then
        log "using the running Docker engine"
        return
    fi
    log "starting a Docker engine in the background"
    mkdir -p "$here/.cache"
    dockerd >"$here/.cache/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 1
    done
    tail -n 30 "$here/.cache/dockerd.log" >&2
    echo "the Docker engine did not start" >&2
    exit 1
}

install_packages
start_dockerd
log "preparing the controller virtualenv"
bash scripts/setup-controller.sh
# Debian suites of the molecule target hosts; tests/molecule runs each
# scenario on the suites it needs among these.
export DOCKYARD_TEST_SUITES="${DOCKYARD_TEST_SUITES:-bookworm trixie}"
read -r -a suites <<<"${DOCKYARD_TEST_SUITES//,/ }"
log "building the test images (${suites[*]})"
bash scripts/build-test-images.sh "${suites[@]}"
log "running the tests"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit "$rc"
