"""Generate on BFCL entries, score them, aggregate like the leaderboard, write BFCL's file layout.
The prompts themselves are in ``prompting.py``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from inftool_dagster.evaluation.intervals import proportion, weighted_mean_of_proportions
from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.types import SamplingParams, count_failures

from .checker import Verdict, check_ast
from .data import ALL_CATEGORIES, MULTI_TURN, PYTHON_AST, BFCLDataError, language_of, load_category
from .decode import DecodeError, cannot_decode_to_calls, decode_ast, is_empty_output, is_function_calling_format
from .multi_turn import multi_turn_entries, run_multi_turn, score_multi_turn
from .prompting import prompt_messages
from .settings import EvalSettings
from .splits import SPLITS, select

_DEFAULTS = EvalSettings()


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
        error_type = (
            ""
            if valid
            else (
                "irrelevance_error:decoder_success" if "irrelevance" in category else "relevance_error:decoder_failed"
            )
        )
        return {**base, "valid": valid, "error_type": error_type, "decoded": _plain(decoded)}
    language = language_of(category)
    try:
        decoded = decode_ast(output, language)
    except DecodeError as exc:
        return {
            **base,
            "valid": False,
            "error_type": "ast_decoder:decoder_failed",
            "error": [str(exc)],
            "decoded": None,
        }
    if not is_function_calling_format(decoded):
        return {
            **base,
            "valid": False,
            "error_type": "ast_decoder:decoder_wrong_output_format",
            "decoded": str(decoded),
        }
    verdict: Verdict = check_ast(entry["function"], decoded, entry["possible_answer"], category, language)
    return {
        **base,
        "valid": verdict.valid,
        "error_type": verdict.error_type,
        "error": verdict.errors,
        "decoded": _plain(decoded),
    }


def _failed(entry: dict, generation: Any, category: str) -> dict:
    """The verdict for an item whose generation failed: wrong, with the reason (an empty output
    would otherwise pass an irrelevance entry)."""
    return {
        "id": entry["id"],
        "test_category": category,
        "model_result_raw": "",
        "valid": False,
        "error_type": f"generation_failed:{generation.failure_kind}",
        "error": [generation.error],
    }


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


SIMPLE = ("simple_python", "simple_java", "simple_javascript")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")


def summary_weights(per_category: dict[str, dict], summary: str) -> dict[str, float] | None:
    """Each category's weight in one of BFCL's summaries (None when a category it needs is missing)."""
    have = lambda names: all(n in per_category and per_category[n]["total_count"] for n in names)  # noqa: E731
    if summary == "non_live_ast_summary" and have(SIMPLE + PYTHON_AST[1:]):
        return {**{c: 1 / 12 for c in SIMPLE}, **{c: 1 / 4 for c in PYTHON_AST[1:]}}
    if summary == "non_live_python_ast_summary" and have(PYTHON_AST):
        return {c: 1 / 4 for c in PYTHON_AST}
    if summary == "non_live_simple":
        if have(SIMPLE):
            return {c: 1 / 3 for c in SIMPLE}
        return {"simple_python": 1.0} if have(("simple_python",)) else None
    if summary == "live_ast_summary":
        present = [c for c in LIVE_AST if c in per_category and per_category[c]["total_count"]]
        total = sum(per_category[c]["total_count"] for c in present)
        return {c: per_category[c]["total_count"] / total for c in present} if present else None
    if summary == "multi_turn_summary" and have(MULTI_TURN):
        return {c: 1 / len(MULTI_TURN) for c in MULTI_TURN}
    if summary in ("irrelevance", "live_irrelevance", "live_relevance") and have((summary,)):
        return {summary: 1.0}
    return None


SUMMARIES = (
    "non_live_ast_summary",
    "non_live_python_ast_summary",
    "non_live_simple",
    "live_ast_summary",
    "irrelevance",
    "live_irrelevance",
    "live_relevance",
    "multi_turn_summary",
)


def aggregate_with_intervals(per_category: dict[str, dict]) -> dict[str, dict | None]:
    """BFCL's leaderboard aggregation (``eval_runner_helper``: unweighted non-live, weighted live),
    each summary with its counts and 95 % interval (Wilson for one category, a normal interval on
    the weighted mean of independent proportions otherwise)."""
    out: dict[str, dict | None] = {}
    for name in SUMMARIES:
        weights = summary_weights(per_category, name)
        if weights is None:
            out[name] = None
            continue
        parts = [(per_category[c]["correct_count"], per_category[c]["total_count"], w) for c, w in weights.items()]
        out[name] = proportion(*parts[0][:2]) if len(parts) == 1 else weighted_mean_of_proportions(parts)
    return out


def aggregate(per_category: dict[str, dict]) -> dict:
    """BFCL's summaries as plain accuracies (None where a needed category is missing)."""
    return {k: (v["accuracy"] if v else None) for k, v in aggregate_with_intervals(per_category).items()}


def score_header(verdicts: list[dict]) -> dict:
    """The first line of a BFCL score file: accuracy, correct and total counts."""
    correct = sum(v["valid"] for v in verdicts)
    return {
        "accuracy": correct / len(verdicts) if verdicts else 0.0,
        "correct_count": correct,
        "total_count": len(verdicts),
    }


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


def evaluate(
    backend: LLMBackend,
    categories: list[str],
    out_dir: str | Path,
    *,
    model_name: str,
    split: str = "test",
    limit: int | None = None,
    max_new_tokens: int = _DEFAULTS.max_new_tokens,
    prompt_format: str = _DEFAULTS.prompt_format,
    stop_after_calls: bool = _DEFAULTS.stop_after_calls,
    stop_hopeless: bool = True,
    progress: bool = False,
) -> dict:
    """Generate and score ``categories`` on ``split`` (``dev``, ``test`` or ``all``; splits.py);
    ``limit`` takes a uniform hash-ordered sample of that many entries per category (None: the
    whole split). ``stop_after_calls`` ends an output where its call list closes
    (``llm.tool_calls.call_list_end``): text a model would write after a complete list, which
    BFCL counts as a decode failure, is then never generated. ``stop_hopeless``
    ends a Python-category output as soon as it can no longer decode to calls
    (``cannot_decode_to_calls``): the verdict is the same, the raw output is cut short.

    Failed generations (over-long prompts, out of memory on a single row) are scored as wrong
    and counted per category and in total (``generation_errors``, ``prompts_too_long``)."""
    unknown = [c for c in categories if c not in ALL_CATEGORIES]
    if unknown:
        raise BFCLDataError(f"unknown BFCL category: {', '.join(unknown)}; known: {', '.join(ALL_CATEGORIES)}")
    if split not in SPLITS:
        raise BFCLDataError(f"unknown split '{split}'; known: {', '.join(SPLITS)}")
    out = Path(out_dir)
    model_dir = model_name.replace("/", "_")
    start = time.perf_counter()
    per_category: dict[str, dict] = {}
    params = SamplingParams(max_new_tokens=max_new_tokens, stop_after_calls=stop_after_calls)
    single_turn = generate_single_turn(
        backend, [c for c in categories if c not in MULTI_TURN], split, limit, prompt_format, params, stop_hopeless
    )
    for category in categories:
        t0 = time.perf_counter()
        failures = {"generation_errors": 0, "prompts_too_long": 0}
        if category in MULTI_TURN:
            entries = select(_entries(category), split, limit)
            outputs = run_multi_turn(
                backend,
                entries,
                max_new_tokens=max_new_tokens,
                prompt_format=prompt_format,
                stop_after_calls=stop_after_calls,
                failures=failures,
            )
            verdicts = [score_multi_turn(e, o["result"], category) for e, o in zip(entries, outputs)]
        else:
            entries, generations, generation_s = single_turn[category]
            t0 -= generation_s
            failures = count_failures(generations)
            texts = [g[0].text if g[0].ok else "" for g in generations]
            outputs = [
                {"id": e["id"], "result": t, **({"error": g[0].error} if not g[0].ok else {})}
                for e, t, g in zip(entries, texts, generations)
            ]
            verdicts = [
                score_entry(e, t, category) if g[0].ok else _failed(e, g[0], category)
                for e, t, g in zip(entries, texts, generations)
            ]
        header = write_category(out, model_dir, category, outputs, verdicts)
        header.update(failures, seconds=round(time.perf_counter() - t0, 2))
        per_category[category] = header
        if progress:
            print(
                f"[bfcl] {split} {category}: {header['correct_count']}/{header['total_count']} "
                f"in {header['seconds']} s",
                flush=True,
                file=sys.stderr,
            )
    summary = summarize(
        per_category,
        model=model_name,
        prompt_format=prompt_format,
        split=split,
        sample=limit,
        seconds=time.perf_counter() - start,
        generation={
            **_describe(backend),
            "max_new_tokens": max_new_tokens,
            "stop_after_calls": stop_after_calls,
            "stop_hopeless": stop_hopeless,
        },
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _describe(backend: Any) -> dict:
    """How the backend generates (any object with ``generate`` may be passed)."""
    describe = getattr(backend, "describe", None)
    return describe() if callable(describe) else {"backend": type(backend).__name__}


def generate_single_turn(
    backend: LLMBackend,
    categories: list[str],
    split: str,
    limit: int | None,
    prompt_format: str,
    params: SamplingParams,
    stop_hopeless: bool,
) -> dict[str, tuple]:
    """``{category: (entries, generations, seconds)}``: the single-turn categories' prompts in as
    few generate calls as their stop rules allow (one for Python categories, one for the rest),
    so the decoder keeps its rows full across categories and pays one tail per call instead of
    one per category. A category's seconds are its share of its call, by entries."""
    groups: dict[bool, list[str]] = {}
    for category in categories:
        groups.setdefault(stop_hopeless and language_of(category) == "python", []).append(category)
    done: dict[str, tuple] = {}
    for hopeless, members in groups.items():
        entries = {c: select(_entries(c), split, limit) for c in members}
        messages = [prompt_messages(e, prompt_format, c) for c in members for e in entries[c]]
        t0 = time.perf_counter()
        generations = backend.generate(
            messages, params.model_copy(update={"stop_when": cannot_decode_to_calls if hopeless else None})
        )
        seconds, offset = time.perf_counter() - t0, 0
        for c in members:
            n = len(entries[c])
            done[c] = (entries[c], generations[offset : offset + n], seconds * n / max(1, len(messages)))
            offset += n
    return done


def summarize(per_category: dict[str, dict], *, seconds: float | None = None, **fields: Any) -> dict:
    """``summary.json``: per category and per BFCL summary the accuracy with counts and 95 %
    interval, failure counts, time; ``accuracy``/``summary`` keep the plain figures."""
    with_ci = aggregate_with_intervals(per_category)
    entries = sum(v["total_count"] for v in per_category.values())
    failures = {k: sum(v.get(k, 0) for v in per_category.values()) for k in ("generation_errors", "prompts_too_long")}
    return {
        **fields,
        "accuracy": {c: round(v["accuracy"], 4) for c, v in per_category.items()},
        "summary": {k: (v["accuracy"] if v else None) for k, v in with_ci.items()},
        "categories": {
            c: {
                **proportion(v["correct_count"], v["total_count"]),
                **{k: v.get(k, 0) for k in failures},
                "seconds": v.get("seconds"),
            }
            for c, v in per_category.items()
        },
        "summaries": {k: v for k, v in with_ci.items() if v},
        **failures,
        "failure_share": round(sum(failures.values()) / entries, 4) if entries else 0.0,
        "entries": entries,
        "seconds": round(seconds, 2) if seconds is not None else None,
        "entries_per_s": round(entries / seconds, 3) if seconds else None,
    }


def entry_outcomes(out_dir: str | Path) -> dict[str, dict[str, bool]]:
    """Each scored entry's verdict, ``{category: {entry_id: passed}}``, read back from an
    ``evaluate`` directory (the result file names every entry, the score file the failed ones):
    what a paired comparison of two models on the same entries needs."""
    out = Path(out_dir)
    model_dir = json.loads((out / "summary.json").read_text())["model"].replace("/", "_")
    outcomes: dict[str, dict[str, bool]] = {}
    for file in sorted((out / "result" / model_dir).glob("BFCL_v4_*_result.json")):
        category = file.name[len("BFCL_v4_") : -len("_result.json")]
        score = out / "score" / model_dir / f"BFCL_v4_{category}_score.json"
        failed = {json.loads(line)["id"] for line in score.read_text().splitlines()[1:] if line.strip()}
        ids = [json.loads(line)["id"] for line in file.read_text().splitlines() if line.strip()]
        outcomes[category] = {i: i not in failed for i in ids}
    return outcomes


def _entries(category: str) -> list[dict]:
    return multi_turn_entries(category) if category in MULTI_TURN else list(load_category(category))


def score_results(results_dir: str | Path) -> dict:
    """Score ``BFCL_v4_<cat>_result.json`` files produced elsewhere (``inftool bfcl score``)."""
    results = Path(results_dir)
    files = sorted(results.glob("BFCL_v4_*_result.json"))
    if not files:
        raise BFCLDataError(f"no BFCL_v4_*_result.json files in {results}")
    per_category = {}
    for file in files:
        category = file.name[len("BFCL_v4_") : -len("_result.json")]
        if category not in ALL_CATEGORIES:
            continue
        entries = {e["id"]: e for e in _entries(category)}
        rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
        if category in MULTI_TURN:
            verdicts = [score_multi_turn(entries[r["id"]], r["result"], category) for r in rows]
        else:
            verdicts = [
                score_entry(
                    entries[r["id"]], r["result"] if isinstance(r["result"], str) else json.dumps(r["result"]), category
                )
                for r in rows
            ]
        per_category[category] = score_header(verdicts)
    return summarize(per_category, results=str(results))
