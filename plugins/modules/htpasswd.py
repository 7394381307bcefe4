# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module: the work is done on the controller by
# the action plugin plugins/action/htpasswd.py.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: htpasswd
short_description: Manage the registry's htpasswd users with bcrypt hashes
version_added: 0.1.0
description:
  - Writes the htpasswd file that the registry (CNCF distribution) reads for its C(htpasswd)
    authentication, from a list of user names and passwords.
  - Every entry is hashed with bcrypt (C($2y$)), the only scheme the registry accepts. Entries
    in other schemes (apr1/MD5, C({SHA}), crypt, plain text) let nobody log in; they are
    rewritten with bcrypt when their user is listed.
  - Passwords are hashed on the controller, so the target needs no extra Python package. The
    current file is read with M(ansible.builtin.slurp) and the new one written with
    M(ansible.builtin.copy), which takes care of ownership, mode and the atomic replace.
  - The module is idempotent. A listed user whose bcrypt hash still matches the given password
    keeps its line exactly as it is; a user whose password changed gets a new line in the same
    place; new users are appended in the order of O(users).
options:
  path:
    description:
      - Path of the htpasswd file on the target.
      - A missing file counts as empty and is created. The parent directory must exist.
      - A symbolic link is followed, both for reading and for writing.
    type: path
    required: true
  users:
    description:
      - The registry users, each with a name and a password.
      - Use V([]) together with O(keep_unlisted=false) to remove every user.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The user name, as given to C(docker login).
          - Must be unique in the list, non-empty, without V(:), whitespace or control
            characters, and must not start with V(#) (the registry reads such lines as
            comments).
        type: str
        required: true
      password:
        description:
          - The plain password. It is never returned, logged in warnings, or shown in the diff;
            keep it in a vault-encrypted variable.
          - At most 72 bytes in UTF-8, the length bcrypt hashes. A longer password is refused,
            not truncated; characters outside ASCII take 2 to 4 bytes each.
          - Handled like a C(no_log) option; it never appears in results, warnings, error
            messages or the diff.
        type: str
        required: true
  keep_unlisted:
    description:
      - What to do with users in the file that O(users) does not list.
      - When V(false), they are removed.
      - When V(true), their lines are kept unchanged; entries among them that are not bcrypt are
        named in a warning, because the registry cannot log them in.
    type: bool
    default: false
  owner:
    description:
      - Name of the user that should own the file, as for M(ansible.builtin.copy).
      - The registry process must be able to read the file.
    type: str
  group:
    description:
      - Name of the group that should own the file, as for M(ansible.builtin.copy).
    type: str
  mode:
    description:
      - Permissions of the file, as for M(ansible.builtin.copy). Quote octal modes in YAML.
    type: raw
    default: "0600"
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - action_common_attributes.files
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - Reads the file, decides what would change and reports it without writing.
  diff_mode:
    support: full
    details:
      - The diff lists user names before and after, then which users were added, updated
        (with the reason) and removed. It never contains hashes or passwords.
  idempotent:
    description: Running the same task again reports no change.
    support: full
  platform:
    platforms: posix
  safe_file_operations:
    support: full
  vault:
    support: none
    details:
      - There is no source file to decrypt. Vault-encrypted variables work for passwords.
notes:
  - The controller needs the Python packages C(passlib) and C(bcrypt). C(passlib) 1.7.4 does not
    work with C(bcrypt) 4.1 or later, so the collection's C(requirements.txt) pins
    C(bcrypt==4.0.1). Each run first hashes and verifies a test password and fails, naming both
    versions, when the installed pair does not work.
  - New hashes use bcrypt cost 10. The registry checks the hash on every authenticated request
    (about 0.1 s of CPU each at cost 10, 0.3 s at cost 12 on a small machine), so the cost
    trades request latency against resistance to guessing should the file leak. An entry that
    already verifies is kept at whatever cost it was made with.
  - Every listed user's password is checked against its current hash on each run, which costs
    the controller the same time per user.
  - The registry reads its htpasswd file only when it starts. Restart it when this module
    reports a change, for example from a handler.
  - Comment and blank lines are kept. Lines that are not C(NAME:HASH) are removed with a warning,
    as the registry refuses to start with them. A listed user with several lines is merged into
    one line.
  - C(changed) can be true with empty RV(added), RV(updated) and RV(removed)
    lists when only the file's owner, group, mode or layout is corrected.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.slurp
  - module: community.general.htpasswd
    description: Manages one user per task and needs C(passlib) on the target.
  - name: Registry htpasswd authentication
    description: How the registry's C(auth.htpasswd) section points at this file.
    link: https://distribution.github.io/distribution/about/configuration/#htpasswd
author:
  - dockyard.registry maintainers (@dockyard)
"""

EXAMPLES = r"""
---
- name: Write the registry users
  dockyard.registry.htpasswd:
    path: /etc/docker/registry/htpasswd
    users:
      - name: ci
        password: "{{ vault_registry_ci_password }}"
      - name: alice
        password: "{{ vault_registry_alice_password }}"
    owner: root
    group: root
    mode: "0600"
  notify: Restart the registry

- name: Add a user and leave users managed elsewhere in place
  dockyard.registry.htpasswd:
    path: /srv/registry/auth/htpasswd
    users:
      - name: deploy
        password: "{{ vault_registry_deploy_password }}"
    keep_unlisted: true

- name: Show which users would change, without writing
  dockyard.registry.htpasswd:
    path: /etc/docker/registry/htpasswd
    users: "{{ registry_users }}"
  check_mode: true
  diff: true
  register: __registry_users_preview

- name: Remove every user
  dockyard.registry.htpasswd:
    path: /etc/docker/registry/htpasswd
    users: []
"""

RETURN = r"""
path:
  description: Path of the htpasswd file on the target.
  returned: success
  type: str
  sample: /etc/docker/registry/htpasswd
users:
  description:
    - Names of the users in the file after the task (or that would be, in check mode), in file
      order. Includes unlisted users kept by O(keep_unlisted=true).
  returned: success
  type: list
  elements: str
  sample: [ci, alice]
added:
  description: Names of the listed users that were not in the file, in the order of O(users).
  returned: success
  type: list
  elements: str
  sample: [alice]
updated:
  description:
    - Names of the users whose line was rewritten because the password changed, the entry was
      not a usable bcrypt hash, or the user had several lines.
  returned: success
  type: list
  elements: str
  sample: [ci]
removed:
  description: Names of the users removed because O(users) does not list them.
  returned: success
  type: list
  elements: str
  sample: [olduser]
"""
