#!/usr/bin/env bash
# Build the images the test suite needs, without any image registry:
#   - dockyard-test/debian:<suite>: a Debian system container (systemd as PID 1)
#     used as a molecule target host, made with debootstrap;
#   - registry:<version> and registry:latest: a stand-in for the upstream
#     CNCF distribution image, built from Debian's docker-registry package and
#     saved as an archive (docker save format) for the air-gapped load path.
# Images that already exist are kept. Usage: build-test-images.sh [SUITE...]
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${DOCKYARD_CACHE:-$here/.cache}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(bookworm)

mkdir -p "$cache/images"

build_base() {
    local suite="$1" tag="dockyard-test/debian:$1" root
    if docker image inspect "$tag" >/dev/null 2>&1; then
        echo "base image $tag: present"
        return
    fi
    echo "base image $tag: building with debootstrap"
    root="$(mktemp -d "$cache/rootfs-$suite.XXXXXX")"
    trap 'rm -rf "$root"' RETURN
    debootstrap --variant=minbase \
        --include=systemd,systemd-sysv,python3,ca-certificates,iproute2,procps,sudo \
        "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 || {
        tail -n 30 "$cache/debootstrap-$suite.log" >&2
        return 1
    }
    # A system container has no console getty to start and no machine-id yet.
    rm -f "$root/etc/machine-id"
    : >"$root/etc/machine-id"
    tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null
}

build_registry() {
    local bin=/usr/bin/docker-registry version ctx archive
    if [ ! -x "$bin" ]; then
        echo "Debian's docker-registry package is not installed ($bin missing):" \
            "apt-get install docker-registry" >&2
        return 1
    fi
    version="$("$bin" --version | awk '{print $3}' | sed 's/+.*//')"
    archive="$cache/images/registry-$version.tar"
    if [ -s "$archive" ] && docker image inspect "registry:$version" >/dev/null 2>&1; then
        echo "registry image archive $archive: present"
        echo "$archive" >"$cache/images/registry-archive.path"
        return
    fi
    echo "registry image registry:$version: building from $bin"
    ctx="$(mktemp -d "$cache/registry-ctx.XXXXXX")"
    trap 'rm -rf "$ctx"' RETURN
    mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc/docker/registry" "$ctx/rootfs/var/lib/registry"
    cp "$bin" "$ctx/rootfs/bin/registry"
    # The binary is linked to glibc only: copy the libraries and loader ldd names.
    ldd "$bin" | awk '/=>/ {print $3} !/=>/ && /^\t\// {print $1}' | while read -r lib; do
        [ -e "$lib" ] || continue
        mkdir -p "$ctx/rootfs$(dirname "$lib")"
        cp -L "$lib" "$ctx/rootfs$lib"
    done
    cat >"$ctx/rootfs/etc/docker/registry/config.yml" <<'YAML'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
YAML
    cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
DOCKERFILE
    docker build -q -t "registry:$version" "$ctx" >/dev/null
    docker tag "registry:$version" registry:latest
    docker tag "registry:$version" registry:2
    docker save -o "$archive" "registry:$version" registry:latest registry:2
    echo "$archive" >"$cache/images/registry-archive.path"
}

for suite in "${suites[@]}"; do
    build_base "$suite"
done
build_registry
