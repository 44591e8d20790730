"""Stop a sequence as soon as a predicate on its generated text says so (HF ``StoppingCriteria``).

Used to end outputs that can no longer become what the caller scores (for BFCL: text that
can never decode to a call list, ``bfcl.decode.cannot_decode_to_calls``). A row's text is
decoded only while undecided; the first True is final for that row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformers import StoppingCriteria


class TextPredicateStop(StoppingCriteria):
    def __init__(self, tokenizer: Any, predicate: Callable[[str], bool], max_checked_tokens: int = 24) -> None:
        self.tokenizer = tokenizer
        self.predicate = predicate
        self.max_checked_tokens = max_checked_tokens  # predicates about an output's start decide early
        self.start: int | None = None
        self.done: Any = None

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if self.start is None:  # first call: exactly one new token has been appended
            self.start = input_ids.shape[1] - 1
            self.done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        generated = input_ids.shape[1] - self.start
        if generated <= self.max_checked_tokens:
            for row in range(input_ids.shape[0]):
                if not self.done[row]:
                    text = self.tokenizer.decode(input_ids[row, self.start :], skip_special_tokens=True)
                    self.done[row] = bool(self.predicate(text))
        return self.done.clone()

    def stopped(self, row: int) -> bool:
        """Whether ``row`` was ended by the predicate (False before any token was generated)."""
        return self.done is not None and bool(self.done[row])
