#!/usr/bin/env bash
# Set up this checkout as a controller and run the main job.
# Arguments go to ansible-playbook, for example:
#   scripts/deploy.sh -i inventory.yml
# With no inventory, the registry is deployed on this machine.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup-controller.sh"
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$here/ansible.cfg}"
exec "$here/.venv/bin/ansible-playbook" "$here/playbooks/deploy-registry.yml" "$@"
