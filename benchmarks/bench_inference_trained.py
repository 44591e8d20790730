"""Generation speed on a *trained* checkpoint (one that answers with call lists, so decoding is
the cost): BFCL evaluation, GRPO rollouts and the Assistant's turns in synthesis, each against
plain ``transformers.generate`` at batch 8 in the same run, outputs compared.

The checkpoint comes from ``benchmarks/trained_checkpoint.py`` (the project's own SFT on gold
replays of the bundled sample specs; no BFCL data), built on first use under ``--workdir``.
Every configuration runs in its own process (its peak RSS is its own); each finished part is
kept in ``--workdir/parts.json`` so a stopped run resumes.

BFCL configurations (the project's compact prompt, greedy, test split sample):
- ``plain``: ``generate``, batch 8, fp32, no early stop — the baseline;
- ``generate_fast``: the previous default (``generate`` from a shared-prefix cache, early stop
  for outputs that cannot decode, fp32);
- ``continuous``: ``llm/continuous.py`` with the same early stop, fp32 (the exactness check);
- ``continuous_bf16``: the same in bfloat16 weights;
- ``continuous_bf16_calls``: + the stop at the end of a complete call list.

Part ``blocks``: the default path with and without prefix blocks (``llm/prefix_blocks.py``) on a
sample of the live categories, whose prompts share tool docs (``--live-sample`` per category).

    .venv/bin/python benchmarks/bench_inference_trained.py --workdir /tmp/inftool-bench-trained
        [--sample 40] [--parts bfcl,blocks,nonlive,grpo,synth,single_turn] [--out docs/bench/inference_trained.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
BFCL_CONFIGS = {
    "plain": {"decoder": "generate", "shared_prefix": False, "dtype": "float32", "early_stop": False, "calls": False},
    "generate_fast": {
        "decoder": "generate",
        "shared_prefix": True,
        "dtype": "float32",
        "early_stop": True,
        "calls": False,
    },
    "continuous": {"decoder": "continuous", "dtype": "float32", "early_stop": True, "calls": False},
    "continuous_bf16": {"decoder": "continuous", "dtype": "bfloat16", "early_stop": True, "calls": False},
    "continuous_bf16_calls": {"decoder": "continuous", "dtype": "bfloat16", "early_stop": True, "calls": True},
}
FAST = "continuous_bf16_calls"  # the default path measured against plain
# prefix blocks (llm/prefix_blocks.py) on and off, on the live categories whose prompts share tool docs
LIVE_CATEGORIES = ("live_simple", "live_multiple", "live_irrelevance")
BLOCK_CONFIGS = {"no_blocks": {**BFCL_CONFIGS[FAST], "prefix_blocks": False}, FAST: BFCL_CONFIGS[FAST]}
# synthesis: the previous path ran one shard (16 conversations) per generate call
SYNTH_CONFIGS = {
    "plain": {"decoder": "generate", "shared_prefix": False, "dtype": "float32", "waves": 1},
    "generate_fast": {"decoder": "generate", "shared_prefix": True, "dtype": "float32", "waves": 1},
    "continuous": {"decoder": "continuous", "dtype": "float32", "waves": 1},
    "continuous_bf16_waves": {"decoder": "continuous", "dtype": "bfloat16", "waves": 4},
}
WHOLE_SPLITS = {"nonlive": "non_live", "live": "live", "single_turn": "single_turn"}  # parts run on a whole test split


def _backend(checkpoint: str, settings: dict, batch: int = 8):
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    fields = {k: settings[k] for k in ("decoder", "shared_prefix", "dtype", "prefix_blocks") if k in settings}
    return TransformersBackend(TransformersConfig(model=checkpoint, batch_size=batch, **fields))


def _rss() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bfcl_child(checkpoint: str, name: str, categories: list[str], sample: int, max_new: int) -> dict:
    """One configuration on the sample: texts, verdicts, tokens and seconds."""
    from inftool_dagster.bfcl import score_entry
    from inftool_dagster.bfcl.evaluate import generate_single_turn
    from inftool_dagster.llm.types import SamplingParams

    settings = {**BFCL_CONFIGS, **BLOCK_CONFIGS}[name]
    backend = _backend(checkpoint, settings)
    backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=2))  # load, warm up
    texts, verdicts, stopped_early = {}, {}, {}
    prompt_tokens = new_tokens = 0
    params = SamplingParams(max_new_tokens=max_new, stop_after_calls=settings["calls"])
    t0 = time.perf_counter()  # the categories' prompts as `inftool bfcl eval` sends them (bfcl/evaluate.py)
    generated = generate_single_turn(backend, categories, "test", sample, "compact", params, settings["early_stop"])
    seconds = time.perf_counter() - t0
    for category in categories:
        entries, generations, _ = generated[category]
        for entry, [g] in zip(entries, generations):
            texts[entry["id"]] = g.text
            stopped_early[entry["id"]] = g.finish_reason == "stop"
            verdicts[entry["id"]] = score_entry(entry, g.text, category)["valid"]
            prompt_tokens += g.prompt_tokens
            new_tokens += g.completion_tokens
    n = len(texts)
    return {
        "decoder": backend.decoder,
        "entries": n,
        "seconds": round(seconds, 2),
        "entries_per_s": round(n / seconds, 3),
        "generated_tokens_per_s": round(new_tokens / seconds, 1),
        "new_tokens_per_entry": round(new_tokens / n, 1),
        "prompt_tokens_per_entry": round(prompt_tokens / n, 1),
        "correct": sum(verdicts.values()),
        "peak_rss_mib": _rss(),
        "texts": texts,
        "verdicts": verdicts,
        "stopped": stopped_early,
    }


def nonlive_child(checkpoint: str, group: str, max_new: int, out: str) -> dict:
    """The whole test split of a category group with the default fast path, as ``inftool bfcl eval`` runs it."""
    from inftool_dagster.bfcl import evaluate
    from inftool_dagster.bfcl.data import expand_categories

    backend = _backend(checkpoint, BFCL_CONFIGS[FAST])
    t0 = time.perf_counter()
    summary = evaluate(
        backend,
        expand_categories(group),
        out,
        model_name="trained",
        split="test",
        max_new_tokens=max_new,
        prompt_format="compact",
        stop_after_calls=True,
    )
    seconds = time.perf_counter() - t0
    return {
        "group": group,
        "entries": summary["entries"],
        "minutes": round(seconds / 60, 2),
        "entries_per_s": round(summary["entries"] / seconds, 3),
        "generation": summary.get("generation"),
        "categories": {
            c: {k: r[k] for k in ("correct", "total", "ci95", "seconds")} for c, r in summary["categories"].items()
        },
        "summaries": summary["summaries"],
        "generation_errors": summary.get("generation_errors"),
        "prompts_too_long": summary.get("prompts_too_long"),
        "peak_rss_mib": _rss(),
    }


def grpo_child(checkpoint: str, name: str, data: str, prompts: int, group: int, max_new: int, greedy: bool) -> dict:
    """Rollouts for ``prompts`` GRPO prompts x ``group`` samples, the way the trainer asks for them."""
    import polars as pl
    import torch

    from inftool_dagster.compat.trl_grpo import _cut_after_eos
    from inftool_dagster.llm.continuous import ContinuousDecoder, DecodeSettings
    from inftool_dagster.llm.shared_prefix import PrefixCache, generate_groups, generate_rows
    from inftool_dagster.llm.transformers_backend import _eos_ids
    from inftool_dagster.training.datasets import prompt_texts as _prompts

    backend = _backend(checkpoint, {"decoder": "generate", "dtype": "float32"})
    model, tok = backend.model, backend.tokenizer
    frame = pl.read_parquet(Path(data) / "grpo_train.parquet").head(prompts)
    rows = [tok(p, add_special_tokens=False)["input_ids"] for p in _prompts(frame, tok)]
    eos = _eos_ids(model, tok)
    sampling = {"do_sample": not greedy, "max_new_tokens": max_new, "eos_token_id": sorted(eos)}
    if not greedy:
        sampling.update(temperature=1.0, top_p=1.0, top_k=0)
    torch.manual_seed(0)
    rollout = None
    if name == "continuous_bf16":  # the trainer's bf16 rollout copy, made once; refreshed every step (timed)
        from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer

        rollout = SharedPrefixGRPOTrainer.__new__(SharedPrefixGRPOTrainer)
        rollout.rollout_dtype = "bfloat16"
        rollout._rollout_model(model)
    t0 = time.perf_counter()
    if name == "plain":  # every completion its own row, batches of 8
        flat = [r for r in rows for _ in range(group)]
        outs = []
        for start in range(0, len(flat), 8):
            outs += generate_rows(model, flat[start : start + 8], tok.pad_token_id, sampling).tolist()
    elif name == "generate_fast":  # the previous rollout override: groups from a shared KV cache
        outs = generate_groups(
            model, rows, [group] * len(rows), tok.pad_token_id, sampling, PrefixCache(model)
        ).tolist()
    else:
        settings = DecodeSettings(
            max_new_tokens=max_new, eos_ids=frozenset(eos), temperature=0.0 if greedy else 1.0, seed=0
        )
        decoding = rollout._rollout_model(model) if rollout is not None else model
        outs = [s.tokens for g in ContinuousDecoder(decoding).generate(rows, settings, [group] * len(rows)) for s in g]
    seconds = time.perf_counter() - t0
    cut = [_cut_after_eos(o, eos) for o in outs]  # as the trainer cuts rollouts
    tokens = sum(len(c) for c in cut)
    return {
        "completions": len(cut),
        "seconds": round(seconds, 2),
        "completions_per_s": round(len(cut) / seconds, 3),
        "generated_tokens_per_s": round(tokens / seconds, 1),
        "tokens_per_completion": round(tokens / len(cut), 1),
        "peak_rss_mib": _rss(),
        "outputs": cut if greedy else None,
    }


def synth_child(checkpoint: str, name: str, catalog: str, n: int, shard_size: int) -> dict:
    """``synthesize`` with the checkpoint as the Assistant (greedy, as the loop runs it)."""
    import tempfile

    from inftool_dagster.synthesis.runner import SynthConfig, load_trajectories, synthesize

    settings = SYNTH_CONFIGS[name]
    backend = _backend(checkpoint, settings)
    config = SynthConfig(n=n, shard_size=shard_size, policy_model=checkpoint, shards_per_wave=settings["waves"])
    with tempfile.TemporaryDirectory() as tmp:
        summary = synthesize(catalog, tmp, config, backend)
        frame = load_trajectories(tmp)
    return {
        "trajectories": summary["produced"],
        "seconds": summary["seconds"],
        "model_seconds": summary["model_seconds"],
        "trajectories_per_s": summary["trajectories_per_s"],
        "peak_rss_mib": _rss(),
        "messages": frame["messages"].to_list(),
    }


def _child(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _prefix_or_equal(fast: str, plain: str, stopped: bool) -> bool:
    """The fast output equals plain's, or is a prefix of it ended by a stop rule."""
    return fast == plain or (stopped and plain.startswith(fast))


def bfcl_part(args, checkpoint: str) -> dict:
    runs = {}
    for name in BFCL_CONFIGS:
        runs[name] = _child(
            ["--child", "bfcl", checkpoint, name, args.categories, str(args.sample), str(args.max_new_tokens)]
        )
        print(
            f"[bfcl] {name}: {runs[name]['entries_per_s']} entries/s, {runs[name]['generated_tokens_per_s']} tok/s, "
            f"{runs[name]['correct']}/{runs[name]['entries']} correct",
            file=sys.stderr,
            flush=True,
        )
    plain = runs["plain"]
    compare = {}
    for name, run in runs.items():
        ids = list(plain["texts"])
        compare[name] = {
            "speedup_vs_plain": round(run["entries_per_s"] / plain["entries_per_s"], 2),
            "outputs_differ": sum(
                not _prefix_or_equal(run["texts"][i], plain["texts"][i], run["stopped"][i]) for i in ids
            ),
            "verdicts_differ": sum(run["verdicts"][i] != plain["verdicts"][i] for i in ids),
            "differing_ids": [
                i for i in ids if not _prefix_or_equal(run["texts"][i], plain["texts"][i], run["stopped"][i])
            ][:20],
        }
    return {
        "categories": args.categories.split(","),
        "sample_per_category": args.sample,
        "split": "test",
        "results": {
            k: {m: v for m, v in r.items() if m not in ("texts", "verdicts", "stopped")} for k, r in runs.items()
        },
        "vs_plain": compare,
        "examples": {i: {"plain": plain["texts"][i], FAST: runs[FAST]["texts"][i]} for i in list(plain["texts"])[:3]},
    }


def blocks_part(args, checkpoint: str) -> dict:
    """The default path with and without prefix blocks, on a sample of the live categories."""
    categories = ",".join(LIVE_CATEGORIES)
    runs = {}
    for name in BLOCK_CONFIGS:
        runs[name] = _child(
            ["--child", "bfcl", checkpoint, name, categories, str(args.live_sample), str(args.max_new_tokens)]
        )
        print(f"[blocks] {name}: {runs[name]['entries_per_s']} entries/s", file=sys.stderr, flush=True)
    off, on = runs["no_blocks"], runs[FAST]
    ids = list(off["texts"])
    return {
        "categories": list(LIVE_CATEGORIES),
        "sample_per_category": args.live_sample,
        "split": "test",
        "results": {
            k: {m: v for m, v in r.items() if m not in ("texts", "verdicts", "stopped")} for k, r in runs.items()
        },
        "speedup_of_blocks": round(on["entries_per_s"] / off["entries_per_s"], 2),
        "outputs_differ": sum(on["texts"][i] != off["texts"][i] for i in ids),
        "verdicts_differ": sum(on["verdicts"][i] != off["verdicts"][i] for i in ids),
    }


def grpo_part(args, checkpoint: str, data: str) -> dict:
    runs, greedy = {}, {}
    for name in ("plain", "generate_fast", "continuous", "continuous_bf16"):
        base = ["--child", "grpo", checkpoint, name, data, str(args.grpo_prompts), str(args.group), "48"]
        runs[name] = _child(base + ["sampled"])
        greedy[name] = _child(base + ["greedy"])["outputs"]
        print(
            f"[grpo] {name}: {runs[name]['completions_per_s']} completions/s, "
            f"{runs[name]['generated_tokens_per_s']} tok/s",
            file=sys.stderr,
            flush=True,
        )
    return {
        "prompts": args.grpo_prompts,
        "group": args.group,
        "max_completion_tokens": 48,
        "temperature": 1.0,
        "results": {k: {m: v for m, v in r.items() if m != "outputs"} for k, r in runs.items()},
        "speedup_vs_plain": {
            k: round(r["completions_per_s"] / runs["plain"]["completions_per_s"], 2) for k, r in runs.items()
        },
        "speedup_vs_generate_fast": {
            k: round(r["completions_per_s"] / runs["generate_fast"]["completions_per_s"], 2) for k, r in runs.items()
        },
        "greedy_outputs_differ_from_plain": {
            k: sum(a != b for a, b in zip(g, greedy["plain"])) for k, g in greedy.items()
        },
    }


def synth_part(args, checkpoint: str, catalog: str) -> dict:
    runs = {}
    for name in SYNTH_CONFIGS:
        runs[name] = _child(["--child", "synth", checkpoint, name, catalog, str(args.synth), str(args.shard_size)])
        print(
            f"[synth] {name}: {runs[name]['trajectories_per_s']} trajectories/s, model {runs[name]['model_seconds']} s",
            file=sys.stderr,
            flush=True,
        )
    plain = runs["plain"]["messages"]
    return {
        "blueprints": args.synth,
        "shard_size": args.shard_size,
        "results": {k: {m: v for m, v in r.items() if m != "messages"} for k, r in runs.items()},
        "model_speedup_vs_plain": {
            k: round(runs["plain"]["model_seconds"] / r["model_seconds"], 2) for k, r in runs.items()
        },
        "model_speedup_vs_generate_fast": {
            k: round(runs["generate_fast"]["model_seconds"] / r["model_seconds"], 2) for k, r in runs.items()
        },
        "trajectories_differ_from_plain": {
            k: sum(a != b for a, b in zip(r["messages"], plain)) for k, r in runs.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/inftool-bench-trained"))
    parser.add_argument("--checkpoint", default=None, help="a trained checkpoint (default: the recipe's)")
    parser.add_argument("--parts", default="bfcl,blocks,nonlive,grpo,synth,single_turn")
    parser.add_argument("--categories", default=",".join(CATEGORIES))
    parser.add_argument("--sample", type=int, default=40, help="test-split entries per category (hash order)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--live-sample", type=int, default=40, help="blocks part: test entries per live category")
    parser.add_argument("--grpo-prompts", type=int, default=8)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--synth", type=int, default=32, help="blueprints synthesized per configuration")
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("docs/bench/inference_trained.json"))
    parser.add_argument("--child", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "bfcl":
            ckpt, name, cats, sample, max_new = rest
            result = bfcl_child(ckpt, name, cats.split(","), int(sample), int(max_new))
        elif kind == "nonlive":
            result = nonlive_child(rest[0], rest[1], int(rest[2]), rest[3])
        elif kind == "grpo":
            ckpt, name, data, prompts, group, max_new, mode = rest
            result = grpo_child(ckpt, name, data, int(prompts), int(group), int(max_new), mode == "greedy")
        else:
            ckpt, name, catalog, n, shard = rest
            result = synth_child(ckpt, name, catalog, int(n), int(shard))
        print(json.dumps(result))
        return
    from trained_checkpoint import trained_checkpoint

    args.workdir.mkdir(parents=True, exist_ok=True)
    checkpoint = args.checkpoint or str(trained_checkpoint(args.workdir / "trained"))
    recipe = json.loads((args.workdir / "trained" / "recipe.json").read_text()) if not args.checkpoint else None
    parts_file = args.workdir / "parts.json"
    parts = json.loads(parts_file.read_text()) if parts_file.exists() else {}
    for part in args.parts.split(","):
        if part in parts:
            continue
        if part == "bfcl":
            parts[part] = bfcl_part(args, checkpoint)
        elif part in WHOLE_SPLITS:
            group = WHOLE_SPLITS[part]
            parts[part] = _child(
                ["--child", "nonlive", checkpoint, group, str(args.max_new_tokens), str(args.workdir / f"bfcl-{group}")]
            )
            print(f"[{part}] {parts[part]['entries']} entries in {parts[part]['minutes']} min", file=sys.stderr)
        elif part == "blocks":
            parts[part] = blocks_part(args, checkpoint)
        elif part == "grpo":
            parts[part] = grpo_part(args, checkpoint, str(args.workdir / "trained" / "data" / "views"))
        elif part == "synth":
            parts[part] = synth_part(args, checkpoint, str(args.workdir / "trained" / "data" / "catalog"))
        parts_file.write_text(json.dumps(parts, indent=1))
    report = {
        "checkpoint_recipe": recipe,
        "machine": "2 CPU cores",
        "greedy": True,
        "max_new_tokens": args.max_new_tokens,
        "plain": "transformers.generate, batch 8, fp32, no early stop",
        "fast": FAST,
        **parts,
    }
    if "bfcl" in parts:
        fast, plain = parts["bfcl"]["results"][FAST], parts["bfcl"]["results"]["plain"]
        report.update(
            bfcl_entries_per_s=fast["entries_per_s"],
            plain_entries_per_s=plain["entries_per_s"],
            speedup_vs_plain=parts["bfcl"]["vs_plain"][FAST]["speedup_vs_plain"],
            outputs_differ=parts["bfcl"]["vs_plain"][FAST]["outputs_differ"],
            outputs_differ_fp32=parts["bfcl"]["vs_plain"]["continuous"]["outputs_differ"],
        )
    if "nonlive" in parts:
        report["nonlive_test_minutes"] = parts["nonlive"]["minutes"]
    if "single_turn" in parts:
        report["single_turn_test_minutes"] = parts["single_turn"]["minutes"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if not isinstance(v, dict)}))


if __name__ == "__main__":
    main()
