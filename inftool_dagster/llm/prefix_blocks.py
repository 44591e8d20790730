"""Prefix blocks: prompts that share a prefix longer than the one all prompts share (the same
tool docs asked different questions: BFCL's live categories, the conversations of a synthesis
turn over one tool set) have that prefix computed once and copied, instead of prefilled once
per prompt.

``prefix_blocks`` groups the prompts of a ``ContinuousDecoder.generate`` call; ``BlockPrefixes``
holds, within one run of the decoder, each block's prefix KV from its first member's prefill
until its last row has been prefilled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .shared_prefix import MIN_SHARED, common_prefix_length


@dataclass
class Block:
    """Prompts that share a prefix of ``shared`` tokens worth computing once."""

    members: list[int]
    shared: int


def prefix_blocks(prompts: Sequence[Sequence[int]]) -> list[Block]:
    """Prompts grouped into blocks by shared prefix: sorted by their tokens, neighbours join a
    block when the prefix they share saves more prefill than it costs the block's members
    (a block's prefix is the shortest its members share). Prompts sharing nothing beyond the
    prefix common to all form blocks of one."""
    order = sorted(range(len(prompts)), key=lambda i: tuple(prompts[i]))
    floor = common_prefix_length(prompts) if prompts else 0
    blocks: list[Block] = []
    for i in order:
        if blocks:
            block = blocks[-1]
            lcp = min(common_prefix_length([prompts[block.members[-1]], prompts[i]]), len(prompts[i]) - 1)
            current = block.shared if len(block.members) > 1 else lcp
            gain, loss = lcp - floor, max(0, current - lcp) * len(block.members)
            if lcp >= floor + MIN_SHARED and gain > loss:
                block.members.append(i)
                block.shared = min(current, lcp, len(prompts[block.members[0]]) - 1)
                continue
        blocks.append(Block([i], 0))
    for block in blocks:
        if len(block.members) == 1:
            block.shared = 0
    return blocks


class BlockPrefixes:
    """The KV of each block's prefix within one run: computed when a member is first prefilled,
    dropped once the block's last row has been. A block whose prefix is not longer than the
    run's common prefix (or that has one member in the run) uses the common prefix."""

    def __init__(
        self,
        decoder: Any,
        prompts: Sequence[Sequence[int]],
        items: list[int],
        copies: list[int],
        block_of: dict[int, Block],
        common: Any,
        common_length: int,
    ) -> None:
        self.decoder, self.prompts = decoder, prompts
        self.common, self.common_length = common, common_length
        self.block_id: dict[int, int] = {}  # prompt -> block key (absent: the common prefix)
        self.shared: dict[int, int] = {}  # block key -> prefix length
        self.remaining: dict[int, int] = {}  # block key -> rows not yet prefilled
        self.kv: dict[int, Any] = {}
        in_run = set(items)
        for block in {id(block_of[i]): block_of[i] for i in items}.values():
            members = [m for m in block.members if m in in_run]
            if len(members) < 2 or block.shared < common_length + MIN_SHARED:
                continue
            key = len(self.shared) + 1
            self.shared[key] = block.shared
            self.remaining[key] = sum(copies[m] for m in members)
            self.block_id.update({m: key for m in members})

    def key(self, i: int) -> int | None:
        return self.block_id.get(i)

    def get(self, key: int | None) -> tuple[Any, int]:
        """``(prefix KV, length)`` to prefill after."""
        if key is None:
            return self.common, self.common_length
        if key not in self.kv:
            member = next(i for i, k in self.block_id.items() if k == key)
            self.kv[key] = self.decoder.prefix_kv(
                list(self.prompts[member][: self.shared[key]]), self.common, self.common_length
            )
        return self.kv[key], self.shared[key]

    def taken(self, i: int) -> None:
        """One row of prompt ``i`` has been prefilled."""
        key = self.block_id.get(i)
        if key is not None:
            self.remaining[key] -= 1
            if self.remaining[key] == 0:
                self.kv.pop(key, None)
