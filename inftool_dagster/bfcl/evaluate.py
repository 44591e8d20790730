"""Generate on BFCL entries, score them, aggregate like the leaderboard, write BFCL's file layout.

Prompting follows BFCL's prompting handler for models without native function calling: the
v4 default system prompt with the function docs as indented JSON (Python hint appended to
each description), then the question's first turn. ``prompt_format="compact"`` uses the
project's own shorter prompt (what inftool-trained models see in training) instead.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.prompts import prompt_mode_messages
from inftool_dagster.llm.types import SamplingParams

from .checker import Verdict, check_ast
from .data import ALL_CATEGORIES, MULTI_TURN, PYTHON_AST, SUPPORTED, BFCLDataError, language_of, load_category
from .decode import DecodeError, cannot_decode_to_calls, decode_ast, is_empty_output, is_function_calling_format
from .multi_turn import multi_turn_entries, run_multi_turn, score_multi_turn

BFCL_V4_SYSTEM_PROMPT = (
    "You are an expert in composing functions. You are given a question and a set of possible functions. Based on "
    "the question, you will need to make one or more function/tool calls to achieve the purpose.\n"
    "If none of the functions can be used, point it out. If the given question lacks the parameters required by the "
    "function, also point it out.\nYou should only return the function calls in your response.\n\n"
    "If you decide to invoke any of the function(s), you MUST put it in the format of [func_name1(params_name1="
    "params_value1, params_name2=params_value2...), func_name2(params)]\nYou SHOULD NOT include any other text in "
    "the response.\n\nAt each turn, you should try your best to complete the tasks requested by the user within the "
    "current turn. Continue to output functions to call until you have fulfilled the user's request to the best of "
    "your ability. Once you have no more functions to call, the system will consider the current turn complete and "
    "proceed to the next turn or task.\n\nHere is a list of functions in JSON format that you can invoke.\n"
    "{functions}\n"
)
LANGUAGE_HINT = {"python": " Note that the provided function is in Python 3 syntax.",
                 "java": " Note that the provided function is in Java 8 SDK syntax.",
                 "javascript": " Note that the provided function is in JavaScript syntax."}
LANGUAGE_NAME = {"java": "Java", "javascript": "JavaScript"}


def prompt_functions(functions: list[dict], language: str = "python") -> list[dict]:
    """BFCL's ``_func_doc_language_specific_pre_processing``: a syntax hint on every description;
    for Java/JS every parameter becomes a string whose description names the source type."""
    functions = copy.deepcopy(functions)
    for function in functions:
        function["description"] = function.get("description", "") + LANGUAGE_HINT[language]
        if language == "python":
            continue
        name = LANGUAGE_NAME[language]
        for value in function["parameters"]["properties"].values():
            if value["type"] == "any":
                value["description"] += f" This parameter can be of any type of {name} object in string representation."
            else:
                value["description"] += f" This is {name} {value['type']} type parameter in string representation."
            if value["type"] in (("ArrayList", "Array") if language == "java" else ("array",)):
                value["description"] += (f" The list elements are of type {value['items']['type']}; they are not in "
                                         "string representation.")
                del value["items"]
            if language == "javascript" and value["type"] == "dict" and "properties" in value:
                value["description"] += (" The dictionary entries have the following schema; they are not in string "
                                         f"representation. {json.dumps(value['properties'])}")
                del value["properties"]
            value["type"] = "string"
    return functions


def system_prompt(functions: list[dict]) -> str:
    return BFCL_V4_SYSTEM_PROMPT.format(functions=json.dumps(functions, indent=4))


def prompt_messages(entry: dict, prompt_format: str = "bfcl", category: str | None = None) -> list[dict]:
    functions = prompt_functions(entry["function"], language_of(category or entry["id"].rsplit("_", 1)[0]))
    turn = [dict(m) for m in entry["question"][0]]
    if prompt_format == "compact":
        return prompt_mode_messages(turn, [{"type": "function", "function": f} for f in functions])
    system = system_prompt(functions)
    if turn and turn[0]["role"] == "system":
        turn[0]["content"] = system + "\n\n" + turn[0]["content"]
        return turn
    return [{"role": "system", "content": system}] + turn


def score_entry(entry: dict, output: str, category: str) -> dict:
    """BFCL's verdict for one raw output: ``{"id", "valid", "error_type", "error", "decoded"}``."""
    base = {"id": entry["id"], "test_category": category, "model_result_raw": output}
    if category.endswith("irrelevance") or category.endswith("relevance"):
        try:
            decoded = decode_ast(output)
            has_call = not is_empty_output(decoded)
        except DecodeError:
            decoded, has_call = None, False
        valid = not has_call if "irrelevance" in category else has_call
        error_type = "" if valid else ("irrelevance_error:decoder_success" if "irrelevance" in category
                                       else "relevance_error:decoder_failed")
        return {**base, "valid": valid, "error_type": error_type, "decoded": _plain(decoded)}
    language = language_of(category)
    try:
        decoded = decode_ast(output, language)
    except DecodeError as exc:
        return {**base, "valid": False, "error_type": "ast_decoder:decoder_failed", "error": [str(exc)], "decoded": None}
    if not is_function_calling_format(decoded):
        return {**base, "valid": False, "error_type": "ast_decoder:decoder_wrong_output_format", "decoded": str(decoded)}
    verdict: Verdict = check_ast(entry["function"], decoded, entry["possible_answer"], category, language)
    return {**base, "valid": verdict.valid, "error_type": verdict.error_type, "error": verdict.errors,
            "decoded": _plain(decoded)}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _unweighted(scores: list[dict | None]) -> float | None:
    present = [s for s in scores if s is not None]
    return sum(s["accuracy"] for s in present) / len(scores) if present and len(present) == len(scores) else None


def _weighted(scores: list[dict | None]) -> float | None:
    present = [s for s in scores if s is not None]
    total = sum(s["total_count"] for s in present)
    return sum(s["accuracy"] * s["total_count"] for s in present) / total if present and total else None


def aggregate(per_category: dict[str, dict]) -> dict:
    """BFCL's leaderboard aggregation (``eval_runner_helper``): unweighted non-live, weighted live."""
    get = per_category.get
    simple = _unweighted([get("simple_python"), get("simple_java"), get("simple_javascript")])
    simple_python_only = get("simple_python")["accuracy"] if get("simple_python") else None
    non_live = [{"accuracy": simple, "total_count": 0} if simple is not None else None,
                get("multiple"), get("parallel"), get("parallel_multiple")]
    python_non_live = [get(c) for c in PYTHON_AST]
    return {
        "non_live_ast_summary": _unweighted(non_live),  # BFCL's figure: needs the Java and JS categories too
        "non_live_python_ast_summary": _unweighted(python_non_live),  # the same over simple_python only
        "non_live_simple": simple if simple is not None else simple_python_only,
        "live_ast_summary": _weighted([get(c) for c in ("live_simple", "live_multiple", "live_parallel",
                                                        "live_parallel_multiple")]),
        "irrelevance": get("irrelevance")["accuracy"] if get("irrelevance") else None,
        "live_irrelevance": get("live_irrelevance")["accuracy"] if get("live_irrelevance") else None,
        "live_relevance": get("live_relevance")["accuracy"] if get("live_relevance") else None,
        "multi_turn_summary": _unweighted([get(c) for c in MULTI_TURN]),
    }


def score_header(verdicts: list[dict]) -> dict:
    """The first line of a BFCL score file: accuracy, correct and total counts."""
    correct = sum(v["valid"] for v in verdicts)
    return {"accuracy": correct / len(verdicts) if verdicts else 0.0, "correct_count": correct,
            "total_count": len(verdicts)}


def write_category(out: Path, model_dir: str, category: str, outputs: list[dict], verdicts: list[dict]) -> dict:
    """BFCL's layout: ``result/<model>/BFCL_v4_<cat>_result.json`` and ``score/<model>/..._score.json``."""
    result_dir, score_dir = out / "result" / model_dir, out / "score" / model_dir
    result_dir.mkdir(parents=True, exist_ok=True)
    score_dir.mkdir(parents=True, exist_ok=True)
    with (result_dir / f"BFCL_v4_{category}_result.json").open("w") as handle:
        for row in outputs:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    header = score_header(verdicts)
    with (score_dir / f"BFCL_v4_{category}_score.json").open("w") as handle:
        handle.write(json.dumps(header) + "\n")
        for verdict in verdicts:
            if not verdict["valid"]:
                handle.write(json.dumps(verdict, ensure_ascii=False) + "\n")
    return header


def evaluate(backend: LLMBackend, categories: list[str], out_dir: str | Path, *, model_name: str,
             limit: int | None = None, max_new_tokens: int = 128, prompt_format: str = "bfcl",
             stop_after_calls: bool = False, stop_hopeless: bool = True, progress: bool = False) -> dict:
    """Generate and score ``categories``; ``stop_after_calls`` ends generation at the first ``]\n``
    (faster, but text after a call list, which BFCL counts as a decode failure, is then unseen).
    ``stop_hopeless`` ends a Python-category output as soon as it can no longer decode to calls
    (``cannot_decode_to_calls``): the verdict is the same, the raw output is cut short."""
    unknown = [c for c in categories if c not in ALL_CATEGORIES]
    if unknown:
        raise BFCLDataError(f"unknown BFCL category: {', '.join(unknown)}; known: {', '.join(ALL_CATEGORIES)}")
    unsupported = [c for c in categories if c not in SUPPORTED]
    if unsupported:
        raise BFCLDataError(f"not supported yet: {', '.join(unsupported)} (supported: {', '.join(SUPPORTED)})")
    out = Path(out_dir)
    model_dir = model_name.replace("/", "_")
    start = time.perf_counter()
    per_category: dict[str, dict] = {}
    entries_total = 0
    params = SamplingParams(max_new_tokens=max_new_tokens, stop=["]\n"] if stop_after_calls else [])
    for category in categories:
        entries = _entries(category)
        entries = entries[:limit] if limit else entries
        t0 = time.perf_counter()
        if category in MULTI_TURN:
            outputs = run_multi_turn(backend, entries, max_new_tokens=max_new_tokens, prompt_format=prompt_format,
                                     stop_after_calls=stop_after_calls)
            verdicts = [score_multi_turn(e, o["result"], category) for e, o in zip(entries, outputs)]
        else:
            hopeless = stop_hopeless and language_of(category) == "python"
            generations = backend.generate(
                [prompt_messages(e, prompt_format, category) for e in entries],
                params.model_copy(update={"stop_when": cannot_decode_to_calls if hopeless else None}))
            texts = [g[0].text if g[0].ok else "" for g in generations]
            outputs = [{"id": e["id"], "result": t} for e, t in zip(entries, texts)]
            verdicts = [score_entry(e, t, category) for e, t in zip(entries, texts)]
        header = write_category(out, model_dir, category, outputs, verdicts)
        header["seconds"] = round(time.perf_counter() - t0, 2)
        per_category[category] = header
        entries_total += len(entries)
        if progress:
            print(f"[bfcl] {category}: {header['correct_count']}/{header['total_count']} "
                  f"in {header['seconds']} s", flush=True, file=sys.stderr)
    seconds = time.perf_counter() - start
    summary = {
        "model": model_name, "prompt_format": prompt_format,
        "accuracy": {c: round(v["accuracy"], 4) for c, v in per_category.items()},
        "summary": {k: (round(v, 4) if v is not None else None) for k, v in aggregate(per_category).items()},
        "entries": entries_total, "seconds": round(seconds, 2),
        "entries_per_s": round(entries_total / seconds, 3) if seconds else None,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _entries(category: str) -> list[dict]:
    return multi_turn_entries(category) if category in MULTI_TURN else list(load_category(category))


def score_results(results_dir: str | Path, out_dir: str | Path | None = None) -> dict:
    """Score ``BFCL_v4_<cat>_result.json`` files produced elsewhere (``inftool bfcl score``)."""
    results = Path(results_dir)
    files = sorted(results.glob("BFCL_v4_*_result.json"))
    if not files:
        raise BFCLDataError(f"no BFCL_v4_*_result.json files in {results}")
    per_category = {}
    for file in files:
        category = file.name[len("BFCL_v4_"):-len("_result.json")]
        if category not in SUPPORTED:
            continue
        entries = {e["id"]: e for e in _entries(category)}
        rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
        if category in MULTI_TURN:
            verdicts = [score_multi_turn(entries[r["id"]], r["result"], category) for r in rows]
        else:
            verdicts = [score_entry(entries[r["id"]], r["result"] if isinstance(r["result"], str)
                                    else json.dumps(r["result"]), category) for r in rows]
        per_category[category] = score_header(verdicts)
    return {"accuracy": {c: round(v["accuracy"], 4) for c, v in per_category.items()},
            "summary": {k: (round(v, 4) if v is not None else None) for k, v in aggregate(per_category).items()},
            "entries": sum(v["total_count"] for v in per_category.values())}
