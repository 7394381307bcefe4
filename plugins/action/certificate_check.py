# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action behind dockyard.registry.certificate_check: a provided certificate, checked.

Runs entirely on the controller, where the provided files live; it changes nothing.
The checks are in plugin_utils/certificate_check.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.dockyard.registry.plugins.plugin_utils.certificate_check import (
    CertificateCheckError,
    Inputs,
    check,
)

_OPTIONS_SPEC: dict[str, dict[str, Any]] = {
    "cert_file": {"type": "path", "required": True},
    "key_file": {"type": "path", "required": True},
    "chain_file": {"type": "path", "default": ""},
    "ca_file": {"type": "path", "default": ""},
    "names": {"type": "list", "elements": "str", "required": True},
    "renew_days": {"type": "int", "default": 30},
    "variable_prefix": {"type": "str", "default": ""},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(_OPTIONS_SPEC)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None):
        result = super().run(tmp, task_vars)
        del tmp
        validation = ArgumentSpecValidator(_OPTIONS_SPEC).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg="; ".join(validation.error_messages))
            return result
        params = validation.validated_parameters
        prefix = params["variable_prefix"]
        labels = {}
        contents = {}
        for which in ("cert", "key", "chain", "ca"):
            path = params[f"{which}_file"] or ""
            labels[which] = f"{prefix}{which}_file {path}" if path else f"{prefix}{which}_file"
            if not path:
                contents[which] = b""
                continue
            try:
                contents[which] = Path(path).read_bytes()
            except OSError as exc:
                result.update(
                    failed=True,
                    msg=f"{labels[which]} cannot be read on the controller: {exc.strerror}. "
                    "Fix the path.",
                )
                return result
        try:
            found = check(
                Inputs(labels=labels, **contents),
                params["names"],
                params["renew_days"],
            )
        except CertificateCheckError as exc:
            result.update(failed=True, msg=str(exc), problems=[str(exc)])
            return result
        result.update(
            changed=False,
            problems=found.problems,
            subject_alt_names=found.subject_alt_names,
            not_after=found.not_after,
        )
        if found.problems:
            result.update(failed=True, msg=" ".join(found.problems))
        return result
