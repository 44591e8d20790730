"""BFCL's dev/test split: each entry lands once, by a stable hash of its id, in ``dev`` (about a
quarter) or ``test`` (the rest).

Only ``dev`` may inform what the loop decides (capability gaps, the stop rule, tuning, checkpoint
choice); reports use ``test``; ``all`` is the whole category as BFCL defines it (leaderboard-
comparable). Within a split, ``sample`` takes entries in hash order, so a limited run is a
uniform random sample of the split rather than its first entries (the first 20 of a category
overstated it twofold).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal

Split = Literal["dev", "test", "all"]
SPLITS: tuple[str, ...] = ("dev", "test", "all")
DEV_FRACTION = 0.25
_SALT = "inftool-bfcl-split-v1"


def _unit(entry_id: str, salt: str = _SALT) -> float:
    digest = hashlib.sha256(f"{salt}:{entry_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(entry_id: str) -> str:
    """``"dev"`` or ``"test"`` for one BFCL entry id (stable across runs, machines and versions)."""
    return "dev" if _unit(entry_id) < DEV_FRACTION else "test"


def select(entries: Iterable[dict], split: str, sample: int | None = None) -> list[dict]:
    """The entries of ``split`` (``all``: every entry), and with ``sample`` the first ``sample`` of
    them in hash order (a uniform sample; ``None`` or 0: the whole split, in the category's order)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; known: {', '.join(SPLITS)}")
    chosen = [e for e in entries if split == "all" or split_of(e["id"]) == split]
    if sample:
        chosen = sorted(chosen, key=lambda e: _unit(e["id"], _SALT + ":order"))[:sample]
    return chosen
