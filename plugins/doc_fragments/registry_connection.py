# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options shared by the modules that talk to a registry (see connection_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  registry_url:
    description:
      - Base URL of the registry, V(https://HOST[:PORT]), or V(http://HOST[:PORT]) for a
        registry without TLS.
      - Must not contain a path or credentials.
    type: str
    required: true
  username:
    description:
      - User to authenticate as, for Basic authentication or towards the token server.
      - Leave unset for a registry that allows anonymous access.
    type: str
  password:
    description:
      - Password of O(username). Never shown in results or error messages.
    type: str
  ca_path:
    description:
      - PEM file with the CA certificate(s) to trust for the registry's certificate, for example
        the private CA that signed it.
      - Without it the trust store of the host running the module is used.
    type: path
  client_cert:
    description:
      - PEM client certificate, for registries that require TLS client authentication.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), unless that file holds the key already.
    type: path
  validate_certs:
    description:
      - Whether to verify the registry's TLS certificate. Only set V(false) for tests.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each connection and each answer.
    type: float
    default: 30
"""
