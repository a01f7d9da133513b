"""Who acts: the roles, what each implies, and the actor the checks of ``geo.auth`` see.

A module of its own so that the user store (``geo.auth``) and the sessions (``geo.sessions``) share it;
``geo.auth`` re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import BlocklineError

__all__ = ["CONTRACT_READERS", "ROLES", "Actor", "NotPermitted", "name_of"]

ROLES = ("viewer", "planner", "approver", "data_officer", "admin")
#: what each role may do besides its own name
_IMPLIES = {
    "viewer": {"viewer"},
    "planner": {"planner", "viewer"},
    "approver": {"approver", "planner", "viewer"},
    "data_officer": {"data_officer", "viewer"},
    "admin": {"admin", "viewer"},
}
_ROLE_ZH = {
    "viewer": "查看",
    "planner": "规划编制",
    "approver": "审批",
    "data_officer": "数据管理",
    "admin": "系统管理",
}
#: the roles that may read contract figures (the lifecycle warnings); a viewer reads the public list only
CONTRACT_READERS = ("planner", "approver", "data_officer", "admin")


class NotPermitted(BlocklineError):
    """The acting user may not do this (exit code 4); nothing was written."""

    exit_code = 4


@dataclass(frozen=True)
class Actor:
    """A user as the checks see them: name, roles, the counties they are limited to (empty: all)."""

    name: str
    roles: frozenset[str]
    counties: frozenset[str] = frozenset()
    via: str = "store"  # "store", "oidc" or "setup"

    def can(self, role: str) -> bool:
        """Whether this user holds ``role`` or a role that implies it."""
        return any(role in _IMPLIES[r] for r in self.roles if r in _IMPLIES)

    def covers(self, county: str | None) -> bool:
        """Whether this user may act on ``county`` (None: no county concerned)."""
        return not self.counties or county is None or county in self.counties

    @property
    def reads_contracts(self) -> bool:
        """Whether this user may read contract figures (any role but a bare viewer)."""
        return any(r in CONTRACT_READERS for r in self.roles)


def name_of(user: str | Actor) -> str:
    """The name to record for ``user`` (an ``Actor`` or a name)."""
    return user.name if isinstance(user, Actor) else str(user)
