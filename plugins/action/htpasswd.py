# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action behind dockyard.registry.htpasswd: bcrypt users file for the registry.

Hashing happens here on the controller (passlib), so the target needs nothing
beyond what ansible.builtin.slurp and ansible.builtin.copy need. The logic
lives in plugin_utils/htpasswd.py; this class reads, plans and writes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.dockyard.registry.plugins.plugin_utils.htpasswd import (
    HtpasswdError,
    load_bcrypt,
    plan_htpasswd,
    validate_users,
)

# users is validated by validate_users(), whose errors name users[N].name.
_OPTIONS_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "str", "required": True},
    "keep_unlisted": {"type": "bool", "default": False},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "mode": {"type": "raw", "default": "0600"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("users", *_OPTIONS_SPEC))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        try:
            params = self._options()
            users = validate_users(self._task.args["users"])
            hasher = load_bcrypt()
            path = params["path"]
            existing = self._read(path, task_vars)
            plan = plan_htpasswd(existing, users, params["keep_unlisted"], hasher)
            written = self._write(plan.content, params, task_vars)
        except HtpasswdError as exc:
            result.update(failed=True, changed=False, msg=str(exc))
            return result

        result.update(
            changed=plan.changed or written,
            path=path,
            users=plan.users,
            added=plan.added,
            updated=plan.updated,
            removed=plan.removed,
        )
        warnings = plan.warnings(path)
        if warnings:
            result["warnings"] = warnings
        if self._task.diff:
            result["diff"] = plan.diff(path)
        return result

    def _options(self) -> dict[str, Any]:
        """Validate every option but users, which validate_users() checks.

        users stays out of ArgumentSpecValidator so that no message from it
        can quote a password.
        """
        validation = ArgumentSpecValidator(_OPTIONS_SPEC).validate(
            {key: value for key, value in self._task.args.items() if key != "users"}
        )
        if validation.error_messages:
            raise HtpasswdError("; ".join(validation.error_messages))
        if not validation.validated_parameters["path"]:
            raise HtpasswdError("path is empty: give the path of the htpasswd file on the target.")
        if self._task.args.get("users") is None:
            raise HtpasswdError(
                "users is required: give the list of registry users ([] to remove all)."
            )
        return validation.validated_parameters

    def _read(self, path: str, task_vars: dict[str, Any]) -> str:
        """The file's text on the target; a missing file reads as empty."""
        slurped = self._execute_module(
            module_name="ansible.legacy.slurp",
            module_args={"src": path},
            task_vars=task_vars,
        )
        if slurped.get("failed"):
            message = to_text(slurped.get("msg", ""))
            if "not found" in message.lower():
                return ""
            raise HtpasswdError(f"could not read {path} on the target: {message}")
        try:
            data = base64.b64decode(slurped["content"])
        except (KeyError, TypeError, binascii.Error) as exc:
            raise HtpasswdError(
                f"could not read {path} on the target: slurp returned no usable content"
            ) from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HtpasswdError(
                f"{path} is not UTF-8 text, so it cannot be an htpasswd file this action "
                "updates: move it aside or point path at the registry's htpasswd file."
            ) from exc

    def _write(self, content: str, params: dict[str, Any], task_vars: dict[str, Any]) -> bool:
        """Write CONTENT with ansible.legacy.copy (check mode, mode, owner, atomic move).

        Return copy's changed flag; nothing else of its result comes back, as
        its diff and invocation would show the hashes.
        """
        copy_args = {"content": content, "dest": params["path"], "follow": True}
        for key in ("owner", "group", "mode"):
            if params.get(key) is not None:
                copy_args[key] = params[key]
        copy_task = self._task.copy()
        copy_task.args = copy_args
        copy_task.diff = False  # its diff would contain the hashes
        copy_task.no_log = True
        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy",
            task=copy_task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        copied = copy_action.run(task_vars=task_vars)
        if copied.get("failed"):
            raise HtpasswdError(f"could not write {params['path']}: {copied.get('msg', '')}")
        return bool(copied.get("changed"))
