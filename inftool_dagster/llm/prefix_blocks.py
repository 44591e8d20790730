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
from dataclasses import dataclass, field
from typing import Any

from .shared_prefix import MIN_SHARED, common_prefix_length


@dataclass(eq=False)
class Block:
    """Prompts that share a prefix of ``shared`` tokens worth computing once: a node of the
    prompts' prefix tree (``children`` share longer prefixes; ``parent`` a shorter one)."""

    members: list[int]
    shared: int
    parent: Block | None = None
    children: list[Block] = field(default_factory=list)


def prefix_blocks(prompts: Sequence[Sequence[int]]) -> list[Block]:
    """The prompts as a prefix tree: sorted by their tokens, every maximal run of neighbours that
    share ``MIN_SHARED`` or more tokens beyond their parent's prefix is a block (its prefix: the
    shortest any two neighbours in it share), and the runs inside it that share more are its
    children. Returns the top-level blocks in sorted order; a prompt that shares nothing worth
    it with a neighbour is a block of one (``shared`` 0)."""
    order = sorted(range(len(prompts)), key=lambda i: tuple(prompts[i]))
    # lcp[k]: what order[k-1] and order[k] share, leaving each at least one token to prefill
    lcp = [0] + [
        min(common_prefix_length([prompts[a], prompts[b]]), len(prompts[a]) - 1, len(prompts[b]) - 1)
        for a, b in zip(order, order[1:])
    ]
    floor = min(lcp[1:], default=0)

    def runs(lo: int, hi: int, parent: Block | None, base: int) -> list[Block]:
        blocks, k = [], lo
        while k < hi:
            j = k + 1
            while j < hi and lcp[j] >= base + MIN_SHARED:
                j += 1
            if j - k >= 2:
                block = Block(order[k:j], min(lcp[k + 1 : j]), parent)
                block.children = runs(k, j, block, block.shared)
                blocks.append(block)
            elif parent is None:
                blocks.append(Block([order[k]], 0))
            k = j
        return blocks

    return runs(0, len(order), None, floor)


def deepest(blocks: list[Block]) -> dict[int, Block]:
    """Each prompt's deepest block of two or more (absent: a block of one)."""
    found: dict[int, Block] = {}
    stack = list(blocks)
    while stack:
        block = stack.pop()
        if len(block.members) > 1:
            for i in block.members:
                if i not in found or found[i].shared < block.shared:
                    found[i] = block
        stack.extend(block.children)
    return found


class BlockPrefixes:
    """Within one run of the decoder, the KV of each block's prefix: computed from its parent's
    when a member is first prefilled, dropped once the last row of its subtree has been. Blocks
    that share no more than the run's common prefix (or than their parent, by ``MIN_SHARED``),
    or have one member in the run, are skipped: their members start from the nearest kept one."""

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
        self.kept: dict[int, tuple[Block, int | None]] = {}  # id(block) -> (block, kept parent's id)
        self.start: dict[int, int] = {}  # prompt -> id of the kept block it starts after (absent: common)
        self.remaining: dict[int, int] = {}  # id(block) -> rows of its subtree not yet prefilled
        self.kv: dict[int, Any] = {}
        in_run = set(items)
        members_in_run: dict[int, int] = {}  # id(block) -> its members in this run, counted once

        def shared_in_run(block: Block) -> bool:
            if id(block) not in members_in_run:
                members_in_run[id(block)] = sum(m in in_run for m in block.members)
            return members_in_run[id(block)] > 1

        for i in items:
            chain = []  # i's blocks from the deepest up
            block = block_of.get(i)
            while block is not None:
                chain.append(block)
                block = block.parent
            kept_chain: list[Block] = []
            for block in reversed(chain):  # from the top down: keep what adds enough over the last kept
                base = kept_chain[-1].shared if kept_chain else common_length
                if block.shared >= base + MIN_SHARED and shared_in_run(block):
                    kept_chain.append(block)
            for depth, block in enumerate(kept_chain):
                parent = id(kept_chain[depth - 1]) if depth else None
                self.kept.setdefault(id(block), (block, parent))
                self.remaining[id(block)] = self.remaining.get(id(block), 0) + copies[i]
            if kept_chain:
                self.start[i] = id(kept_chain[-1])

    def key(self, i: int) -> int | None:
        return self.start.get(i)

    def planned_tokens(self, items: list[int]) -> int:
        """Tokens the run prefills for ``items`` (one row each): the common prefix once, each kept
        block's part beyond its parent once, and each prompt after where it starts."""
        blocks = sum(
            block.shared - (self.kept[p][0].shared if p else self.common_length) for block, p in self.kept.values()
        )
        rows = sum(
            len(self.prompts[i]) - (self.kept[self.start[i]][0].shared if i in self.start else self.common_length)
            for i in items
        )
        return self.common_length + blocks + rows

    def get(self, key: int | None) -> tuple[Any, int]:
        """``(prefix KV, length)`` to prefill after."""
        if key is None:
            return self.common, self.common_length
        block, parent = self.kept[key]
        if key not in self.kv:
            parent_kv, parent_length = self.get(parent)
            ids = list(self.prompts[block.members[0]][: block.shared])
            self.kv[key] = self.decoder.prefix_kv(ids, parent_kv, parent_length)
        return self.kv[key], block.shared

    def taken(self, i: int) -> None:
        """One row of prompt ``i`` has been prefilled: release what no later row needs."""
        key = self.start.get(i)
        while key is not None:
            self.remaining[key] -= 1
            if self.remaining[key] == 0:
                self.kv.pop(key, None)
            key = self.kept[key][1]
