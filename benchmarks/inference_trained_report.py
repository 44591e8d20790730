"""Write the trained-checkpoint tables of docs/inference.md from docs/bench/inference_trained.json
(the record ``benchmarks/bench_inference_trained.py`` writes) and the decoder profile line from
docs/bench/decoder_profile.json (``benchmarks/profile_decoder.py``), each between its markers.

    .venv/bin/python benchmarks/inference_trained_report.py [--record docs/bench/inference_trained.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inftool_dagster.evaluation.intervals import proportion

START, END = (
    "<!-- inference_trained:start (written by benchmarks/inference_trained_report.py) -->",
    "<!-- inference_trained:end -->",
)
PROFILE_START, PROFILE_END = (
    "<!-- decoder_profile:start (written by benchmarks/inference_trained_report.py) -->",
    "<!-- decoder_profile:end -->",
)
FAST = "continuous_bf16_calls"  # the default path (bench_inference_trained.FAST)
LABELS = {
    "plain": "plain `generate`, batch 8, fp32 (baseline)",
    "generate_fast": "previous path: `generate` + shared prefix + early stop, fp32",
    "continuous": "continuous decoder + early stop, fp32",
    "continuous_bf16": "continuous decoder + early stop, bf16",
    "continuous_bf16_calls": "**default**: continuous + early stop + call-list stop, bf16",
    "continuous_bf16_waves": "**default**: continuous, bf16, 4 shards per wave",
}


GRPO_LABELS = {
    "plain": "plain `generate`, batch 8, every completion its own row, fp32",
    "generate_fast": "previous path: groups from a shared prompt cache (`generate_groups`), fp32",
    "continuous": "continuous decoder, fp32",
    "continuous_bf16": "**default**: continuous decoder on the bf16 rollout copy (refresh timed)",
}
SYNTH_LABELS = {
    "plain": "plain `generate`, batch 8, fp32, one shard per call (baseline)",
    "generate_fast": "previous path: `generate` + shared prefix, fp32, one shard per call",
    "continuous": "continuous decoder, fp32, one shard per call",
    "continuous_bf16_waves": "**default**: continuous decoder, bf16, 4 shards per call",
}


def _ci(summary: dict) -> str:
    lo, hi = summary["ci95"]
    return f"{summary['accuracy']:.3f} [{lo:.3f}, {hi:.3f}] ({summary['correct']}/{summary['total']})"


def render(record: dict) -> str:
    lines = []
    if "bfcl" in record:
        part = record["bfcl"]
        lines += [
            f"BFCL, test split, {part['sample_per_category']} entries per category (hash-order sample) of "
            f"{', '.join(part['categories'])}; greedy, ≤ {record['max_new_tokens']} new tokens, the project's "
            "compact prompt:",
            "",
            "| configuration | entries/s | × plain | gen tok/s | new tok/entry | accuracy [95 % CI] (correct) | "
            "outputs ≠ plain | "
            "verdicts ≠ plain | peak RSS |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, run in part["results"].items():
            vs = part["vs_plain"][name]
            lines.append(
                f"| {LABELS.get(name, name)} | {run['entries_per_s']:.2f} | {vs['speedup_vs_plain']:.2f} | "
                f"{run['generated_tokens_per_s']:.0f} | {run['new_tokens_per_entry']:.1f} | "
                f"{_ci(proportion(run['correct'], run['entries']))} | {vs['outputs_differ']} | "
                f"{vs['verdicts_differ']} | "
                f"{run['peak_rss_mib']:,.0f} MiB |"
            )
        lines += [
            "",
            "An output counts as different when it is neither plain's text nor a prefix of it ended by a "
            "stop rule (the early stop and the call-list stop cut outputs short by design).",
            "",
        ]
    if "blocks" in record:
        part = record["blocks"]
        off, on = part["results"]["no_blocks"], part["results"][FAST]
        lines += [
            f"Prefix blocks, on a sample of {part['sample_per_category']} test entries per category of "
            f"{', '.join(part['categories'])} (prompts over the same tool docs), the default path with and "
            f"without them, in the same run: {off['entries_per_s']:.2f} → {on['entries_per_s']:.2f} entries/s "
            f"(**{part['speedup_of_blocks']:.2f}×**; {on['entries']} entries, {on['prompt_tokens_per_entry']:.0f} "
            f"prompt tokens per entry); outputs that differ: {part['outputs_differ']}, verdicts that differ: "
            f"{part['verdicts_differ']}.",
            "",
        ]
    for key, title in (("nonlive", "non-live"), ("live", "live"), ("single_turn", "single-turn (non-live + live)")):
        if key in record:
            part = record[key]
            summaries = "; ".join(f"{k} {_ci(v)}" for k, v in part["summaries"].items() if v)
            lines += [
                f"Whole {title} test split with the default path: **{part['entries']} entries in "
                f"{part['minutes']:.1f} min** ({part['entries_per_s']:.2f} entries/s; "
                f"{part.get('generation_errors', 0)} generation errors, {part.get('prompts_too_long', 0)} "
                f"prompts too long). Accuracy of this recipe checkpoint (not a result of the loop): "
                f"{summaries}.",
                "",
            ]
    if "grpo" in record:
        part = record["grpo"]
        lines += [
            f"GRPO rollouts: {part['prompts']} prompts × group {part['group']}, temperature "
            f"{part['temperature']}, ≤ {part['max_completion_tokens']} tokens:",
            "",
            "| configuration | completions/s | gen tok/s | × plain | × previous | greedy outputs ≠ plain |",
            "|---|---|---|---|---|---|",
        ]
        for name, run in part["results"].items():
            lines.append(
                f"| {GRPO_LABELS.get(name, name)} | {run['completions_per_s']:.2f} | "
                f"{run['generated_tokens_per_s']:.0f} | "
                f"{part['speedup_vs_plain'][name]:.2f} | {part['speedup_vs_generate_fast'][name]:.2f} | "
                f"{part['greedy_outputs_differ_from_plain'][name]} |"
            )
        lines.append("")
    if "synth" in record:
        part = record["synth"]
        lines += [
            f"Synthesis: {part['blueprints']} blueprints (shards of {part['shard_size']}) with the checkpoint "
            "as the Assistant, greedy:",
            "",
            "| configuration | trajectories/s | model s | model × plain | model × previous | trajectories ≠ plain |",
            "|---|---|---|---|---|---|",
        ]
        for name, run in part["results"].items():
            lines.append(
                f"| {SYNTH_LABELS.get(name, name)} | {run['trajectories_per_s']:.3f} | {run['model_seconds']:.1f} | "
                f"{part['model_speedup_vs_plain'][name]:.2f} | "
                f"{part['model_speedup_vs_generate_fast'][name]:.2f} | "
                f"{part['trajectories_differ_from_plain'][name]} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_profile(profile: dict) -> str:
    steps = ", ".join(f"{w} rows {ms} ms" for w, ms in profile["decode_ms_per_step"].items())
    return (
        f"{profile['dtype']}, {profile['threads']} threads: bare GEMM {profile['gemm_gflops_512_rows']} GFLOP/s "
        f"(512 rows); prefill {profile['prefill_tokens_per_s']:,} tokens/s, i.e. "
        f"{profile['prefill_gflops']} GFLOP/s over the whole pass; a decode step at 200 tokens of context: {steps}; "
        "the LM head "
        f"alone {profile['lm_head_ms_32_rows']} ms for 32 rows.\n"
    )


def _replace(text: str, start: str, end: str, body: str) -> str:
    if start in text:
        head, rest = text.split(start, 1)
        return head + f"{start}\n{body}{end}" + rest.split(end, 1)[1]
    return text.rstrip() + f"\n\n{start}\n{body}{end}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, default=Path("docs/bench/inference_trained.json"))
    parser.add_argument("--doc", type=Path, default=Path("docs/inference.md"))
    parser.add_argument("--profile", type=Path, default=Path("docs/bench/decoder_profile.json"))
    args = parser.parse_args()
    text = _replace(args.doc.read_text(), START, END, render(json.loads(args.record.read_text())))
    if args.profile.exists():
        text = _replace(text, PROFILE_START, PROFILE_END, render_profile(json.loads(args.profile.read_text())))
    args.doc.write_text(text)
    print(json.dumps({"doc": str(args.doc), "profile": args.profile.exists()}))


if __name__ == "__main__":
    main()
