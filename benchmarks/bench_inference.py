"""Fast inference on CPU (the base model, ``generate``-based paths; the continuous decoder on a
trained checkpoint is ``bench_inference_trained.py``): plain ``generate`` against the fast path, one run,
same inputs — BFCL entries/s, generated and prompt tokens/s, peak memory, verdicts — and GRPO
seconds per step (TRL's default trainer vs the fast trainer).

Configurations (each in its own process so peak RSS is its own; the first is the baseline):

- ``plain``: BFCL's prompt (v4 system prompt, indented JSON docs), plain left-padded
  ``generate``, fp32 — the path measured in issue 11 (0.37 entries/s).
- ``shared_prefix``: the same prompt, the batch's common prefix (system prompt) computed once
  (``llm/shared_prefix.py``). Same prompt, so its greedy verdicts must equal ``plain``'s.
- ``early_stop``: the same, each output ended as soon as it can no longer decode to a call list
  (``bfcl.decode.cannot_decode_to_calls``; what ``inftool bfcl eval`` does by default). Same
  prompt and an exact rule, so its verdicts must equal ``plain``'s too.
- ``compact``: the project's prompt (``llm/prompts.py``: signature-line docs, the format the
  project's models are trained on) with both of the above.
- ``compact_bf16``: the same in bfloat16 weights (AVX512-BF16 CPUs); verdicts compared.

    .venv/bin/python benchmarks/bench_inference.py [--model smollm2-135m-instruct] [--entries 24]
        [--categories simple_python,multiple] [--max-new-tokens 96] [--grpo-steps 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {
    "plain": {"prompt_format": "bfcl", "shared_prefix": False, "early_stop": False, "dtype": "float32"},
    "shared_prefix": {"prompt_format": "bfcl", "shared_prefix": True, "early_stop": False, "dtype": "float32"},
    "early_stop": {"prompt_format": "bfcl", "shared_prefix": True, "early_stop": True, "dtype": "float32"},
    "compact": {"prompt_format": "compact", "shared_prefix": True, "early_stop": True, "dtype": "float32"},
    "compact_bf16": {"prompt_format": "compact", "shared_prefix": True, "early_stop": True, "dtype": "bfloat16"},
}


def run_config(
    model: str, name: str, categories: list[str], entries: int, max_new_tokens: int, batch_size: int
) -> dict:
    """In a child process: generate and score the slice with one configuration."""
    from inftool_dagster.bfcl import load_category, score_entry
    from inftool_dagster.bfcl.decode import cannot_decode_to_calls
    from inftool_dagster.bfcl.prompting import prompt_messages
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend
    from inftool_dagster.llm.types import SamplingParams

    settings = CONFIGS[name]
    backend = TransformersBackend(
        TransformersConfig(
            model=model,
            batch_size=batch_size,
            dtype=settings["dtype"],
            shared_prefix=settings["shared_prefix"],
            decoder="generate",
        )
    )
    backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=2))  # warm up
    params = SamplingParams(max_new_tokens=max_new_tokens)
    verdicts, prompt_tokens, new_tokens, seconds = {}, 0, 0, 0.0
    for category in categories:
        slice_ = list(load_category(category))[:entries]
        messages = [prompt_messages(e, settings["prompt_format"], category) for e in slice_]
        t0 = time.perf_counter()
        generations = backend.generate(
            messages,
            params.model_copy(update={"stop_when": cannot_decode_to_calls if settings["early_stop"] else None}),
        )
        seconds += time.perf_counter() - t0
        for entry, [g] in zip(slice_, generations):
            prompt_tokens += g.prompt_tokens
            new_tokens += g.completion_tokens
            verdicts[entry["id"]] = score_entry(entry, g.text, category)["valid"]
    n = len(verdicts)
    return {
        "entries": n,
        "seconds": round(seconds, 2),
        "entries_per_s": round(n / seconds, 3),
        "prompt_tokens_per_entry": round(prompt_tokens / n, 1),
        "new_tokens_per_entry": round(new_tokens / n, 1),
        "prompt_tokens_per_s": round(prompt_tokens / seconds, 1),
        "generated_tokens_per_s": round(new_tokens / seconds, 1),
        "accuracy": round(sum(verdicts.values()) / n, 4),
        "verdicts": verdicts,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def grpo_steps(model: str, steps: int) -> dict:
    """TRL's GRPO as shipped vs the fast trainer (completion-only scoring + shared-prefix rollouts)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tempfile

    from bench_train import build_training_set

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = build_training_set(Path(tmp))
        for name in ("grpo_trl_default", "grpo_fast"):
            child = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).parent / "bench_train.py"),
                    "--model",
                    model,
                    "--steps",
                    str(steps),
                    "--child",
                    f"{data}|{tmp}/{name}|{name}",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"[grpo] {name}: {results[name]}", file=sys.stderr, flush=True)
    base = results["grpo_trl_default"]["seconds_per_step"]
    return {
        "config": {"prompts_per_step": 2, "group": 4, "max_completion_tokens": 48, "full_fine_tuning": True},
        "results": results,
        "step_time_vs_trl_default": round(results["grpo_fast"]["seconds_per_step"] / base, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--categories", default="simple_python,multiple")
    parser.add_argument("--entries", type=int, default=24, help="first N entries of each category")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--grpo-steps", type=int, default=2, help="0 skips the GRPO comparison")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    categories = args.categories.split(",")
    if args.child:
        print(
            json.dumps(
                run_config(args.model, args.child, categories, args.entries, args.max_new_tokens, args.batch_size)
            )
        )
        return
    runs = {}
    for name in args.configs.split(","):
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--model",
                args.model,
                "--categories",
                args.categories,
                "--entries",
                str(args.entries),
                "--max-new-tokens",
                str(args.max_new_tokens),
                "--batch-size",
                str(args.batch_size),
                "--child",
                name,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[name] = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"[bfcl] {name}: " + json.dumps({k: v for k, v in runs[name].items() if k != "verdicts"}),
            file=sys.stderr,
            flush=True,
        )
    names = list(runs)
    base = runs[names[0]]
    report = {
        "model": args.model,
        "slice": {"categories": categories, "entries_each": args.entries},
        "greedy": True,
        "max_new_tokens": args.max_new_tokens,
        "batch_size": args.batch_size,
        "results": {k: {m: v for m, v in r.items() if m != "verdicts"} for k, r in runs.items()},
        "entries_per_s_vs_plain": {k: round(r["entries_per_s"] / base["entries_per_s"], 2) for k, r in runs.items()},
        "peak_rss_vs_plain": {k: round(r["peak_rss_mib"] / base["peak_rss_mib"], 2) for k, r in runs.items()},
        "verdicts_equal_plain": {k: r["verdicts"] == base["verdicts"] for k, r in runs.items()},
        "verdicts_differing_from_plain": {
            k: sum(r["verdicts"][i] != base["verdicts"][i] for i in base["verdicts"]) for k, r in runs.items()
        },
    }
    if "compact" in runs and "compact_bf16" in runs:
        report["bf16_verdicts_differing_from_fp32"] = sum(
            runs["compact"]["verdicts"][i] != runs["compact_bf16"]["verdicts"][i] for i in base["verdicts"]
        )
    if args.grpo_steps:
        report["grpo"] = grpo_steps(args.model, args.grpo_steps)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
