"""A trained checkpoint to benchmark generation on: the default model after the project's own SFT.

The base model answers BFCL in prose, so an early stop makes its generation prefill-bound; a
model that has learned to call tools answers with a whole call list and is decode-bound. This
recipe makes such a model with the project's own pieces, no BFCL data involved: gold replays of
planned blueprints over the bundled sample specs (``benchmarks/bench_train.build_training_set``),
then SFT (``training.train``, the round's SFT stage) from the embedded default model. The
checkpoint directory is reused when it already holds one.

    .venv/bin/python benchmarks/trained_checkpoint.py --out /tmp/inftool-trained [--rows 96] [--steps 40]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def trained_checkpoint(
    out: Path, model: str = "smollm2-135m-instruct", rows: int = 96, steps: int = 40, learning_rate: float = 5e-5
) -> Path:
    """The checkpoint directory (built once; ``out/recipe.json`` records how)."""
    from bench_train import build_training_set

    from inftool_dagster.training import TrainConfig, train

    recipe = {
        "model": model,
        "rows": rows,
        "sft_steps": steps,
        "learning_rate": learning_rate,
        "data": "gold replays of planned blueprints over the bundled sample specs",
    }
    marker = out / "recipe.json"
    if marker.exists() and json.loads(marker.read_text())["recipe"] == recipe:
        return Path(json.loads(marker.read_text())["checkpoint"])
    out.mkdir(parents=True, exist_ok=True)
    data = build_training_set(out / "data", n=rows)
    summary = train(
        data,
        model,
        out / "sft",
        TrainConfig(method="sft", max_steps=steps, learning_rate=learning_rate, save_steps=10_000),
    )
    marker.write_text(
        json.dumps(
            {"recipe": recipe, "checkpoint": summary["checkpoint"], "loss_last": summary.get("loss_last")}, indent=1
        )
    )
    return Path(summary["checkpoint"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--rows", type=int, default=96)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    args = parser.parse_args()
    print(
        json.dumps(
            {"checkpoint": str(trained_checkpoint(args.out, args.model, args.rows, args.steps, args.learning_rate))}
        )
    )


if __name__ == "__main__":
    main()
