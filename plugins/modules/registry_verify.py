#!/usr/bin/python
# Copyright (c) dockyard.registry maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

# ruff: noqa: E402 (Ansible modules import below DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
---
module: registry_verify
short_description: Prove that a registry accepts and serves images with a push/pull round trip
version_added: 0.1.0
description:
  - Talks to a container registry (CNCF distribution or any registry speaking the OCI
    distribution API) over HTTP from the host the task runs on, with no container engine or
    client library needed there.
  - Checks that the registry answers on C(/v2/), authenticating with Basic credentials or with a
    token server (Bearer) when the registry asks for it.
  - Pushes a generated test image (one random C(tar+gzip) layer, an image config and an OCI image
    manifest) under O(tag) in O(repository), pulls the manifest back by tag and by digest, pulls
    every blob and checks every digest and size.
  - Optionally deletes what it pushed again (O(delete=true)).
  - A failure names the registry, the step that failed, the cause (for example wrong
    credentials, an untrusted certificate, C(http://) used for an HTTPS registry, read-only or
    full storage) and what to change.
author:
  - dockyard.registry maintainers (@dockyard)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dockyard.registry.registry_connection
attributes:
  check_mode:
    support: full
    details:
      - In check mode only read-only steps run (ping, authentication and reading the tags of
        O(repository)); the module reports C(changed=true) because a real run always pushes.
  diff_mode:
    support: none
  platform:
    platforms: posix
  idempotent:
    description: Running the task twice in a row reports no change the second time.
    support: none
    details:
      - Every run outside check mode pushes a new random image, so it always reports a change.
options:
  repository:
    description:
      - Repository (image name without registry and tag) that receives the test image.
    type: str
    default: dockyard/verify
  tag:
    description:
      - Tag for the test image.
      - By default a new unique tag, C(verify-<UTC time>-<random>), so that runs never overwrite
        each other.
    type: str
  layer_size:
    description:
      - Bytes of random data in the test layer, from 1 to 268435456 (256 MiB).
      - The layer blob is slightly larger than this (tar and gzip framing).
      - The image is generated in memory on the host running the module.
    type: int
    default: 1048576
  upload_method:
    description:
      - V(monolithic) uploads each blob with a single C(PUT).
      - V(chunked) sends each blob as C(PATCH) requests of O(chunk_size) bytes and closes the
        upload with a C(PUT), as container engines do for large layers.
    type: str
    choices: [monolithic, chunked]
    default: monolithic
  chunk_size:
    description:
      - Bytes per C(PATCH) request when O(upload_method=chunked), from 1024 to 268435456.
    type: int
    default: 1048576
  delete:
    description:
      - Delete the test manifest and its blobs after the round trip.
      - When the registry does not allow deletion, the module still succeeds and returns
        RV(deleted=false) with the reason in RV(delete_reason).
      - The registry only frees the space of deleted blobs at its next garbage collection.
    type: bool
    default: false
notes:
  - The module runs on the target host; use C(delegate_to) to verify from another host, for
    example the controller (C(delegate_to=localhost)) to prove that clients can reach the
    registry over the network.
  - Proxies from the C(https_proxy), C(http_proxy) and C(no_proxy) environment variables apply.
  - Distribution 2.8 refuses every write with HTTP 405 while
    C(storage.maintenance.readonly.enabled) is true; the module then fails with the kind
    C(read_only).
seealso:
  - module: dockyard.registry.registry_info
    description: List repositories and tags, and read the digest of a tag.
  - module: community.docker.docker_image_push
    description: Push images from a Docker engine.
"""

EXAMPLES = r"""
---
- name: Verify push and pull against the registry with the project's CA
  dockyard.registry.registry_verify:
    registry_url: https://registry.example.net:5000
    username: ci-pusher
    password: "{{ vault_registry_ci_password }}"
    ca_path: /etc/dockyard/registry-ca.crt
  register: __registry_verify

- name: Show the measured throughput
  ansible.builtin.debug:
    msg: >-
      upload {{ __registry_verify.timings.upload_mb_per_s }} MB/s,
      download {{ __registry_verify.timings.download_mb_per_s }} MB/s

- name: Push a 64 MiB layer in 8 MiB chunks from the controller, then delete it again
  dockyard.registry.registry_verify:
    registry_url: https://registry.example.net:5000
    username: ci-pusher
    password: "{{ vault_registry_ci_password }}"
    layer_size: 67108864
    upload_method: chunked
    chunk_size: 8388608
    delete: true
  delegate_to: localhost

- name: Check that the registry answers and accepts the credentials, without pushing
  dockyard.registry.registry_verify:
    registry_url: https://registry.example.net:5000
    username: ci-pusher
    password: "{{ vault_registry_ci_password }}"
  check_mode: true
"""

RETURN = r"""
registry:
  description: What answered at RV(registry.url).
  returned: always
  type: dict
  contains:
    url:
      description: The normalized registry URL.
      type: str
      sample: https://registry.example.net:5000
    api_version:
      description: Value of the C(Docker-Distribution-Api-Version) header, if sent.
      type: str
      sample: registry/2.0
    auth:
      description: Authentication the registry asked for, V(none), V(basic) or V(bearer).
      type: str
      sample: basic
repository:
  description: Repository of the test image.
  returned: always
  type: str
  sample: dockyard/verify
tag:
  description: Tag of the test image (the one that would be used, in check mode).
  returned: always
  type: str
  sample: verify-20250101T120000Z-3fa2b9c1
image:
  description: Full reference of the pushed test image, usable with C(docker pull).
  returned: always
  type: str
  sample: registry.example.net:5000/dockyard/verify:verify-20250101T120000Z-3fa2b9c1
repository_exists:
  description: Whether the repository held tags before the module pushed.
  returned: always
  type: bool
  sample: true
upload_method:
  description: How blobs were uploaded.
  returned: always
  type: str
  sample: monolithic
digests:
  description: Digests of what was pushed and pulled back.
  returned: success and not check mode
  type: dict
  contains:
    manifest:
      description: Digest of the OCI image manifest.
      type: str
      sample: sha256:8f1c1b5ab3a6c7e6cf7e4a1c0f1e6b0a1f9b8f0b3c5ad1e2f3a4b5c6d7e8f9a0
    config:
      description: Digest of the image config blob.
      type: str
      sample: sha256:0a1f9b8f0b3c5ad1e2f3a4b5c6d7e8f9a08f1c1b5ab3a6c7e6cf7e4a1c0f1e6b
    layer:
      description: Digest of the layer blob.
      type: str
      sample: sha256:5ad1e2f3a4b5c6d7e8f9a08f1c1b5ab3a6c7e6cf7e4a1c0f1e6b0a1f9b8f0b3c
sizes:
  description: Sizes in bytes of what was pushed.
  returned: success and not check mode
  type: dict
  contains:
    manifest:
      description: Size of the manifest.
      type: int
      sample: 553
    config:
      description: Size of the config blob.
      type: int
      sample: 412
    layer:
      description: Size of the compressed layer blob.
      type: int
      sample: 1049412
timings:
  description: Durations and throughput; MB means 10^6 bytes.
  returned: success and not check mode
  type: dict
  contains:
    upload_seconds:
      description: Time spent uploading the blobs and the manifest.
      type: float
      sample: 0.052
    upload_mb_per_s:
      description: Bytes uploaded per second, in MB/s.
      type: float
      sample: 20.2
    download_seconds:
      description: Time spent pulling the manifest (twice) and the blobs.
      type: float
      sample: 0.021
    download_mb_per_s:
      description: Bytes downloaded per second, in MB/s.
      type: float
      sample: 50.1
    total_seconds:
      description: Time of the whole module run, including image generation.
      type: float
      sample: 0.2
steps:
  description: The steps that ran, in order, with their duration in seconds.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: ping, seconds: 0.004}
    - {name: read tags of dockyard/verify, seconds: 0.003}
    - {name: upload layer blob, seconds: 0.04}
deleted:
  description: Whether the test manifest and blobs were deleted after the round trip.
  returned: always
  type: bool
  sample: false
delete_reason:
  description: Why nothing was deleted; null when RV(deleted=true).
  returned: always
  type: str
  sample: the registry does not allow deletion (storage.delete.enabled is false)
kind:
  description: Class of the failure, for example V(wrong_credentials), V(cert_untrusted),
    V(plain_http_server), V(https_server), V(connection_refused), V(name_not_resolved),
    V(timeout), V(digest_mismatch), V(storage_full) or V(read_only).
  returned: failure
  type: str
  sample: cert_untrusted
step:
  description: Name of the step that failed.
  returned: failure
  type: str
  sample: ping
"""

import gzip
import io
import json
import os
import platform
import secrets
import tarfile
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dockyard.registry.plugins.module_utils.registry_api import (
    DELETE_DISABLED,
    DIGEST_MISMATCH,
    NOT_FOUND,
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    PROTOCOL_ERROR,
    RegistryClient,
    RegistryError,
    client_from_params,
    connection_argument_spec,
    sha256_digest,
    valid_repository,
    valid_tag,
)

MAX_BYTES = 268435456
MIN_CHUNK = 1024
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}


def default_tag() -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"verify-{stamp}-{secrets.token_hex(4)}"


def build_test_image(layer_size: int, tag: str) -> dict[str, t.Any]:
    """A random one-layer OCI image: layer, config and manifest as bytes."""
    payload = os.urandom(layer_size)
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("dockyard-verify/random.bin")
        info.size = len(payload)
        info.mode = 0o644
        info.mtime = int(time.time())
        archive.addfile(info, io.BytesIO(payload))
    tar_bytes = tar_buffer.getvalue()
    layer = gzip.compress(tar_bytes, compresslevel=1, mtime=0)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    config_doc = {
        "created": created,
        "architecture": _ARCHITECTURES.get(platform.machine(), platform.machine() or "amd64"),
        "os": "linux",
        "config": {"Labels": {"io.dockyard.registry.verify": tag}},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar_bytes)]},
        "history": [{"created": created, "created_by": "dockyard.registry.registry_verify"}],
    }
    config = json.dumps(config_doc, sort_keys=True, separators=(",", ":")).encode()
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [
            {"mediaType": OCI_LAYER_GZIP, "digest": sha256_digest(layer), "size": len(layer)}
        ],
        "annotations": {"org.opencontainers.image.created": created},
    }
    manifest = json.dumps(manifest_doc, sort_keys=True, separators=(",", ":")).encode()
    return {"layer": layer, "config": config, "manifest": manifest}


def _rate(size: int, seconds: float) -> float:
    return round(size / 1e6 / seconds, 2) if seconds > 0 else 0.0


class RegistryVerifier:
    """Run the round trip step by step, recording what ran."""

    def __init__(self, client: RegistryClient, params: dict[str, t.Any], check_mode: bool) -> None:
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.repository: str = params["repository"]
        self.tag: str = params["tag"] or default_tag()
        self.steps: list[dict[str, t.Any]] = []
        self.result: dict[str, t.Any] = {
            "changed": False,
            "repository": self.repository,
            "tag": self.tag,
            "image": f"{client.base_url.split('://', 1)[1]}/{self.repository}:{self.tag}",
            "upload_method": params["upload_method"],
            "repository_exists": False,
            "deleted": False,
            "delete_reason": None,
            "steps": self.steps,
        }

    def _step(
        self,
        name: str,
        func: t.Callable[..., t.Any],
        *args: t.Any,
        tolerate: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        """Run FUNC as step NAME and record its duration.

        A RegistryError of kind TOLERATE is returned instead of raised.
        """
        start = time.monotonic()
        try:
            value = func(*args, step=name, **kwargs)
        except RegistryError as err:
            if tolerate is None or err.kind != tolerate:
                raise
            value = err
        self.steps.append({"name": name, "seconds": round(time.monotonic() - start, 4)})
        return value

    def _seconds(self, first: int) -> float:
        return sum(step["seconds"] for step in self.steps[first:])

    def run(self) -> dict[str, t.Any]:
        started = time.monotonic()
        self.result["registry"] = self._step("ping", self.client.ping)
        tags = self._step(
            f"read tags of {self.repository}",
            self.client.tags,
            self.repository,
            tolerate=NOT_FOUND,
        )
        self.result["repository_exists"] = not isinstance(tags, RegistryError) and bool(tags)
        self.result["registry"]["auth"] = self.client.auth_scheme
        if self.check_mode:
            self.result["changed"] = True
            if not self.params["delete"]:
                self.result["delete_reason"] = "delete is false"
            else:
                self.result["delete_reason"] = "check mode"
            return self.result

        image = build_test_image(self.params["layer_size"], self.tag)
        self.push(image)
        self.pull(image)
        if self.params["delete"]:
            self.delete()
        else:
            self.result["delete_reason"] = "delete is false"
        self.result["timings"]["total_seconds"] = round(time.monotonic() - started, 4)
        return self.result

    def push(self, image: dict[str, bytes]) -> None:
        chunk = self.params["chunk_size"] if self.params["upload_method"] == "chunked" else None
        first = len(self.steps)
        repo = self.repository
        upload = self.client.upload_blob
        layer = self._step("upload layer blob", upload, repo, image["layer"], chunk_size=chunk)
        self.result["changed"] = True
        config = self._step("upload config blob", upload, repo, image["config"], chunk_size=chunk)
        manifest = self._step(
            f"push manifest {repo}:{self.tag}",
            self.client.put_manifest,
            repo,
            self.tag,
            image["manifest"],
        )
        seconds = self._seconds(first)
        pushed = sum(len(image[key]) for key in ("layer", "config", "manifest"))
        self.result["digests"] = {"manifest": manifest, "config": config, "layer": layer}
        self.result["sizes"] = {key: len(image[key]) for key in ("manifest", "config", "layer")}
        self.result["timings"] = {
            "upload_seconds": round(seconds, 4),
            "upload_mb_per_s": _rate(pushed, seconds),
        }

    def pull(self, image: dict[str, bytes]) -> None:
        digests = self.result["digests"]
        repo = self.repository
        first = len(self.steps)
        by_tag = self._step(
            f"pull manifest {repo}:{self.tag}", self.client.get_manifest, repo, self.tag
        )
        by_digest = self._step(
            f"pull manifest {repo}@{digests['manifest']}",
            self.client.get_manifest,
            repo,
            digests["manifest"],
        )
        for name, got in (("by tag", by_tag), ("by digest", by_digest)):
            if got.digest != digests["manifest"] or got.body != image["manifest"]:
                raise RegistryError(
                    DIGEST_MISMATCH,
                    self.client.base_url,
                    f"compare manifest pulled {name}",
                    f"pushed {digests['manifest']} but pulled {got.digest} ({got.size} bytes).",
                )
        pulled = by_tag.size + by_digest.size
        for descriptor in [by_digest.parsed()["config"], *by_digest.parsed()["layers"]]:
            name = "config" if descriptor["mediaType"] == OCI_CONFIG else "layer"
            blob = self._step(
                f"pull {name} blob",
                self.client.get_blob,
                repo,
                descriptor["digest"],
                size=descriptor["size"],
            )
            pulled += len(blob)
        seconds = self._seconds(first)
        self.result["timings"]["download_seconds"] = round(seconds, 4)
        self.result["timings"]["download_mb_per_s"] = _rate(pulled, seconds)

    def delete(self) -> None:
        digests = self.result["digests"]
        repo = self.repository
        refused = self._step(
            "delete manifest",
            self.client.delete_manifest,
            repo,
            digests["manifest"],
            tolerate=DELETE_DISABLED,
        )
        if isinstance(refused, RegistryError):
            self.result["delete_reason"] = (
                "the registry does not allow deletion (storage.delete.enabled is false)"
            )
            return
        for key in ("layer", "config"):
            self._step(f"delete {key} blob", self.client.delete_blob, repo, digests[key])
        left = self._step("confirm deletion", self.client.head_manifest, repo, digests["manifest"])
        if left is not None:
            raise RegistryError(
                PROTOCOL_ERROR,
                self.client.base_url,
                "confirm deletion",
                f"manifest {digests['manifest']} is still served after its deletion.",
            )
        self.result["deleted"] = True


def main() -> None:
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository={"type": "str", "default": "dockyard/verify"},
        tag={"type": "str"},
        layer_size={"type": "int", "default": 1048576},
        upload_method={
            "type": "str",
            "choices": ["monolithic", "chunked"],
            "default": "monolithic",
        },
        chunk_size={"type": "int", "default": 1048576},
        delete={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not valid_repository(params["repository"]):
        module.fail_json(
            msg=f"repository {params['repository']!r} is not a valid repository name: use "
            "lower-case path components such as dockyard/verify."
        )
    if params["tag"] is not None and not valid_tag(params["tag"]):
        module.fail_json(
            msg=f"tag {params['tag']!r} is not a valid tag: up to 128 letters, digits, '_', "
            "'.' or '-', not starting with '.' or '-'."
        )
    if not 1 <= params["layer_size"] <= MAX_BYTES:
        module.fail_json(msg=f"layer_size must be between 1 and {MAX_BYTES} bytes.")
    if not MIN_CHUNK <= params["chunk_size"] <= MAX_BYTES:
        module.fail_json(msg=f"chunk_size must be between {MIN_CHUNK} and {MAX_BYTES} bytes.")
    verifier = None
    try:
        client = client_from_params(params)
        verifier = RegistryVerifier(client, params, module.check_mode)
        result = verifier.run()
    except RegistryError as err:
        extra = verifier.result if verifier is not None else {}
        module.fail_json(msg=err.message, **dict(extra, **err.as_dict()))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
