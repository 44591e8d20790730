"""BFCL multi-turn: drive a model through stateful conversations, score with BFCL's state checker.

Inference follows BFCL's prompting handler (``base_handler.inference_multi_turn_prompting``):
the v4 system prompt with the involved classes' function docs; per turn the user's message
(or, in ``miss_func``, the held-out function docs with BFCL's "I have updated some more
functions…" prompt); then steps — generate, decode, execute on BFCL's own executable backends
(file system, trading bot, travel booking, …), feed the results back — until the model answers
without a call, at most ``max_steps`` (BFCL: 20) steps per turn, past which the entry is
force-terminated. Conversations advance together, one batched generation per step.

Scoring is BFCL's ``multi_turn_checker`` (state of every backend instance after every turn,
and the ground truth's execution results among the model's), loaded unchanged from the wheel,
called as BFCL's eval runner calls it.
The executable backends ``eval`` call strings; ours are rebuilt from decoded literals
(``to_execution_calls``), never taken from the model's raw text, and only the backends' own
method names are callable.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.types import SamplingParams

from .data import data_dir, load_category
from .decode import DecodeError, decode_ast, is_empty_output, to_execution_calls
from .official import bfcl_module
from .prompting import prompt_messages

MAXIMUM_STEP_LIMIT = 20
ADDITIONAL_FUNCTION_PROMPT = "{functions}\nI have updated some more functions you can choose from. What about now?"


def multi_turn_entries(category: str) -> list[dict]:
    """BFCL's ``populate_test_cases_with_predefined_functions``: function docs of the involved
    classes; ``miss_func`` docs moved from the list into ``missed_function`` per turn."""
    mapping = bfcl_module("constants.executable_backend_config").MULTI_TURN_FUNC_DOC_FILE_MAPPING
    docs_dir = data_dir() / "multi_turn_func_doc"
    entries = []
    for raw in load_category(category):
        entry = copy.deepcopy(raw)
        entry["function"] = []
        for cls in entry["involved_classes"]:
            lines = (docs_dir / mapping[cls]).read_text().splitlines()
            entry["function"].extend(json.loads(line) for line in lines if line.strip())
        for turn, names in entry.get("missed_function", {}).items():
            held = [f for f in entry["function"] if f["name"] in names]
            entry["function"] = [f for f in entry["function"] if f["name"] not in names]
            entry["missed_function"][turn] = held
        entries.append(entry)
    return entries


@cache
def backend_methods(classes: tuple[str, ...]) -> frozenset[str]:
    """Public method names of BFCL's executable backend classes: the only callable names."""
    paths = bfcl_module("constants.executable_backend_config").CLASS_FILE_PATH_MAPPING
    names = set()
    for cls in classes:
        klass = getattr(bfcl_module(paths[cls].removeprefix("bfcl_eval.")), cls)
        names.update(n for n in dir(klass) if not n.startswith("_") and callable(getattr(klass, n)))
    return frozenset(names)


def _execution_calls(text: str, entry: dict) -> list[str]:
    """The calls a step's raw text makes, as BFCL's execution strings ([] for none or undecodable)."""
    try:
        decoded = decode_ast(text)
    except DecodeError:
        return []
    if is_empty_output(decoded):
        return []
    return to_execution_calls(decoded, backend_methods(tuple(entry["involved_classes"])))


@dataclass
class _Conversation:
    entry: dict
    messages: list[dict]
    turn: int = -1
    steps: int = 0
    results: list[list[str]] = field(default_factory=list)
    done: bool = False


class _Executor:
    """BFCL's ``execute_multi_turn_func_call`` under a run-unique model name, so two runs in one
    process never share backend instances (BFCL keeps them in module globals), cleaned up after."""

    def __init__(self) -> None:
        self.utils = bfcl_module("eval_checker.multi_turn_eval.multi_turn_utils")
        self.name = f"inftool_{uuid.uuid4().hex[:12]}"

    def __call__(self, calls: list[str], entry: dict) -> list[str]:
        category = entry["id"].rsplit("_", 1)[0]
        results, _ = self.utils.execute_multi_turn_func_call(
            calls,
            entry["initial_config"],
            entry["involved_classes"],
            self.name,
            entry["id"],
            long_context="long_context" in category,
            is_evaL_run=False,
        )
        return results

    def close(self) -> None:
        _forget_instances(self.name)


def _forget_instances(model_name: str) -> None:
    """Drop the backend instances BFCL keeps in ``multi_turn_utils`` globals under ``model_name``."""
    utils = bfcl_module("eval_checker.multi_turn_eval.multi_turn_utils")
    for key in [k for k in vars(utils) if k.startswith(model_name)]:
        delattr(utils, key)


def _next_turn(conv: _Conversation) -> None:
    conv.turn += 1
    questions = conv.entry["question"]
    if conv.turn >= len(questions):
        conv.done = True
        return
    held = conv.entry.get("missed_function", {}).get(str(conv.turn))
    message = (
        [{"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT.format(functions=held)}]
        if held
        else [dict(m) for m in questions[conv.turn]]
    )
    conv.messages.extend(message)
    conv.results.append([])
    conv.steps = 0


def run_multi_turn(
    backend: LLMBackend,
    entries: list[dict],
    *,
    max_new_tokens: int = 128,
    max_steps: int = MAXIMUM_STEP_LIMIT,
    prompt_format: str = "bfcl",
    stop_after_calls: bool = False,
    failures: dict | None = None,
) -> list[dict]:
    """Result rows in BFCL's layout: ``{"id", "result": [[raw text per step] per turn]}``; failed
    generations are counted into ``failures`` (``count_failures``' keys)."""
    from inftool_dagster.llm.types import count_failures

    params = SamplingParams(max_new_tokens=max_new_tokens, stop_after_calls=stop_after_calls)
    conversations = []
    for entry in entries:
        first = {**entry, "question": [[]]}
        conv = _Conversation(entry, prompt_messages(first, prompt_format, "multi_turn"))
        _next_turn(conv)
        conversations.append(conv)
    execute = _Executor()
    try:
        while active := [c for c in conversations if not c.done]:
            generations = backend.generate([c.messages for c in active], params)
            if failures is not None:
                for key, value in count_failures(generations).items():
                    failures[key] = failures.get(key, 0) + value
            for conv, generation in zip(active, generations):
                text = generation[0].text if generation[0].ok else ""
                conv.results[-1].append(text)
                conv.messages.append({"role": "assistant", "content": text})
                calls = _execution_calls(text, conv.entry)
                if not calls:
                    _next_turn(conv)
                    continue
                for call, result in zip(calls, execute(calls, conv.entry)):
                    conv.messages.append({"role": "tool", "name": call.split("(")[0], "content": result})
                conv.steps += 1
                if conv.steps > max_steps:  # force-terminated: fewer result turns than questions
                    conv.done = True
    finally:
        execute.close()
    return [{"id": c.entry["id"], "result": c.results} for c in conversations]


def score_multi_turn(entry: dict, result: Any, category: str) -> dict:
    """BFCL's ``_evaluate_single_multi_turn_entry`` verdict for one entry's result."""
    checker = bfcl_module("eval_checker.multi_turn_eval.multi_turn_checker")
    ground_truth = entry["possible_answer"]
    base = {"id": entry["id"], "test_category": category, "model_result_raw": result}
    if type(result) is not list:
        return {**base, "valid": False, "error_type": "multi_turn:inference_error"}
    if len(result) != len(ground_truth):
        return {
            **base,
            "valid": False,
            "error_type": "multi_turn:force_terminated",
            "error": [f"{len(result)} result turns for {len(ground_truth)} ground-truth turns"],
        }
    decoded_turns = [[calls for text in turn if (calls := _execution_calls(text, entry))] for turn in result]
    prompt_entry = {k: v for k, v in entry.items() if k != "function"}
    model_name = f"inftool_score_{uuid.uuid4().hex[:12]}"
    try:
        verdict = checker.multi_turn_checker(decoded_turns, ground_truth, prompt_entry, category, model_name)
    finally:
        _forget_instances(model_name)
    return {
        **base,
        "valid": verdict["valid"],
        "error_type": verdict.get("error_type", ""),
        "error": [verdict["error_message"]] if verdict.get("error_message") else [],
        "decoded": decoded_turns,
    }
