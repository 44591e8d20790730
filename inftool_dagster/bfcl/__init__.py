"""BFCL evaluation: data from the pinned bfcl-eval wheel, BFCL's decoding and AST rules, leaderboard aggregation."""

from .checker import Verdict, check_ast, check_call
from .data import ALL_CATEGORIES, BFCL_VERSION, NON_LIVE, BFCLDataError, load_category
from .evaluate import aggregate, entry_outcomes, evaluate, score_entry, score_results
from .prompting import prompt_messages

__all__ = [
    "Verdict",
    "check_ast",
    "check_call",
    "ALL_CATEGORIES",
    "BFCL_VERSION",
    "NON_LIVE",
    "BFCLDataError",
    "load_category",
    "aggregate",
    "entry_outcomes",
    "evaluate",
    "prompt_messages",
    "score_entry",
    "score_results",
]
