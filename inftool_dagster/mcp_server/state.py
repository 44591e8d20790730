"""Per-session resource store: what a session created, read and deleted."""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any


class SessionState:
    """Resources by (collection, id); deletions are remembered so a deleted id stays gone."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Any] = {}
        self._deleted: set[tuple[str, str]] = set()

    def put(self, collection: str, ident: str, value: Any) -> None:
        self._items[(collection, ident)] = copy.deepcopy(value)
        self._deleted.discard((collection, ident))

    def get(self, collection: str, ident: str) -> Any | None:
        value = self._items.get((collection, ident))
        return copy.deepcopy(value) if value is not None else None

    def delete(self, collection: str, ident: str) -> bool:
        """True when the id existed (or was never seen: an unseen id is assumed to exist)."""
        key = (collection, ident)
        if key in self._deleted:
            return False
        self._items.pop(key, None)
        self._deleted.add(key)
        return True

    def was_deleted(self, collection: str, ident: str) -> bool:
        return (collection, ident) in self._deleted

    def __len__(self) -> int:
        return len(self._items)


class SessionStore:
    """Bounded map of session key → SessionState (oldest sessions are dropped first)."""

    def __init__(self, max_sessions: int = 10_000) -> None:
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[Any, SessionState] = OrderedDict()

    def get(self, key: Any) -> SessionState:
        state = self._sessions.get(key)
        if state is None:
            state = self._sessions[key] = SessionState()
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return state
