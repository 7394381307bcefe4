#!/usr/bin/python
# Copyright (c) dockyard.registry maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

# ruff: noqa: E402 (Ansible modules import below DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
---
module: registry_info
short_description: Read repositories, tags and tag digests from a container registry
version_added: 0.1.0
description:
  - Reads from a container registry (CNCF distribution or any registry speaking the OCI
    distribution API) over HTTP from the host the task runs on, with no container engine or
    client library needed there.
  - Without O(repository), lists every repository of the registry (the catalog, page by page).
  - With O(repository), lists the tags of that repository.
  - With O(repository) and O(tag), also returns the digest, media type and size of the manifest
    the tag points to.
  - Never changes anything on the registry.
author:
  - dockyard.registry maintainers (@dockyard)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dockyard.registry.registry_connection
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it does the same in check mode.
  diff_mode:
    support: N/A
    details:
      - The module only reads.
  platform:
    platforms: posix
  idempotent:
    description: Running the task twice in a row reports no change the second time.
    support: full
options:
  repository:
    description:
      - Repository whose tags to list. Without it the module lists the repositories.
    type: str
  tag:
    description:
      - Tag of O(repository) whose manifest to describe in RV(manifest).
    type: str
  page_size:
    description:
      - Entries to ask for per page when listing, from 1 to 1000. The module follows the
        registry's C(Link) headers until the list is complete.
    type: int
    default: 100
notes:
  - Listing repositories needs the C(registry:catalog:*) scope on registries that use a token
    server; set O(repository) to read a single repository with only pull access.
  - Distribution 2.8 returns all tags at once and ignores O(page_size) for tags; later versions
    page them.
seealso:
  - module: dockyard.registry.registry_verify
    description: Prove that the registry accepts pushes and serves pulls.
"""

EXAMPLES = r"""
---
- name: List the repositories of the registry
  dockyard.registry.registry_info:
    registry_url: https://registry.example.net:5000
    username: ci-reader
    password: "{{ vault_registry_ci_password }}"
    ca_path: /etc/dockyard/registry-ca.crt
  register: __registry_catalog

- name: Read the digest of the tag that production runs
  dockyard.registry.registry_info:
    registry_url: https://registry.example.net:5000
    username: ci-reader
    password: "{{ vault_registry_ci_password }}"
    repository: shop/frontend
    tag: stable
  register: __registry_frontend

- name: Assert that the stable tag exists
  ansible.builtin.assert:
    that: __registry_frontend.manifest.exists
    fail_msg: shop/frontend:stable is missing from the registry
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
      sample: bearer
repositories:
  description: Every repository of the registry, in the registry's order.
  returned: when O(repository) is not set
  type: list
  elements: str
  sample: [dockyard/verify, shop/frontend]
repository_exists:
  description: Whether the registry knows O(repository).
  returned: when O(repository) is set
  type: bool
  sample: true
tags:
  description: Tags of O(repository), sorted; empty when the repository does not exist.
  returned: when O(repository) is set
  type: list
  elements: str
  sample: [1.0.0, stable]
manifest:
  description: The manifest O(tag) points to.
  returned: when O(tag) is set
  type: dict
  contains:
    exists:
      description: Whether the tag exists. The other keys are null when it does not.
      type: bool
      sample: true
    digest:
      description: Digest of the manifest, what C(docker pull REPOSITORY@DIGEST) takes.
      type: str
      sample: sha256:8f1c1b5ab3a6c7e6cf7e4a1c0f1e6b0a1f9b8f0b3c5ad1e2f3a4b5c6d7e8f9a0
    media_type:
      description: Media type of the manifest.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
    size:
      description: Size of the manifest itself in bytes.
      type: int
      sample: 553
    image_size:
      description: Sum of the sizes of the config and layer blobs, for an image manifest;
        null for an index or manifest list.
      type: int
      sample: 29153088
    layers:
      description: Number of layers of an image manifest; null for an index.
      type: int
      sample: 1
kind:
  description: Class of the failure, for example V(wrong_credentials) or V(cert_untrusted).
  returned: failure
  type: str
  sample: wrong_credentials
step:
  description: Name of the step that failed.
  returned: failure
  type: str
  sample: list repositories
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dockyard.registry.plugins.module_utils.registry_api import (
    NOT_FOUND,
    RegistryClient,
    RegistryError,
    client_from_params,
    connection_argument_spec,
    valid_repository,
    valid_tag,
)


class RegistryReader:
    """Collect the facts the options ask for."""

    def __init__(self, client: RegistryClient, params: dict[str, t.Any]) -> None:
        self.client = client
        self.repository: str | None = params["repository"]
        self.tag: str | None = params["tag"]
        self.page_size: int = params["page_size"]

    def run(self) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {"changed": False, "registry": self.client.ping()}
        if self.repository is None:
            result["repositories"] = self.client.catalog(page_size=self.page_size)
        else:
            result.update(self.read_tags(self.repository))
            if self.tag is not None:
                result["manifest"] = self.describe(self.repository, self.tag)
        result["registry"]["auth"] = self.client.auth_scheme
        return result

    def read_tags(self, repository: str) -> dict[str, t.Any]:
        try:
            tags = self.client.tags(repository, page_size=self.page_size)
        except RegistryError as err:
            if err.kind != NOT_FOUND:
                raise
            return {"repository_exists": False, "tags": []}
        return {"repository_exists": True, "tags": sorted(tags)}

    def describe(self, repository: str, tag: str) -> dict[str, t.Any]:
        facts: dict[str, t.Any] = {
            "exists": False,
            "digest": None,
            "media_type": None,
            "size": None,
            "image_size": None,
            "layers": None,
        }
        try:
            manifest = self.client.get_manifest(
                repository, tag, step=f"read manifest {repository}:{tag}"
            )
        except RegistryError as err:
            if err.kind != NOT_FOUND:
                raise
            return facts
        facts.update(exists=True, digest=manifest.digest, media_type=manifest.media_type)
        facts["size"] = manifest.size
        try:
            document = manifest.parsed()
        except ValueError:
            document = {}
        if isinstance(document.get("layers"), list) and isinstance(document.get("config"), dict):
            blobs = [document["config"], *document["layers"]]
            facts["image_size"] = sum(int(blob.get("size") or 0) for blob in blobs)
            facts["layers"] = len(document["layers"])
        return facts


def main() -> None:
    argument_spec = connection_argument_spec()
    argument_spec.update(
        repository={"type": "str"},
        tag={"type": "str"},
        page_size={"type": "int", "default": 100},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_by={"tag": "repository"},
        supports_check_mode=True,
    )
    params = module.params
    if params["repository"] is not None and not valid_repository(params["repository"]):
        module.fail_json(
            msg=f"repository {params['repository']!r} is not a valid repository name: use "
            "lower-case path components such as shop/frontend."
        )
    if params["tag"] is not None and not valid_tag(params["tag"]):
        module.fail_json(
            msg=f"tag {params['tag']!r} is not a valid tag: up to 128 letters, digits, '_', "
            "'.' or '-', not starting with '.' or '-'."
        )
    if not 1 <= params["page_size"] <= 1000:
        module.fail_json(msg="page_size must be between 1 and 1000.")
    try:
        result = RegistryReader(client_from_params(params), params).run()
    except RegistryError as err:
        module.fail_json(msg=err.message, **err.as_dict())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
