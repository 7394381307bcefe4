# Copyright: dockyard.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filter dockyard.registry.user_problems: the htpasswd plugin's user checks, for preflight."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.dockyard.registry.plugins.plugin_utils.htpasswd import (
    HtpasswdValidationError,
    validate_users,
)

# The checks name the htpasswd option `users`; preflight names the role variable.
_OPTION = re.compile(r"(?<![\w.\[])users(?=\[|\s)")


def user_problems(users: Any, variable: str = "registry_users") -> list[str]:
    """Every problem with USERS, named after VARIABLE; empty when they are usable.

    Messages name users, never passwords.
    """
    try:
        validate_users(users)
    except HtpasswdValidationError as err:
        return [_OPTION.sub(variable, problem) for problem in err.problems]
    return []


class FilterModule:
    """dockyard.registry filters."""

    def filters(self) -> dict[str, Any]:
        return {"user_problems": user_problems}
