# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module: the checks run on the controller in the
# action plugin plugins/action/certificate_check.py.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: certificate_check
short_description: Check a provided TLS certificate, key and chain before using them
version_added: 0.2.0
description:
  - Reads a server certificate, its private key, an optional chain of intermediate
    certificates and an optional CA certificate from the controller and fails, naming the
    file, the problem and the fix, when the registry could not serve them to clients.
  - Checks that the key belongs to the certificate, that the certificate is valid now and
    does not expire within O(renew_days), that its subjectAltNames cover every entry of
    O(names) (the common name does not count), and that the chain is in order, each
    certificate followed by the one that signed it, and complete up to O(ca_file).
  - Changes nothing, on the controller or the host.
options:
  cert_file:
    description:
      - Controller path of the server certificate (PEM). Certificates after the first one in
        this file are taken as the start of the chain.
    type: path
    required: true
  key_file:
    description: Controller path of the unencrypted private key (PEM) of O(cert_file).
    type: path
    required: true
  chain_file:
    description: Controller path of the intermediate certificates (PEM), the leaf's issuer first.
    type: path
    default: ""
  ca_file:
    description:
      - Controller path of the CA certificate(s) clients trust. When given, the last certificate
        of the chain must be signed by one of them; without it, completeness is not checked.
    type: path
    default: ""
  names:
    description: DNS names and IP addresses the certificate must cover.
    type: list
    elements: str
    required: true
  renew_days:
    description: Fail when the certificate expires within this many days.
    type: int
    default: 30
  variable_prefix:
    description:
      - Put in front of C(cert_file), C(key_file), C(chain_file) and C(ca_file) in messages,
        so that they name the variables a user sets, for example V(registry_tls_).
    type: str
    default: ""
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: The module only reads files, so it runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    description: Running the task twice in a row reports no change the second time.
    support: full
  platform:
    platforms: posix
notes:
  - Runs on the controller whatever the target host; the controller needs the Python
    C(cryptography) library.
seealso:
  - module: community.crypto.x509_certificate_info
  - module: community.crypto.certificate_complete_chain
author:
  - dockyard.registry maintainers (@dockyard)
"""

EXAMPLES = r"""
---
- name: Assert that the provided certificate can serve the registry
  dockyard.registry.certificate_check:
    cert_file: files/registry.crt
    key_file: files/registry.key
    chain_file: files/intermediate.crt
    ca_file: files/root-ca.crt
    names: [registry.example.net, 10.0.0.5]
    renew_days: 30
    variable_prefix: registry_tls_
"""

RETURN = r"""
problems:
  description: Every problem found, one sentence each; empty when the files can be used.
  returned: always
  type: list
  elements: str
subject_alt_names:
  description: The certificate's subjectAltNames as C(DNS:name) and C(IP:address).
  returned: when the files could be read
  type: list
  elements: str
  sample: ["DNS:registry.example.net", "IP:10.0.0.5"]
not_after:
  description: End of the certificate's validity, UTC.
  returned: when the files could be read
  type: str
  sample: "2027-01-31T12:00:00Z"
"""
